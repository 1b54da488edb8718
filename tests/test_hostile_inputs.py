"""Hostile inputs and faults (issue 12): each gets a clear error that names the file or
argument, or the right result, and nothing is lost. One test per row, in the issue's order:

==  ========================================================  ==================================
#   input or fault                                            what happens
==  ========================================================  ==================================
1   a.jpg and a.png in one source folder                      a.jpg converted, a.png skipped and
                                                              reported, never merged
2   the preparing process SIGKILLed                           its workers end within seconds
3   dataset of 0-255 floats, uint8 or NaN; NaN loss;          refused before training; stopped
    learning rate NaN, inf, <= 0                              at the batch; refused at compile
4   resuming with an edited learning rate                     applied, with a printed note
5   damaged latest checkpoint; left-over tmp files            earlier checkpoint, with a warning
                                                              naming it; tmp files deleted
6   16-bit PNG; EXIF orientation; another size into a         right grey; upright; refused;
    prepared folder; float size, quality 100; nothing         refused; exit 1; count on disk;
    converts; Ctrl-C; ``python -m``                           no runpy warning
7   mnist.npz damaged or inconsistent; attribute and          errors naming the file (and line)
    partition files malformed; quoted CSV fields              quoted fields read
8   damaged prepared JPEG                                     training names the file;
                                                              verify_prepared lists it;
                                                              preparation reads back its outputs
9   crash between the two steps of a save; flipped bytes      previous save intact; checksum
    in a weights file; a folder saved before checksums        error naming the file; still loads
10  numpy integers; bools for ints and non-bools for          accepted and saved as ints;
    bools; an empty array; an empty dataset                   refused by name
==  ========================================================  ==================================
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil  # installed with ipykernel
import pytest
import tensorflow as tf
from PIL import Image

from my_AE_code.celeba import celeba_datasets, prepare
from my_AE_code.celeba.files import read_attributes, read_partition
from my_AE_code.celeba.prepare import prepare_celeba, verify_prepared
from my_AE_code.mnist import load_mnist
from my_AE_code.models import MyVariationalAutoencoder, checkpoints, saving
from my_AE_code.models.checks import NaNLossError

REPO = Path(__file__).resolve().parents[1]

#: The smallest model these faults need: 8x8 grey images, one conv layer each way.
TINY = dict(input_dim=(8, 8, 1), encoder_conv_filters=[4], encoder_conv_kernel_size=[3],
            encoder_conv_strides=[2], decoder_conv_t_filters=[1],
            decoder_conv_t_kernel_size=[3], decoder_conv_t_strides=[2], z_dim=2)
#: The same for 16x16 RGB images, as a prepared CelebA folder holds them.
TINY_RGB = {**TINY, "input_dim": (16, 16, 3), "decoder_conv_t_filters": [3]}


def tiny_vae(learning_rate=0.001, **changes):
    vae = MyVariationalAutoencoder(**{**TINY, "solution_type": 3, "seed": 0, **changes})
    vae.compile_myVAE(learning_rate)
    return vae


def images(n=8, seed=0):
    return np.random.default_rng(seed).random((n, 8, 8, 1)).astype("float32")


def face(colour, size=(40, 48)):
    return Image.new("RGB", size, colour)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "my_AE_code.celeba.prepare", *map(str, args)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


# --- 1. two sources, one output --------------------------------------------------------------

def test_1_two_sources_for_one_output_are_not_merged(tmp_path):
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


# --- 2. the preparing process killed ----------------------------------------------------------

def _pool_workers(pid):
    return [child for child in psutil.Process(pid).children(recursive=True)
            if any("spawn_main" in part for part in child.cmdline())]


def _alive(process):
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_2_workers_end_when_the_preparation_is_killed(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    # A large smooth PNG: a small file that takes long to decode, so the workers are busy.
    Image.linear_gradient("L").resize((2500, 2500)).save(src / "000000.png")
    for index in range(1, 200):
        shutil.copy(src / "000000.png", src / f"{index:06d}.png")
    script = ("from my_AE_code.celeba.prepare import prepare_celeba; "
              f"prepare_celeba({str(src)!r}, {str(tmp_path / 'out')!r}, 16, workers=2, "
              "verbose=False)")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
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


# --- 3. training on nonsense --------------------------------------------------------------

@pytest.mark.parametrize("batches, error, message", [
    (images() * 255, ValueError, r"first batch of x_train has values in \[.*divide 8-bit"),
    ((images() * 255).astype("uint8"), TypeError, "x_train yields uint8 images"),
    (np.where(images() > 0.9, np.nan, images()), ValueError, "NaN values"),
], ids=["floats_0_255", "uint8", "nan"])
def test_3_dataset_of_unscaled_or_nan_pixels_is_refused(batches, error, message):
    dataset = tf.data.Dataset.from_tensor_slices(batches).batch(4)
    with pytest.raises(error, match=message):
        tiny_vae().train_myVAE(dataset, batch_size=4, epochs=1, verbose=0)


def test_3_a_loss_that_turns_nan_stops_training_with_advice(tmp_path):
    x = images(12)
    x[8:] = np.nan  # the third batch: past the first-batch check
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(4)
    vae = tiny_vae()
    with pytest.raises(NaNLossError, match="batch 3 of epoch 1.*Lower the learning rate "
                                           r"\(it is 0.001\)"):
        vae.train_myVAE(dataset, batch_size=4, epochs=2, verbose=0, checkpoint_dir=tmp_path)
    assert checkpoints.latest_checkpoint(tmp_path) is None  # no checkpoint of NaN weights


def test_3_a_huge_learning_rate_stops_at_the_nan_loss():
    vae = tiny_vae(learning_rate=1e6, solution_type=0)
    with pytest.raises(NaNLossError, match="it is 1000000"):
        vae.train_myVAE(images(64), batch_size=4, epochs=5, verbose=0)


@pytest.mark.parametrize("learning_rate, error, message", [
    (float("nan"), ValueError, "learning_rate=nan cannot train"),
    (float("inf"), ValueError, "learning_rate=inf cannot train"),
    (0.0, ValueError, "learning_rate=0.0 cannot train"),
    (-1e-3, ValueError, "learning_rate=-0.001 cannot train"),
    ("0.001", TypeError, "learning_rate must be a number"),
])
def test_3_an_impossible_learning_rate_is_refused_at_compile(learning_rate, error, message):
    vae = MyVariationalAutoencoder(**TINY)
    with pytest.raises(error, match=message):
        vae.compile_myVAE(learning_rate)


# --- 4. resuming with an edited learning rate ---------------------------------------------

def test_4_resuming_applies_the_edited_learning_rate_and_says_so(tmp_path, capsys):
    tiny_vae(0.001).train_myVAE(images(), batch_size=4, epochs=1, verbose=0,
                                checkpoint_dir=tmp_path)
    edited = tiny_vae(0.0001)
    history = edited.train_myVAE(images(), batch_size=4, epochs=2, verbose=0,
                                 checkpoint_dir=tmp_path)
    assert len(history.history["loss"]) == 1  # it did resume
    assert ("Continuing with learning_rate=0.0001, as compiled; the checkpoint "
            f"{tmp_path / 'epoch_001'} was trained with 0.001.") in capsys.readouterr().out
    assert float(edited.model.optimizer.learning_rate) == pytest.approx(1e-4)


# --- 5. a damaged latest checkpoint -------------------------------------------------------

def _flip_bytes(path, start_fraction=0.5, n=64):
    data = bytearray(path.read_bytes())
    start = int(len(data) * start_fraction)
    data[start:start + n] = bytes(b ^ 0xFF for b in data[start:start + n])
    path.write_bytes(bytes(data))


def _weights_file(folder):
    return folder / saving.read_params(folder)["weights_file"]


@pytest.mark.parametrize("damage", [
    lambda checkpoint: _flip_bytes(_weights_file(checkpoint)),
    lambda checkpoint: (checkpoint / checkpoints.STATE_FILE).write_text('{"epoch": 2, "rng'),
], ids=["flipped_weights", "truncated_state"])
def test_5_a_damaged_latest_checkpoint_falls_back_to_the_one_before(tmp_path, damage):
    tiny_vae().train_myVAE(images(), batch_size=4, epochs=2, verbose=0, checkpoint_dir=tmp_path)
    damage(tmp_path / "epoch_002")
    leftover = tmp_path / "epoch_001" / ".tmp-4242abcd-weights"  # a save killed half-way
    leftover.mkdir()
    (leftover / "model.weights.h5").write_bytes(b"half a save")

    with pytest.warns(UserWarning, match=r"Skipping the damaged checkpoint .*epoch_002"):
        history = tiny_vae().train_myVAE(images(), batch_size=4, epochs=2, verbose=0,
                                         checkpoint_dir=tmp_path)

    assert len(history.history["loss"]) == 1  # epoch 2 again, from epoch_001
    assert not leftover.exists()
    assert checkpoints.load_checkpoint(tiny_vae(), tmp_path / "epoch_002") == 2  # repaired


def test_5_every_checkpoint_damaged_is_an_error_not_a_silent_restart(tmp_path):
    tiny_vae().train_myVAE(images(), batch_size=4, epochs=2, verbose=0, checkpoint_dir=tmp_path)
    for checkpoint in ("epoch_001", "epoch_002"):
        _flip_bytes(_weights_file(tmp_path / checkpoint))
    with pytest.warns(UserWarning), pytest.raises(saving.DamagedSaveError,
                                                  match="epoch_001, epoch_002.*delete them"):
        tiny_vae().train_myVAE(images(), batch_size=4, epochs=3, verbose=0,
                               checkpoint_dir=tmp_path)


# --- 6. silent wrong images in preparation ------------------------------------------------

def _prepared_pixel_mean(tmp_path, name):
    report = prepare_celeba(tmp_path / "src", tmp_path / "out", size=16, workers=1, verbose=False)
    assert report.converted == 1, report.failed
    return np.asarray(Image.open(tmp_path / "out" / name), dtype=float)


def test_6_a_16_bit_png_keeps_its_grey(tmp_path):
    (tmp_path / "src").mkdir()
    Image.fromarray(np.full((48, 40), 100 * 256, np.uint16)).save(tmp_path / "src" / "grey.png")
    assert Image.open(tmp_path / "src" / "grey.png").mode == "I;16"
    pixels = _prepared_pixel_mean(tmp_path, "grey.jpg")
    assert np.abs(pixels - 100).max() < 3  # not white


def test_6_exif_orientation_is_honoured(tmp_path):
    (tmp_path / "src").mkdir()
    stored = np.zeros((48, 48, 3), np.uint8)
    stored[:24] = (255, 0, 0)  # red on top as stored, ...
    stored[24:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 3  # ... but the camera was upside down: turn by 180 degrees to view
    Image.fromarray(stored).save(tmp_path / "src" / "photo.jpg", exif=exif)
    pixels = _prepared_pixel_mean(tmp_path, "photo.jpg")
    assert np.abs(pixels[1, 8] - (0, 0, 255)).max() < 40  # blue on top, as it was taken
    assert np.abs(pixels[14, 8] - (255, 0, 0)).max() < 40


def test_6_another_size_into_a_prepared_folder_is_refused(tmp_path):
    (tmp_path / "src").mkdir()
    face((10, 200, 10)).save(tmp_path / "src" / "000001.jpg")
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
def test_6_a_float_size_or_a_quality_outside_1_to_95_is_refused(tmp_path, settings, error,
                                                                 message):
    with pytest.raises(error, match=message):
        prepare_celeba(tmp_path, tmp_path / "out", **settings, verbose=False)


def test_6_a_run_in_which_nothing_converts_exits_non_zero(tmp_path):
    (tmp_path / "src").mkdir()
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / "src" / name).write_bytes(b"\xff\xd8 not really a JPEG")
    result = _cli(tmp_path / "src", "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.returncode == 1
    assert "error: none of the 2 images" in result.stderr and "a.jpg" in result.stderr


def test_6_the_interrupt_message_counts_what_is_on_disk(tmp_path, monkeypatch, capsys):
    (tmp_path / "src").mkdir()
    for index in range(24):
        face((index * 10, 100, 100)).save(tmp_path / "src" / f"{index:06d}.jpg")

    class InterruptedBar(prepare.tqdm):
        def update(self, n=1):
            raise KeyboardInterrupt  # Ctrl-C right after the first chunk, others still running

    monkeypatch.setattr(prepare, "tqdm", InterruptedBar)
    with pytest.raises(KeyboardInterrupt):
        prepare_celeba(tmp_path / "src", tmp_path / "out", size=16, workers=2, verbose=False)
    on_disk = len(os.listdir(tmp_path / "out"))
    assert f"Interrupted: {on_disk} of 24 images are prepared in" in capsys.readouterr().out


def test_6_python_m_prepare_prints_no_runpy_warning(tmp_path):
    (tmp_path / "src").mkdir()
    for index in range(4):
        face((index * 50, 0, 0)).save(tmp_path / "src" / f"{index:06d}.jpg")
    result = _cli(tmp_path / "src", "--out", tmp_path / "out", "--size", "16", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr
    assert len(os.listdir(tmp_path / "out")) == 4


# --- 7. unvalidated user files ------------------------------------------------------------

def _mnist_arrays(**changes):
    arrays = dict(x_train=np.zeros((6, 28, 28), np.uint8), y_train=np.arange(6, dtype=np.uint8),
                  x_test=np.zeros((3, 28, 28), np.uint8), y_test=np.arange(3, dtype=np.uint8))
    return {**arrays, **changes}


@pytest.mark.parametrize("write, message", [
    (lambda path: np.savez(path, **_mnist_arrays(y_train=np.arange(5, dtype=np.uint8))),
     "holds 6 images in x_train but 5 labels in y_train"),
    (lambda path: np.savez(path, **_mnist_arrays(y_test=np.array([1, 2, 10]))),
     "y_test in .* hold labels other than the digits 0-9, e.g. 10"),
    (lambda path: np.savez(path, **_mnist_arrays(x_train=np.full((6, 28, 28), 300.0))),
     r"x_train in .* have pixel values in \[300, 300\], not 0-255 or 0-1"),
    (lambda path: np.savez(path, **_mnist_arrays(x_test=np.full((3, 28, 28), np.nan))),
     "x_test in .* contain NaN values"),
    (lambda path: path.write_bytes(b"<html>a login page, not MNIST</html>"),
     "is not a readable .npz file: it is damaged"),
    (lambda path: (np.savez(path, **_mnist_arrays()),
                   path.write_bytes(path.read_bytes()[:600])),
     "is not a readable .npz file: it is damaged"),
], ids=["lengths_differ", "label_10", "pixels_300", "nan", "not_npz", "truncated"])
def test_7_a_bad_mnist_file_is_an_error_naming_it(tmp_path, write, message):
    write(tmp_path / "mnist.npz")
    with pytest.raises(ValueError, match=message) as raised:
        load_mnist(tmp_path)
    assert str(tmp_path / "mnist.npz") in str(raised.value)


ATTR_HEADER = "image_id,Smiling,Male\n"


@pytest.mark.parametrize("name, text, message", [
    ("list_attr_celeba.csv", "image_id,Smiling\n000001.jpg,1,-1\n",
     "line 2: 3 fields where the header promises 2"),
    ("list_attr_celeba.txt", "1\nSmiling Male\n000001.jpg 1 -1 1\n",
     "line 3: 4 fields where the header promises 3"),
    ("list_attr_celeba.csv", ATTR_HEADER + "000001.jpg,1,-1\n000002.jpg,0,1\n",
     "line 3: the value '0'; CelebA's attribute values are -1 .absent. and 1"),
    ("list_attr_celeba.csv", ATTR_HEADER + "000001.jpg,yes,-1\n", "line 2: the value 'yes'"),
    ("list_attr_celeba.csv", "", "is empty or lacks its header"),
    ("list_eval_partition.csv", "image_id,partition\n000001.jpg,0\n000002.jpg,3\n",
     "line 3: the value '3'; partitions are 0 .train., 1 .validation. and 2 .test."),
    ("list_eval_partition.txt", "000001.jpg 0\n000002.jpg\n",
     "line 2: 1 fields where the header promises 2"),
    ("list_eval_partition.txt", "", "is empty"),
])
def test_7_a_malformed_attribute_or_partition_file_is_an_error_naming_it(tmp_path, name, text,
                                                                          message):
    path = tmp_path / name
    path.write_text(text)
    read = read_attributes if name.startswith("list_attr") else read_partition
    with pytest.raises(ValueError, match=message) as raised:
        read(path)
    assert str(path) in str(raised.value)


def test_7_quoted_csv_fields_are_read(tmp_path):
    path = tmp_path / "list_attr_celeba.csv"
    path.write_text('"image_id","Smiling","Male"\n"000001.jpg","1","-1"\n000002.jpg, -1 ,1\n')
    attributes = read_attributes(path)
    assert attributes.names == ("Smiling", "Male")
    assert attributes.image_ids == ("000001.jpg", "000002.jpg")
    np.testing.assert_array_equal(attributes.values, [[1, -1], [-1, 1]])


# --- 8. damaged prepared JPEGs -------------------------------------------------------------

def _prepared_folder(root, n=12):
    folder = root / "prepared_16"
    folder.mkdir(parents=True)
    for index in range(n):
        face((index * 20, 100, 50), size=(16, 16)).save(folder / f"{index + 1:06d}.jpg")
    return folder


def _truncate(path):
    path.write_bytes(path.read_bytes()[:200])


DAMAGED_JPEG_NAMED = r"Not a complete JPEG file:.*000007.jpg(.|\n)*verify_prepared\(folder\) lists"


def test_8_a_damaged_prepared_jpeg_is_named_when_training_reaches_it(tmp_path):
    folder = _prepared_folder(tmp_path)
    _truncate(folder / "000007.jpg")  # in the second batch: the first-batch check passes
    data = celeba_datasets(folder, batch_size=4, shuffle=False, cache="stream")
    vae = MyVariationalAutoencoder(**TINY_RGB, solution_type=3)
    vae.compile_myVAE(0.001)
    with pytest.raises(ValueError, match=DAMAGED_JPEG_NAMED):
        vae.train_myVAE(data.train, batch_size=4, epochs=1, verbose=0)


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_8_a_damaged_prepared_jpeg_is_named_when_a_cache_is_filled(tmp_path, cache):
    folder = _prepared_folder(tmp_path)
    _truncate(folder / "000007.jpg")
    with pytest.raises(ValueError, match=DAMAGED_JPEG_NAMED):
        celeba_datasets(folder, batch_size=4, shuffle=False, cache=cache,
                        cache_dir=tmp_path / "cache")


def test_8_verify_prepared_lists_every_damaged_file(tmp_path):
    folder = _prepared_folder(tmp_path, n=6)
    _truncate(folder / "000002.jpg")
    (folder / "000003.jpg").write_bytes(bytes(1000))  # zeros, as a failing disk may leave
    face((1, 2, 3), size=(20, 16)).save(folder / "000004.jpg")  # another size
    face((1, 2, 3), size=(16, 16)).save(folder / "000005.jpg", format="PNG")

    damaged = verify_prepared(folder, 16, workers=1, verbose=False)

    assert [name for name, _ in damaged] == ["000002.jpg", "000003.jpg", "000004.jpg",
                                             "000005.jpg"]
    assert "not a 16x16 RGB JPEG" in dict(damaged)["000004.jpg"]
    result = _cli("--verify", "--out", folder, "--size", "16", "--workers", "1")
    assert result.returncode == 1
    assert "6 images checked" in result.stdout and "000003.jpg" in result.stdout


def test_8_preparation_reads_back_what_it_wrote(tmp_path, monkeypatch):
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


# --- 9. save consistency ------------------------------------------------------------------

def _predict(vae, x):
    vae.set_enc_to_predict()
    return vae.model.predict(x, verbose=0)


def test_9_a_save_interrupted_before_its_last_step_leaves_the_previous_save_whole(
        tmp_path, monkeypatch):
    first = tiny_vae()
    first.save(tmp_path / "vae")
    expected = _predict(MyVariationalAutoencoder.load(tmp_path / "vae"), images())
    second = tiny_vae()
    second.train_myVAE(images(), batch_size=4, epochs=1, verbose=0)  # other weights

    def crash(path, data):
        raise KeyboardInterrupt  # killed after the new weights, before params.json

    monkeypatch.setattr(saving, "write_json", crash)
    with pytest.raises(KeyboardInterrupt):
        second.save(tmp_path / "vae")
    monkeypatch.undo()

    loaded = MyVariationalAutoencoder.load(tmp_path / "vae")
    np.testing.assert_array_equal(_predict(loaded, images()), expected)
    second.save(tmp_path / "vae")  # the next save completes and tidies up
    assert sorted(os.listdir(tmp_path / "vae")) == sorted(
        ["params.json", saving.read_params(tmp_path / "vae")["weights_file"]])


def test_9_flipped_bytes_in_a_weights_file_are_detected(tmp_path):
    tiny_vae().save(tmp_path / "vae")
    weights = _weights_file(tmp_path / "vae")
    _flip_bytes(weights, start_fraction=0.6, n=16)
    with pytest.raises(saving.DamagedSaveError, match=f"{weights.name} is damaged: its SHA-256 "
                                                      "checksum differs"):
        MyVariationalAutoencoder.load(tmp_path / "vae")


def test_9_a_folder_saved_before_checksums_still_loads(tmp_path):
    vae = tiny_vae()
    vae.save(tmp_path / "vae")
    params = saving.read_params(tmp_path / "vae")
    os.replace(tmp_path / "vae" / params.pop("weights_file"),
               tmp_path / "vae" / saving.LEGACY_WEIGHTS_FILE)
    del params["weights_sha256"]
    (tmp_path / "vae" / saving.PARAMS_FILE).write_text(json.dumps(params))

    loaded = MyVariationalAutoencoder.load(tmp_path / "vae")
    np.testing.assert_array_equal(_predict(loaded, images()), _predict(vae, images()))


# --- 10. small ones -----------------------------------------------------------------------

def test_10_numpy_integers_are_accepted_and_saved_as_ints(tmp_path):
    vae = MyVariationalAutoencoder(**{**TINY, "z_dim": np.int64(3),
                                      "encoder_conv_filters": [np.int32(4)]}, seed=np.int64(1))
    vae.save(tmp_path / "vae")
    params = json.loads((tmp_path / "vae" / saving.PARAMS_FILE).read_text())["params"]
    assert (params["z_dim"], params["encoder_conv_filters"], params["seed"]) == (3, [4], 1)
    assert MyVariationalAutoencoder.load(tmp_path / "vae").z_dim == 3


@pytest.mark.parametrize("changes, error, message", [
    (dict(solution_type=True), ValueError, "solution_type=True is unknown"),
    (dict(act=True), ValueError, "act=True is unknown"),
    (dict(act=np.True_), ValueError, "act=np.True_ is unknown"),
    (dict(z_dim=True), TypeError, "z_dim must be an integer"),
    (dict(use_batch_norm="no"), TypeError, "use_batch_norm must be True or False, got 'no'"),
    (dict(use_dropout=1), TypeError, "use_dropout must be True or False, got 1"),
])
def test_10_bools_for_numbers_and_other_values_for_bools_are_refused(changes, error, message):
    with pytest.raises(error, match=message):
        MyVariationalAutoencoder(**{**TINY, **changes})


def test_10_an_empty_array_is_refused():
    with pytest.raises(ValueError, match="x_train holds no images"):
        tiny_vae().train_myVAE(np.zeros((0, 8, 8, 1), "float32"), batch_size=4, epochs=1)


def test_10_an_empty_dataset_is_refused():
    empty = tf.data.Dataset.from_tensor_slices(images()).filter(lambda x: False).batch(4)
    with pytest.raises(ValueError, match="x_train yields no batches: the dataset is empty"):
        tiny_vae().train_myVAE(empty, batch_size=4, epochs=1)
