"""Preparing CelebA: crop, shrink, all kinds of inputs, resuming, errors, the command line."""

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil  # installed with ipykernel
import pytest
from PIL import Image, JpegImagePlugin

from benchmarks.celeba_input import plain_loop
from helpers import ROOT, prepare_cli, truncate, write_jpegs
from my_AE_code.celeba import prepare
from my_AE_code.celeba.prepare import prepare_celeba, verify_prepared

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


@pytest.mark.parametrize("size, decoded", [(89, (89, 109)), (44, (45, 55)), (22, (23, 28))])
def test_draft_mode_decodes_at_a_smaller_scale_and_makes_the_same_images(tmp_path, monkeypatch,
                                                                         size, decoded):
    """Below 90 pixels the JPEG decoder's 1/2, 1/4 or 1/8 scale is asked for (at 96, as the
    comparison above, it is the full scale): still at least ``size`` wide, still the image.

    The pictures are smooth top-to-bottom ramps, which a scaled decode keeps (a sharp edge it
    blurs over a block of 8 pixels): a crop shifted by a few rows would show.
    """
    source = tmp_path / "src"
    source.mkdir()
    ramp = np.linspace(0, 255, 218)[:, None]
    for index in range(3):
        pixels = np.stack(np.broadcast_arrays(40.0 * index, ramp, 255 - ramp), axis=-1)
        pixels = np.broadcast_to(pixels, (218, 178, 3)).astype(np.uint8)
        Image.fromarray(pixels).save(source / f"{index + 1:06d}.jpg", quality=95)
    decoded_sizes = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(image, mode, requested_size):
        result = real_draft(image, mode, requested_size)
        decoded_sizes.append(image.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)
    prepare_celeba(source, tmp_path / "fast", size=size, workers=1, verbose=False)
    assert decoded_sizes == [decoded] * 3  # 178x218 at 1/2, 1/4, 1/8 (rounded up)
    plain_loop(sorted(source.glob("*.jpg")), tmp_path / "plain", size=size)  # full decodes
    for path in sorted(source.glob("*.jpg")):
        plain = np.asarray(Image.open(tmp_path / "plain" / path.name), dtype=float)
        fast = np.asarray(Image.open(tmp_path / "fast" / path.name), dtype=float)
        assert plain.shape == fast.shape == (size, size, 3)
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


# --- hostile sources and faults -------------------------------------------------------------

def face(colour, size=(40, 48)):
    return Image.new("RGB", size, colour)


def test_two_sources_for_one_output_are_not_merged(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    face((255, 0, 0)).save(src / "a.jpg")
    face((0, 0, 255)).save(src / "a.png")
    face((0, 255, 0)).save(src / "b.png")

    report = prepare_celeba(src, tmp_path / "out", size=16, workers=1, verbose=False)

    assert report.converted == 2
    assert [name for name, _ in report.failed] == ["a.png"]
    assert "would become a.jpg, as a.jpg does; rename one" in report.failed[0][1]
    assert "a.png" in report.summary()
    assert sorted(os.listdir(tmp_path / "out")) == ["a.jpg", "b.jpg"]
    red = np.asarray(Image.open(tmp_path / "out" / "a.jpg"), dtype=int).mean((0, 1))
    assert np.abs(red - (255, 0, 0)).max() < 10  # the JPEG's image, not the PNG's


def _pool_workers(pid):
    return [child for child in psutil.Process(pid).children(recursive=True)
            if any("spawn_main" in part for part in child.cmdline())]


def _alive(process):
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_workers_end_when_the_preparation_is_killed(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    # A large smooth PNG: a small file that takes long to decode, so the workers are busy.
    Image.linear_gradient("L").resize((2500, 2500)).save(src / "000000.png")
    for index in range(1, 200):
        shutil.copy(src / "000000.png", src / f"{index:06d}.png")
    script = ("from my_AE_code.celeba.prepare import prepare_celeba; "
              f"prepare_celeba({str(src)!r}, {str(tmp_path / 'out')!r}, 16, workers=2, "
              "verbose=False)")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    workers = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.2)
            workers = _pool_workers(parent.pid)
        assert len(workers) == 2 and all(map(_alive, workers)), "the workers never started"

        parent.send_signal(signal.SIGKILL)
        parent.wait()
        # The workers' watchdog notices the lost parent within a second or two; the
        # minute only keeps a loaded machine from failing the test. (A zombie counts as
        # ended: where PID 1 does not reap, it stays in the table.)
        deadline = time.monotonic() + 60
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(_alive, workers))
    finally:
        parent.kill()
        for worker in filter(_alive, workers):  # only if the test failed
            worker.kill()


def _prepared_pixels(tmp_path, name):
    report = prepare_celeba(tmp_path / "src", tmp_path / "out", size=16, workers=1, verbose=False)
    assert report.converted == 1, report.failed
    return np.asarray(Image.open(tmp_path / "out" / name), dtype=float)


def test_a_16_bit_png_keeps_its_grey(tmp_path):
    (tmp_path / "src").mkdir()
    Image.fromarray(np.full((48, 40), 100 * 256, np.uint16)).save(tmp_path / "src" / "grey.png")
    assert Image.open(tmp_path / "src" / "grey.png").mode == "I;16"
    pixels = _prepared_pixels(tmp_path, "grey.jpg")
    assert np.abs(pixels - 100).max() < 3  # not white


def test_exif_orientation_is_honoured(tmp_path):
    (tmp_path / "src").mkdir()
    stored = np.zeros((48, 48, 3), np.uint8)
    stored[:24] = (255, 0, 0)  # red on top as stored, ...
    stored[24:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 3  # ... but the camera was upside down: turn by 180 degrees to view
    Image.fromarray(stored).save(tmp_path / "src" / "photo.jpg", exif=exif)
    pixels = _prepared_pixels(tmp_path, "photo.jpg")
    assert np.abs(pixels[1, 8] - (0, 0, 255)).max() < 40  # blue on top, as it was taken
    assert np.abs(pixels[14, 8] - (255, 0, 0)).max() < 40


def test_another_size_into_a_prepared_folder_is_refused(tmp_path):
    write_jpegs(tmp_path / "src", [(10, 200, 10)], size=(40, 48))
    prepare_celeba(tmp_path / "src", tmp_path / "out", size=16, workers=1, verbose=False)
    with pytest.raises(ValueError, match=r"out already holds 16x16 images \(e.g. 000001.jpg\), "
                                         "not 12x12: prepare into another folder"):
        prepare_celeba(tmp_path / "src", tmp_path / "out", size=12, workers=1, verbose=False)


@pytest.mark.parametrize("settings, error, message", [
    (dict(size=96.0), TypeError, r"size must be a whole number, not 96.0 \(float\)"),
    (dict(size=True), TypeError, "size must be a whole number"),
    (dict(quality=100), ValueError, "quality must be from 1 to 95, not 100"),
    (dict(quality=0), ValueError, "quality must be from 1 to 95, not 0"),
])
def test_a_float_size_or_a_quality_outside_1_to_95_is_refused(tmp_path, settings, error,
                                                               message):
    with pytest.raises(error, match=message):
        prepare_celeba(tmp_path, tmp_path / "out", **settings, verbose=False)


def test_a_run_in_which_nothing_converts_exits_non_zero(tmp_path):
    (tmp_path / "src").mkdir()
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / "src" / name).write_bytes(b"\xff\xd8 not really a JPEG")
    result = prepare_cli(tmp_path / "src", "--out", tmp_path / "out", "--workers", "1",
                         "--quiet")
    assert result.returncode == 1
    assert "error: none of the 2 images" in result.stderr and "a.jpg" in result.stderr


def test_the_interrupt_message_counts_what_is_on_disk(tmp_path, monkeypatch, capsys):
    write_jpegs(tmp_path / "src", [(index * 10, 100, 100) for index in range(24)], size=(40, 48))

    class InterruptedBar(prepare.tqdm):
        def update(self, n=1):
            raise KeyboardInterrupt  # Ctrl-C right after the first chunk, others still running

    monkeypatch.setattr(prepare, "tqdm", InterruptedBar)
    with pytest.raises(KeyboardInterrupt):
        prepare_celeba(tmp_path / "src", tmp_path / "out", size=16, workers=2, verbose=False)
    on_disk = len(os.listdir(tmp_path / "out"))
    assert f"Interrupted: {on_disk} of 24 images are prepared in" in capsys.readouterr().out


def test_python_m_prepare_prints_no_runpy_warning(tmp_path):
    write_jpegs(tmp_path / "src", [(index * 50, 0, 0) for index in range(4)], size=(40, 48))
    result = prepare_cli(tmp_path / "src", "--out", tmp_path / "out", "--size", "16",
                         "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr
    assert len(os.listdir(tmp_path / "out")) == 4


def test_verify_prepared_lists_every_damaged_file(tmp_path):
    folder = write_jpegs(tmp_path / "prepared_16", [(index * 20, 100, 50) for index in range(6)],
                         size=(16, 16))
    truncate(folder / "000002.jpg")
    (folder / "000003.jpg").write_bytes(bytes(1000))  # zeros, as a failing disk may leave
    face((1, 2, 3), size=(20, 16)).save(folder / "000004.jpg")  # another size
    face((1, 2, 3), size=(16, 16)).save(folder / "000005.jpg", format="PNG")

    damaged = verify_prepared(folder, 16, workers=1, verbose=False)

    assert [name for name, _ in damaged] == ["000002.jpg", "000003.jpg", "000004.jpg",
                                             "000005.jpg"]
    assert "not a 16x16 RGB JPEG" in dict(damaged)["000004.jpg"]
    result = prepare_cli("--verify", "--out", folder, "--size", "16", "--workers", "1")
    assert result.returncode == 1
    assert "6 images checked" in result.stdout and "000003.jpg" in result.stdout


def test_preparation_reads_back_what_it_wrote(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    face((200, 10, 10)).save(tmp_path / "src" / "a.jpg")
    face((10, 10, 200)).save(tmp_path / "src" / "b.jpg")  # blue: told apart when written
    real_save = Image.Image.save

    def save_then_lose_the_tail(image, fp, *args, **kwargs):  # a write that fails silently
        real_save(image, fp, *args, **kwargs)
        if image.getpixel((8, 8))[2] > 100:
            fp.flush()
            fp.truncate(fp.tell() // 2)

    monkeypatch.setattr(Image.Image, "save", save_then_lose_the_tail)
    report = prepare_celeba(tmp_path / "src", tmp_path / "out", size=16, workers=1,
                            verbose=False)
    assert report.converted == 1
    assert report.failed[0][0] == "b.jpg" and "does not read back" in report.failed[0][1]
    assert os.listdir(tmp_path / "out") == ["a.jpg"]  # no damaged file counted as done
