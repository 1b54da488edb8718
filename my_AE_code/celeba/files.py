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
ATTRIBUTE_VALUES = (-1, 1)
PARTITIONS = (0, 1, 2)  # train, validation, test

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


def list_images(folder, suffixes=IMAGE_SUFFIXES):
    """Sorted names of the image files in `folder` ([] if it does not exist).

    The suffix decides what counts as an image, in any case (``.JPG`` too);
    hidden files such as macOS's ``._000001.jpg`` are never images. Links
    that lead nowhere are left out; `scan_images` also says which they are.
    """
    return scan_images(folder, suffixes)[0]


def scan_images(
    folder, suffixes=IMAGE_SUFFIXES
):
    """The sorted image names in `folder`, and (name, reason) of those that cannot be read.

    An image name that is a symbolic link in a loop or to nothing makes
    `os.stat` fail; such a name is returned with the reason instead of
    stopping the whole listing, so a preparation can report it and go on.
    """
    if not Path(folder).is_dir():
        return [], []
    names, unreadable = [], []
    for entry in os.scandir(folder):
        if entry.name.startswith(".") or not entry.name.lower().endswith(suffixes):
            continue
        try:
            if entry.is_file():  # follows a link: raises for a loop
                names.append(entry.name)
            elif entry.is_symlink():
                os.stat(entry.path)  # a link to nothing: raises and says why
        except OSError as error:
            unreadable.append((entry.name, f"{type(error).__name__}: {error.strerror}"))
    return sorted(names), sorted(unreadable)


def prepared_dir(root, size):
    """Where the images shrunk to `size` x `size` go, next to ``img_align_celeba``."""
    return Path(root) / f"prepared_{size}"


@dataclass(frozen=True)
class Attributes:
    """CelebA's attribute table: one row of -1/1 values per image."""

    names: tuple[str, ...]
    image_ids: tuple[str, ...]
    values: np.ndarray  # int8, shape (len(image_ids), len(names))

    def column(self, name):
        """All images' values of one attribute, e.g. ``column("Smiling")``."""
        if name not in self.names:
            raise KeyError(f"No attribute {name!r}; CelebA's are: {', '.join(self.names)}")
        return self.values[:, self.names.index(name)]

    def rows_for(self, image_ids):
        """The rows of these images, in their order; an image without a row is an error."""
        index = {image_id: row for row, image_id in enumerate(self.image_ids)}
        missing = [image_id for image_id in image_ids if image_id not in index]
        if missing:
            raise KeyError(
                f"{len(missing)} images have no attributes, e.g. {missing[:3]}; "
                "does the attribute file belong to these images?"
            )
        return self.values[[index[image_id] for image_id in image_ids]]


def find_file(root, candidates):
    """The first of `candidates` that exists in `root` (CSV before TXT), else None."""
    for name in candidates:
        path = Path(root) / name
        if path.is_file():
            return path
    return None


def read_attributes(path):
    """Read ``list_attr_celeba.csv`` (Kaggle) or ``list_attr_celeba.txt`` (official).

    A malformed file is a ValueError naming the file and line: a row whose
    value count differs from the header's names (which would shift every
    name onto another column), or a value other than -1 and 1.
    """
    path = Path(path)
    is_csv = path.suffix.lower() == ".csv"
    header, body = _read_table(path, header_lines=1 if is_csv else 2)
    names = tuple(header[0][1:] if is_csv else header[1])
    if not names:
        raise ValueError(f"{path} names no attributes in its header; is it CelebA's attribute "
                         "file (see data/README.md)?")
    image_ids, values = _parse_rows(path, body, len(names), ATTRIBUTE_VALUES,
                                    "CelebA's attribute values are -1 (absent) and 1 (present)")
    return Attributes(names, image_ids, values)


def write_attributes_csv(path, image_ids, values):
    """Write an attribute table in Kaggle's CSV form, all 40 columns."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["image_id", *ATTRIBUTE_NAMES])
        for image_id, row in zip(image_ids, values):
            writer.writerow([image_id, *row.tolist()])


def read_partition(path):
    """Read ``list_eval_partition.csv`` or ``.txt``: image id -> 0 train, 1 validation, 2 test.

    A malformed file is a ValueError naming the file and line.
    """
    path = Path(path)
    _, body = _read_table(path, header_lines=1 if path.suffix.lower() == ".csv" else 0)
    image_ids, values = _parse_rows(path, body, 1, PARTITIONS,
                                    "partitions are 0 (train), 1 (validation) and 2 (test)")
    return dict(zip(image_ids, values[:, 0].tolist()))


def _read_table(path, header_lines):
    """The header rows (split into fields) and the (line number, line) of the other rows.

    CelebA's tables come as CSV (read with `csv`: quoted fields too) or as
    text split at whitespace. Blank lines are skipped.
    """
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not a text file ({error}); is it the right file?") from error
    rows = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if len(rows) < max(header_lines, 1):
        raise ValueError(f"{path} is empty or lacks its header; download it again (see "
                         "data/README.md).")
    header = [_fields(path, line) for _, line in rows[:header_lines]]
    return header, rows[header_lines:]


def _fields(path, line):
    if path.suffix.lower() == ".csv":
        return [field.strip() for field in next(csv.reader([line]))]
    return line.split()


def _parse_rows(path, body, n_values,
                allowed, rule):
    """Each row's image name, and its `n_values` whole numbers (int8), each one of `allowed`.

    NumPy's parser reads the numbers fast (CelebA's attribute file has 8
    million); only when it fails is the file read again, slowly, to name
    the first bad line.
    """
    if not body:
        return (), np.zeros((0, n_values), np.int8)
    lines = [line for _, line in body]
    delimiter = "," if path.suffix.lower() == ".csv" else None
    try:
        table = np.loadtxt(lines, delimiter=delimiter, quotechar='"', dtype=np.int64,
                           converters={0: lambda name: 0}, ndmin=2)
    except ValueError:
        table = None
    if table is None or table.shape[1] != n_values + 1 or not np.isin(table[:, 1:], allowed).all():
        _raise_first_error(path, body, n_values, allowed, rule)
    image_ids = tuple(line.split(delimiter, 1)[0].strip().strip('"') for line in lines)
    return image_ids, table[:, 1:].astype(np.int8)


def _raise_first_error(path, body, n_values,
                       allowed, rule):
    for number, line in body:
        fields = _fields(path, line)
        if len(fields) != n_values + 1:
            raise ValueError(f"{path}, line {number}: {len(fields)} fields where the header "
                             f"promises {n_values + 1} (an image name and {n_values} values). "
                             f"Is the file complete and unedited?")
        for field in fields[1:]:
            if not field.lstrip("+-").isdecimal() or int(field) not in allowed:
                raise ValueError(f"{path}, line {number}: the value {field!r}; {rule}.")
    raise ValueError(f"{path} cannot be read as a table of image names and numbers.")


def write_partition_csv(path, image_ids, partitions):
    """Write a partition table in Kaggle's CSV form."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["image_id", "partition"])
        writer.writerows(zip(image_ids, partitions))
