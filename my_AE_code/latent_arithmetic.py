"""Vector arithmetic in the latent space (post XI): attribute vectors and morphing.

If the VAE has organised its latent space well, an attribute such as
"Smiling" corresponds to a direction: the mean z of smiling faces minus the
mean z of the others. Adding that vector to any face's z should add a smile;
walking along a straight line between two z-points should morph one image
into the other.
"""

import numpy as np

from my_AE_code.inference import decode


def _as_mask(has_attribute):
    """A boolean mask from booleans, 0/1 or CelebA's -1/+1 labels."""
    values = np.asarray(has_attribute)
    if values.dtype == bool:
        return values
    unknown = set(np.unique(values)) - {-1, 0, 1}
    if unknown:
        raise ValueError(f"Attribute labels must be booleans, 0/1 or -1/+1; got {sorted(unknown)}.")
    return values > 0


def attribute_vector(z, has_attribute):
    """Mean z of the points with the attribute minus the mean z of those without.

    ``has_attribute`` is a boolean mask or CelebA's -1/+1 labels (0/1 works too),
    one entry per row of ``z``.
    """
    z = np.asarray(z, dtype="float64")
    mask = _as_mask(has_attribute)
    if mask.shape != (len(z),):
        raise ValueError(f"has_attribute has shape {mask.shape}; it needs one entry per point "
                         f"({len(z)}).")
    if mask.all() or not mask.any():
        raise ValueError("attribute_vector needs points both with and without the attribute.")
    return z[mask].mean(axis=0) - z[~mask].mean(axis=0)


def add_attribute(decoder, z, vector, factors=(0, 1, 2, 3)):
    """Decode z + factor * vector for every point and factor: shape (len(z), len(factors), H, W, C).

    Factor 0 is the unchanged image, so each row starts with the original.
    ``decoder`` is a Decoder model or the whole VAE object.
    """
    z = np.atleast_2d(np.asarray(z, dtype="float64"))
    factors = np.asarray(factors, dtype="float64")
    shifted = z[:, None, :] + factors[None, :, None] * np.asarray(vector)[None, None, :]
    images = decode(decoder, shifted.reshape(-1, z.shape[1]))
    return images.reshape(len(z), len(factors), *images.shape[1:])


def morph(decoder, z_start, z_end, steps=8):
    """Decode ``steps`` points on the straight line from z_start to z_end (both included)."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    z = (1.0 - t) * np.asarray(z_start, dtype="float64") + t * np.asarray(z_end, dtype="float64")
    return decode(decoder, z)


def attribute_classifier(images, has_attribute, size=24):
    """A logistic regression on shrunk pixels that tells whether an image shows an attribute.

    It judges the images that `add_attribute` makes: if adding the Smiling
    vector adds a smile, the classifier's probability of "smiling" rises.
    The images are block-averaged to ``size`` x ``size`` first (a face's
    smile or glasses survive that; the classifier stays small and quick).
    Use `shrink` on the images to be judged, then ``predict_proba``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = shrink(images, size)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, C=0.1)).fit(
        features, _as_mask(has_attribute))


def shrink(images, size=24):
    """(N, H, W, C) images -> (N, size * size * C) features by averaging square blocks."""
    images = np.asarray(images, dtype="float32")
    n, height, width, channels = images.shape
    if height % size or width % size:
        raise ValueError(f"size={size} must divide the image size {height}x{width}.")
    blocks = images.reshape(n, size, height // size, size, width // size, channels)
    return blocks.mean(axis=(2, 4)).reshape(n, -1)
