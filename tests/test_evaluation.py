"""Scoring VAEs in nats: checked on tiny models whose likelihood can be worked out by hand."""

from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from scipy.special import logsumexp

from my_AE_code.evaluation import code_distortion, elbo_parts, kl_divergence, log_likelihood
from my_AE_code.models import MyVariationalAutoencoder

SHAPE = (2, 2, 1)  # four pixels
N_PIXELS = 4


def grey_images(n, seed=0):
    """Grey-level images with some exact 0s and 1s, as MNIST has."""
    x = np.random.default_rng(seed).uniform(-0.3, 1.3, size=(n, *SHAPE))
    return np.clip(x, 0.0, 1.0).astype("float32")


def linear_model(dec_kernel, dec_bias, enc_kernel=0.0, mu_bias=0.0, log_var_bias=0.0):
    """Encoder q(z|x) = N(a.x + c, exp(a'.x + c')) and Decoder p = sigmoid(W z + b), z_dim 1.

    The Decoder's logits are linear in z, so log p(x) is a 1-D integral that
    `exact_log_px` computes on a grid.
    """
    def dense(units, kernel, bias, **kwargs):
        return layers.Dense(units, kernel_initializer=keras.initializers.Constant(kernel),
                            bias_initializer=keras.initializers.Constant(bias), **kwargs)

    x = keras.Input(SHAPE)
    flat = layers.Flatten()(x)
    mu = dense(1, enc_kernel, mu_bias)(flat)
    log_var = dense(1, -enc_kernel, log_var_bias)(flat)
    encoder = keras.Model(x, [layers.Identity()(mu), mu, log_var])
    z = keras.Input((1,))
    logits = layers.Reshape(SHAPE)(dense(N_PIXELS, [dec_kernel], dec_bias)(z))
    decoder = keras.Model(z, layers.Activation("sigmoid")(logits))  # the sigmoid comes last
    return SimpleNamespace(encoder=encoder, decoder=decoder)


def log_bernoulli(x, logits):
    """log p(x) of independent pixels with these logits, summed over the last axis (exact)."""
    return np.sum(x * logits - np.logaddexp(0.0, logits), axis=-1)


def exact_log_px(x, dec_kernel, dec_bias):
    """log of the integral of N(z; 0, 1) p(x|z) dz, on a fine grid (z_dim 1)."""
    z = np.linspace(-12.0, 12.0, 48001)
    logits = np.asarray(dec_kernel) * z[:, None] + np.asarray(dec_bias)  # (grid, pixels)
    log_integrand = (-0.5 * (np.log(2 * np.pi) + z ** 2))[None] + np.stack(
        [log_bernoulli(image.reshape(-1), logits) for image in x])
    return logsumexp(log_integrand, axis=1) + np.log(z[1] - z[0])


# A Decoder whose pixels depend on z, and an Encoder whose q(z|x) depends on x.
DEC_KERNEL = [2.0, -1.5, 0.5, 3.0]
DEC_BIAS = [0.5, 0.0, -1.0, 1.0]


def z_dependent_model(**encoder):
    return linear_model(DEC_KERNEL, DEC_BIAS, **encoder)


def test_nats_have_the_right_sign_and_scale():
    x = grey_images(32)
    model = linear_model([0.0] * 4, [0.0] * 4, mu_bias=1.0, log_var_bias=-1.0)  # p = 1/2
    parts = elbo_parts(model, x)
    np.testing.assert_allclose(parts.distortion, N_PIXELS * np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(parts.rate, 0.5 * (1.0 + np.exp(-1.0) - 1.0 + 1.0), rtol=1e-6)
    np.testing.assert_allclose(parts.elbo, -(parts.distortion + parts.rate))
    assert np.all(parts.elbo < 0)


def test_a_decoder_that_ignores_z_gives_the_exact_likelihood():
    """Then p(x) = p(x|z) for every z: log p(x) is the Bernoulli log-likelihood itself."""
    x = grey_images(16)
    bias = np.array([1.0, -2.0, 0.3, 4.0])
    exact = log_bernoulli(x.reshape(len(x), -1), bias)
    # q(z|x) a little wider than the posterior (the prior): importance weights of small variance.
    model = linear_model([0.0] * 4, bias, enc_kernel=0.05, mu_bias=0.3, log_var_bias=0.2)
    parts = elbo_parts(model, x)
    np.testing.assert_allclose(-parts.distortion, exact, rtol=1e-5)
    # The ELBO misses by exactly KL(q(z|x) || p(z|x)), and here p(z|x) = p(z).
    np.testing.assert_allclose(exact - parts.elbo, parts.rate, rtol=1e-5)
    assert np.all(parts.rate > 0.01)
    np.testing.assert_allclose(log_likelihood(model, x, k=1000), exact, atol=0.05)


def test_q_equal_to_the_posterior_makes_every_k_exact():
    """Every importance weight is then p(x) itself: even k=1 gives log p(x)."""
    x = grey_images(16)
    bias = np.array([1.0, -2.0, 0.3, 4.0])
    model = linear_model([0.0] * 4, bias)  # posterior = prior = q(z|x) = N(0, 1)
    exact = log_bernoulli(x.reshape(len(x), -1), bias)
    for k in (1, 7):
        np.testing.assert_allclose(log_likelihood(model, x, k=k), exact, rtol=1e-6)


def test_importance_weighting_recovers_the_likelihood_of_a_z_dependent_decoder():
    x = grey_images(16, seed=1)
    exact = exact_log_px(x, DEC_KERNEL, DEC_BIAS)
    # q(z|x) wider than the posterior: bounded importance weights, a fast-closing gap.
    model = z_dependent_model(enc_kernel=0.2, mu_bias=0.3, log_var_bias=1.0)
    elbo = elbo_parts(model, x, n_samples=200).elbo
    estimate = log_likelihood(model, x, k=10_000)
    assert np.mean(exact - elbo) > 0.1  # a real gap to close ...
    np.testing.assert_allclose(estimate, exact, atol=0.05)  # ... and closed


def test_the_estimate_rises_with_k_towards_the_likelihood():
    x = grey_images(64, seed=2)
    exact = exact_log_px(x, DEC_KERNEL, DEC_BIAS)
    model = z_dependent_model(mu_bias=1.5, log_var_bias=0.5)  # q off the posterior: large gaps
    means = [np.mean(log_likelihood(model, x, k=k, seed=k)) for k in (1, 10, 100, 1000)]
    assert np.all(np.diff(means) > 0), means
    assert means[-1] < np.mean(exact) + 0.02
    assert np.mean(exact) - means[0] > 5 * (np.mean(exact) - means[-1])


def test_k1_estimate_is_the_elbo_when_q_is_the_prior():
    """log p(z) - log q(z|x) = 0 = -KL, so the same draws give the same numbers."""
    x = grey_images(32, seed=3)
    model = z_dependent_model()  # q(z|x) = N(0, 1)
    np.testing.assert_allclose(log_likelihood(model, x, k=1, seed=5),
                               elbo_parts(model, x, seed=5).elbo, rtol=1e-12)


def test_k1_estimate_is_the_elbo_on_average():
    """Same draws: the two differ only by the KL's one-draw estimate, which averages to KL."""
    x = grey_images(2000, seed=4)
    model = z_dependent_model(enc_kernel=0.5, mu_bias=0.5, log_var_bias=-1.0)
    difference = log_likelihood(model, x, k=1, seed=7) - elbo_parts(model, x, seed=7).elbo
    assert np.std(difference) > 0.1  # not the same number ...
    assert abs(np.mean(difference)) < 4 * np.std(difference) / np.sqrt(len(x))  # ... on average


def test_a_pixel_the_decoder_is_sure_of_is_scored_exactly():
    """Logit 40 for a black pixel costs 40 nats, not the 16 a clip at 1e-7 would give."""
    x = np.zeros((1, *SHAPE), "float32")
    bias = np.array([40.0, -40.0, 0.0, 0.0])
    model = linear_model([0.0] * 4, bias)
    np.testing.assert_allclose(elbo_parts(model, x).distortion, -log_bernoulli(0.0, bias),
                               rtol=1e-5)


def test_code_distortion_scores_the_code_without_sampling():
    x = grey_images(8, seed=5)
    model = z_dependent_model(enc_kernel=0.8, mu_bias=-0.4, log_var_bias=0.0)
    mu = model.encoder.predict_on_batch(x)[1]
    logits = mu * np.array(DEC_KERNEL) + np.array(DEC_BIAS)
    expected = -log_bernoulli(x.reshape(len(x), -1), logits)
    np.testing.assert_allclose(code_distortion(model, x), expected, rtol=1e-5)
    autoencoder = SimpleNamespace(encoder=keras.Model(model.encoder.input,
                                                      model.encoder.outputs[1]),
                                  decoder=model.decoder)
    np.testing.assert_allclose(code_distortion(autoencoder, x), expected, rtol=1e-5)


def test_arrays_and_tf_data_streams_give_the_same_numbers():
    x = grey_images(50, seed=6)
    labels = np.arange(len(x))
    stream = tf.data.Dataset.from_tensor_slices((x, labels)).batch(16)
    model = z_dependent_model(enc_kernel=0.3, log_var_bias=-0.5)
    from_array = elbo_parts(model, x, batch_size=16, seed=1)
    from_stream = elbo_parts(model, stream, seed=1)
    np.testing.assert_array_equal(from_array.distortion, from_stream.distortion)
    np.testing.assert_array_equal(from_array.rate, from_stream.rate)
    np.testing.assert_array_equal(log_likelihood(model, x, k=30, batch_size=16, max_points=64),
                                  log_likelihood(model, stream, k=30, max_points=64))


def test_chunking_the_draws_changes_nothing_but_memory():
    x = grey_images(10, seed=7)
    model = z_dependent_model(enc_kernel=0.3)
    whole = log_likelihood(model, x, k=50, max_points=10_000)
    for max_points in (7, 120):  # one draw per image at a time; 12 at a time
        np.testing.assert_allclose(log_likelihood(model, x, k=50, max_points=max_points), whole,
                                   rtol=1e-6)


def test_binarized_scores_are_those_of_binary_images():
    x = grey_images(20, seed=8)
    model = z_dependent_model(enc_kernel=0.3)
    np.testing.assert_array_equal(elbo_parts(model, x, binarize="threshold").distortion,
                                  elbo_parts(model, (x > 0.5).astype("float32")).distortion)
    with pytest.raises(ValueError, match="binarize"):
        elbo_parts(model, x, binarize="round")
    with pytest.raises(ValueError, match="at least one draw"):
        log_likelihood(model, x, k=0)


def test_stochastic_binarization_draws_each_pixel_from_its_grey_level():
    """Each pixel becomes 1 with probability its grey level: images of 0s and 1s, 1s at that rate.

    The Decoder ignores z, so an image's distortion tells how many of its pixels are 1.
    """
    grey = np.full((4000, *SHAPE), 0.25, "float32")
    model = linear_model([0.0] * N_PIXELS, [1.0] * N_PIXELS)  # p(pixel = 1) = sigmoid(1)
    distortion = elbo_parts(model, grey, binarize="stochastic", seed=3).distortion
    cost_of_a_one, cost_of_a_zero = -log_bernoulli(1.0, 1.0), -log_bernoulli(0.0, 1.0)
    ones = (distortion - N_PIXELS * cost_of_a_zero) / (cost_of_a_one - cost_of_a_zero)
    np.testing.assert_allclose(ones, np.round(ones), atol=1e-4)  # whole pixels: binary images
    # 16,000 pixels: the rate's standard error is 0.0034.
    assert ones.mean() / N_PIXELS == pytest.approx(0.25, abs=0.015)
    binary = (grey_images(20, seed=9) > 0.5).astype("float32")  # 0s and 1s stay as they are
    np.testing.assert_array_equal(
        elbo_parts(model, binary, binarize="stochastic", seed=3).distortion,
        elbo_parts(model, binary, seed=3).distortion)


def test_the_strategy_does_not_change_the_score(blobs):
    """Same seed, same weights: the KL strategy and its fact convention play no part."""
    layout = dict(input_dim=(28, 28, 1), encoder_conv_filters=[4, 8],
                  encoder_conv_kernel_size=[3, 3], encoder_conv_strides=[2, 2],
                  decoder_conv_t_filters=[4, 1], decoder_conv_t_kernel_size=[3, 3],
                  decoder_conv_t_strides=[2, 2], z_dim=2, seed=3)
    scores = [elbo_parts(MyVariationalAutoencoder(**layout, solution_type=solution_type),
                         blobs[:16]).elbo
              for solution_type in range(4)]
    for score in scores[1:]:
        np.testing.assert_allclose(score, scores[0], rtol=1e-5)
    assert np.all(scores[0] < 0)


def test_kl_divergence_of_the_prior_is_zero():
    np.testing.assert_array_equal(kl_divergence(np.zeros((3, 5)), np.zeros((3, 5))), 0.0)
