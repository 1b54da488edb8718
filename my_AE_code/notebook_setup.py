"""The first call of every notebook: seeds, a quiet TensorFlow, GPU memory growth, paths.

Call `setup_notebook` before anything imports TensorFlow: it starts the
filter that keeps TensorFlow's C++ start-up lines out of the notebook (see
`my_AE_code.tf_log_filter`; they go to ``results/logs/``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from my_AE_code.paths import data_dir, results_dir
from my_AE_code.tf_log_filter import filter_tf_noise

LOG_FILE = "logs/tensorflow.log"
#: The MIME type under which `show_key_numbers` stores its numbers in a notebook.
KEY_NUMBERS_MIME = "application/vnd.my-ae-code.key-numbers+json"


@dataclass(frozen=True)
class NotebookSetup:
    """What `setup_notebook` settled, for the notebook to read."""

    seed: int
    data_dir: Path
    results_dir: Path
    gpus: tuple[str, ...]
    tf_log: Path


def setup_notebook(seed: int = 42) -> NotebookSetup:
    """Seed Python, NumPy and TensorFlow, filter TF's C++ noise, and let GPU memory grow.

    Memory growth matters on the modest GPUs readers use: without it TensorFlow
    grabs the whole card at start-up and a second notebook cannot run. Calling
    it again (to re-seed between experiments) is fine.
    """
    results = results_dir()
    tf_log = filter_tf_noise(results / LOG_FILE)
    # INFO and WARNING lines of TensorFlow's C++ logging, once absl's logging runs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            # Already initialised (the cell was re-run): growth is fixed by then.
            pass
    keras.utils.set_random_seed(seed)
    return NotebookSetup(seed=seed, data_dir=data_dir(), results_dir=results,
                         gpus=tuple(gpu.name for gpu in gpus), tf_log=tf_log)


def show_key_numbers(**numbers) -> None:
    """Show this run's key numbers as a small table, kept machine-readable in the notebook.

    The table is what a reader sees; the same numbers are stored beside it
    in the executed notebook (under `KEY_NUMBERS_MIME`), where
    the main job's tests read them with `run_notebooks.key_numbers`.
    """
    from IPython.display import display

    values = {name: _plain(value) for name, value in numbers.items()}
    rows = "\n".join(f"| {name} | {_formatted(value)} |" for name, value in values.items())
    display({"text/markdown": f"| key number of this run | value |\n|---|---|\n{rows}",
             "text/plain": "\n".join(f"{name}: {_formatted(value)}"
                                     for name, value in values.items()),
             KEY_NUMBERS_MIME: values}, raw=True)


def _plain(value):
    """numpy scalars -> int/float; everything else as given (JSON must be able to hold it)."""
    return value.item() if hasattr(value, "item") else value


def _formatted(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
