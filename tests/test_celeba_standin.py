"""The CelebA stand-in: CelebA's layout and format, attributes that match the pixels."""

import warnings

import numpy as np
import pytest
from PIL import Image

from my_AE_code.celeba import (
    ATTRIBUTE_NAMES,
    CelebaStandinWarning,
    find_or_make_celeba,
    make_standin,
    read_attributes,
)
from my_AE_code.celeba.files import read_partition

N = 400
DRAWN = {
    "Male", "Smiling", "Mouth_Slightly_Open", "Eyeglasses", "Pale_Skin", "Bald", "Bangs",
    "Black_Hair", "Brown_Hair", "Blond_Hair", "Gray_Hair", "Wearing_Lipstick", "Mustache",
    "No_Beard", "Rosy_Cheeks",
}  # fmt: skip
HAIR = ("Black_Hair", "Brown_Hair", "Blond_Hair", "Gray_Hair")


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    root = tmp_path_factory.mktemp("standin")
    make_standin(root, n_images=N, seed=0)
    pixels = np.stack(
        [
            np.asarray(Image.open(root / "img_align_celeba" / f"{index + 1:06d}.jpg"), np.float32)
            for index in range(N)
        ]
    )
    return root, read_attributes(root / "list_attr_celeba.csv"), pixels / 255


def test_layout_and_files_are_celebas(standin):
    root, attributes, pixels = standin
    names = sorted(path.name for path in (root / "img_align_celeba").iterdir())
    assert names == [f"{index:06d}.jpg" for index in range(1, N + 1)]
    with Image.open(root / "img_align_celeba" / "000001.jpg") as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (178, 218))
    assert pixels.shape == (N, 218, 178, 3)

    header = (root / "list_attr_celeba.csv").read_text().splitlines()[0]
    assert header == "image_id," + ",".join(ATTRIBUTE_NAMES)
    assert len(ATTRIBUTE_NAMES) == 40
    assert attributes.image_ids == tuple(names)
    assert set(np.unique(attributes.values)) == {-1, 1}

    assert (root / "list_eval_partition.csv").read_text().splitlines()[:2] == [
        "image_id,partition",
        "000001.jpg,0",
    ]
    table = read_partition(root / "list_eval_partition.csv")
    partition = [table[name] for name in names]
    assert partition == sorted(partition)  # CelebA's order: train, validation, test
    assert [partition.count(part) for part in (0, 1, 2)] == [322, 39, 39]  # CelebA's shares


def test_only_drawn_attributes_are_ever_set(standin):
    _, attributes, _ = standin
    for name in ATTRIBUTE_NAMES:
        present = attributes.column(name) == 1
        if name in DRAWN:
            assert 0 < present.sum() < N, name  # both values occur
        else:
            assert not present.any(), name


def test_attributes_are_consistent_with_each_other(standin):
    _, attributes, _ = standin
    hair = sum(attributes.column(name) == 1 for name in HAIR)
    bald = attributes.column("Bald") == 1
    np.testing.assert_array_equal(hair, ~bald)  # one hair colour unless bald
    male = attributes.column("Male") == 1
    assert not (bald & ~male).any()
    assert not ((attributes.column("Wearing_Lipstick") == 1) & male).any()
    np.testing.assert_array_equal(attributes.column("No_Beard"), -attributes.column("Mustache"))


def _separates(statistic, present):
    """Every image with the attribute scores above every image without it."""
    return statistic[present].min() > statistic[~present].max()


def test_smiling_shows_teeth(standin):
    _, attributes, pixels = standin
    mouth = pixels[:, 138:170, 64:114]  # around the mouth
    white = (mouth.min(-1) > 0.82) & (np.ptp(mouth, axis=-1) < 0.05)  # teeth, not pale skin
    assert _separates(white.sum((1, 2)), attributes.column("Smiling") == 1)


def test_eyeglasses_show_a_dark_frame_below_the_eyes(standin):
    _, attributes, pixels = standin
    band = pixels[:, 112:132, 58:120]  # under the eyes: skin, or the lower rims of glasses
    darkest_row = (band.max(-1) < 0.3).mean(-1).max(-1)
    assert _separates(darkest_row, attributes.column("Eyeglasses") == 1)


def test_skin_and_hair_colours_follow_their_attributes(standin):
    _, attributes, pixels = standin
    cheek = pixels[:, 128:138, 60:70].mean((1, 2))  # left cheek, under eyes and glasses
    pale = attributes.column("Pale_Skin") == 1
    assert _separates(cheek.min(-1), pale)  # pale skin is light in every channel

    crown = pixels[:, 62:70, 80:98].mean((1, 2)).mean(-1)  # top of the head: hair or bald scalp
    blond = attributes.column("Blond_Hair") == 1
    black = attributes.column("Black_Hair") == 1
    assert crown[blond].mean() > crown[~blond].mean() + 0.2
    assert crown[black].max() < crown[blond].min()


def test_same_seed_same_files_other_seed_other_files(standin, tmp_path):
    root, _, _ = standin
    make_standin(tmp_path / "again", n_images=5, seed=0)
    make_standin(tmp_path / "other", n_images=5, seed=1)
    for index in range(1, 6):
        name = f"img_align_celeba/{index:06d}.jpg"
        assert (tmp_path / "again" / name).read_bytes() == (root / name).read_bytes()
        assert (tmp_path / "other" / name).read_bytes() != (root / name).read_bytes()
    first_rows = (root / "list_attr_celeba.csv").read_text().splitlines()[:6]
    assert (tmp_path / "again" / "list_attr_celeba.csv").read_text().splitlines() == first_rows


def test_real_celeba_is_used_when_present(tmp_path):
    images = tmp_path / "celeba" / "img_align_celeba"
    images.mkdir(parents=True)
    Image.new("RGB", (178, 218)).save(images / "000001.jpg")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CelebaStandinWarning)
        root, is_standin = find_or_make_celeba(tmp_path)
    assert (root, is_standin) == (tmp_path / "celeba", False)
    assert not (tmp_path / "celeba_standin").exists()

    # A notebook's quick run: the stand-in, though CelebA is there, and it says why.
    with pytest.warns(CelebaStandinWarning) as caught:
        root, is_standin = find_or_make_celeba(tmp_path, n_standin=5, use_celeba=False)
    assert (root, is_standin) == (tmp_path / "celeba_standin", True)
    assert len(list((root / "img_align_celeba").iterdir())) == 5
    assert str(caught[0].message).startswith(
        "use_celeba is False (a notebook's quick run), so this notebook uses a stand-in")
    assert str(caught[0].message).endswith("To use CelebA, set USE_CELEBA = True.")


def test_without_celeba_the_standin_is_made_once_and_announced(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    (tmp_path / "celeba" / "img_align_celeba").mkdir(parents=True)  # empty: no CelebA
    with pytest.warns(CelebaStandinWarning, match="stand-in") as caught:
        root, is_standin = find_or_make_celeba(n_standin=12, seed=0)
    assert len(caught) == 1
    assert "data/README.md" in str(caught[0].message)
    assert (root, is_standin) == (tmp_path / "celeba_standin", True)
    first = root / "img_align_celeba" / "000001.jpg"
    assert len(list(first.parent.iterdir())) == 12
    stamp = first.stat().st_mtime_ns

    with pytest.warns(CelebaStandinWarning):  # announced every time, drawn only once
        assert find_or_make_celeba(n_standin=12, seed=0) == (root, True)
    assert first.stat().st_mtime_ns == stamp

    (root / "prepared_96").mkdir()  # prepared from this stand-in, stale once it changes
    with pytest.warns(CelebaStandinWarning):
        find_or_make_celeba(n_standin=7, seed=0)
    assert len(list(first.parent.iterdir())) == 7
    assert not (root / "prepared_96").exists()


def test_a_foreign_folder_is_never_deleted(tmp_path):
    foreign = tmp_path / "celeba_standin"
    foreign.mkdir()
    (foreign / "my_photos.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="not made by this package"):
        find_or_make_celeba(tmp_path, n_standin=3)
    assert (foreign / "my_photos.txt").read_text() == "precious"


def test_kaggles_nested_folder_is_pointed_out(tmp_path):
    nested = tmp_path / "celeba" / "img_align_celeba" / "img_align_celeba"
    nested.mkdir(parents=True)
    Image.new("RGB", (178, 218)).save(nested / "000001.jpg")
    with pytest.raises(FileNotFoundError, match="nests the folder"):
        find_or_make_celeba(tmp_path)
