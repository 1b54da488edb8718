"""CelebA's folder layout and its two small text files, in both their forms.

CelebA comes in two packagings that hold the same information:

- the official one (Google Drive): ``list_attr_celeba.txt`` whose first line is
  the image count, second line the 40 attribute names, then lines like
  ``000001.jpg  -1  1  1 ...``; ``list_eval_partition.txt`` with lines like
  ``000001.jpg 0``;
- Kaggle's (jessicali9530/celeba-dataset): the same tables as CSV, with the
  headers ``image_id,5_o_Clock_Shadow,...`` and ``image_id,partition``.

Attribute values are -1 (absent) or 1 (present); partitions are 0 (train),
1 (validation) and 2 (test). Both forms are read into the same objects here, so
nothing downstream needs to know which one a reader downloaded.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGES_DIR = "img_align_celeba"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
JPEG_SUFFIXES = (".jpg", ".jpeg")
ATTR_FILES = ("list_attr_celeba.csv", "list_attr_celeba.txt")
PARTITION_FILES = ("list_eval_partition.csv", "list_eval_partition.txt")

# The 40 attributes, in the order of CelebA's files.
ATTRIBUTE_NAMES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald",
    "Bangs", "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair",
    "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones",
    "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard",
    "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks",
    "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
    "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip


def list_images(folder: str | Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[str]:
    """Sorted names of the image files in `folder` ([] if it does not exist).

    The suffix decides what counts as an image, in any case (``.JPG`` too);
    hidden files such as macOS's ``._000001.jpg`` are never images.
    """
    if not Path(folder).is_dir():
        return []
    return sorted(
        entry.name
        for entry in os.scandir(folder)
        if entry.is_file()
        and not entry.name.startswith(".")
        and entry.name.lower().endswith(suffixes)
    )


def prepared_dir(root: str | Path, size: int) -> Path:
    """Where the images shrunk to `size` x `size` go, next to ``img_align_celeba``."""
    return Path(root) / f"prepared_{size}"


@dataclass(frozen=True)
class Attributes:
    """CelebA's attribute table: one row of -1/1 values per image."""

    names: tuple[str, ...]
    image_ids: tuple[str, ...]
    values: np.ndarray  # int8, shape (len(image_ids), len(names))

    def column(self, name: str) -> np.ndarray:
        """All images' values of one attribute, e.g. ``column("Smiling")``."""
        if name not in self.names:
            raise KeyError(f"No attribute {name!r}; CelebA's are: {', '.join(self.names)}")
        return self.values[:, self.names.index(name)]

    def rows_for(self, image_ids: list[str]) -> np.ndarray:
        """The rows of these images, in their order; an image without a row is an error."""
        index = {image_id: row for row, image_id in enumerate(self.image_ids)}
        missing = [image_id for image_id in image_ids if image_id not in index]
        if missing:
            raise KeyError(
                f"{len(missing)} images have no attributes, e.g. {missing[:3]}; "
                "does the attribute file belong to these images?"
            )
        return self.values[[index[image_id] for image_id in image_ids]]


def find_file(root: str | Path, candidates: tuple[str, ...]) -> Path | None:
    """The first of `candidates` that exists in `root` (CSV before TXT), else None."""
    for name in candidates:
        path = Path(root) / name
        if path.is_file():
            return path
    return None


def read_attributes(path: str | Path) -> Attributes:
    """Read ``list_attr_celeba.csv`` (Kaggle) or ``list_attr_celeba.txt`` (official)."""
    path = Path(path)
    lines = path.read_text().splitlines()
    if path.suffix.lower() == ".csv":
        header = next(csv.reader(lines[:1]))
        names, body, delimiter = header[1:], lines[1:], ","
    else:
        names, body, delimiter = lines[1].split(), lines[2:], None
    body = [line for line in body if line.strip()]
    if not body:
        return Attributes(tuple(names), (), np.zeros((0, len(names)), np.int8))
    image_ids = tuple(line.split(delimiter, 1)[0].strip() for line in body)
    values = np.loadtxt(
        body, delimiter=delimiter, usecols=range(1, len(names) + 1), dtype=np.int8, ndmin=2
    )
    return Attributes(tuple(names), image_ids, values)


def write_attributes_csv(path: str | Path, image_ids: list[str], values: np.ndarray) -> None:
    """Write an attribute table in Kaggle's CSV form, all 40 columns."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["image_id", *ATTRIBUTE_NAMES])
        for image_id, row in zip(image_ids, values):
            writer.writerow([image_id, *row.tolist()])


def read_partition(path: str | Path) -> dict[str, int]:
    """Read ``list_eval_partition.csv`` or ``.txt``: image id -> 0 train, 1 validation, 2 test."""
    path = Path(path)
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if path.suffix.lower() == ".csv":
        rows = csv.reader(lines[1:])
    else:
        rows = (line.split() for line in lines)
    return {image_id.strip(): int(partition) for image_id, partition in rows}


def write_partition_csv(path: str | Path, image_ids: list[str], partitions: list[int]) -> None:
    """Write a partition table in Kaggle's CSV form."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["image_id", "partition"])
        writer.writerows(zip(image_ids, partitions))
