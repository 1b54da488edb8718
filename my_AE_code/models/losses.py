"""The reconstruction and KL losses, in the two conventions the posts use.

The posts weigh the KL term with a factor ``fact`` but mean two different
things by it, depending on how the reconstruction loss is reduced. A *pixel*
here is one position of the image; its colour channels share it. Binary
cross-entropy (BCE) is averaged over the channels of a pixel first, as
Keras's ``binary_crossentropy`` reduces the last axis.

*Mean convention* (posts V-VII, ``solution_type`` 0, 1 and 2)::

    reco = mean over batch and pixels of BCE(x, x_reco)
    kl   = -fact * mean over batch and latent dims of (1 + log_var - mu^2 - exp(log_var))

  Both terms are averages, so the KL needs a small factor: ``fact`` about
  1e-3 for MNIST (6.5e-4 in post IV's z_dim=2 run).

*Sum convention* (posts VIII-XIV, ``solution_type`` 3)::

    reco = mean over batch of (sum over the image's pixels of BCE(x, x_reco))
    kl   = fact * mean over batch of
           (-0.5 * sum over latent dims of (1 + log_var - mu^2 - exp(log_var)))

  This is the textbook ELBO when ``fact`` is 1 (for one channel). The CelebA
  posts use ``fact`` about 5, and 1e-5 for a "tiny KL" VAE (post XIII). Post
  XIII's check of the scale: an AE at 0.49 BCE per pixel reports
  0.49 x 96 x 96 = 4515 for 96x96x3 images.

The same objective is reached in both conventions when
``fact_sum = 2 * fact_mean * n_pixels / z_dim``, with ``n_pixels`` = height x
width; the sum convention's losses are then ``n_pixels`` times the mean
convention's (see `LossConvention`).
"""

from dataclasses import dataclass
from typing import Callable

from keras import ops


def kl_loss_mean(mu, log_var, fact):
    """KL loss in the mean convention (strategies 0-2)."""
    return -fact * ops.mean(1.0 + log_var - ops.square(mu) - ops.exp(log_var))


def kl_loss_sum(mu, log_var, fact):
    """KL loss in the sum convention (strategy 3)."""
    per_image = -0.5 * ops.sum(1.0 + log_var - ops.square(mu) - ops.exp(log_var), axis=-1)
    return fact * ops.mean(per_image)


def reco_loss_mean(x, x_reco):
    """Binary cross-entropy averaged over pixels (and their channels) and batch."""
    return ops.mean(ops.binary_crossentropy(x, x_reco))


def reco_loss_sum(x, x_reco):
    """Per image, the sum over pixels of the BCE averaged over channels; then the batch mean."""
    per_pixel = ops.mean(ops.binary_crossentropy(x, x_reco), axis=-1)
    per_image = ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)
    return ops.mean(per_image)


@dataclass(frozen=True)
class LossConvention:
    """One of the two conventions: its loss functions and how it converts to the other."""

    name: str
    reco_loss: Callable
    kl_loss: Callable
    #: True: losses are sums over an image's pixels; False: averages over them.
    sums_over_pixels: bool

    def fact_from(self, fact, convention, n_pixels, z_dim):
        """The ``fact`` that gives here the objective ``fact`` gives in ``convention``.

        ``n_pixels`` is height x width of the images. Converting into the sum
        convention multiplies by ``2 * n_pixels / z_dim``; the reverse divides.
        """
        if convention.sums_over_pixels == self.sums_over_pixels:
            return float(fact)
        scale = 2.0 * n_pixels / z_dim
        return float(fact * scale if self.sums_over_pixels else fact / scale)

    def per_pixel(self, loss, n_pixels):
        """A loss value of this convention, as the mean convention would report it."""
        return loss / n_pixels if self.sums_over_pixels else loss


MEAN = LossConvention("mean", reco_loss_mean, kl_loss_mean, sums_over_pixels=False)
SUM = LossConvention("sum", reco_loss_sum, kl_loss_sum, sums_over_pixels=True)
CONVENTIONS = {MEAN.name: MEAN, SUM.name: SUM}


def equivalent_fact(fact, n_pixels, z_dim, to="sum"):
    """Translate ``fact`` between the two conventions so the objective stays the same.

    ``to="sum"`` converts a mean-convention ``fact`` into the sum convention,
    ``to="mean"`` the other way. ``n_pixels`` is height x width (channels do
    not count: the BCE is averaged over them in both conventions).
    """
    if to not in CONVENTIONS:
        raise ValueError(f"to={to!r} is not a convention: use 'sum' or 'mean'.")
    target = CONVENTIONS[to]
    source = MEAN if target is SUM else SUM
    return target.fact_from(fact, source, n_pixels, z_dim)
