"""Clear errors for bad constructor arguments and bad training data.

Each message says what is wrong and what to change: a reader editing
hyperparameters in a notebook cell should not have to decode a shape error
from deep inside Keras, nor find out after hours that the model trained on
unscaled pixels.
"""

import math
import numbers

import keras
import numpy as np

from my_AE_code.celeba.damaged import naming_damaged_images
from my_AE_code.models.layers import ACTIVATIONS


def _is_bool(value):
    """True and False, also numpy's: a bool is an int to Python, but never a layer count."""
    return isinstance(value, (bool, np.bool_))


def _check_positive_int(name, value):
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__}).")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}.")


def _check_conv_lists(prefix, names, lists):
    for name, values in zip(names, lists):
        if not isinstance(values, (list, tuple)) or not values:
            raise TypeError(f"{name} must be a non-empty list (one entry per layer), "
                            f"got {values!r}.")
        for value in values:
            _check_positive_int(f"every entry of {name}", value)
    lengths = [len(values) for values in lists]
    if len(set(lengths)) > 1:
        listing = ", ".join(f"{name} has {n}" for name, n in zip(names, lengths))
        raise ValueError(f"The {prefix} lists must have the same length, one entry per layer, "
                         f"but {listing}. Give every layer a filter count, a kernel size "
                         "and a stride.")


def _check_switch(name, value):
    if not _is_bool(value):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__}).")


def check_architecture(arch):
    """Validate the fields of an `Architecture` (the parameters the AE and the VAE share)."""
    if not isinstance(arch.input_dim, (list, tuple)) or len(arch.input_dim) != 3:
        raise ValueError(f"input_dim must be (height, width, channels), e.g. (28, 28, 1), "
                         f"got {arch.input_dim!r}.")
    for value in arch.input_dim:
        _check_positive_int("every entry of input_dim", value)
    _check_conv_lists("encoder", ("encoder_conv_filters", "encoder_conv_kernel_size",
                                  "encoder_conv_strides"),
                      (arch.encoder_conv_filters, arch.encoder_conv_kernel_size,
                       arch.encoder_conv_strides))
    _check_conv_lists("decoder", ("decoder_conv_t_filters", "decoder_conv_t_kernel_size",
                                  "decoder_conv_t_strides"),
                      (arch.decoder_conv_t_filters, arch.decoder_conv_t_kernel_size,
                       arch.decoder_conv_t_strides))
    _check_positive_int("z_dim", arch.z_dim)
    if _is_bool(arch.act) or arch.act not in ACTIVATIONS:
        choices = ", ".join(f"{code} ({entry.name})" for code, entry in ACTIVATIONS.items())
        raise ValueError(f"act={arch.act!r} is unknown: use one of {choices}.")
    if arch.enc_dense_units is not None:
        _check_positive_int("enc_dense_units", arch.enc_dense_units)
    _check_switch("use_batch_norm", arch.use_batch_norm)
    _check_switch("use_dropout", arch.use_dropout)

    height, width, _ = arch.encoder_output_shape()
    upscale = math.prod(arch.decoder_conv_t_strides)
    decoded = (height * upscale, width * upscale, arch.decoder_conv_t_filters[-1])
    if decoded != tuple(arch.input_dim):
        raise ValueError(
            f"The decoder would make images of shape {decoded}, but input_dim is "
            f"{tuple(arch.input_dim)}. "
            f"The product of decoder_conv_t_strides must undo encoder_conv_strides, and the last "
            f"entry of decoder_conv_t_filters must equal the number of channels "
            f"({arch.input_dim[2]}).")


def check_vae_loss(solution_type, fact, strategies):
    """Validate the parameters that only the VAE has (``fact=None``: the strategy's default)."""
    if _is_bool(solution_type) or solution_type not in strategies:
        raise ValueError(f"solution_type={solution_type!r} is unknown: use 0 (KL layer in the "
                         f"Encoder), 1 (mu/log_var as outputs), 2 (model loss) or 3 (train_step).")
    if fact is None:
        return
    if _is_bool(fact) or not isinstance(fact, numbers.Real) or not math.isfinite(fact):
        raise TypeError(f"fact must be a finite number, got {fact!r}.")
    if fact < 0:
        raise ValueError(f"fact={fact} is negative: a negative KL weight rewards spreading the "
                         f"latent points apart. Use fact >= 0 (about 1e-3 for solution_type 0-2 "
                         f"on MNIST, about 5 for solution_type 3 on CelebA).")


def check_images(x, input_dim, name="x_train"):
    """Shape, type, range and NaN checks for training data given as an array."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{name} must be a numpy array or a tf.data.Dataset, "
                        f"got {type(x).__name__}.")
    x = np.asarray(x)
    if tuple(x.shape[1:]) != tuple(input_dim):
        hint = ""
        if tuple(x.shape[1:]) == tuple(input_dim[:2]) and input_dim[2] == 1:
            hint = f" Add the channel axis with {name}[..., None]."
        raise ValueError(f"{name} holds images of shape {tuple(x.shape[1:])}, but the model was "
                         f"built for input_dim={tuple(input_dim)}.{hint}")
    if not len(x):
        raise ValueError(f"{name} holds no images (shape {x.shape}): there is nothing to train "
                         f"on. Check how it was selected or loaded.")
    if not np.issubdtype(x.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}.")
    _check_pixel_values(x, name)


def _check_pixel_values(x, where):
    """No NaN, and every value in [0, 1], as binary cross-entropy needs."""
    if np.issubdtype(x.dtype, np.floating):
        n_bad = int(np.count_nonzero(np.isnan(x)))
        if n_bad:
            first = int(np.argwhere(np.isnan(x))[0][0])
            raise ValueError(f"{where} contains {n_bad} NaN values (the first in image {first}): "
                             f"drop or repair those images before training.")
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:
        raise ValueError(f"{where} has values in [{low:g}, {high:g}], but binary cross-entropy "
                         f"needs pixels in [0, 1]: divide 8-bit images by 255.")


def check_dataset(dataset, input_dim, name="x_train"):
    """Checks for a tf.data.Dataset of image batches (or of (images, ...) tuples).

    Shape and type come from the element spec. The values are checked in the
    first batch only, as a dataset may be huge or endless; that catches the
    usual slips (unscaled pixels, NaN in a whole file) before training starts,
    and `my_AE_code.callbacks.StopOnNaNLoss` stops a run whose later batches turn the loss NaN.
    """
    spec = dataset.element_spec
    if isinstance(spec, tuple):
        spec = spec[0]
    shape = tuple(spec.shape[1:])
    if len(shape) != 3 or any(a is not None and a != b for a, b in zip(shape, input_dim)):
        raise ValueError(f"{name} yields batches of images of shape {shape}, but the model was "
                         f"built for input_dim={tuple(input_dim)}. Batch the dataset and make "
                         f"sure each image has that shape.")
    if not spec.dtype.is_floating:
        raise TypeError(f"{name} yields {spec.dtype.name} images, but the model needs float "
                        f"pixels in [0, 1]: map the batches with "
                        f"tf.cast(images, tf.float32) / 255 first.")
    with naming_damaged_images():
        first = next(iter(dataset.take(1)), None)
    if first is None:
        raise ValueError(f"{name} yields no batches: the dataset is empty, so there is nothing "
                         f"to train on. Check the files or arrays it was made from.")
    images = first[0] if isinstance(first, tuple) else first
    _check_pixel_values(np.asarray(images), f"The first batch of {name}")


def check_learning_rate(learning_rate):
    """A positive finite number, or a Keras learning-rate schedule."""
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return
    if _is_bool(learning_rate) or not isinstance(learning_rate, numbers.Real):
        raise TypeError(f"learning_rate must be a number, e.g. 0.0005, got {learning_rate!r} "
                        f"({type(learning_rate).__name__}).")
    if not math.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate={learning_rate} cannot train: use a positive finite "
                         f"number (the posts use 0.0005).")
