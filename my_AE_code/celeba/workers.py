"""The worker pool that prepares and verifies images in chunks, and its watchdog.

`prepare_celeba` and `verify_prepared` hand their per-chunk work to
`run_chunks`: in this process for one worker, else in a pool of clean
("spawn") processes that ignore Ctrl-C (the main process handles it and
cancels what has not started) and end themselves when the main process dies.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

MAX_CHUNK = 256  # images per task: big enough to hide the cost of a task, small for a smooth bar
PARENT_CHECK_SECONDS = 0.2  # how often a worker looks whether its parent still lives


def run_chunks(work, names, workers):
    """Yield ``work(chunk)`` for chunks of `names`, from this process or a pool."""
    if not names:
        return
    if workers <= 1:
        for start in range(0, len(names), MAX_CHUNK):
            yield work(names[start : start + MAX_CHUNK])
        return
    chunk = max(1, min(MAX_CHUNK, math.ceil(len(names) / (4 * workers))))
    # "spawn" starts clean workers: forking a notebook's process that runs
    # TensorFlow's threads can deadlock.
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    try:
        futures = [
            pool.submit(work, names[start : start + chunk]) for start in range(0, len(names), chunk)
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        # On Ctrl-C, drop the chunks not started; those running finish whole files.
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(parent_pid):
    """Leave Ctrl-C to the main process, and end when it is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()


def _exit_when_orphaned(parent_pid):
    """End this worker once its parent died (killed kernel, OOM killer).

    An orphaned worker would convert its chunk and then wait forever for the
    next. A dead parent's children are adopted by another process, which
    changes their parent id (on Linux and macOS; Windows keeps the old id,
    so there this never fires).
    """
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def cpu_count():
    """The cores this process may use (fewer than the machine's in a container or job)."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+: respects CPU affinity.
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
