"""What training is given: validation images are evaluated, datasets of the wrong shape refused."""

import re

import numpy as np
import pytest
import tensorflow as tf

from helpers import TINY_SHAPE as SHAPE
from helpers import images, tiny_vae
from my_AE_code.callbacks import NaNLossError
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder, checkpoints
from my_AE_code.models.inputs import training_batches
from my_AE_code.models.layouts import TINY_LAYOUT


def test_validation_data_is_evaluated_after_each_epoch():
    vae = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=3, seed=0)
    vae.set_enc_to_predict()  # z = mu: the losses below are deterministic
    vae.compile_myVAE(learning_rate=0.01)
    train, blank = images(16, seed=1), np.zeros((8, *SHAPE), "float32")
    history = vae.train_myVAE(train, batch_size=8, epochs=2, verbose=0,
                              validation_data=blank).history
    assert len(history["val_loss"]) == len(history["val_kl_loss"]) == 2
    # The last value is the trained model's loss on the validation images, which differs
    # (by far more than the tolerance) from its loss on the training images.
    on_validation, _, _ = vae.model.compute_losses(blank, training=False)
    assert history["val_loss"][-1] == pytest.approx(float(on_validation), rel=1e-5)
    on_train, _, _ = vae.model.compute_losses(train, training=False)
    assert float(on_train) != pytest.approx(float(on_validation), rel=1e-3)


def test_the_autoencoder_evaluates_its_validation_data_too():
    ae = MyAutoencoder(**TINY_LAYOUT)
    ae.compile_myAE(learning_rate=0.01)
    blank = np.zeros((8, *SHAPE), "float32")
    history = ae.train_myAE(images(16, seed=1), batch_size=8, epochs=1, verbose=0,
                            validation_data=blank).history
    loss = ae.model.evaluate(blank, blank, batch_size=8, verbose=0)
    assert history["val_loss"] == pytest.approx([loss], rel=1e-5)


# The datasets are built inside the test, not at collection: TensorFlow started while
# pytest collects would be inherited, half-alive, by forked workers (make mutate).
@pytest.mark.parametrize("make_dataset, shape", [
    (lambda: tf.data.Dataset.from_tensor_slices(images(8, seed=0)), (8, 2)),  # not batched
    (lambda: tf.data.Dataset.from_tensor_slices(np.zeros((8, 8, 6, 2), "float32")).batch(4),
     (8, 6, 2)),
    (lambda: tf.data.Dataset.from_tensor_slices(np.zeros((8, 8, 8, 3), "float32")).batch(4),
     (8, 8, 3)),
    (lambda: tf.data.Dataset.from_tensor_slices(
        (np.zeros((8, 8, 8), "float32"), np.arange(8))).batch(4), (8, 8)),
], ids=["unbatched", "width", "channels", "tuple-without-channels"])
def test_a_dataset_of_the_wrong_image_shape_is_refused(make_dataset, shape):
    dataset = make_dataset()
    vae = MyVariationalAutoencoder(**TINY_LAYOUT)
    vae.compile_myVAE()
    with pytest.raises(ValueError, match=re.escape(f"shape {shape}, but the model was built for "
                                                   f"input_dim=(8, 8, 2)")):
        vae.train_myVAE(dataset, batch_size=None, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_data yields batches of images of shape"):
        vae.train_myVAE(images(8, seed=0), batch_size=4, epochs=1, verbose=0,
                        validation_data=dataset)


def test_a_dataset_of_unknown_image_size_is_let_through():
    """A dataset that cannot say its image size (e.g. decoded files) is not refused for that."""
    vae = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=3)
    vae.compile_myVAE()
    unknown = tf.data.Dataset.from_tensor_slices(images(8, seed=0)).batch(4).map(
        lambda batch: tf.numpy_function(lambda array: array, [batch], tf.float32))
    dataset = unknown.map(lambda batch: tf.ensure_shape(batch, [None, None, None, 2]))
    assert tuple(dataset.element_spec.shape) == (None, None, None, 2)
    history = vae.train_myVAE(dataset, batch_size=None, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0])


# --- nonsense to train on -------------------------------------------------------------------

@pytest.mark.parametrize("batches, error, message", [
    (images() * 255, ValueError, r"first batch of x_train has values in \[.*divide 8-bit"),
    ((images() * 255).astype("uint8"), TypeError, "x_train yields uint8 images"),
    (np.where(images() > 0.9, np.nan, images()), ValueError, "NaN values"),
], ids=["floats_0_255", "uint8", "nan"])
def test_a_dataset_of_unscaled_or_nan_pixels_is_refused(batches, error, message):
    dataset = tf.data.Dataset.from_tensor_slices(batches).batch(4)
    with pytest.raises(error, match=message):
        tiny_vae().train_myVAE(dataset, batch_size=4, epochs=1, verbose=0)


def test_a_loss_that_turns_nan_stops_training_with_advice(tmp_path):
    x = images(12)
    x[8:] = np.nan  # the third batch: past the first-batch check
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(4)
    vae = tiny_vae(learning_rate=0.001)
    with pytest.raises(NaNLossError, match="batch 3 of epoch 1.*Lower the learning rate "
                                           r"\(it is 0.001\)"):
        vae.train_myVAE(dataset, batch_size=4, epochs=2, verbose=0, checkpoint_dir=tmp_path)
    assert checkpoints.latest_checkpoint(tmp_path) is None  # no checkpoint of NaN weights


def test_a_huge_learning_rate_stops_at_the_nan_loss():
    vae = tiny_vae(learning_rate=1e6, solution_type=0)
    with pytest.raises(NaNLossError, match="it is 1000000"):
        vae.train_myVAE(images(64), batch_size=4, epochs=5, verbose=0)


def test_an_empty_array_is_refused():
    with pytest.raises(ValueError, match="x_train holds no images"):
        tiny_vae().train_myVAE(np.zeros((0, *SHAPE), "float32"), batch_size=4, epochs=1)


def test_an_empty_dataset_is_refused():
    empty = tf.data.Dataset.from_tensor_slices(images()).filter(lambda x: False).batch(4)
    with pytest.raises(ValueError, match="x_train yields no batches: the dataset is empty"):
        tiny_vae().train_myVAE(empty, batch_size=4, epochs=1)


# --- the batches training is given ----------------------------------------------------------

def _numbered_images(n):
    """n images of 2x2x1 whose pixels all hold the image's number / n, to read the order."""
    return np.repeat(np.arange(n, dtype="float32") / n, 4).reshape(n, 2, 2, 1)


def _epoch_order(batches, n):
    """The image numbers in the order one pass over ``batches`` gives them."""
    return [round(float(value) * n) for batch in batches for value in batch[:, 0, 0, 0]]


def test_training_batches_shuffle_every_epoch_and_repeat_with_the_seed():
    n = 16
    x = _numbered_images(n)

    def two_epochs(seed):
        batches = training_batches(x, 4, (2, 2, 1), lambda batch: None, seed=seed)
        return [_epoch_order(batches, n) for _ in range(2)]

    first, second = two_epochs(seed=3)
    assert sorted(first) == sorted(second) == list(range(n))  # each image once an epoch
    assert first != list(range(n))  # shuffled
    assert first != second  # in another order the next epoch
    assert two_epochs(seed=3) == [first, second]  # and the same orders again from the seed


def test_training_batches_pair_images_with_targets_only_where_there_are_targets():
    x = _numbered_images(8)
    alone = training_batches(x, 4, (2, 2, 1), lambda batch: None, shuffle=False)
    paired = training_batches(x, 4, (2, 2, 1), lambda batch: batch, shuffle=False)
    assert isinstance(alone.element_spec, tf.TensorSpec)
    assert isinstance(paired.element_spec, tuple) and len(paired.element_spec) == 2
    assert _epoch_order(alone, 8) == list(range(8))  # shuffle=False keeps the order


@pytest.mark.parametrize("name", [None, "validation_data"])
def test_training_batches_name_the_argument_in_their_errors(name):
    wrong = np.zeros((4, 3, 3, 1), "float32")
    named = {} if name is None else {"name": name}
    with pytest.raises(ValueError, match=rf"^{name or 'x_train'} holds images of shape"):
        training_batches(wrong, 4, (2, 2, 1), lambda batch: None, **named)
