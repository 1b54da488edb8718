"""Decoding the prepared CelebA images once: in memory or in a memory-mapped file on disk.

The cached paths must yield what the stream yields (the same pixels, the
same image-attribute pairs), shuffle all images every epoch, and reuse a
disk cache instead of decoding again; "auto" picks by the memory and disk
available.
"""

import numpy as np
import pytest
from PIL import Image

from helpers import DAMAGED_JPEG_NAMED, truncate
from my_AE_code.celeba import ATTRIBUTE_NAMES, celeba_datasets, pipeline
from my_AE_code.celeba.files import write_attributes_csv

N = 24
SIZE = 16


@pytest.fixture
def celeba(tmp_path):
    """24 prepared 16x16 images, each a noise pattern of its own, with attributes."""
    root = tmp_path / "celeba"
    images = root / "prepared_16"
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"{index + 1:06d}.jpg" for index in range(N)]
    for name in names:
        pixels = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / name, quality=90)
    rows = np.where(rng.random((N, 40)) < 0.5, 1, -1).astype(np.int8)
    write_attributes_csv(root / "list_attr_celeba.csv", names, rows)
    return images


def epoch(dataset):
    """One pass as (images, attributes) arrays, batches concatenated."""
    batches = list(dataset)
    return tuple(np.concatenate([batch[part].numpy() for batch in batches])
                 for part in range(2))


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_cached_batches_equal_the_streams(celeba, tmp_path, cache):
    kwargs = dict(batch_size=5, with_attributes=True, shuffle=False, cache_dir=tmp_path / "c")
    stream = celeba_datasets(celeba, cache="stream", **kwargs)
    cached = celeba_datasets(celeba, cache=cache, **kwargs)
    assert (stream.cache, cached.cache) == ("stream", cache)
    assert cached.train.element_spec == stream.train.element_spec
    for split in ("train", "test"):
        streamed, from_cache = epoch(getattr(stream, split)), epoch(getattr(cached, split))
        assert len(streamed[0]) == len(getattr(stream, f"{split}_files"))
        np.testing.assert_array_equal(from_cache[0], streamed[0])  # the same pixels
        np.testing.assert_array_equal(from_cache[1], streamed[1])  # with their attributes
    assert [len(batch[0]) for batch in cached.train] == [5, 5, 5, 5]  # 20 train, 4 test


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_cached_training_order_is_reshuffled_each_epoch_and_repeatable(celeba, tmp_path, cache):
    kwargs = dict(batch_size=8, with_attributes=True, seed=4, cache_dir=tmp_path / "c")
    data = celeba_datasets(celeba, cache=cache, **kwargs)
    reference = epoch(celeba_datasets(celeba, cache="stream", shuffle=False, **kwargs).train)
    key = {image.tobytes(): row for image, row in zip(*reference)}
    first, second = epoch(data.train), epoch(data.train)
    for images, rows in (first, second):
        assert sorted(image.tobytes() for image in images) == sorted(key)  # each image once
        for image, row in zip(images, rows):
            np.testing.assert_array_equal(row, key[image.tobytes()])  # still its own row
    assert not np.array_equal(first[0], second[0])
    again = epoch(celeba_datasets(celeba, cache=cache, **kwargs).train)
    np.testing.assert_array_equal(again[0], first[0])  # the seed repeats the order


def test_a_disk_cache_is_written_once_and_found_again(celeba, tmp_path, monkeypatch):
    folder = tmp_path / "c"
    first = epoch(celeba_datasets(celeba, batch_size=8, shuffle=False, cache="disk",
                                  cache_dir=folder, with_attributes=True).train)
    files = sorted(path.name for path in folder.glob("*.npy"))
    assert len(files) == 2 and files[0].startswith("prepared_16_test_")

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(pipeline, "decode_all", no_decoding)
    again = celeba_datasets(celeba, batch_size=8, shuffle=False, cache="disk", cache_dir=folder,
                            with_attributes=True)
    np.testing.assert_array_equal(epoch(again.train)[0], first[0])

    # A new image changes the folder: its caches are written again, the old ones removed.
    monkeypatch.undo()
    Image.new("RGB", (SIZE, SIZE), (1, 2, 3)).save(celeba / "000099.jpg")
    celeba_datasets(celeba, batch_size=8, cache="disk", cache_dir=folder)
    newer = sorted(path.name for path in folder.glob("*.npy"))
    assert len(newer) == 2 and not set(newer) & set(files)


def test_a_damaged_or_interrupted_disk_cache_is_written_again(celeba, tmp_path):
    folder = tmp_path / "c"
    reference = epoch(celeba_datasets(celeba, batch_size=8, shuffle=False, cache="disk",
                                      cache_dir=folder, with_attributes=True).train)[0]
    train_file = next(folder.glob("prepared_16_train_*.npy"))
    train_file.write_bytes(train_file.read_bytes()[:1000])  # cut short
    leftover = folder / f".{train_file.stem}.0badc0de.tmp"  # a write killed half-way
    leftover.write_bytes(b"partial")
    with pytest.warns(UserWarning, match="damaged"):
        data = celeba_datasets(celeba, batch_size=8, shuffle=False, cache="disk",
                               cache_dir=folder, with_attributes=True)
    np.testing.assert_array_equal(epoch(data.train)[0], reference)
    assert not leftover.exists()


def test_auto_caches_in_memory_when_it_fits_else_on_disk_else_streams(celeba, tmp_path,
                                                                      monkeypatch):
    nbytes = N * SIZE * SIZE * 3
    monkeypatch.setattr(pipeline, "available_memory", lambda: 2 * nbytes)
    assert celeba_datasets(celeba, cache_dir=tmp_path / "c").cache == "memory"
    monkeypatch.setattr(pipeline, "available_memory", lambda: 2 * nbytes - 1)
    assert celeba_datasets(celeba, cache_dir=tmp_path / "c").cache == "disk"
    assert pipeline.resolve_cache("auto", 10**30, tmp_path) == "stream"  # no disk that big
    assert pipeline.resolve_cache("stream", 1, tmp_path) == "stream"  # a choice is kept


def test_an_unknown_cache_choice_names_the_argument_and_the_choices(celeba):
    with pytest.raises(ValueError, match=r"cache='ram' is not a choice.*'memory', 'disk'"):
        celeba_datasets(celeba, cache="ram")


def test_a_damaged_image_is_named_while_the_cache_is_filled(celeba):
    (celeba / "000003.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(Exception, match="000003.jpg"):
        celeba_datasets(celeba, cache="memory")


def test_attribute_names_are_kept(celeba):
    data = celeba_datasets(celeba, cache="memory", with_attributes=True)
    assert data.attribute_names == tuple(ATTRIBUTE_NAMES)


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_a_damaged_prepared_jpeg_is_named_when_a_cache_is_filled(celeba, tmp_path, cache):
    truncate(celeba / "000007.jpg")
    with pytest.raises(ValueError, match=DAMAGED_JPEG_NAMED):
        celeba_datasets(celeba, batch_size=4, shuffle=False, cache=cache,
                        cache_dir=tmp_path / "cache")
