"""Preparing CelebA: crop, shrink, all kinds of inputs, resuming, errors, the command line."""

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.celeba_input import plain_loop
from my_AE_code.celeba import prepare
from my_AE_code.celeba.prepare import prepare_celeba

REPO = Path(__file__).resolve().parents[1]
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


def test_stale_temporary_file_of_a_killed_run_is_replaced(source, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "000003.jpg.part").write_bytes(b"\xff\xd8 half an image")

    report = prepare_celeba(source, out, workers=1, verbose=False)

    assert report.stale_removed == 1
    _assert_complete_valid_set(out)


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


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "my_AE_code.celeba.prepare", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_command_line_fails_with_a_message_on_a_missing_or_empty_source(tmp_path):
    missing = _cli(tmp_path / "nowhere")
    assert missing.returncode != 0
    assert "does not exist" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = _cli(tmp_path / "empty")
    assert empty.returncode != 0
    assert "holds no images" in empty.stderr


def test_command_line_prepares_a_folder(source, tmp_path):
    result = _cli(source, "--out", tmp_path / "cli", "--size", "48", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "truncated.jpg" in result.stdout
    _assert_complete_valid_set(tmp_path / "cli", size=48)
