"""Attribute vectors find a planted direction; adding them and morphing decode the right points."""

import keras
import numpy as np
import pytest

from my_AE_code.inference import decode
from my_AE_code.latent_arithmetic import (
    add_attribute,
    attribute_classifier,
    attribute_vector,
    morph,
    shrink,
)


@pytest.fixture(scope="module")
def decoder():
    """A small z -> 12x12x3 decoder; the functions only need it to map points to images."""
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(12 * 12 * 3),
                             keras.layers.Reshape((12, 12, 3)),
                             keras.layers.Activation("sigmoid")])


def test_attribute_vector_recovers_a_planted_direction():
    rng = np.random.default_rng(0)
    direction = rng.normal(size=16)
    direction *= 3.0 / np.linalg.norm(direction)
    has_attribute = rng.uniform(size=4000) < 0.3
    z = rng.normal(size=(4000, 16)) + 0.5 + has_attribute[:, None] * direction
    vector = attribute_vector(z, has_attribute)
    cosine = vector @ direction / (np.linalg.norm(vector) * np.linalg.norm(direction))
    assert cosine > 0.99
    np.testing.assert_allclose(vector, direction, atol=0.2)
    # CelebA's -1/+1 labels give the same vector
    np.testing.assert_allclose(attribute_vector(z, np.where(has_attribute, 1, -1)), vector)


def test_attribute_vector_needs_both_groups_and_known_labels():
    z = np.zeros((4, 2))
    with pytest.raises(ValueError, match="both"):
        attribute_vector(z, [True] * 4)
    with pytest.raises(ValueError, match="-1/\\+1"):
        attribute_vector(z, [2, 0, 1, 0])
    with pytest.raises(ValueError, match="one entry per point"):
        attribute_vector(z, [True, False])


def test_add_attribute_decodes_shifted_points(decoder):
    rng = np.random.default_rng(1)
    z, vector = rng.normal(size=(3, 6)), rng.normal(size=6)
    factors = (0, 1, 2.5)
    images = add_attribute(decoder, z, vector, factors=factors)
    assert images.shape == (3, 3, 12, 12, 3)
    np.testing.assert_allclose(images[:, 0], decode(decoder, z), atol=1e-6)
    np.testing.assert_allclose(images[1, 2], decode(decoder, z[1] + 2.5 * vector)[0], atol=1e-6)


def test_morph_walks_the_straight_line(decoder):
    rng = np.random.default_rng(2)
    start, end = rng.normal(size=6), rng.normal(size=6)
    images = morph(decoder, start, end, steps=5)
    assert images.shape == (5, 12, 12, 3)
    expected = decode(decoder, [start, (start + end) / 2, end])
    np.testing.assert_allclose(images[[0, 2, 4]], expected, atol=1e-6)


@pytest.mark.parametrize("labels", [[0, 1, 0, 1], [-1, 1, -1, 1], [False, True, False, True]],
                         ids=["0/1", "-1/+1", "bool"])
def test_each_label_format_means_the_same_split(labels):
    """0 and -1 (and False) mark the points without the attribute, 1 (and True) those with it."""
    z = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [2.0, 4.0]])
    np.testing.assert_allclose(attribute_vector(z, labels), [2.0, 0.0])
    np.testing.assert_allclose(attribute_vector(z, np.array(labels)), [2.0, 0.0])


def test_attribute_classifier_tells_the_attribute_from_shrunk_pixels():
    """Faces whose lower middle (the mouth) is bright have the attribute; the rest is noise."""
    rng = np.random.default_rng(0)
    images = rng.uniform(0.0, 0.6, size=(200, 48, 48, 3)).astype("float32")
    has_attribute = np.arange(200) % 2 == 0
    images[has_attribute, 30:40, 16:32] += 0.4
    classifier = attribute_classifier(images[:100], np.where(has_attribute[:100], 1, -1), size=24)
    smiling = classifier.predict_proba(shrink(images[100:], 24))[:, 1]
    assert np.all(smiling[has_attribute[100:]] > 0.9)
    assert np.all(smiling[~has_attribute[100:]] < 0.1)


def test_shrink_averages_square_blocks_and_refuses_sizes_that_do_not_divide():
    images = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    np.testing.assert_array_equal(shrink(images, 2)[0], [2.5, 4.5, 10.5, 12.5])
    with pytest.raises(ValueError, match="size=3 must divide the image size 4x4"):
        shrink(images, 3)
