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
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

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


def celeba_datasets(
    image_dir: str | Path,
    batch_size: int = 128,
    *,
    with_attributes: bool = False,
    n_train: int = N_TRAIN,
    shuffle: bool = True,
    seed: int | None = None,
    meta_dir: str | Path | None = None,
) -> CelebaData:
    """Train and test datasets over the prepared JPEGs in `image_dir`.

    The CSV files are looked for in `meta_dir`, by default the folder above
    `image_dir` (where ``img_align_celeba/`` and ``prepared_96/`` both are).
    The training stream is reshuffled every epoch (`seed` makes the order
    repeatable); the test stream keeps file order. The last batch may be
    smaller.
    """
    image_dir = Path(image_dir)
    meta_dir = Path(meta_dir) if meta_dir is not None else image_dir.parent
    names = list_jpegs(image_dir)
    train_files, test_files = split_files(names, find_file(meta_dir, PARTITION_FILES), n_train)
    with Image.open(image_dir / names[0]) as first:
        image_shape = (first.height, first.width, 3)

    attributes = None
    if with_attributes:
        attr_file = find_file(meta_dir, ATTR_FILES)
        if attr_file is None:
            raise FileNotFoundError(
                f"No {' or '.join(ATTR_FILES)} in {meta_dir}; the attributes come from "
                "there (see data/README.md)."
            )
        attributes = read_attributes(attr_file)

    def stream(files: list[str], shuffled: bool) -> tf.data.Dataset:
        # As bytes: a name that is not UTF-8 (b"\xff.jpg", a str with a surrogate in
        # Python) cannot become a TensorFlow string otherwise, but is a valid file name.
        paths = [os.fsencode(os.path.join(image_dir, name)) for name in files]
        items = paths
        if attributes is not None:
            items = (paths, attributes.rows_for(files).astype(np.float32))
        dataset = tf.data.Dataset.from_tensor_slices(items)
        if shuffled:  # shuffles names only, so the buffer can hold them all
            dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.map(_decoder(image_shape), num_parallel_calls=tf.data.AUTOTUNE)
        # Scaling whole batches is one operation instead of `batch_size` small ones.
        dataset = dataset.batch(batch_size)
        dataset = dataset.map(_to_unit_range, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.prefetch(tf.data.AUTOTUNE)

    return CelebaData(
        train=stream(train_files, shuffle),
        test=stream(test_files, False),
        train_files=train_files,
        test_files=test_files,
        image_shape=image_shape,
        attribute_names=attributes.names if attributes is not None else None,
    )


def list_jpegs(image_dir: str | Path) -> list[str]:
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
    names: list[str], partition_file: str | Path | None = None, n_train: int = N_TRAIN
) -> tuple[list[str], list[str]]:
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


def _split_by_count(names: list[str], n_train: int) -> tuple[list[str], list[str]]:
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
