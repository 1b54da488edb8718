"""Find the reader's CelebA, or fall back, loudly, to the generated stand-in.

The CelebA notebooks call `find_or_make_celeba` first. With CelebA in
``<data>/celeba/img_align_celeba/`` they use it; without, they run on the
stand-in (see `standin`), which is made once in ``<data>/celeba_standin/`` and
reused. The fallback is always announced with a warning, so nobody mistakes
drawings for CelebA results.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import NamedTuple

from my_AE_code.celeba.files import IMAGES_DIR, list_images
from my_AE_code.celeba.standin import make_standin
from my_AE_code.paths import data_dir as default_data_dir

CELEBA_DIR = "celeba"
STANDIN_DIR = "celeba_standin"
STANDIN_MARKER = "standin.json"
STANDIN_VERSION = 1  # raise when the drawing changes, so old stand-ins are redrawn


class CelebaStandinWarning(UserWarning):
    """CelebA was not found; the generated stand-in is used instead."""


class CelebaSource(NamedTuple):
    """The folder with ``img_align_celeba/`` and the CSV files; whether it is the stand-in."""

    root: Path
    is_standin: bool


def find_or_make_celeba(
    data_dir=None, n_standin=2000, seed=0,
    use_celeba=True,
):
    """Return ``<data>/celeba`` if it holds CelebA's images, else a stand-in (made if needed).

    `n_standin` and `seed` choose the stand-in; a stand-in made with other
    values (or by an older version of this package) is redrawn. With
    `use_celeba` False it is the stand-in even where CelebA is found: a
    notebook's quick run takes minutes, not the hours of CelebA on a CPU.
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    real = data_dir / CELEBA_DIR
    if use_celeba and list_images(real / IMAGES_DIR):
        return CelebaSource(real, is_standin=False)
    if use_celeba and list_images(real / IMAGES_DIR / IMAGES_DIR):
        raise FileNotFoundError(
            f"CelebA's images are in {real / IMAGES_DIR / IMAGES_DIR} (Kaggle's zip nests the "
            f"folder); move that inner folder's files up into {real / IMAGES_DIR}."
        )

    standin = data_dir / STANDIN_DIR
    wanted = {"version": STANDIN_VERSION, "n_images": n_standin, "seed": seed}
    if _read_marker(standin) != {**wanted, "complete": True}:
        _make_fresh_standin(standin, wanted)
    why, remedy = (
        ("use_celeba is False (a notebook's quick run)", "set USE_CELEBA = True")
        if not use_celeba else
        (f"CelebA was not found in {real / IMAGES_DIR}", "see data/README.md"))
    warnings.warn(
        f"{why}, so this notebook uses a stand-in: {n_standin:,} generated face-like "
        f"drawings in {standin}, with attributes that match the drawings. Results will show "
        f"cartoon faces, not CelebA's. To use CelebA, {remedy}.",
        CelebaStandinWarning,
        stacklevel=2,
    )
    return CelebaSource(standin, is_standin=True)


def _read_marker(root):
    try:
        return json.loads((root / STANDIN_MARKER).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _make_fresh_standin(root, wanted):
    """Redraw the stand-in; the marker, written first, tells later calls the folder is ours."""
    if root.exists():
        if _read_marker(root) is None and any(root.iterdir()):
            raise FileExistsError(
                f"{root} exists but was not made by this package (no {STANDIN_MARKER}); "
                "move it away so the CelebA stand-in can be written there."
            )
        # Also removes images prepared from an older stand-in, which would be stale.
        shutil.rmtree(root)
    root.mkdir(parents=True)
    marker = root / STANDIN_MARKER
    marker.write_text(json.dumps({**wanted, "complete": False}))
    print(f"Drawing a CelebA stand-in of {wanted['n_images']:,} images in {root} ...")
    make_standin(root, wanted["n_images"], wanted["seed"])
    marker.write_text(json.dumps({**wanted, "complete": True}))
