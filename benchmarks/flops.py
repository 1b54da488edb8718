"""The arithmetic floor of a training step: FLOPs counted from the layers, and this
machine's matrix-multiply speed.

A training step needs about three times the forward pass's multiply-adds
(forward, plus gradients with respect to inputs and to weights). Dividing
that by the rate at which this machine multiplies large matrices gives the
time a step could take if every FLOP ran at matmul speed: the floor that
measured times are compared with. Bias additions and activations are left
out; they are a few per cent of the convolutions here.
"""

import math
import time

import keras
import tensorflow as tf


def forward_flops(layer):
    """FLOPs (2 per multiply-add) of one sample through ``layer``; 0 for layers without weights."""
    if isinstance(layer, keras.layers.Conv2DTranspose):
        # Every input pixel scatters a k x k x C_out patch.
        height, width, channels_in = layer.input.shape[1:]
        return 2 * height * width * channels_in * math.prod(layer.kernel_size) * layer.filters
    if isinstance(layer, keras.layers.Conv2D):
        height, width, channels_out = layer.output.shape[1:]
        channels_in = layer.input.shape[-1]
        return 2 * height * width * channels_out * math.prod(layer.kernel_size) * channels_in
    if isinstance(layer, keras.layers.Dense):
        return 2 * layer.input.shape[-1] * layer.units
    return 0


def model_forward_flops(model):
    """Forward FLOPs per sample, summed over all layers, nested models included."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += model_forward_flops(layer)
        else:
            total += forward_flops(layer)
    return total


def training_flops_per_sample(encoder, decoder):
    """FLOPs of one training step per sample: three forward passes' worth."""
    return 3 * (model_forward_flops(encoder) + model_forward_flops(decoder))


def matmul_flops_per_second(n=2048, repeats=10):
    """FLOP/s of a float32 n x n matrix product, the best of ``repeats`` runs."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    product().numpy()  # trace and warm up
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        product().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best
