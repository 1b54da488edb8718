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


def setup_notebook(seed=42):
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


def default_precision():
    """The dtype policy this machine trains best with: for a notebook's ``MIXED_PRECISION="auto"``.

    "mixed_float16" when every visible GPU has compute capability 7 or more
    (Volta and later: tensor cores run float16 several times faster than
    float32), else "float32". On a CPU, mixed_bfloat16 runs too but is no
    faster on most CPUs, so it is never the default. Call it after
    `setup_notebook`.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    capabilities = [tf.config.experimental.get_device_details(gpu).get("compute_capability")
                    for gpu in gpus]
    if gpus and all(capability and capability >= (7, 0) for capability in capabilities):
        return "mixed_float16"
    return "float32"


def default_distribution():
    """A MirroredStrategy over all GPUs when there are several, else None (one device).

    For a notebook's ``DISTRIBUTE="auto"``; pass the result as the models'
    ``distribute``. Call it after `setup_notebook` (memory growth must be set
    before TensorFlow claims the GPUs).
    """
    import tensorflow as tf

    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return None


def scaling_choices(mixed_precision="auto", distribute="auto"):
    """(dtype_policy, distribute) for the models, from a notebook's two switches.

    ``MIXED_PRECISION``: "auto" (`default_precision`), True (float16 with a
    GPU, bfloat16 without), False (float32) or a policy's name.
    ``DISTRIBUTE``: "auto" (`default_distribution`), True (a MirroredStrategy
    over every GPU, or the CPU without one), False (one device) or a
    tf.distribute strategy, e.g. MultiWorkerMirroredStrategy for several
    machines. With a strategy, a notebook's ``batch_size`` is the global batch.
    """
    import tensorflow as tf

    if mixed_precision == "auto":
        policy = default_precision()
    elif mixed_precision is True:
        policy = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    elif mixed_precision in (False, None):
        policy = "float32"
    else:
        policy = mixed_precision
    if distribute == "auto":
        strategy = default_distribution()
    elif distribute is True:
        strategy = tf.distribute.MirroredStrategy()
    elif distribute in (False, None):
        strategy = None
    else:
        strategy = distribute
    return policy, strategy


def show_key_numbers(**numbers):
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
