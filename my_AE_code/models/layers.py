"""Building blocks shared by the AE and the VAE: conv stacks and the sampling."""

import math
from dataclasses import dataclass
from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops


@dataclass(frozen=True)
class Activation:
    """What an ``act`` code stands for: the activation, its weight initializer, its dropout."""

    name: str
    make_layer: Callable[[str], layers.Layer]
    initializer: str
    dropout: type


#: ``act`` code -> `Activation`. SELU only self-normalises with LeCun-normal
#: weights and AlphaDropout (Klambauer et al. 2017).
ACTIVATIONS = {
    0: Activation("LeakyReLU", lambda name: layers.LeakyReLU(name=name), "glorot_uniform",
                  layers.Dropout),
    1: Activation("ReLU", lambda name: layers.ReLU(name=name), "glorot_uniform", layers.Dropout),
    2: Activation("SELU", lambda name: layers.Activation("selu", name=name), "lecun_normal",
                  layers.AlphaDropout),
}
DROPOUT_RATE = 0.25


class LayerSeeds:
    """Seeds for the random parts of the layers: initial weights, dropout.

    With a ``seed``, each layer gets its own seed (seed, seed + 1, ...), so two
    models built with the same seed start from the same weights. With None,
    Keras draws from its global generator (``keras.utils.set_random_seed``).
    """

    def __init__(self, seed=None):
        self._next = seed

    def next(self):
        """The next layer's seed (None without a model seed)."""
        if self._next is None:
            return None
        self._next += 1
        return self._next - 1

    def initializer(self, name):
        """A Keras initializer by name (e.g. ``"glorot_uniform"``), seeded if we have a seed."""
        seed = self.next()
        return name if seed is None else type(keras.initializers.get(name))(seed=seed)


def _activate(x, act, use_batch_norm, use_dropout, name, seeds):
    """Batch norm (optional), activation, dropout (optional): the tail of every hidden layer."""
    activation = ACTIVATIONS[act]
    if use_batch_norm:
        # synchronized: under tf.distribute, the statistics of the global batch,
        # so training does not depend on how many replicas share it.
        x = layers.BatchNormalization(synchronized=True, name=f"{name}_bn")(x)
    x = activation.make_layer(f"{name}_act")(x)
    if use_dropout:
        x = activation.dropout(DROPOUT_RATE, seed=seeds.next(), name=f"{name}_dropout")(x)
    return x


def encoder_body(x, arch, seeds=None):
    """The Conv2D stack of `Architecture` ``arch``, Flatten and post XII's optional Dense layer.

    Returns the flat feature tensor.
    """
    seeds = seeds or LayerSeeds()
    initializer = ACTIVATIONS[arch.act].initializer
    for i, (n_filters, kernel, stride) in enumerate(zip(
            arch.encoder_conv_filters, arch.encoder_conv_kernel_size, arch.encoder_conv_strides)):
        x = layers.Conv2D(n_filters, kernel, strides=stride, padding="same",
                          kernel_initializer=seeds.initializer(initializer),
                          name=f"encoder_conv_{i}")(x)
        x = _activate(x, arch.act, arch.use_batch_norm, arch.use_dropout, f"encoder_conv_{i}",
                      seeds)
    x = layers.Flatten(name="encoder_flatten")(x)
    if arch.enc_dense_units:
        x = layers.Dense(arch.enc_dense_units, kernel_initializer=seeds.initializer(initializer),
                         name="encoder_dense")(x)
        x = _activate(x, arch.act, use_batch_norm=False, use_dropout=False, name="encoder_dense",
                      seeds=seeds)
    return x


def decoder_body(z, arch, seeds=None):
    """Dense and Reshape back to the encoder's last feature map, then Conv2DTranspose layers.

    The last layer has a sigmoid and no batch norm or dropout: its output is the
    image, with pixel values in (0, 1) as binary cross-entropy needs. It
    computes in float32 under any dtype policy (as Keras's mixed precision
    guide advises for output activations): near 1, float16 resolves a pixel
    only to about 1e-3, and the cross-entropy's log(1 - p) magnifies that.
    """
    seeds = seeds or LayerSeeds()
    initializer = ACTIVATIONS[arch.act].initializer
    shape_before_flattening = arch.encoder_output_shape()
    x = layers.Dense(int(np.prod(shape_before_flattening)),
                     kernel_initializer=seeds.initializer(initializer), name="decoder_dense")(z)
    x = layers.Reshape(shape_before_flattening, name="decoder_reshape")(x)
    last = len(arch.decoder_conv_t_filters) - 1
    for i, (n_filters, kernel, stride) in enumerate(zip(
            arch.decoder_conv_t_filters, arch.decoder_conv_t_kernel_size,
            arch.decoder_conv_t_strides)):
        x = layers.Conv2DTranspose(
            n_filters, kernel, strides=stride, padding="same",
            kernel_initializer=seeds.initializer(initializer if i < last else "glorot_uniform"),
            activation="sigmoid" if i == last else None,
            dtype="float32" if i == last else None, name=f"decoder_conv_t_{i}")(x)
        if i < last:
            x = _activate(x, arch.act, arch.use_batch_norm, arch.use_dropout,
                          f"decoder_conv_t_{i}", seeds)
    return x


def encoder_output_shape(input_dim, filters, strides):
    """Shape of the last conv feature map ('same' padding), without building a model."""
    height, width = input_dim[0], input_dim[1]
    for stride in strides:
        height, width = math.ceil(height / stride), math.ceil(width / stride)
    return (height, width, filters[-1])


class Sampling(layers.Layer):
    """The reparameterisation trick: z = mu + exp(log_var / 2) * eps * eps_factor.

    eps ~ N(0, 1) is clipped element-wise to [-5, 5] (post XIII): rare huge
    draws otherwise throw single points far out of the latent cloud.

    ``eps_factor`` is a non-trainable variable, not a Python float. A float
    would be frozen into the traced predict function the first time
    ``predict`` runs (post XIV); a variable is read at every call, so switching
    sampling off takes effect on the very next ``predict``.
    """

    EPS_CLIP = 5.0

    def __init__(self, seed=None, **kwargs):  # pragma: no mutate block
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.eps_factor = self.add_weight(name="eps_factor", shape=(), initializer="ones",
                                          trainable=False)

    def call(self, inputs):
        mu, log_var = inputs
        eps = ops.clip(self._global_batch_eps(mu), -self.EPS_CLIP, self.EPS_CLIP)
        return mu + ops.exp(0.5 * log_var) * eps * ops.cast(self.eps_factor, mu.dtype)

    def _global_batch_eps(self, mu):
        """eps ~ N(0, 1) for the rows of ``mu``, as if the whole global batch were here.

        Under tf.distribute each replica holds a slice of the global batch and
        reads the same seed state, so noise drawn per replica would repeat in
        every slice. Instead each replica draws the global batch's noise and
        keeps its own rows: the same noise as on one device (when the batch
        splits evenly), whatever the number of replicas.
        """
        replica = tf.distribute.get_replica_context()
        replicas = replica.num_replicas_in_sync if replica is not None else 1
        if replicas == 1:
            return keras.random.normal(ops.shape(mu), seed=self.seed_generator)
        rows = tf.shape(mu)[0]
        eps = keras.random.normal((rows * replicas, *mu.shape[1:]), seed=self.seed_generator)
        start = replica.replica_id_in_sync_group * rows
        return eps[start:start + rows]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
