"""Stream the prepared CelebA images to the model with tf.data.

202,599 images of 96x96x3 as float32 take 22 GB, more than most readers'
RAM, so the images are never all loaded: only the list of file names (and
the small attribute table) is held, and tf.data reads, decodes and batches
the JPEGs on all cores while the model trains on the previous batch
(prefetching). This replaces the posts' ImageDataGenerator, which Keras 3
no longer has.

The split into train and test images:

- with ``list_eval_partition.csv`` (or ``.txt``) next to the image folder,
  partition 0 is the training set and partitions 1 and 2 (validation and
  test) are the test set: the notebooks only train and evaluate;
- without it, the first `n_train` images (170,000 by default, as in the
  posts) train and the rest test;
- a folder with at most `n_train` images (a subset, the stand-in), or one
  whose partition file would leave a side empty (e.g. only the first
  thousands of CelebA's images, all in partition 0), is split in the
  proportion 170,000 : 32,599 instead, i.e. about 84 % train; the test set
  always gets at least one image, and the change is announced by a warning.

Decoding once (``cache=``): the stream decodes every JPEG again in every
epoch, which on a 2-core CPU delivers a few thousand images/s: far more than
training on that CPU consumes, but a GPU consumes tens of thousands (the
CelebA VAE needs about 0.45 GFLOP per image to train). So the images can be
decoded once into a uint8 array, 27,648 bytes an image (4.5 GB for CelebA's
162,770 training images), and batches are gathered from it in an order
shuffled as indices, scaled to [0, 1] as the stream scales them.

- ``"memory"``: the array in RAM;
- ``"disk"``: a ``.npy`` file in ``cache_dir``, memory-mapped: the operating
  system keeps what fits in its page cache. Written once, under a
  temporary name renamed when complete, and found again by later calls (its
  name hashes the image names and their folder's change time; a file of
  another shape, or a damaged one, is written again);
- ``"stream"``: no cache, the JPEGs decoded per epoch as above;
- ``"auto"`` (default): memory when the arrays take at most half the memory
  available now, else disk when the disk has room, else the stream.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from my_AE_code.celeba.damaged import naming_damaged_images
from my_AE_code.celeba.files import (
    ATTR_FILES,
    JPEG_SUFFIXES,
    PARTITION_FILES,
    find_file,
    list_images,
    read_attributes,
    read_partition,
)

N_TRAIN = 170_000
CELEBA_SIZE = 202_599
TRAIN_FRACTION = N_TRAIN / CELEBA_SIZE
JPEG_START, JPEG_END = b"\xff\xd8", b"\xff\xd9"  # the SOI and EOI markers
#: What ``celeba_datasets(cache=...)`` accepts (see the module docstring).
CACHE_CHOICES = ("auto", "memory", "disk", "stream")
#: "auto" caches in memory when the arrays take at most this share of the available memory.
MEMORY_SHARE = 0.5
#: Images decoded per batch while a cache is filled.
_FILL_BATCH = 256


@dataclass(frozen=True)
class CelebaData:
    """The two streams and what they hold.

    `train` and `test` yield float32 batches of shape (batch, size, size, 3)
    in [0, 1], or (images, attributes) pairs, attributes float32 -1/1 of
    shape (batch, 40), when asked for.
    """

    train: tf.data.Dataset
    test: tf.data.Dataset
    train_files: list[str]
    test_files: list[str]
    image_shape: tuple[int, int, int]
    attribute_names: tuple[str, ...] | None
    #: Where the batches come from: "memory", "disk" or "stream" ("auto" resolved).
    cache: str = "stream"


def celeba_datasets(
    image_dir,
    batch_size=128,
    *,
    with_attributes=False,
    n_train=N_TRAIN,
    shuffle=True,
    seed=None,
    meta_dir=None,
    cache="auto",
    cache_dir=None,
):
    """Train and test datasets over the prepared JPEGs in `image_dir`.

    The CSV files are looked for in `meta_dir`, by default the folder above
    `image_dir` (where ``img_align_celeba/`` and ``prepared_96/`` both are).
    The training stream is reshuffled every epoch (`seed` makes the order
    repeatable); the test stream keeps file order. The last batch may be
    smaller. `cache` ("auto", "memory", "disk" or "stream") decodes the
    images once, here, instead of every epoch (module docstring); disk
    caches go to `cache_dir`, by default ``cache/`` next to `image_dir`.
    """
    if cache not in CACHE_CHOICES:
        raise ValueError(f"cache={cache!r} is not a choice: use one of "
                         f"{', '.join(map(repr, CACHE_CHOICES))}.")
    image_dir = Path(image_dir)
    meta_dir = Path(meta_dir) if meta_dir is not None else image_dir.parent
    names = list_jpegs(image_dir)
    train_files, test_files = split_files(names, find_file(meta_dir, PARTITION_FILES), n_train)
    with Image.open(image_dir / names[0]) as first:
        image_shape = (first.height, first.width, 3)

    cache_dir = Path(cache_dir) if cache_dir is not None else image_dir.parent / "cache"
    cache = resolve_cache(cache, len(names) * int(np.prod(image_shape)), cache_dir)

    attributes = None
    if with_attributes:
        attr_file = find_file(meta_dir, ATTR_FILES)
        if attr_file is None:
            raise FileNotFoundError(
                f"No {' or '.join(ATTR_FILES)} in {meta_dir}; the attributes come from "
                "there (see data/README.md)."
            )
        attributes = read_attributes(attr_file)

    def stream(files, shuffled, split):
        # As bytes: a name that is not UTF-8 (b"\xff.jpg", a str with a surrogate in
        # Python) cannot become a TensorFlow string otherwise, but is a valid file name.
        paths = [os.fsencode(os.path.join(image_dir, name)) for name in files]
        rows = attributes.rows_for(files).astype(np.float32) if attributes is not None else None
        if cache != "stream":
            if cache == "memory":
                images = decode_all(paths, image_shape)
            else:
                images = disk_cache(paths, image_shape, cache_dir, f"{image_dir.name}_{split}",
                                    _cache_key(image_dir, files))
            return _from_array(images, rows, batch_size, shuffled, seed)
        items = paths if rows is None else (paths, rows)
        dataset = tf.data.Dataset.from_tensor_slices(items)
        if shuffled:  # shuffles names only, so the buffer can hold them all
            dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.map(_decoder(image_shape), num_parallel_calls=tf.data.AUTOTUNE)
        # Scaling whole batches is one operation instead of `batch_size` small ones.
        dataset = dataset.batch(batch_size)
        dataset = dataset.map(_to_unit_range, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.prefetch(tf.data.AUTOTUNE)

    return CelebaData(
        train=stream(train_files, shuffle, "train"),
        test=stream(test_files, False, "test"),
        train_files=train_files,
        test_files=test_files,
        image_shape=image_shape,
        attribute_names=attributes.names if attributes is not None else None,
        cache=cache,
    )


# --- decoding once ------------------------------------------------------------------------

def available_memory():
    """Bytes of memory available to a new allocation now, or None where unknown."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def resolve_cache(cache, nbytes, cache_dir):
    """``cache``, with "auto" resolved for uint8 arrays of ``nbytes`` in all."""
    if cache != "auto":
        return cache
    available = available_memory()
    if available is not None and nbytes <= MEMORY_SHARE * available:
        return "memory"
    folder = Path(cache_dir)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the disk the cache folder will be made on
    try:
        free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    except (OSError, AttributeError):
        return "stream"
    return "disk" if nbytes * 1.1 <= free else "stream"


def _uint8_batches(paths, image_shape):
    dataset = tf.data.Dataset.from_tensor_slices(paths)
    dataset = dataset.map(_decoder(image_shape), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(_FILL_BATCH).prefetch(tf.data.AUTOTUNE)


def decode_all(paths, image_shape, out=None):
    """All images of ``paths``, decoded in parallel into ``out`` (a new uint8 array by default)."""
    if out is None:
        out = np.empty((len(paths), *image_shape), np.uint8)
    start = 0
    with naming_damaged_images():  # a damaged JPEG is named here, before any training
        for batch in _uint8_batches(paths, image_shape):
            out[start:start + len(batch)] = batch.numpy()
            start += len(batch)
    return out


def disk_cache(paths, image_shape, cache_dir, prefix,
               key):
    """The memory-mapped ``cache_dir/{prefix}_{key}.npy``, written first if missing or damaged.

    The file is written under a temporary name and renamed when complete, so
    an interrupted write never counts; a lock file keeps two processes from
    writing the same cache at once. Writing one removes the caches of other
    keys with the same prefix: the images they hold have changed since.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}_{key}"
    final = cache_dir / f"{name}.npy"
    shape = (len(paths), *image_shape)
    with _locked(cache_dir / f".{name}.lock"):
        try:
            images = np.load(final, mmap_mode="r")
            if images.shape == shape and images.dtype == np.uint8:
                return images
            warnings.warn(f"{final} holds {images.dtype} {images.shape}, not uint8 {shape}: "
                          f"written again.", stacklevel=3)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as error:
            warnings.warn(f"{final} is damaged ({error}): written again.", stacklevel=3)
        for leftover in cache_dir.glob(f".{name}.*.tmp"):  # of a write that was interrupted
            leftover.unlink()
        temporary = cache_dir / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            out = np.lib.format.open_memmap(temporary, mode="w+", dtype=np.uint8, shape=shape)
            decode_all(paths, image_shape, out)
            out.flush()
            del out
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        for stale in cache_dir.glob(f"{prefix}_*.npy"):
            if stale != final and len(stale.stem) == len(name):  # same prefix, another key
                stale.unlink()
    return np.load(final, mmap_mode="r")


@contextlib.contextmanager
def _locked(path):
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    with open(path, "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def _cache_key(image_dir, files):
    """A short hash of the image names and their folder's last change (re-preparing changes it)."""
    digest = hashlib.sha256(str(image_dir.stat().st_mtime_ns).encode())
    for name in files:
        digest.update(os.fsencode(name) + b"\0")
    return digest.hexdigest()[:16]


def _from_array(images, rows, batch_size, shuffled,
                seed):
    """Batches gathered from decoded uint8 ``images`` (in RAM or memory-mapped), as the stream's.

    Indices are shuffled, not images, so the shuffle buffer holds them all
    at 8 bytes each; a memory-mapped file's rows are read in ascending order.
    """
    dataset = tf.data.Dataset.range(len(images))
    if shuffled:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)

    def gather(indices):  # rows in ascending order: a memory-mapped file is read front to back
        order = np.argsort(indices)
        batch = np.empty((len(indices), *images.shape[1:]), np.uint8)
        batch[order] = images[indices[order]]
        return batch

    def take(indices):
        # numpy, not tf.gather: tf.convert_to_tensor would copy the whole array (4.5 GB).
        batch = tf.numpy_function(gather, [indices], tf.uint8, stateful=False)
        return tf.ensure_shape(batch, (None, *images.shape[1:]))

    if rows is None:
        dataset = dataset.map(take, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        attributes = tf.convert_to_tensor(rows)
        dataset = dataset.map(lambda indices: (take(indices), tf.gather(attributes, indices)),
                              num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.map(_to_unit_range, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def list_jpegs(image_dir):
    """Sorted JPEG names in `image_dir`; a clear error when there are none."""
    image_dir = Path(image_dir)
    if not image_dir.is_dir():
        raise FileNotFoundError(
            f"{image_dir} does not exist; prepare the images first "
            "(my_AE_code.celeba.prepare_celeba, see data/README.md)."
        )
    names = list_images(image_dir, JPEG_SUFFIXES)
    if not names:
        raise FileNotFoundError(f"No JPEG images in {image_dir}; prepare the images first.")
    return names


def split_files(
    names, partition_file=None, n_train=N_TRAIN
):
    """Split file names into train and test as the module docstring says."""
    if len(names) < 2:
        raise ValueError(f"Need at least 2 images for a train and a test set, not {len(names)}.")
    if n_train < 1:
        raise ValueError(f"n_train must be at least 1, not {n_train}.")
    if partition_file is None:
        return _split_by_count(names, n_train)
    partition = read_partition(partition_file)
    listed = [name for name in names if name in partition]
    if len(listed) < len(names):
        warnings.warn(
            f"{len(names) - len(listed):,} images are not in {partition_file} and are left out.",
            stacklevel=2,
        )
    train = [name for name in listed if partition[name] == 0]
    test = [name for name in listed if partition[name] != 0]
    if train and test:
        return train, test
    if len(listed) < 2:
        raise ValueError(f"{partition_file} lists fewer than 2 of the images; is it theirs?")
    warnings.warn(
        f"{partition_file} leaves the {'test' if train else 'training'} set empty for these "
        f"{len(listed):,} images; they are split {TRAIN_FRACTION:.0%} / {1 - TRAIN_FRACTION:.0%} "
        "in file order instead.",
        stacklevel=2,
    )
    return _split_by_count(listed, len(listed))


def _split_by_count(names, n_train):
    """The first `n_train` train; with too few images, the posts' proportion, test never empty."""
    if n_train >= len(names):
        n_train = min(max(1, round(len(names) * TRAIN_FRACTION)), len(names) - 1)
    return names[:n_train], names[n_train:]


def _decoder(image_shape):
    """The per-file function: read and decode to uint8; attributes pass through.

    TensorFlow's decoder fails on a damaged file with "jpeg::Uncompress
    failed" and no file name. Checking the JPEG start and end markers first
    costs nothing and names the file for the usual damage (a truncated copy,
    a file of zeros, something else saved as .jpg). `verify_prepared` finds
    the rest.
    """

    def decode(path, *attributes):
        contents = tf.io.read_file(path)
        end = tf.maximum(tf.strings.length(contents) - 2, 0)
        whole = tf.logical_and(
            tf.strings.substr(contents, 0, 2) == JPEG_START,
            tf.strings.substr(contents, end, 2) == JPEG_END,
        )
        check = tf.debugging.Assert(whole, ["Not a complete JPEG file:", path], summarize=1)
        with tf.control_dependencies([check]):
            image = tf.io.decode_jpeg(contents, channels=3)
        image = tf.ensure_shape(image, image_shape)
        return (image, *attributes) if attributes else image

    return decode


def _to_unit_range(images, *attributes):
    """uint8 batch -> float32 in [0, 1]."""
    images = tf.cast(images, tf.float32) / 255.0
    return (images, *attributes) if attributes else images
