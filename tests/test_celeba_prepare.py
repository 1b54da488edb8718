"""Preparing CelebA: crop, shrink, all kinds of inputs, resuming, errors, the command line."""

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.celeba_input import plain_loop
from my_AE_code.celeba import prepare
from my_AE_code.celeba.prepare import prepare_celeba
from helpers import prepare_cli

N_PLAIN = 12  # ordinary 178x218 RGB JPEGs
READABLE_ODD = ("alpha.jpg", "cmyk.jpg", "gray.jpg")
UNREADABLE = ("corrupt.jpg", "truncated.jpg")


def _banded_face(index: int) -> Image.Image:
    """A 178x218 picture whose top and bottom 20 rows (outside the centred square) are red."""
    pixels = np.zeros((218, 178, 3), np.uint8)
    pixels[:, :] = (40, 160 + index % 64, 90)
    pixels[:20] = pixels[-20:] = (255, 0, 0)
    return Image.fromarray(pixels)


def _make_source(folder: Path) -> Path:
    """CelebA-like JPEGs plus every awkward kind of file a download can hold."""
    folder.mkdir(parents=True)
    for index in range(N_PLAIN):
        _banded_face(index).save(folder / f"{index + 1:06d}.jpg", quality=95)
    rgba = Image.new("RGBA", (178, 218), (0, 0, 255, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 178, 109))  # top half fully transparent
    rgba.save(folder / "alpha.png")
    Image.new("CMYK", (178, 218), (0, 255, 255, 0)).save(folder / "cmyk.jpg")  # red in CMYK
    Image.new("L", (178, 218), 200).save(folder / "gray.jpg")
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a JPEG" * 20)
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (218, 178, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, format="JPEG")
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (folder / "notes.txt").write_text("not an image, not counted")
    (folder / "._000001.jpg").write_bytes(b"macOS resource fork, hidden, not counted")
    return folder


@pytest.fixture
def source(tmp_path):
    return _make_source(tmp_path / "img_align_celeba")


def _expected_outputs():
    return {f"{index + 1:06d}.jpg" for index in range(N_PLAIN)} | set(READABLE_ODD)


def _assert_complete_valid_set(out_dir: Path, size: int = 96):
    names = set(os.listdir(out_dir))
    assert names == _expected_outputs()  # no temporary or stray files either
    for name in names:
        with Image.open(out_dir / name) as image:
            assert image.format == "JPEG"
            assert image.mode == "RGB"
            assert image.size == (size, size)
            image.load()  # decodes in full: no truncated output


def test_every_readable_image_becomes_a_square_rgb_jpeg(source, tmp_path):
    report = prepare_celeba(source, tmp_path / "out", workers=2, verbose=False)

    assert report.found == N_PLAIN + len(READABLE_ODD) + len(UNREADABLE)
    assert report.converted == N_PLAIN + len(READABLE_ODD)
    assert report.already_done == 0
    assert [name for name, _ in report.failed] == sorted(UNREADABLE)
    assert all(reason for _, reason in report.failed)
    assert "corrupt.jpg" in report.summary() and "truncated.jpg" in report.summary()
    _assert_complete_valid_set(tmp_path / "out")


def test_crop_is_centred_and_colours_survive(source, tmp_path):
    out = tmp_path / "out"
    prepare_celeba(source, out, workers=1, verbose=False)

    face = np.asarray(Image.open(out / "000001.jpg"), dtype=int)
    assert face[..., 0].max() < 80  # the red bands outside the centred square are cut off
    assert np.abs(np.median(face, axis=(0, 1)) - (40, 160, 90)).max() < 15  # the middle's colour
    cmyk = np.asarray(Image.open(out / "cmyk.jpg"), dtype=int)
    assert np.abs(cmyk.mean((0, 1)) - (255, 0, 0)).max() < 12
    gray = np.asarray(Image.open(out / "gray.jpg"), dtype=int)
    assert np.abs(gray - 200).max() < 6
    alpha = np.asarray(Image.open(out / "alpha.jpg"), dtype=int)
    # Crop rows 20-198 of 218; the transparent top half becomes white, the rest stays blue.
    assert np.abs(alpha[5, 48] - (255, 255, 255)).max() < 12
    assert np.abs(alpha[90, 48] - (0, 0, 255)).max() < 12


def test_size_is_a_parameter_and_default_output_is_next_to_the_source(source):
    report = prepare_celeba(source, size=32, workers=1, verbose=False)
    assert report.out_dir == source.parent / "prepared_32"
    _assert_complete_valid_set(report.out_dir, size=32)


def test_second_run_converts_nothing_new(source, tmp_path):
    out = tmp_path / "out"
    prepare_celeba(source, out, workers=2, verbose=False)
    stamps = {name: os.stat(out / name).st_mtime_ns for name in os.listdir(out)}

    again = prepare_celeba(source, out, workers=2, verbose=False)

    assert again.converted == 0
    assert again.already_done == N_PLAIN + len(READABLE_ODD)
    assert len(again.failed) == len(UNREADABLE)
    assert {name: os.stat(out / name).st_mtime_ns for name in os.listdir(out)} == stamps


def test_run_interrupted_in_a_worker_resumes_to_a_complete_set(source, tmp_path, monkeypatch):
    out, real_convert, calls = tmp_path / "out", prepare.convert_file, []

    def convert_then_interrupt(src, dst, size, quality=95):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(src)
        real_convert(src, dst, size, quality)

    monkeypatch.setattr(prepare, "convert_file", convert_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        prepare_celeba(source, out, workers=1, verbose=False)
    assert sorted(os.listdir(out)) == sorted(Path(src).stem + ".jpg" for src in calls)

    monkeypatch.setattr(prepare, "convert_file", real_convert)
    report = prepare_celeba(source, out, workers=1, verbose=False)
    assert report.already_done == 5
    assert report.converted == N_PLAIN + len(READABLE_ODD) - 5
    _assert_complete_valid_set(out)


def test_ctrl_c_during_a_parallel_run_stops_cleanly_and_resumes(tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    for index in range(64):
        _banded_face(index).save(source / f"{index + 1:06d}.jpg")
    out = tmp_path / "out"

    class InterruptedBar(prepare.tqdm):
        def update(self, n=1):
            raise KeyboardInterrupt  # as if Ctrl-C came right after the first chunk

    monkeypatch.setattr(prepare, "tqdm", InterruptedBar)
    with pytest.raises(KeyboardInterrupt):
        prepare_celeba(source, out, workers=2, verbose=False)
    left = os.listdir(out)
    assert not [name for name in left if not name.endswith(".jpg")]
    for name in left:
        Image.open(out / name).load()

    monkeypatch.undo()
    report = prepare_celeba(source, out, workers=2, verbose=False)
    assert report.already_done == len(left)
    assert report.converted == 64 - len(left) > 0  # the pool really stopped early
    assert sorted(os.listdir(out)) == sorted(os.listdir(source))


STALE_TEMP = ".celeba-prepare-0123456789abcdef.000003.jpg.part"  # as a killed run leaves it


def test_stale_temporary_file_of_a_killed_run_is_replaced(source, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / STALE_TEMP).write_bytes(b"\xff\xd8 half an image")

    report = prepare_celeba(source, out, workers=1, verbose=False)

    assert report.stale_removed == 1
    assert "removed 1 half-written temporary files" in report.summary()
    _assert_complete_valid_set(out)


def test_only_this_modules_own_temporary_files_are_removed(source, tmp_path):
    """Issue 21: a user's *.part files, a folder and a link named like a temp file stay."""
    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    out.mkdir()
    outside.write_text("not the preparation's")
    (out / STALE_TEMP).write_bytes(b"\xff\xd8 half an image")
    (out / "notes.part").write_text("a user's download in progress")
    (out / "000001.jpg.part").write_text("named as the old code named its temp files")
    (out / "x.part").mkdir()  # a folder stopped the old code with IsADirectoryError
    (out / ".celeba-prepare-fedcba9876543210.part").mkdir()
    (out / ".celeba-prepare-00000000000000aa.part").symlink_to(outside)

    report = prepare_celeba(source, out, workers=1, verbose=False)

    assert report.stale_removed == 1
    assert report.converted == N_PLAIN + len(READABLE_ODD)
    assert not (out / STALE_TEMP).exists()
    assert (out / "notes.part").read_text() == "a user's download in progress"
    assert (out / "000001.jpg.part").is_file()
    assert (out / "x.part").is_dir() and (out / ".celeba-prepare-fedcba9876543210.part").is_dir()
    assert (out / ".celeba-prepare-00000000000000aa.part").is_symlink()
    assert outside.read_text() == "not the preparation's"


def test_a_planted_link_at_the_temporary_name_is_never_written_through(tmp_path, monkeypatch):
    """Issue 21: the temporary file is created exclusively (O_EXCL), not opened through a link."""
    src = tmp_path / "src"
    src.mkdir()
    _banded_face(0).save(src / "a.jpg")
    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    out.mkdir()
    outside.write_text("must stay")
    monkeypatch.setattr(prepare.secrets, "token_hex", lambda n: "0" * 2 * n)  # a known name
    (out / ".celeba-prepare-0000000000000000.a.jpg.part").symlink_to(outside)

    report = prepare_celeba(src, out, size=16, workers=1, verbose=False)

    assert report.converted == 0
    assert report.failed[0][0] == "a.jpg" and "FileExistsError" in report.failed[0][1]
    assert outside.read_text() == "must stay"
    assert not (out / "a.jpg").exists()


def test_a_symlink_loop_or_a_dangling_link_in_the_source_is_listed_as_skipped(source, tmp_path):
    """Issue 21: they stopped the whole run with OSError (too many levels of symbolic links)."""
    (source / "loop.jpg").symlink_to("loop.jpg")
    (source / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")

    report = prepare_celeba(source, tmp_path / "out", size=16, workers=1, verbose=False)

    assert report.found == N_PLAIN + len(READABLE_ODD) + len(UNREADABLE) + 2
    assert report.converted == N_PLAIN + len(READABLE_ODD)
    reasons = dict(report.failed)
    assert "Too many levels of symbolic links" in reasons["loop.jpg"]
    assert "No such file or directory" in reasons["gone.jpg"]
    assert "skipped loop.jpg" in report.summary() and "skipped gone.jpg" in report.summary()


def test_a_source_name_of_255_bytes_is_prepared(tmp_path):
    """Issue 21: the old temporary name (name + ".part") was longer than the 255-byte limit."""
    src = tmp_path / "src"
    src.mkdir()
    longest = "a" * 251 + ".jpg"
    accented = "é" * 125 + "b.jpg"  # 255 bytes in UTF-8 too
    for name in (longest, accented, "c.jpg"):
        _banded_face(0).save(src / name)

    report = prepare_celeba(src, tmp_path / "out", size=16, workers=1, verbose=False)

    assert report.failed == []
    assert sorted(os.listdir(tmp_path / "out")) == sorted([longest, accented, "c.jpg"])


def test_an_output_path_that_is_a_file_is_a_clear_error(source, tmp_path):
    """Issue 21: it was a FileExistsError traceback, from the command line too."""
    in_way = tmp_path / "prepared_96"
    in_way.write_text("a file, not a folder")
    with pytest.raises(NotADirectoryError, match="exists and is not a folder") as raised:
        prepare_celeba(source, in_way, workers=1, verbose=False)
    assert str(in_way) in str(raised.value) and "Choose another output folder" in str(raised.value)
    with pytest.raises(NotADirectoryError, match=re.escape(f"{in_way} exists and is not a")):
        prepare_celeba(source, in_way / "below", workers=1, verbose=False)
    assert in_way.read_text() == "a file, not a folder"

    result = prepare_cli(source, "--out", in_way, "--size", "16", "--workers", "1")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and str(in_way) in result.stderr
    assert "--out" in result.stderr and "Traceback" not in result.stderr


def test_plain_loop_makes_the_same_images(source, tmp_path):
    files = sorted(source.glob("0*.jpg"))
    assert plain_loop(files, tmp_path / "plain") == N_PLAIN
    prepare_celeba(source, tmp_path / "fast", workers=1, verbose=False)
    for path in files:
        plain = np.asarray(Image.open(tmp_path / "plain" / path.name), dtype=float)
        fast = np.asarray(Image.open(tmp_path / "fast" / path.name), dtype=float)
        assert plain.shape == fast.shape == (96, 96, 3)
        assert np.abs(plain - fast).mean() < 3


def test_missing_or_empty_source_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        prepare_celeba(tmp_path / "nowhere", verbose=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    with pytest.raises(FileNotFoundError, match="holds no images"):
        prepare_celeba(empty, verbose=False)


def test_command_line_fails_with_a_message_on_a_missing_or_empty_source(tmp_path):
    missing = prepare_cli(tmp_path / "nowhere")
    assert missing.returncode != 0
    assert "does not exist" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = prepare_cli(tmp_path / "empty")
    assert empty.returncode != 0
    assert "holds no images" in empty.stderr


def test_command_line_prepares_a_folder(source, tmp_path):
    result = prepare_cli(source, "--out", tmp_path / "cli", "--size", "48", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "truncated.jpg" in result.stdout
    _assert_complete_valid_set(tmp_path / "cli", size=48)
