"""Every strategy and the AE learn; their logged losses are the documented ones."""

import numpy as np
import pytest
import tensorflow as tf

from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder
from my_AE_code.models.layouts import MNIST_LAYOUT


@pytest.mark.parametrize("solution_type, fact", [(0, 1e-3), (1, 1e-3), (2, 1e-3), (3, 1.0)])
def test_each_strategy_learns(blobs, solution_type, fact):
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=solution_type, fact=fact)
    vae.compile_myVAE(learning_rate=0.001)
    history = vae.train_myVAE(blobs, batch_size=32, epochs=4, verbose=0).history
    assert {"loss", "reco_loss", "kl_loss"} <= set(history)
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    assert history["reco_loss"][-1] < history["reco_loss"][0]
    total = np.array(history["loss"])
    parts = np.array(history["reco_loss"]) + np.array(history["kl_loss"])
    np.testing.assert_allclose(total, parts, rtol=1e-4)


def test_strategy_1_logs_both_kl_parts(blobs):
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=1, fact=1e-3)
    vae.compile_myVAE(learning_rate=0.001)
    history = vae.train_myVAE(blobs[:64], batch_size=32, epochs=1, verbose=0).history
    np.testing.assert_allclose(history["kl_loss"][0],
                               history["mu_loss"][0] + history["log_var_loss"][0], rtol=1e-4)


def test_strategy_1_accepts_the_posts_dummy_targets(blobs):
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=1, fact=1e-3)
    vae.compile_myVAE(learning_rate=0.001)
    n = 64
    history = vae.train_myVAE(blobs[:n], batch_size=32, epochs=1, verbose=0,
                              t_mu=np.zeros((n, 2), "float32"),
                              t_logvar=np.ones((n, 2), "float32")).history
    assert np.isfinite(history["loss"][0])


def test_strategy_1_builds_its_dummy_targets_per_batch():
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=1)
    batch = tf.zeros((7, 28, 28, 1))
    targets = vae.strategy.targets(batch)
    assert targets["reco"] is batch
    assert tuple(targets["mu"].shape) == (7, 2) == tuple(targets["log_var"].shape)


def test_autoencoder_learns(blobs):
    ae = MyAutoencoder(**MNIST_LAYOUT)
    ae.compile_myAE(learning_rate=0.001)
    history = ae.train_myAE(blobs, batch_size=32, epochs=4, verbose=0).history
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    assert ae.encoder.predict(blobs[:5], verbose=0).shape == (5, 2)


def test_training_from_a_dataset(blobs):
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=3)
    vae.compile_myVAE(learning_rate=0.001)
    labels = np.arange(len(blobs))
    dataset = tf.data.Dataset.from_tensor_slices((blobs, labels)).batch(64)
    history = vae.train_myVAE(dataset, batch_size=None, epochs=2, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]


def test_models_usable_on_their_own(blobs):
    vae = MyVariationalAutoencoder(**{**MNIST_LAYOUT, "z_dim": 3})
    z, mu, log_var = vae.encoder.predict(blobs[:4], verbose=0)
    assert z.shape == mu.shape == log_var.shape == (4, 3)
    images = vae.decoder.predict(z, verbose=0)
    assert images.shape == (4, 28, 28, 1)
    assert images.min() >= 0 and images.max() <= 1
