"""What each KL strategy optimises: the gradient its training step applies is the documented one.

For fixed weights, a fixed batch and a fixed eps, one training step of each
strategy, run as readers run it (``train_myVAE`` with plain SGD at learning
rate 1, so the weights move by exactly minus the gradient), must move the
weights by the gradient of the documented loss: reconstruction + fact * KL in
the strategy's convention (`my_AE_code.models.losses`). That reference is
written out here with ``keras.ops`` and ``tf.GradientTape`` from the Encoder's
Dense layers and the Decoder, apart from the package's loss code. A strategy
that drops a term, counts one twice or samples z wrongly moves the weights
elsewhere.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models import layers as model_layers
from my_AE_code.models.kl_strategies import STRATEGIES
from my_AE_code.models.layouts import TINY_LAYOUT
from my_AE_code.models.losses import MEAN

HEIGHT, WIDTH, CHANNELS = TINY_LAYOUT["input_dim"]
N_PIXELS = HEIGHT * WIDTH  # the channels of a pixel are averaged in both conventions
Z_DIM = TINY_LAYOUT["z_dim"]
#: A mean-convention KL weight big enough that the KL term's share of the
#: gradient is far above the tolerance (see test_the_kl_term_is_visible_...).
FACT_MEAN = 0.05

IMAGES = np.random.default_rng(15).uniform(size=(4, HEIGHT, WIDTH, CHANNELS)).astype("float32")
EPS = np.random.default_rng(16).normal(size=(4, Z_DIM)).astype("float32")
assert np.abs(EPS).max() < 5  # inside the clip: eps reaches z unchanged


def fix_eps(monkeypatch):
    """From now on every sampling draws EPS (call it after building: building draws too)."""
    monkeypatch.setattr(model_layers.keras.random, "normal",
                        lambda shape, *args, **kwargs: ops.convert_to_tensor(EPS))


def vae_of(solution_type, weights_from=None):
    """A tiny VAE of this strategy, with its ``fact`` converted from FACT_MEAN."""
    strategy = STRATEGIES[solution_type]
    fact = strategy.convention.fact_from(FACT_MEAN, MEAN, N_PIXELS, Z_DIM)
    vae = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=solution_type, fact=fact, seed=15)
    if weights_from is not None:
        vae.encoder.set_weights(weights_from.encoder.get_weights())
        vae.decoder.set_weights(weights_from.decoder.get_weights())
    return vae


def trainable(vae):
    return vae.encoder.trainable_weights + vae.decoder.trainable_weights


def training_step_gradient(vae, images):
    """The gradient one training step applies: SGD at learning rate 1 moves w to w - g."""
    before = [w.numpy() for w in trainable(vae)]
    vae.strategy.compile(vae.model, keras.optimizers.SGD(learning_rate=1.0))
    vae.train_myVAE(images, batch_size=len(images), epochs=1, shuffle=False, verbose=0)
    return [old - w.numpy() for old, w in zip(before, trainable(vae), strict=True)]


# --- the documented loss, written out apart from the package ------------------------------

def bce(x, p):
    """Binary cross-entropy of every value, as Keras computes it on probabilities."""
    p = ops.clip(p, 1e-7, 1 - 1e-7)
    return -(x * ops.log(p) + (1 - x) * ops.log(1 - p))


def documented_loss(convention, fact, x, x_reco, mu, log_var):
    """Reconstruction + fact * KL, in the mean or the sum convention of the module docstring."""
    bracket = 1 + log_var - ops.square(mu) - ops.exp(log_var)
    if convention is MEAN:
        return ops.mean(bce(x, x_reco)) - fact * ops.mean(bracket)
    per_image_bce = ops.sum(ops.mean(bce(x, x_reco), axis=-1), axis=(1, 2))
    per_image_kl = -0.5 * ops.sum(bracket, axis=-1)
    return ops.mean(per_image_bce) + fact * ops.mean(per_image_kl)


def documented_gradient(vae, images, eps, fact, convention):
    """The documented loss's gradient, from the Encoder's features, its Dense layers and eps."""
    encoder = vae.encoder
    features_of = keras.Model(encoder.input, encoder.get_layer("encoder_flatten").output)
    mu_dense, log_var_dense = encoder.get_layer("mu"), encoder.get_layer("log_var")
    with tf.GradientTape() as tape:
        features = features_of(images, training=True)
        mu = ops.matmul(features, mu_dense.kernel) + mu_dense.bias
        log_var = ops.matmul(features, log_var_dense.kernel) + log_var_dense.bias
        z = mu + ops.exp(log_var / 2) * eps
        loss = documented_loss(convention, fact, images, vae.decoder(z, training=True), mu,
                               log_var)
    return [g.numpy() for g in tape.gradient(loss, trainable(vae))]


def assert_same_gradient(got, expected):
    """Equal up to float32 noise: 1e-5 of the largest entry, 1e-3 relative."""
    scale = max(np.abs(g).max() for g in expected)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5 * scale)


# --- the tests ----------------------------------------------------------------------------

@pytest.mark.parametrize("solution_type", sorted(STRATEGIES))
def test_each_strategy_trains_on_its_documented_loss(monkeypatch, solution_type):
    vae = vae_of(solution_type)
    expected = documented_gradient(vae, IMAGES, EPS, vae.fact, vae.strategy.convention)
    fix_eps(monkeypatch)
    assert_same_gradient(training_step_gradient(vae, IMAGES), expected)


def test_the_four_strategies_agree_once_fact_is_converted(monkeypatch):
    """Same weights, batch and eps; fact converted: the sum convention's gradient is n_pixels x."""
    first = vae_of(0)
    vaes = [first] + [vae_of(t, weights_from=first) for t in sorted(STRATEGIES) if t != 0]
    fix_eps(monkeypatch)
    per_pixel = [[vae.strategy.convention.per_pixel(g, N_PIXELS)
                  for g in training_step_gradient(vae, IMAGES)] for vae in vaes]
    assert [vae.fact for vae in vaes] == pytest.approx(
        [FACT_MEAN] * 3 + [2 * FACT_MEAN * N_PIXELS / Z_DIM])
    for other in per_pixel[1:]:
        assert_same_gradient(other, per_pixel[0])


def test_the_kl_term_is_visible_in_the_gradient():
    """The tolerance above is far below the KL term's part: dropping it or counting it
    twice cannot pass for the same gradient."""
    vae = vae_of(0)
    with_kl = documented_gradient(vae, IMAGES, EPS, FACT_MEAN, MEAN)
    for fact in (0.0, 2 * FACT_MEAN):
        with pytest.raises(AssertionError):
            assert_same_gradient(documented_gradient(vae, IMAGES, EPS, fact, MEAN), with_kl)
