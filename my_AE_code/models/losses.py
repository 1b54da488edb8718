"""The reconstruction and KL losses, in the two conventions the posts use.

The posts weigh the KL term with a factor ``fact`` but mean two different
things by it, depending on how the reconstruction loss is reduced:

*Mean convention* (posts V-VII, ``solution_type`` 0, 1 and 2)::

    reco = mean over batch and pixels of BCE(x, x_reco)
    kl   = -fact * mean over batch and latent dims of (1 + log_var - mu^2 - exp(log_var))

  Both terms are averages, so the KL needs a small factor: ``fact`` about
  1e-3 for MNIST (6.5e-4 in post IV's z_dim=2 run).

*Sum convention* (posts VIII-XIV, ``solution_type`` 3)::

    reco = mean over batch of (sum over pixels of BCE(x, x_reco))
    kl   = fact * mean over batch of (-0.5 * sum over latent dims of (1 + log_var - mu^2 - exp(log_var)))

  This is the textbook ELBO when ``fact`` is 1; the CelebA posts use
  ``fact`` about 5, and 1e-5 for a "tiny KL" VAE (post XIII).

The same objective is reached in both conventions when
``fact_sum = 2 * fact_mean * n_pixels / z_dim`` (see `equivalent_fact`).
"""

from keras import ops


def kl_loss_mean(mu, log_var, fact):
    """KL loss in the mean convention (strategies 0-2)."""
    return -fact * ops.mean(1.0 + log_var - ops.square(mu) - ops.exp(log_var))


def kl_loss_sum(mu, log_var, fact):
    """KL loss in the sum convention (strategy 3)."""
    per_image = -0.5 * ops.sum(1.0 + log_var - ops.square(mu) - ops.exp(log_var), axis=-1)
    return fact * ops.mean(per_image)


def reco_loss_mean(x, x_reco):
    """Binary cross-entropy averaged over pixels and batch (mean convention)."""
    return ops.mean(ops.binary_crossentropy(x, x_reco))


def reco_loss_sum(x, x_reco):
    """Binary cross-entropy summed over each image's pixels, averaged over the batch."""
    per_pixel = ops.binary_crossentropy(x, x_reco)
    per_image = ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)
    return ops.mean(per_image)


def equivalent_fact(fact, n_pixels, z_dim, to="sum"):
    """Translate ``fact`` between the two conventions so the objective stays the same.

    A sum-convention loss is ``n_pixels`` times the mean-convention BCE plus
    ``fact_sum * z_dim / 2`` times the mean-convention KL bracket; equating
    the ratios gives ``fact_sum = 2 * fact_mean * n_pixels / z_dim``.
    """
    scale = 2.0 * n_pixels / z_dim
    if to == "sum":
        return fact * scale
    if to == "mean":
        return fact / scale
    raise ValueError(f"to={to!r} is not a convention: use 'sum' or 'mean'.")
