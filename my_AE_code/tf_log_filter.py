"""Keep TensorFlow's C++ start-up chatter out of the notebooks, and nothing else.

TensorFlow's C++ core writes some lines straight to the process's standard
error (file descriptor 2): that oneDNN is on, that no CUDA driver was found,
and, at the first training step of a model with LeakyReLU, a grappler
"remapper failed" message (the optimisation is skipped; training is
unaffected). They are not for the reader, yet Jupyter shows each as a red
box. No setting silences exactly these: ``TF_CPP_MIN_LOG_LEVEL`` is ignored
before absl's logging starts, and level 3 would hide real errors too.

`filter_tf_noise` routes descriptor 2 through a pipe. A thread passes every
line on unchanged, except the lines that match `NOISE`, which go to a log
file instead. Python's own warnings (the MNIST fallback's, say) are written
by the kernel without touching descriptor 2, so they always show.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
from pathlib import Path

#: The known harmless lines. Anything else passes through.
NOISE = re.compile(
    rb"absl::InitializeLog\(\) is called"
    rb"|oneDNN custom operations are on"
    rb"|Could not find cuda drivers on your machine"
    rb"|failed call to cuInit"
    rb"|Unable to register cu(DNN|FFT|BLAS) factory"
    rb"|computation placer already registered"
    rb"|This TensorFlow binary is optimized to use available CPU instructions"
    rb"|To enable the following instructions: .*rebuild TensorFlow"
    rb"|remapper failed: INVALID_ARGUMENT: Mutation::Apply error"
)

_log_path: Path | None = None


def filter_tf_noise(log_file):
    """Send the `NOISE` lines of this process's stderr to ``log_file`` from now on.

    Call it before TensorFlow is imported. A second call changes nothing and
    returns the first call's log file.
    """
    global _log_path
    if _log_path is None:
        log_path = Path(log_file)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        forward = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        relay = threading.Thread(target=_relay, args=(read_end, forward, log_path),
                                 daemon=True, name="tf-log-filter")
        relay.start()
        atexit.register(_stop, relay, forward)
        _log_path = log_path
    return _log_path


def _stop(relay, forward):
    """At exit: put the real stderr back and let the relay pass on what is left."""
    os.dup2(forward, 2)  # closes the pipe's last write end, so the relay reads its end
    relay.join(timeout=2)


def _relay(read_end, forward, log_path):
    """Copy whole lines from the pipe to ``forward``, or to the log if they are noise."""
    with open(read_end, "rb", buffering=0) as source, open(log_path, "ab", buffering=0) as log:
        pending = b""
        while chunk := source.read(1 << 16):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if NOISE.search(line):
                    log.write(line + b"\n")
                else:
                    os.write(forward, line + b"\n")
        if pending:
            os.write(forward, pending)
