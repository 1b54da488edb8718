"""Shared fixtures: small MNIST-shaped data with structure to learn."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
