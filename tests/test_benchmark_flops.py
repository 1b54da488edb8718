"""The FLOP count behind the benchmark's floor, checked against hand-computed layers."""

import keras
import pytest

from benchmarks.flops import forward_flops, model_forward_flops, training_flops_per_sample
from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.layouts import MNIST_LAYOUT


def built(layer, input_shape):
    x = keras.Input(input_shape)
    layer(x)
    return layer


def test_conv_dense_and_transposed_conv():
    conv = built(keras.layers.Conv2D(8, 3, strides=2, padding="same"), (10, 10, 4))
    assert forward_flops(conv) == 2 * (5 * 5 * 8) * (3 * 3 * 4)
    conv_t = built(keras.layers.Conv2DTranspose(6, 3, strides=2, padding="same"), (5, 5, 8))
    assert forward_flops(conv_t) == 2 * (5 * 5 * 8) * (3 * 3 * 6)
    dense = built(keras.layers.Dense(7), (12,))
    assert forward_flops(dense) == 2 * 12 * 7
    assert forward_flops(built(keras.layers.Flatten(), (3, 3))) == 0


def test_post_vi_layout_counts_every_weighted_layer():
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT)
    encoder = (2 * 28 * 28 * 32 * 9 * 1 + 2 * 14 * 14 * 64 * 9 * 32 + 2 * 7 * 7 * 128 * 9 * 64
               + 2 * 2 * 6272 * 2)
    decoder = (2 * 2 * 6272 + 2 * 7 * 7 * 128 * 9 * 64 + 2 * 14 * 14 * 64 * 9 * 32
               + 2 * 28 * 28 * 32 * 9 * 1)
    assert model_forward_flops(vae.encoder) == encoder
    assert model_forward_flops(vae.decoder) == decoder
    assert training_flops_per_sample(vae.encoder, vae.decoder) == 3 * (encoder + decoder)
    # Nested models are counted through: the VAE model holds encoder and decoder.
    assert model_forward_flops(vae.model) == pytest.approx(encoder + decoder)
