"""Architecture facts: post XII's parameter counts, sampling, activations, the switch."""

import keras
import numpy as np
import pytest

from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.layouts import CELEBA_LAYOUT, MNIST_LAYOUT

CELEBA_ARCH = {key: value for key, value in CELEBA_LAYOUT.items() if key != "z_dim"}


def trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("z_dim, dense_units, expected", [
    (512, None, 9_826_624),
    (256, None, 5_107_520),
    (256, 256, 2_879_552),
    (256, 384, 4_124_864),
])
def test_post_xii_encoder_parameter_counts(z_dim, dense_units, expected):
    vae = MyVariationalAutoencoder(**CELEBA_ARCH, z_dim=z_dim, enc_dense_units=dense_units,
                                   solution_type=3)
    assert trainable_count(vae.encoder) == expected
    # The only other encoder variable is the sampling switch.
    assert vae.encoder.count_params() == expected + 1


def test_switch_takes_effect_on_the_next_predict():
    vae = MyVariationalAutoencoder(**{**MNIST_LAYOUT, "z_dim": 4})
    images = np.random.default_rng(0).uniform(size=(8, 28, 28, 1)).astype("float32")
    z, mu, _ = vae.encoder.predict(images, verbose=0)  # traces predict with sampling on
    assert not np.allclose(z, mu)
    vae.set_enc_to_predict()
    assert vae.enc_v_eps_factor == 0.0
    z, mu, _ = vae.encoder.predict(images, verbose=0)
    np.testing.assert_array_equal(z, mu)
    vae.set_enc_to_train()
    z, mu, _ = vae.encoder.predict(images, verbose=0)
    assert not np.allclose(z, mu)


@pytest.mark.parametrize("act, expected", [(0, "LeakyReLU"), (1, "ReLU"), (2, "AlphaDropout")])
def test_activation_choices(act, expected):
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, act=act, use_dropout=True, use_batch_norm=True)
    kinds = {type(layer).__name__ for layer in vae.encoder.layers}
    assert expected in kinds
    assert "BatchNormalization" in kinds


def test_selu_uses_lecun_normal():
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, act=2)
    conv = vae.encoder.get_layer("encoder_conv_0")
    assert type(conv.kernel_initializer).__name__ == "LecunNormal"


def test_extra_dense_layer_sits_before_mu():
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, enc_dense_units=16)
    assert vae.encoder.get_layer("encoder_dense").units == 16
    assert vae.encoder.get_layer("mu").kernel.shape == (16, 2)


def test_a_seed_makes_the_model_repeatable(blobs):
    def run(seed, global_seed):
        keras.utils.set_random_seed(global_seed)
        vae = MyVariationalAutoencoder(**MNIST_LAYOUT, use_dropout=True, seed=seed)
        initial = [w.numpy() for w in vae.model.weights]
        z = vae.encoder.predict(blobs[:8], verbose=0)[0]
        vae.compile_myVAE(0.001)
        vae.train_myVAE(blobs[:64], batch_size=16, epochs=1, verbose=0)
        return initial, z, [w.numpy() for w in vae.model.weights]

    (start_a, z_a, end_a), (start_b, z_b, end_b) = run(7, global_seed=1), run(7, global_seed=1)
    for a, b in zip([*start_a, z_a], [*start_b, z_b], strict=True):
        np.testing.assert_array_equal(a, b)
    # After training, equal up to float32 rounding: without TensorFlow's op determinism the
    # same sums may be added in another order (a busy machine's threads split them otherwise).
    for a, b in zip(end_a, end_b, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    # seed= alone decides the initial weights and the sampling's noise; the global
    # seed (which still orders the shuffled batches) does not.
    start_g, z_g, _ = run(7, global_seed=2)
    for a, g in zip([*start_a, z_a], [*start_g, z_g], strict=True):
        np.testing.assert_array_equal(a, g)
    start_c, z_c, _ = run(8, global_seed=1)
    kernels = [(a, c) for a, c in zip(start_a, start_c) if a.ndim > 1]
    assert all(not np.array_equal(a, c) for a, c in kernels)
    assert not np.array_equal(z_a, z_c)
