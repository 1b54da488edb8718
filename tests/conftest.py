"""Shared fixtures: small MNIST-shaped data with structure to learn; the suite's pace."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _share_the_cores():
    """Under pytest-xdist, size each worker's thread pools to its share of the cores.

    TensorFlow, OpenMP (scikit-learn's t-SNE and k-means) and OpenBLAS each start a thread
    per core, so two workers on two cores (make test) run twice as many busy threads as
    there are cores, and OpenMP's threads wait for each other at every step. Measured in a
    `make test`: notebook 13's t-SNE cell took 21 s beside the other worker against 1.2 s
    alone; notebooks 04 and 08 run side by side took a median 40 s with one TensorFlow
    thread each against 47 s with the default (8 interleaved rounds). Set before anything
    starts its threads; the notebook kernels and child processes the tests start inherit
    it. A value set by hand wins.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                     "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(name, threads)


_share_the_cores()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def make_blob_images(n, seed=0):
    """MNIST-shaped images with structure to learn: one bright blob per image."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    centres = rng.uniform(7, 21, size=(n, 2))
    radii = rng.uniform(3, 6, size=n)
    dist2 = ((yy[None] - centres[:, 0, None, None]) ** 2
             + (xx[None] - centres[:, 1, None, None]) ** 2)
    images = np.exp(-dist2 / (2 * radii[:, None, None] ** 2))
    return images[..., None].astype("float32")


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def blobs():
    return make_blob_images(384)


class Crash(keras.callbacks.Callback):
    """Stops training when epoch ``at`` (0-based) begins, as a killed kernel would."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt(f"killed before epoch {epoch + 1}")


def pytest_sessionstart(session):
    """Make the .ipynb files the notebook tests read from their tracked py:percent twins."""
    from my_AE_code.run_notebooks import make_notebooks
    make_notebooks()


#: The files of notebook runs, the longest by far (about 300 and 450 s on two cores).
#: pytest-xdist's ``--dist loadfile`` hands out whole files in collection order, so
#: starting with them leaves the short files to even out the two workers' ends.
LONGEST_FILES = ("test_notebook_runs_mnist.py", "test_notebook_runs_celeba.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in LONGEST_FILES)  # stable: order kept
