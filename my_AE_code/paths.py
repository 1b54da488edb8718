"""Where the data sets and the results live.

Environment variables (both optional):

- ``VAE_DATA_DIR``: MNIST files and CelebA (default: ``data/`` in the repository);
- ``VAE_RESULTS_DIR``: what the notebooks produce, models, figures, executed
  copies and logs (default: ``results/`` in the repository).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The environment variables read here, each call.
ENVIRONMENT = ("VAE_DATA_DIR", "VAE_RESULTS_DIR")


def data_dir():
    """Folder with the data sets (MNIST files, CelebA, the CelebA stand-in)."""
    return Path(os.environ.get("VAE_DATA_DIR", REPO_ROOT / "data")).expanduser()


def results_dir():
    """Folder for everything the notebooks produce; created on first use."""
    path = Path(os.environ.get("VAE_RESULTS_DIR", REPO_ROOT / "results")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
