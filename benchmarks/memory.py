"""Peak memory of a stretch of code: the GPU's allocator when there is a GPU, else RSS.

On the CPU the figure is the rise of the resident set above where it stood
at `reset_peak`, so models built earlier in the same process do not count.
"""

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
