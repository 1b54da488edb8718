"""How good a trained VAE is, in nats: the test ELBO, its two parts, and log p(x).

Training losses cannot compare VAEs: each ``solution_type`` reports them in
its own convention, scaled by its own ``fact``. The numbers here ignore all
of that. They take the Encoder's ``mu`` and ``log_var`` and the Decoder's
pixel probabilities, and score the model as the probabilistic model it is:
prior ``p(z) = N(0, I)``, Bernoulli Decoder ``p(x|z)``, Gaussian Encoder
``q(z|x) = N(mu, exp(log_var))``. All values are per image, in nats.

- ``distortion = -E_q[log p(x|z)]``: the nats the Decoder needs to describe
  an image given its code (the reconstruction term);
- ``rate = KL(q(z|x) || p(z))``: the nats the code carries (computed exactly);
- ``ELBO = -(distortion + rate)``: a lower bound on ``log p(x)``;
- `log_likelihood`: the importance-weighted bound of Burda et al. (2016),
  ``log mean_k p(x|z_k) p(z_k) / q(z_k|x)`` with ``z_k ~ q(z|x)``. With
  ``k=1`` it is the ELBO with the KL estimated from the draw instead of
  computed; as ``k`` grows it rises towards ``log p(x)``.

**Grey levels.** MNIST's pixels are grey levels in [0, 1], not 0 or 1. Like
the posts, these functions read ``x log p + (1 - x) log(1 - p)`` for grey
``x`` too: the continuous relaxation that training with binary cross-entropy
uses. It is not a normalised density over grey images, and even a perfect
Decoder (``p = x``) scores the pixels' own entropy, not 0. TensorFlow's CVAE
tutorial and pythae's benchmark binarise MNIST instead; ``binarize=
"threshold"`` (pixel > 0.5) or ``"stochastic"`` (pixel ~ Bernoulli(grey
level), drawn from ``seed``) scores binarised images, to compare with theirs.

**Exact pixels.** ``log p(x|z)`` is minus Keras's binary cross-entropy,
summed over pixels and channels, computed in a compiled function as in
training. There Keras takes the logits that the Decoder's final sigmoid came
from, so a pixel the Decoder is sure of is scored exactly instead of being
clipped at 1e-7 (a Decoder whose last operation is not a sigmoid gets
Keras's clipping).

Random draws come from NumPy with the given ``seed``, not from the model's
sampling layer (which clips its noise): the same seed gives the same draws
in `elbo_parts` and `log_likelihood`.
"""

import weakref
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from keras import ops
from scipy.special import logsumexp

from my_AE_code.inference import encoder_outputs, image_batches, keras_part

BINARIZE = (None, "threshold", "stochastic")
LOG_2PI = np.log(2.0 * np.pi)


class ElboParts(NamedTuple):
    """The ELBO's two parts per image, in nats; ``elbo`` is minus their sum."""

    distortion: np.ndarray
    rate: np.ndarray

    @property
    def elbo(self):
        return -(self.distortion + self.rate)


def elbo_parts(vae, data, n_samples=1, batch_size=256, seed=0, binarize=None,
               max_points=4096):
    """Distortion and rate of every image in ``data`` (an `ElboParts` of arrays).

    ``vae`` is a `MyVariationalAutoencoder`, whatever its ``solution_type``
    and ``fact``, or anything with an ``encoder`` (x -> z, mu, log_var) and a
    ``decoder`` (z -> pixel probabilities). ``data`` is an image array or a
    tf.data.Dataset of image batches (or of (images, ...) tuples). The
    distortion averages ``n_samples`` draws of z per image (one draw is the
    usual estimate); ``max_points`` bounds how many are decoded at once.
    """
    distortion, rate = [], []
    for mu, log_var, log_px_z, _ in _scored_draws(vae, data, n_samples, batch_size, seed,
                                                  binarize, max_points):
        distortion.append(-np.mean(log_px_z, axis=1))
        rate.append(kl_divergence(mu, log_var))
    return ElboParts(np.concatenate(distortion), np.concatenate(rate))


def log_likelihood(vae, data, k=1000, batch_size=256, seed=0, binarize=None, max_points=4096):
    """Importance-weighted estimate of log p(x) per image in nats, from ``k`` draws each.

    ``log mean_k exp(log p(x|z_k) + log p(z_k) - log q(z_k|x))``, summed with
    log-sum-exp so that weights of e^-500 do not underflow. Its expected value
    never decreases with ``k`` and tends to log p(x) (Burda et al. 2016). The
    draws are made and decoded ``max_points`` latent points at a time, so
    k=1000 needs no more memory than k=10. Arguments as in `elbo_parts`.
    """
    estimates = []
    for _, _, log_px_z, log_pz_over_qz in _scored_draws(vae, data, k, batch_size, seed,
                                                        binarize, max_points):
        estimates.append(logsumexp(log_px_z + log_pz_over_qz, axis=1) - np.log(k))
    return np.concatenate(estimates)


def code_distortion(model, data, batch_size=256, seed=0, binarize=None):
    """-log p(x | z = the image's code) per image in nats, with no sampling.

    The code is an AE's z, or a VAE's mu. An AE has no rate (its code is a
    point, not a distribution), so this is all there is to score it by: the
    distortion that a VAE approaches as its KL weight goes to 0.
    """
    _check_binarize(binarize)
    encoder = keras_part(model, "encoder")
    log_px_z = _log_px_z_function(keras_part(model, "decoder"))
    rng = np.random.default_rng(seed)
    distortion = []
    for x in image_batches(data, batch_size):
        x = _binarized(np.asarray(x, "float32"), binarize, rng)
        code = encoder_outputs(encoder, x)
        mu = code[1] if isinstance(code, (list, tuple)) else code
        distortion.append(-log_px_z(x, np.asarray(mu)[:, None]).numpy()[:, 0])
    return np.concatenate(distortion).astype("float64")


def kl_divergence(mu, log_var):
    """KL(N(mu, exp(log_var)) || N(0, I)) per row in nats: the rate."""
    mu, log_var = np.asarray(mu, "float64"), np.asarray(log_var, "float64")
    return 0.5 * np.sum(np.square(mu) + np.exp(log_var) - 1.0 - log_var, axis=-1)


def log_standard_normal(u):
    """log N(u; 0, I) summed over the last axis (nats): log p(z) under the prior."""
    return -0.5 * np.sum(LOG_2PI + np.square(u), axis=-1)


def _scored_draws(vae, data, n_samples, batch_size, seed, binarize, max_points):
    """Per image batch: mu, log_var and, for n_samples draws z ~ q(z|x), two (B, n) arrays.

    The arrays hold log p(x|z) and log p(z) - log q(z|x) of each draw.
    """
    _check_binarize(binarize)
    if n_samples < 1:
        raise ValueError(f"Need at least one draw per image, got {n_samples}.")
    encoder = keras_part(vae, "encoder")
    log_px_z = _log_px_z_function(keras_part(vae, "decoder"))
    rng = np.random.default_rng(seed)
    for x in image_batches(data, batch_size):
        x = _binarized(np.asarray(x, "float32"), binarize, rng)
        _, mu, log_var = (np.asarray(a, "float64") for a in encoder_outputs(encoder, x))
        per_chunk = max(1, max_points // len(x))
        scores, log_pz_over_qz = [], []
        for start in range(0, n_samples, per_chunk):
            # Drawn draw-major, so that the chunks join up to the very draws of one big chunk.
            eps = rng.standard_normal((min(per_chunk, n_samples - start), *mu.shape))
            eps = eps.transpose(1, 0, 2)
            z = mu[:, None] + np.exp(0.5 * log_var[:, None]) * eps
            scores.append(log_px_z(x, z.astype("float32")).numpy())
            # log q(z|x) from eps itself: exact even for a tiny variance.
            log_q = log_standard_normal(eps) - 0.5 * np.sum(log_var, axis=-1, keepdims=True)
            log_pz_over_qz.append(log_standard_normal(z) - log_q)
        yield mu, log_var, np.hstack(scores).astype("float64"), np.hstack(log_pz_over_qz)


def _log_px_z_function(decoder):
    """A compiled (x (B, H, W, C), z (B, n, z_dim)) -> log p(x|z) of shape (B, n), traced once.

    Compiled, because only in a graph does Keras's binary cross-entropy find
    the logits behind the sigmoid (see the module docstring).
    """
    if decoder not in _DECODERS:
        image = tf.TensorSpec((None, *decoder.output_shape[1:]), "float32")
        points = tf.TensorSpec((None, None, decoder.input_shape[-1]), "float32")
        weak = weakref.ref(decoder)  # the cache must not keep a deleted model alive

        @tf.function(input_signature=[image, points])
        def log_px_z(x, z):
            n_images, n_draws = ops.shape(z)[0], ops.shape(z)[1]
            probs = weak()(ops.reshape(z, (n_images * n_draws, -1)), training=False)
            bce = ops.binary_crossentropy(ops.repeat(x, n_draws, axis=0), probs)
            return -ops.sum(ops.reshape(bce, (n_images, n_draws, -1)), axis=-1)

        _DECODERS[decoder] = log_px_z
    return _DECODERS[decoder]


#: The compiled log p(x|z) of each Decoder scored so far.
_DECODERS = weakref.WeakKeyDictionary()


def _check_binarize(binarize):
    if binarize not in BINARIZE:
        raise ValueError(f"binarize={binarize!r}: use one of {BINARIZE}.")


def _binarized(x, binarize, rng):
    if binarize == "threshold":
        return (x > 0.5).astype("float32")
    if binarize == "stochastic":
        return (rng.random(x.shape) < x).astype("float32")
    return x
