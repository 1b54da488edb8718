"""Every strategy and the AE learn; their logged losses are the documented ones."""

import numpy as np
import pytest
import tensorflow as tf

from helpers import SMALL_MNIST_LAYOUT, images
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder
from my_AE_code.models.losses import (
    MEAN,
    SUM,
    kl_loss_mean,
    kl_loss_sum,
    reco_loss_mean,
    reco_loss_sum,
)


@pytest.mark.parametrize("solution_type", [0, 1, 2, 3])
def test_each_strategy_learns(blobs, solution_type):
    vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=solution_type)
    vae.compile_myVAE(learning_rate=0.001)
    history = vae.train_myVAE(blobs, batch_size=32, epochs=4, verbose=0).history
    assert {"loss", "reco_loss", "kl_loss"} <= set(history)
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    assert history["reco_loss"][-1] < history["reco_loss"][0]


FACT = 100.0


@pytest.mark.parametrize("solution_type", [0, 1, 2, 3])
def test_the_logged_losses_are_the_documented_formulas(solution_type):
    """What a strategy logs as kl_loss and reco_loss is the formula of the Encoder's outputs.

    Computed apart, on one fixed batch with the sampling off (z = mu): the validation
    losses after an epoch, from the weights that epoch left.
    """
    batch = images(16, SMALL_MNIST_LAYOUT["input_dim"], seed=2)
    # A fact that makes the KL term plain in the total, in either convention.
    vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=solution_type,
                                   fact=FACT, seed=0)
    vae.set_enc_to_predict()
    vae.compile_myVAE(learning_rate=0.001)
    logged = vae.train_myVAE(batch, batch_size=16, epochs=1, verbose=0,
                             validation_data=batch).history
    _, mu, log_var = vae.encoder.predict(batch, verbose=0)
    reconstruction = vae.decoder.predict(mu, verbose=0)
    kl, reco = ((kl_loss_sum, reco_loss_sum) if vae.strategy.convention == SUM
                else (kl_loss_mean, reco_loss_mean))
    assert vae.strategy.convention == (SUM if solution_type == 3 else MEAN)  # as documented
    expected_kl = float(kl(mu, log_var, FACT))
    expected_reco = float(reco(batch, reconstruction))
    # Above the tolerance below, so that a total without its KL term would fail.
    assert expected_kl > 2e-4 * expected_reco
    assert logged["val_kl_loss"][-1] == pytest.approx(expected_kl, rel=1e-4)
    assert logged["val_reco_loss"][-1] == pytest.approx(expected_reco, rel=1e-4)
    assert logged["val_loss"][-1] == pytest.approx(expected_kl + expected_reco, rel=1e-4)


def test_strategy_1_logs_both_kl_parts(blobs):
    vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=1, fact=1e-3)
    vae.compile_myVAE(learning_rate=0.001)
    history = vae.train_myVAE(blobs[:64], batch_size=32, epochs=1, verbose=0).history
    np.testing.assert_allclose(history["kl_loss"][0],
                               history["mu_loss"][0] + history["log_var_loss"][0], rtol=1e-4)


def test_strategy_1_accepts_the_posts_dummy_targets(blobs):
    """Post VI's t_mu and t_logvar are targets the KL parts ignore: training is the same."""
    n = 64
    histories = []
    for targets in (dict(t_mu=np.zeros((n, 2), "float32"), t_logvar=np.ones((n, 2), "float32")),
                    {}):
        vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=1, seed=0)
        vae.compile_myVAE(learning_rate=0.001)
        histories.append(vae.train_myVAE(blobs[:n], batch_size=32, epochs=2, verbose=0,
                                         shuffle=False, **targets).history)
    with_targets, without = histories
    assert {"mu_loss", "log_var_loss"} <= set(with_targets)
    assert with_targets["loss"][-1] < with_targets["loss"][0]
    for key in without:
        np.testing.assert_allclose(with_targets[key], without[key], rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("solution_type", [0, 2, 3])
def test_the_posts_dummy_targets_are_for_strategy_1_only(solution_type):
    vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=solution_type)
    vae.compile_myVAE(learning_rate=0.001)
    with pytest.raises(ValueError, match="solution_type 1 only; this VAE has solution_type "
                                         f"{solution_type}"):
        vae.train_myVAE(np.zeros((4, 28, 28, 1), "float32"), batch_size=2, epochs=1,
                        t_mu=np.zeros((4, 2), "float32"), t_logvar=np.zeros((4, 2), "float32"))


def test_strategy_1_builds_its_dummy_targets_per_batch():
    vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=1)
    batch = tf.zeros((7, 28, 28, 1))
    targets = vae.strategy.targets(batch)
    assert targets["reco"] is batch
    assert tuple(targets["mu"].shape) == (7, 2) == tuple(targets["log_var"].shape)


def test_autoencoder_learns(blobs):
    ae = MyAutoencoder(**SMALL_MNIST_LAYOUT)
    ae.compile_myAE(learning_rate=0.001)
    history = ae.train_myAE(blobs, batch_size=32, epochs=4, verbose=0).history
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    assert ae.encoder.predict(blobs[:5], verbose=0).shape == (5, 2)


def test_training_from_a_dataset(blobs):
    vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=3)
    vae.compile_myVAE(learning_rate=0.001)
    labels = np.arange(len(blobs))
    dataset = tf.data.Dataset.from_tensor_slices((blobs, labels)).batch(64)
    history = vae.train_myVAE(dataset, batch_size=None, epochs=2, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]


def test_models_usable_on_their_own(blobs):
    vae = MyVariationalAutoencoder(**{**SMALL_MNIST_LAYOUT, "z_dim": 3})
    z, mu, log_var = vae.encoder.predict(blobs[:4], verbose=0)
    assert z.shape == mu.shape == log_var.shape == (4, 3)
    images = vae.decoder.predict(z, verbose=0)
    assert images.shape == (4, 28, 28, 1)
    assert images.min() >= 0 and images.max() <= 1
