"""Training runs the layers in training mode; evaluating and calling the model do not.

Batch normalisation and dropout behave differently in the two modes: in
training, batch norm normalises by the batch and updates its moving
statistics, and dropout drops; in inference, batch norm uses the moving
statistics and dropout passes everything. A strategy that passes the wrong
``training`` flag on still trains, and its loss still falls, so these tests
look at the layers themselves. The sampling is switched off (z = mu) so that
only the layers' mode can change an output.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import images
from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.kl_strategies import STRATEGIES
from my_AE_code.models.layouts import TINY_LAYOUT


def vae_with_batch_norm_and_dropout(solution_type):
    vae = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=solution_type,
                                   use_batch_norm=True, use_dropout=True, seed=0)
    vae.set_enc_to_predict()
    vae.compile_myVAE(learning_rate=1e-3)
    return vae


def moving_means(vae):
    return [layer.moving_mean.numpy().copy() for part in (vae.encoder, vae.decoder)
            for layer in part.layers if isinstance(layer, keras.layers.BatchNormalization)]


def reconstruction(outputs):
    """The reconstruction, whether the model returns it alone or in a dict (strategy 1)."""
    return np.asarray(outputs["reco"] if isinstance(outputs, dict) else outputs)


@pytest.mark.parametrize("solution_type", sorted(STRATEGIES))
def test_training_updates_the_batch_norm_statistics(solution_type):
    vae = vae_with_batch_norm_and_dropout(solution_type)
    before = moving_means(vae)
    assert len(before) >= 2  # the Encoder's and the Decoder's
    vae.train_myVAE(images(16, seed=1), batch_size=8, epochs=1, verbose=0)
    for old, new in zip(before, moving_means(vae), strict=True):
        assert not np.allclose(old, new)


@pytest.mark.parametrize("solution_type", sorted(STRATEGIES))
def test_evaluating_and_calling_the_model_use_inference_mode(solution_type):
    vae = vae_with_batch_norm_and_dropout(solution_type)
    x = images(8, seed=1)
    # Dropout at work would make two evaluations differ.
    first, second = (vae.model.evaluate(x, vae.strategy.targets(x), batch_size=8, verbose=0)
                     for _ in range(2))
    assert first == second
    in_training = reconstruction(vae.model(x, training=True))
    before = moving_means(vae)
    in_inference = reconstruction(vae.model(x, training=False))
    called = reconstruction(vae.model(x))
    np.testing.assert_array_equal(called, in_inference)
    assert not np.allclose(in_training, in_inference)
    # A call in inference mode leaves the statistics where they were.
    for old, new in zip(before, moving_means(vae), strict=True):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("solution_type", sorted(STRATEGIES))
def test_labels_in_a_dataset_are_ignored(solution_type):
    x = images(16, seed=1)
    alone = tf.data.Dataset.from_tensor_slices(x).batch(8)
    with_labels = tf.data.Dataset.from_tensor_slices((x, np.arange(16))).batch(8)
    histories = []
    for dataset in (alone, with_labels):
        vae = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=solution_type, seed=0)
        vae.compile_myVAE(learning_rate=1e-3)
        histories.append(vae.train_myVAE(dataset, batch_size=None, epochs=2, verbose=0).history)
    assert histories[0]["loss"] == pytest.approx(histories[1]["loss"], rel=1e-6)


@pytest.mark.parametrize("solution_type", sorted(STRATEGIES))
def test_the_keras_model_is_named_vae_as_in_the_posts_summaries(solution_type):
    assert MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=solution_type).model.name == "vae"


def test_strategy_3_ignores_targets_given_to_keras_fit_and_evaluate():
    """Readers of Keras examples call ``model.fit(x, y)``: the VAE reconstructs x, not y."""
    x, labels = images(16, seed=1), np.arange(16, dtype="float32")
    results = []
    for y in (None, labels):
        vae = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=3, seed=0)
        vae.set_enc_to_predict()
        vae.compile_myVAE(learning_rate=1e-3)
        fitted = vae.model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        evaluated = vae.model.evaluate(x, y, batch_size=8, verbose=0)
        results.append(np.concatenate([fitted.history["loss"], np.ravel(evaluated)]))
    # Equal up to float32 rounding: two runs may add the same numbers in another order (threads
    # differ when make test's other worker is busy); labels taken as targets would change the
    # loss by far more (they lie in 0-15, the pixels in 0-1).
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)
