"""What a notebook run was run on, kept in the executed notebook's metadata.

The book (`my_AE_code.book`) puts this at the top of every page, so a reader
knows which budget, commit and machine the figures below come from. The
runner writes it (`run_record`) under the notebook metadata key `RUN_RECORD_KEY`.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from datetime import UTC, datetime

from my_AE_code.paths import REPO_ROOT

RUN_RECORD_KEY = "my_ae_code_run"

_GPU_PROBE = ("import tensorflow as tf; "
              "print('\\n'.join(d.name for d in tf.config.list_physical_devices('GPU')))")


def run_record(budget):
    """{budget, date, commit, modified, gpus, cpu_cores} for the run that just ended."""
    commit, modified = _commit()
    return {"budget": budget,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": commit, "modified": modified,
            "gpus": visible_gpus(), "cpu_cores": os.cpu_count()}


def _commit():
    """(HEAD's hash, whether the package or notebooks differ from it); (None, None) without git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "my_AE_code",
                                  "notebooks/*.py"], cwd=REPO_ROOT, check=True,
                                 capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return head, bool(changed)


def visible_gpus():
    """The names of the GPUs TensorFlow sees here ([] for none, None if it could not tell)."""
    gpus = _probe_gpus()
    return None if gpus is None else list(gpus)


@functools.lru_cache(maxsize=1)
def _probe_gpus():
    """Asked once per process, by a separate process as the kernels are, so the runner
    itself never imports TensorFlow or claims a GPU."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    probe = subprocess.run([sys.executable, "-c", _GPU_PROBE], check=False, env=env,
                           capture_output=True, text=True)
    if probe.returncode:
        return None
    return tuple(line for line in probe.stdout.splitlines() if line)
