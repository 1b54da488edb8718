"""The first call of every notebook: seeds, logging, GPU memory, quick mode, paths.

Environment variables (all optional):

- ``VAE_QUICK``: ``1`` runs the notebooks on small subsets for 1-2 epochs
  (what CI and ``make run`` use); ``0`` or unset means the posts' full settings.
- ``VAE_DATA_DIR``: where MNIST files and CelebA live (default: ``data/`` in the repo).
- ``VAE_RESULTS_DIR``: where notebooks write figures, models and executed copies
  (default: ``results/`` in the repo).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# TensorFlow reads this once, when it is first imported; set it before that.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def quick_mode() -> bool:
    """True when the environment asks for the small, fast variant of each notebook."""
    value = os.environ.get("VAE_QUICK", "0").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"VAE_QUICK={value!r} is not understood: set it to 1 (quick) or 0 (full).")


def data_dir() -> Path:
    """Folder with the data sets (MNIST files, CelebA, the CelebA stand-in)."""
    return Path(os.environ.get("VAE_DATA_DIR", REPO_ROOT / "data")).expanduser()


def results_dir() -> Path:
    """Folder for everything the notebooks produce; created on first use."""
    path = Path(os.environ.get("VAE_RESULTS_DIR", REPO_ROOT / "results")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class NotebookSetup:
    """What `setup_notebook` settled, for the notebook to read."""

    quick: bool
    seed: int
    data_dir: Path
    results_dir: Path
    gpus: tuple[str, ...]

    def pick(self, full, quick):
        """Return `quick` in quick mode and `full` otherwise (epochs, subset sizes ...)."""
        return quick if self.quick else full


def setup_notebook(seed: int = 42) -> NotebookSetup:
    """Seed Python, NumPy and TensorFlow, quieten TF, and let GPU memory grow.

    Memory growth matters on the modest GPUs readers use: without it TensorFlow
    grabs the whole card at start-up and a second notebook cannot run.
    """
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            # Already initialised (the cell was re-run): growth is fixed by then.
            pass
    keras.utils.set_random_seed(seed)
    return NotebookSetup(
        quick=quick_mode(),
        seed=seed,
        data_dir=data_dir(),
        results_dir=results_dir(),
        gpus=tuple(gpu.name for gpu in gpus),
    )
