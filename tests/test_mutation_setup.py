"""``make mutate`` forks one worker per mutant from a process that has collected the tests.

TensorFlow cannot run in a child forked after its runtime has started (the
child waits forever for the parent's thread pools), so collecting the
mutation test selection must not run TensorFlow: a test module that builds a
tensor or a tf.data dataset at import time (for example in a
``parametrize`` list) freezes every mutant. This test does what mutmut does:
collect, then fork a worker that runs one TensorFlow operation.
"""

import subprocess
import sys
import tomllib

from helpers import ROOT

COLLECT_THEN_FORK = """
import os, sys, time
import pytest

pytest.main(["--collect-only", "-qq", "-p", "no:cacheprovider", *sys.argv[1:]])
worker = os.fork()
if worker == 0:
    import tensorflow as tf
    noise = tf.random.stateless_uniform((512, 512), seed=[1, 2])
    os._exit(0 if float(tf.reduce_sum(tf.matmul(noise, noise))) > 0 else 1)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    finished, status = os.waitpid(worker, os.WNOHANG)
    if finished:
        sys.exit(os.waitstatus_to_exitcode(status))
    time.sleep(0.2)
os.kill(worker, 9)
print("FORKED WORKER HUNG")
sys.exit(3)
"""


def test_a_worker_forked_after_collecting_the_mutation_tests_can_run_tensorflow():
    with open(ROOT / "pyproject.toml", "rb") as file:
        selection = tomllib.load(file)["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]
    run = subprocess.run([sys.executable, "-c", COLLECT_THEN_FORK, *selection], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (
        "A worker forked after collecting the mutation tests could not run TensorFlow "
        f"(exit {run.returncode}): some test module starts TensorFlow when imported.\n"
        + run.stdout[-2000:] + run.stderr[-2000:])
