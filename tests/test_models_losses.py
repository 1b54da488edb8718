"""The KL and reconstruction terms equal the documented formulas, for both conventions."""

import numpy as np
import pytest

import helpers
from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.kl_strategies import STRATEGIES, KLLossLayer, log_var_loss_fn, mu_loss_fn
from my_AE_code.models.layouts import MNIST_LAYOUT
from my_AE_code.models.losses import (
    MEAN,
    SUM,
    equivalent_fact,
    kl_loss_mean,
    kl_loss_sum,
    reco_loss_mean,
    reco_loss_sum,
)

MU = np.random.default_rng(3).normal(size=(6, 4)).astype("float32")
LOG_VAR = np.random.default_rng(4).normal(scale=0.5, size=(6, 4)).astype("float32")
BRACKET = 1 + LOG_VAR - MU ** 2 - np.exp(LOG_VAR)


def numpy_bce(x, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(x * np.log(p) + (1 - x) * np.log(1 - p))


def test_kl_mean_convention():
    assert float(kl_loss_mean(MU, LOG_VAR, 1e-3)) == pytest.approx(-1e-3 * BRACKET.mean(), rel=1e-5)


def test_kl_sum_convention():
    expected = 5.0 * np.mean(-0.5 * BRACKET.sum(axis=1))
    assert float(kl_loss_sum(MU, LOG_VAR, 5.0)) == pytest.approx(expected, rel=1e-5)


def test_reconstruction_conventions():
    rng = np.random.default_rng(5)
    x = rng.uniform(size=(3, 5, 5, 2)).astype("float32")
    p = rng.uniform(0.05, 0.95, size=x.shape).astype("float32")
    bce = numpy_bce(x, p)
    assert float(reco_loss_mean(x, p)) == pytest.approx(bce.mean(), rel=1e-4)
    # Sum convention: averaged over the channels of a pixel, summed over the pixels.
    assert float(reco_loss_sum(x, p)) == pytest.approx(bce.mean(axis=3).sum(axis=(1, 2)).mean(),
                                                       rel=1e-4)


def test_sum_convention_has_the_posts_scale_for_colour_images():
    """Post XIII: an AE at 0.49 BCE per pixel reports 0.49 x 96 x 96 = 4515 for 96x96x3 faces."""
    x = np.ones((2, 96, 96, 3), "float32")
    p = np.full_like(x, np.exp(-0.49))  # BCE of every value: -log(p) = 0.49
    assert float(reco_loss_mean(x, p)) == pytest.approx(0.49, rel=1e-5)
    assert float(reco_loss_sum(x, p)) == pytest.approx(4515.84, rel=1e-5)
    # A fact of 1e-3 in the mean convention is 1e-3 * 2 * 9216 / 256 = 0.072 for these images.
    assert equivalent_fact(1e-3, n_pixels=96 * 96, z_dim=256) == pytest.approx(0.072)


def test_strategy_0_layer_adds_the_mean_convention_kl():
    layer = KLLossLayer(fact=2e-3)
    mu, log_var = layer([MU, LOG_VAR])
    np.testing.assert_array_equal(mu, MU)
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(-2e-3 * BRACKET.mean(), rel=1e-5)


def test_the_kl_layer_rebuilt_from_its_config_adds_the_same_loss():
    copy = KLLossLayer.from_config(KLLossLayer(fact=2e-3, name="kl").get_config())
    copy([MU, LOG_VAR])
    assert copy.name == "kl"
    assert float(copy.losses[0]) == pytest.approx(-2e-3 * BRACKET.mean(), rel=1e-5)


def test_strategy_1_parts_add_up_to_the_mean_convention_kl():
    dummy = np.zeros_like(MU)
    parts = mu_loss_fn(1e-3)(dummy, MU) + log_var_loss_fn(1e-3)(dummy, LOG_VAR)
    # Keras averages the per-sample values over the batch.
    assert float(np.mean(parts)) == pytest.approx(-1e-3 * BRACKET.mean(), rel=1e-5)


def test_strategy_3_step_uses_the_sum_convention():
    images = helpers.images(4, MNIST_LAYOUT["input_dim"], seed=6)
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=3, fact=5.0)
    vae.set_enc_to_predict()  # z = mu, so the reconstruction is deterministic
    _, mu, log_var = vae.encoder.predict(images, verbose=0)
    reco = vae.decoder.predict(mu, verbose=0)
    total, reco_loss, kl = vae.model.compute_losses(images, training=False)
    bracket = 1 + log_var - mu ** 2 - np.exp(log_var)
    assert float(kl) == pytest.approx(5.0 * np.mean(-0.5 * bracket.sum(axis=1)), rel=1e-4)
    assert float(reco_loss) == pytest.approx(numpy_bce(images, reco).sum(axis=(1, 2, 3)).mean(),
                                             rel=1e-3)  # one channel: the mean over it is itself


def test_equivalent_fact_round_trip():
    fact_sum = equivalent_fact(1e-3, n_pixels=784, z_dim=2)
    assert fact_sum == pytest.approx(0.784)
    assert equivalent_fact(fact_sum, 784, 2, to="mean") == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="use 'sum' or 'mean'"):
        equivalent_fact(1.0, 784, 2, to="median")


def test_each_strategy_states_its_convention_and_converts_fact():
    for solution_type, strategy in STRATEGIES.items():
        mean_fact = strategy.convention.fact_from(1e-3, MEAN, n_pixels=784, z_dim=2)
        if solution_type == 3:
            assert strategy.convention is SUM and strategy.default_fact == 1.0
            assert mean_fact == pytest.approx(0.784)
            assert strategy.convention.per_pixel(392.0, n_pixels=784) == 0.5
        else:
            assert strategy.convention is MEAN and strategy.default_fact == 1e-3
            assert mean_fact == 1e-3
            assert strategy.convention.per_pixel(0.5, n_pixels=784) == 0.5
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=3)
    assert vae.fact == 1.0  # fact=None takes the strategy's default
