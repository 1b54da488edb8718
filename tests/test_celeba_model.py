"""Post X's CelebA VAE, built from a notebook's values, and notebook 10's model reused only
when it is the model a notebook asks for."""

import numpy as np
import pytest
import tensorflow as tf

from my_AE_code.celeba.model import (
    NOTEBOOK_10_MODEL,
    NOTEBOOK_13_TINY_MODEL,
    celeba_vae,
    load_or_train,
)
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder
from my_AE_code.models.layouts import CELEBA_LAYOUT


def faces(size, n=8):
    """A dataset of one batch of random faces, as the CelebA pipeline gives them."""
    x = np.random.default_rng(0).random((n, size, size, 3), dtype=np.float32)
    return tf.data.Dataset.from_tensor_slices(x).batch(n)


def test_every_value_reaches_the_model():
    vae = celeba_vae(image_size=32, z_dim=7, fact=2.5, use_batch_norm=False,
                     learning_rate=0.003, enc_dense_units=5, seed=3,
                     dtype_policy="mixed_bfloat16")
    assert vae.encoder.input.shape[1:] == (32, 32, 3)
    assert vae.decoder.output.shape[1:] == (32, 32, 3)
    assert vae.encoder.outputs[1].shape[1:] == (7,)
    assert vae.encoder.get_layer("encoder_dense").units == 5
    assert not any("_bn" in layer.name for layer in vae.encoder.layers)
    assert float(vae.model.optimizer.learning_rate) == pytest.approx(0.003)
    assert (vae.fact, vae.seed, vae.dtype_policy, vae.solution_type) == \
        (2.5, 3, "mixed_bfloat16", 3)


def test_the_default_is_post_x():
    vae = celeba_vae()
    expected = {**CELEBA_LAYOUT, "input_dim": [96, 96, 3], "use_batch_norm": True, "act": 0,
                "solution_type": 3, "fact": 5.0, "enc_dense_units": None}
    assert {name: vae.params[name] for name in expected} == \
        {name: list(v) if isinstance(v, tuple) else v for name, v in expected.items()}
    assert not vae.model.compiled  # no learning rate given: the notebook compiles


@pytest.mark.parametrize("size", [100, 8, 0])
def test_an_image_size_the_conv_layers_cannot_undo_is_a_clear_error(size):
    with pytest.raises(ValueError, match=rf"image_size={size} \(IMAGE_SIZE .*multiple of 16"):
        celeba_vae(image_size=size)


def test_a_matching_saved_model_is_loaded_with_this_notebooks_seed_and_policy(tmp_path):
    saved = celeba_vae(image_size=32, z_dim=6, fact=2.0, use_batch_norm=False, seed=1)
    saved.save(tmp_path / NOTEBOOK_10_MODEL)
    loaded = load_or_train(tmp_path, train=None, epochs=5, image_size=32, z_dim=6,
                           seed=9, dtype_policy="mixed_bfloat16")
    assert (loaded.architecture.z_dim, loaded.fact, loaded.architecture.use_batch_norm) == \
        (6, 2.0, False)
    assert (loaded.seed, loaded.dtype_policy) == (9, "mixed_bfloat16")
    for mine, theirs in zip(loaded.model.weights, saved.model.weights):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))


@pytest.mark.parametrize("asked", [dict(image_size=16), dict(z_dim=5), dict(fact=5.0),
                                   dict(use_batch_norm=True)])
def test_a_saved_model_of_other_values_is_not_used(tmp_path, capsys, asked):
    celeba_vae(image_size=32, z_dim=6, fact=2.0, use_batch_norm=False).save(
        tmp_path / NOTEBOOK_10_MODEL)
    values = {"image_size": 32, **asked}
    vae = load_or_train(tmp_path, faces(values["image_size"]), epochs=1, verbose=0, **values)
    said = capsys.readouterr().out
    assert "is not the one asked for here" in said and "training post X's VAE here" in said
    name, value = next(iter(asked.items()))
    if name == "image_size":
        assert "input_dim=[32, 32, 3] there, [16, 16, 3] here" in said
        assert vae.architecture.input_dim == (16, 16, 3)
    else:
        assert f" there, {value!r} here" in said and f"{name}=" in said
        assert vae.params[name] == value
    assert len(vae.model.history.history["loss"]) == 1  # trained


def test_notebook_13s_tiny_kl_model_is_found_in_its_own_folder(tmp_path, capsys):
    """Notebook 14 asks for notebook 13's tiny-KL VAE; notebook 10's model is not it."""
    celeba_vae(image_size=32, z_dim=6, fact=2.0).save(tmp_path / NOTEBOOK_10_MODEL)
    celeba_vae(image_size=32, z_dim=6, fact=1e-5, seed=3).save(tmp_path / NOTEBOOK_13_TINY_MODEL)
    loaded = load_or_train(tmp_path, train=None, epochs=5, image_size=32, fact=1e-5,
                           model_dir=NOTEBOOK_13_TINY_MODEL)
    assert "loaded notebook 13's model" in capsys.readouterr().out
    assert (loaded.architecture.z_dim, loaded.fact) == (6, 1e-5)
    trained = load_or_train(tmp_path, faces(32), epochs=1, image_size=32, fact=1e-4, verbose=0,
                            model_dir=NOTEBOOK_13_TINY_MODEL)
    said = capsys.readouterr().out
    assert "notebook 13's model in" in said and "fact=1e-05 there, 0.0001 here" in said
    assert "Run notebook 13 with these values" in said and trained.fact == 1e-4


def test_without_a_saved_model_it_trains_post_x_with_the_values_asked(tmp_path, capsys):
    vae = load_or_train(tmp_path, faces(16), epochs=1, image_size=16, z_dim=4,
                        learning_rate=0.002, seed=2, verbose=0)
    assert "no model from notebook 10" in capsys.readouterr().out
    assert (vae.architecture.input_dim, vae.architecture.z_dim, vae.fact,
            vae.architecture.use_batch_norm, vae.seed) == ((16, 16, 3), 4, 5.0, True, 2)
    assert float(vae.model.optimizer.learning_rate) == pytest.approx(0.002)


def test_a_saved_autoencoder_is_not_taken_for_the_vae(tmp_path, capsys):
    MyAutoencoder(**{**CELEBA_LAYOUT, "input_dim": (16, 16, 3)}).save(
        tmp_path / NOTEBOOK_10_MODEL)
    vae = load_or_train(tmp_path, faces(16), epochs=1, image_size=16, verbose=0)
    assert "class='MyAutoencoder' there" in capsys.readouterr().out
    assert isinstance(vae, MyVariationalAutoencoder)
