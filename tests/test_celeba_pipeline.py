"""The tf.data pipeline over prepared CelebA images: batches, split, attributes."""

import os
import shutil
import warnings

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from helpers import DAMAGED_JPEG_NAMED, tiny_vae, truncate, write_jpegs
from my_AE_code.celeba import ATTRIBUTE_NAMES, celeba_datasets, read_attributes, split_files
from my_AE_code.celeba.files import read_partition, write_attributes_csv, write_partition_csv

N = 30


def _index_colour(index):
    """Each image is one flat colour encoding its index, so a batch tells which images it holds."""
    return (8 * index, 255 - 8 * index, 128)


def _index_of(image):
    return int(round(float(np.median(image[..., 0])) * 255 / 8))


def _attribute_rows():
    rows = np.where(np.random.default_rng(0).random((N, 40)) < 0.3, 1, -1).astype(np.int8)
    rows[:, ATTRIBUTE_NAMES.index("Smiling")] = [1 if index % 2 else -1 for index in range(N)]
    return rows


def _write_attributes_txt(path, image_ids, rows):
    """The original CelebA text form: count, names, then space-aligned rows."""
    lines = [str(len(image_ids)), " ".join(ATTRIBUTE_NAMES) + " "]
    for image_id, row in zip(image_ids, rows):
        lines.append(image_id + " " + " ".join(f"{value:2d}" for value in row))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def celeba(tmp_path_factory):
    """A CelebA root with 30 prepared 96x96 images and both attribute forms in two copies."""
    root = tmp_path_factory.mktemp("celeba")
    write_jpegs(root / "prepared_96", map(_index_colour, range(N)), size=(96, 96), quality=95)
    image_ids = [f"{index + 1:06d}.jpg" for index in range(N)]
    write_attributes_csv(root / "list_attr_celeba.csv", image_ids, _attribute_rows())
    write_partition_csv(root / "list_eval_partition.csv", image_ids, [0] * 20 + [1] * 5 + [2] * 5)
    txt_root = root / "txt_form"
    txt_root.mkdir()
    _write_attributes_txt(txt_root / "list_attr_celeba.txt", image_ids, _attribute_rows())
    (txt_root / "list_eval_partition.txt").write_text(
        "".join(f"{image_id} {0 if i < 20 else 2}\n" for i, image_id in enumerate(image_ids))
    )
    return root


def test_batches_are_float32_images_in_0_1(celeba):
    data = celeba_datasets(celeba / "prepared_96", batch_size=8, seed=1)

    assert data.image_shape == (96, 96, 3)
    assert data.train.element_spec.shape.as_list() == [None, 96, 96, 3]
    assert data.train.element_spec.dtype == tf.float32
    sizes = []
    for batch in data.train:
        sizes.append(batch.shape[0])
        assert batch.dtype == tf.float32
        assert float(tf.reduce_min(batch)) >= 0.0
        assert float(tf.reduce_max(batch)) <= 1.0
    assert sizes == [8, 8, 4]  # partition 0 holds 20 images
    pixel = next(iter(data.test))[0, 0, 0].numpy()  # first test image is index 20
    np.testing.assert_allclose(pixel, np.array(_index_colour(20)) / 255, atol=0.03)


def test_split_follows_the_partition_file(celeba):
    data = celeba_datasets(celeba / "prepared_96", batch_size=8)
    assert data.train_files == [f"{index + 1:06d}.jpg" for index in range(20)]
    assert data.test_files == [f"{index + 1:06d}.jpg" for index in range(20, 30)]  # 1 and 2
    test_indices = [_index_of(image) for batch in data.test for image in batch.numpy()]
    assert test_indices == list(range(20, 30))  # test stream in file order


def test_training_stream_is_reshuffled_each_epoch(celeba):
    data = celeba_datasets(celeba / "prepared_96", batch_size=32, seed=3)
    first = [_index_of(image) for image in next(iter(data.train)).numpy()]
    second = [_index_of(image) for image in next(iter(data.train)).numpy()]
    assert sorted(first) == sorted(second) == list(range(20))
    assert first != second
    assert first != sorted(first)


def test_without_partition_file_the_first_n_train_images_train(celeba, tmp_path):
    images = tmp_path / "prepared_96"
    shutil.copytree(celeba / "prepared_96", images)  # no CSV files next to this copy

    data = celeba_datasets(images, batch_size=8, n_train=24)
    assert len(data.train_files) == 24 and len(data.test_files) == 6
    assert data.test_files[0] == "000025.jpg"
    assert sum(batch.shape[0] for batch in data.test) == 6

    # 30 images are fewer than the default 170,000: split 170,000 : 32,599 instead.
    default = celeba_datasets(images, batch_size=8)
    assert (len(default.train_files), len(default.test_files)) == (25, 5)


def test_small_folders_always_get_a_test_set():
    for count in (2, 3, 10, 1000):
        names = [f"{index:06d}.jpg" for index in range(count)]
        train, test = split_files(names)
        assert train and test
        assert train + test == names
    assert split_files(["a.jpg", "b.jpg"], n_train=1) == (["a.jpg"], ["b.jpg"])
    with pytest.raises(ValueError, match="at least 2"):
        split_files(["a.jpg"])


def test_partition_file_that_leaves_test_empty_falls_back_with_a_warning(tmp_path):
    names = [f"{index + 1:06d}.jpg" for index in range(50)]
    partition = tmp_path / "list_eval_partition.csv"
    write_partition_csv(partition, names + ["999999.jpg"], [0] * 50 + [2])  # as CelebA's start
    with pytest.warns(UserWarning, match="test set empty"):
        train, test = split_files(names, partition)
    assert (len(train), len(test)) == (42, 8)
    assert train + test == names


def test_both_attribute_file_forms_read_alike(celeba):
    from_csv = read_attributes(celeba / "list_attr_celeba.csv")
    from_txt = read_attributes(celeba / "txt_form" / "list_attr_celeba.txt")
    assert from_csv.names == from_txt.names == ATTRIBUTE_NAMES
    assert from_csv.image_ids == from_txt.image_ids
    assert from_csv.values.dtype == from_txt.values.dtype == np.int8
    np.testing.assert_array_equal(from_csv.values, from_txt.values)
    np.testing.assert_array_equal(from_csv.values, _attribute_rows())
    assert read_partition(celeba / "list_eval_partition.csv")["000021.jpg"] == 1
    assert read_partition(celeba / "txt_form" / "list_eval_partition.txt")["000021.jpg"] == 2


@pytest.mark.parametrize("meta", ["", "txt_form"])
def test_image_attribute_pairs_belong_together(celeba, meta):
    expected = _attribute_rows()
    data = celeba_datasets(
        celeba / "prepared_96", batch_size=7, with_attributes=True, seed=0, meta_dir=celeba / meta
    )
    assert data.attribute_names == ATTRIBUTE_NAMES
    seen = []
    for images, attributes in data.train.concatenate(data.test):
        assert images.shape[1:] == (96, 96, 3)
        assert attributes.shape[1:] == (40,)
        assert attributes.dtype == tf.float32
        for image, row in zip(images.numpy(), attributes.numpy()):
            index = _index_of(image)
            np.testing.assert_array_equal(row, expected[index])
            seen.append(index)
    assert sorted(seen) == list(range(N))


def test_missing_attribute_file_or_images_are_clear_errors(celeba, tmp_path):
    images = tmp_path / "prepared_96"
    shutil.copytree(celeba / "prepared_96", images)
    with pytest.raises(FileNotFoundError, match="list_attr_celeba"):
        celeba_datasets(images, with_attributes=True)
    with pytest.raises(FileNotFoundError, match="prepare"):
        celeba_datasets(tmp_path / "not_prepared")


def test_end_to_end_on_the_standin_the_smiling_direction_finds_smiles(tmp_path):
    """Stand-in -> preparation -> pipeline, then the attribute-vector idea in pixel space.

    The mean smiling mouth minus the mean other mouth, learnt on the training
    images, tells the test images' smiles apart: the attributes survive the
    whole chain and pair with the right images.
    """
    from my_AE_code.celeba import make_standin, prepare_celeba

    root = make_standin(tmp_path / "standin", n_images=120, seed=0)
    report = prepare_celeba(root / "img_align_celeba", workers=1, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the stand-in's partition gives both sets
        data = celeba_datasets(report.out_dir, batch_size=64, with_attributes=True)

    def mouths_and_smiles(dataset):
        pairs = [(x.numpy(), a.numpy()) for x, a in dataset]
        images = np.concatenate([x for x, _ in pairs])
        smiling = np.concatenate([a for _, a in pairs])[:, ATTRIBUTE_NAMES.index("Smiling")] == 1
        mouths = images[:, 60:88, 30:66].reshape(len(images), -1)  # around the mouth, 96x96 crop
        return mouths - mouths.mean(1, keepdims=True), smiling

    train_mouths, train_smiling = mouths_and_smiles(data.train)
    test_mouths, test_smiling = mouths_and_smiles(data.test)
    assert len(train_mouths) + len(test_mouths) == 120
    smile_mean = train_mouths[train_smiling].mean(0)
    other_mean = train_mouths[~train_smiling].mean(0)
    scores = (test_mouths - (smile_mean + other_mean) / 2) @ (smile_mean - other_mean)
    assert ((scores > 0) == test_smiling).mean() >= 0.8


def test_a_file_name_that_is_not_utf8_is_prepared_and_streamed(tmp_path):
    """Issue 21: b"\\xff.jpg" was prepared, then celeba_datasets failed naming no file.

    Python holds such a name as a str with a surrogate (surrogateescape); the
    pipeline hands tf.data the bytes the file system knows it by.
    """
    from my_AE_code.celeba import prepare_celeba

    source = tmp_path / "img_align_celeba"
    source.mkdir()
    odd = os.fsdecode(b"\xff.jpg")
    names = ["000001.jpg", "000002.jpg", "000003.jpg", odd]
    for index, name in enumerate(names):
        try:
            Image.new("RGB", (40, 48), _index_colour(index)).save(source / name, format="JPEG")
        except (OSError, UnicodeEncodeError):
            pytest.skip("this file system refuses names that are not UTF-8")

    report = prepare_celeba(source, workers=1, verbose=False)
    assert report.failed == [] and report.converted == 4
    data = celeba_datasets(report.out_dir, batch_size=8, shuffle=False)

    assert odd in data.train_files + data.test_files
    streamed = [image for batch in data.train.concatenate(data.test) for image in batch.numpy()]
    assert sorted(_index_of(image) for image in streamed) == [0, 1, 2, 3]


# --- malformed attribute and partition files ------------------------------------------------

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
def test_a_malformed_attribute_or_partition_file_is_an_error_naming_it(tmp_path, name, text,
                                                                        message):
    path = tmp_path / name
    path.write_text(text)
    read = read_attributes if name.startswith("list_attr") else read_partition
    with pytest.raises(ValueError, match=message) as raised:
        read(path)
    assert str(path) in str(raised.value)


def test_quoted_csv_fields_are_read(tmp_path):
    path = tmp_path / "list_attr_celeba.csv"
    path.write_text('"image_id","Smiling","Male"\n"000001.jpg","1","-1"\n000002.jpg, -1 ,1\n')
    attributes = read_attributes(path)
    assert attributes.names == ("Smiling", "Male")
    assert attributes.image_ids == ("000001.jpg", "000002.jpg")
    np.testing.assert_array_equal(attributes.values, [[1, -1], [-1, 1]])


def test_a_damaged_prepared_jpeg_is_named_when_training_reaches_it(tmp_path):
    folder = write_jpegs(tmp_path / "prepared_16", [(index * 20, 100, 50) for index in range(12)],
                         size=(16, 16))
    truncate(folder / "000007.jpg")  # in the second batch: the first-batch check passes
    data = celeba_datasets(folder, batch_size=4, shuffle=False, cache="stream")
    vae = tiny_vae(learning_rate=0.001, input_dim=(16, 16, 3), decoder_conv_t_filters=[4, 3])
    with pytest.raises(ValueError, match=DAMAGED_JPEG_NAMED):
        vae.train_myVAE(data.train, batch_size=4, epochs=1, verbose=0)
