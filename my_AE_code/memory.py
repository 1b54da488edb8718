"""Peak memory of a stretch of code: the GPU's allocator when there is a GPU, else RSS.

On the CPU the figure is the rise of the resident set above where it stood
at `reset_peak`, so models built earlier in the same process do not count.
`training_peak_mib` measures one model's training in a fresh process, where
nothing else the notebook did can blur the figure.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import tensorflow as tf

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _gpu():
    gpus = tf.config.list_logical_devices("GPU")
    return gpus[0].name if gpus else None


_baseline_kib = 0


def _status_kib(field):
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak():
    """Start a new measurement: the peak from here on."""
    global _baseline_kib
    device = _gpu()
    if device:
        tf.config.experimental.reset_memory_stats(device)
    elif _CLEAR_REFS.exists():
        _CLEAR_REFS.write_text("5")  # Linux: resets VmHWM (peak RSS) to the current RSS
        _baseline_kib = _status_kib("VmRSS")


def peak_mib():
    """Peak since `reset_peak`: GPU memory in use, or the rise of the resident set."""
    device = _gpu()
    if device:
        return tf.config.experimental.get_memory_info(device)["peak"] / 2**20
    if not _STATUS.exists():
        return float("nan")
    return (_status_kib("VmHWM") - _baseline_kib) / 1024


def memory_kind():
    return "GPU peak" if _gpu() else "RSS rise"


def training_peak_mib(vae_params, batch_size=128, steps=3):
    """Peak memory of training a `MyVariationalAutoencoder(**vae_params)` for a few batches.

    Runs in a fresh process (started with "spawn"), so the figure belongs to
    this model alone: the GPU allocator's peak on a GPU, else the rise of
    the resident set while training (weights, Adam's slots, activations).
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_train_and_measure, vae_params, batch_size, steps).result()


def _train_and_measure(vae_params, batch_size, steps):
    import numpy as np

    from my_AE_code.models import MyVariationalAutoencoder

    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)
    vae = MyVariationalAutoencoder(**vae_params)
    vae.compile_myVAE(0.0005)
    images = np.random.default_rng(0).random((steps * batch_size, *vae.architecture.input_dim),
                                             dtype=np.float32)
    reset_peak()
    vae.train_myVAE(images, batch_size, epochs=1, verbose=0)
    return peak_mib()
