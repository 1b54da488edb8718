"""Clear errors for bad arguments and data; save/load round trips."""

import hashlib
import json

import numpy as np
import pytest

from helpers import SMALL_MNIST_LAYOUT
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder, saving
from my_AE_code.models.architecture import Architecture
from my_AE_code.models.layouts import MNIST_LAYOUT, TINY_LAYOUT


def arch(**changes):
    return {**MNIST_LAYOUT, **changes}


@pytest.mark.parametrize("build", [Architecture, MyVariationalAutoencoder])
@pytest.mark.parametrize("changes, error, message", [
    (dict(encoder_conv_strides=[1, 2]), ValueError, "encoder_conv_strides has 2"),
    (dict(decoder_conv_t_kernel_size=[3, 3]), ValueError, "decoder_conv_t_kernel_size has 2"),
    (dict(z_dim=0), ValueError, "z_dim must be at least 1"),
    (dict(z_dim=2.5), TypeError, "z_dim must be an integer"),
    (dict(act=5), ValueError, "act=5 is unknown"),
    (dict(decoder_conv_t_strides=[2, 2, 2]), ValueError, "decoder would make images of shape"),
    (dict(input_dim=(28, 28)), ValueError, "input_dim must be"),
    (dict(input_dim=28), ValueError, r"input_dim must be \(height, width, channels\)"),
])
def test_bad_architecture(build, changes, error, message):
    """The same error from the `Architecture` alone and from the constructor that makes one."""
    with pytest.raises(error, match=message):
        build(**arch(**changes))


def test_unknown_solution_type():
    with pytest.raises(ValueError, match="solution_type=7 is unknown"):
        MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=7)


def test_negative_fact():
    with pytest.raises(ValueError, match="fact=-0.001 is negative"):
        MyVariationalAutoencoder(**MNIST_LAYOUT, fact=-1e-3)


@pytest.fixture(scope="module")
def compiled_vae():
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT)
    vae.compile_myVAE(0.001)
    return vae


def test_wrong_image_shape(compiled_vae):
    with pytest.raises(ValueError, match=r"shape \(28, 28\).*x_train\[\.\.\., None\]"):
        compiled_vae.train_myVAE(np.zeros((10, 28, 28), "float32"), 5, 1, verbose=0)


def test_nan_in_data(compiled_vae):
    x = np.zeros((10, 28, 28, 1), "float32")
    x[3, 1, 1, 0] = np.nan
    with pytest.raises(ValueError, match="1 NaN values .the first in image 3"):
        compiled_vae.train_myVAE(x, 5, 1, verbose=0)


def test_unscaled_pixels(compiled_vae):
    with pytest.raises(ValueError, match="divide 8-bit images by 255"):
        compiled_vae.train_myVAE(np.full((4, 28, 28, 1), 255.0, "float32"), 2, 1, verbose=0)


def test_training_before_compiling():
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT)
    with pytest.raises(RuntimeError, match="compile_myVAE"):
        vae.train_myVAE(np.zeros((4, 28, 28, 1), "float32"), 2, 1, verbose=0)


@pytest.mark.parametrize("solution_type", [0, 1, 2, 3])
def test_save_load_gives_identical_predictions(tmp_path, blobs, solution_type):
    vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=solution_type,
                                   use_batch_norm=True)
    vae.compile_myVAE(0.001)
    vae.train_myVAE(blobs[:64], batch_size=32, epochs=1, verbose=0)
    vae.save(tmp_path / "vae")
    params = json.loads((tmp_path / "vae" / "params.json").read_text())
    assert params["class"] == "MyVariationalAutoencoder"
    weights = (tmp_path / "vae" / params["weights_file"]).read_bytes()
    assert params["weights_sha256"] == hashlib.sha256(weights).hexdigest()
    assert sorted(p.name for p in (tmp_path / "vae").iterdir()) == [params["weights_file"],
                                                                   "params.json"]

    loaded = MyVariationalAutoencoder.load(tmp_path / "vae")
    vae.set_enc_to_predict()
    loaded.set_enc_to_predict()
    for model in ("encoder", "decoder"):
        inputs = blobs[:16] if model == "encoder" else np.linspace(-2, 2, 32).reshape(16, 2)
        expected = getattr(vae, model).predict(inputs, verbose=0)
        got = getattr(loaded, model).predict(inputs, verbose=0)
        for a, b in zip(np.atleast_1d(expected), np.atleast_1d(got)):
            np.testing.assert_array_equal(a, b)


def test_autoencoder_round_trip(tmp_path, blobs):
    ae = MyAutoencoder(**SMALL_MNIST_LAYOUT)
    ae.save(tmp_path / "ae")
    loaded = MyAutoencoder.load(tmp_path / "ae")
    np.testing.assert_array_equal(ae.model.predict(blobs[:8], verbose=0),
                                  loaded.model.predict(blobs[:8], verbose=0))
    with pytest.raises(ValueError, match="holds a MyAutoencoder.*MyAutoencoder.load"):
        MyVariationalAutoencoder.load(tmp_path / "ae")


def test_loading_another_architecture_names_the_mismatch(tmp_path):
    MyVariationalAutoencoder(**arch(z_dim=16)).save(tmp_path / "z16")
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT)
    with pytest.raises(ValueError, match="z_dim=16 in the file, 2 here"):
        vae.load_weights(tmp_path / "z16")


def test_loading_a_bare_weights_file_of_another_architecture(tmp_path):
    MyVariationalAutoencoder(**arch(z_dim=16)).save(tmp_path / "z16")
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT)
    with pytest.raises(ValueError, match="do not fit this MyVariationalAutoencoder"):
        vae.load_weights(next((tmp_path / "z16").glob("*.weights.h5")))


def test_compiled_load_weights_keeps_the_optimizer_state(tmp_path, blobs):
    vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT)
    vae.compile_myVAE(0.001)
    vae.train_myVAE(blobs[:64], batch_size=32, epochs=1, verbose=0)
    vae.save(tmp_path / "vae")
    fresh = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT)
    fresh.compile_myVAE(0.001)
    fresh.load_weights(tmp_path / "vae")
    assert int(fresh.model.optimizer.iterations.numpy()) == 2
    saved_moments = [v.numpy() for v in vae.model.optimizer.variables]
    loaded_moments = [v.numpy() for v in fresh.model.optimizer.variables]
    for saved, loaded in zip(saved_moments, loaded_moments):
        np.testing.assert_array_equal(saved, loaded)


# --- arguments of the wrong kind ------------------------------------------------------------

@pytest.mark.parametrize("learning_rate, error, message", [
    (float("nan"), ValueError, "learning_rate=nan cannot train"),
    (float("inf"), ValueError, "learning_rate=inf cannot train"),
    (0.0, ValueError, "learning_rate=0.0 cannot train"),
    (-1e-3, ValueError, "learning_rate=-0.001 cannot train"),
    ("0.001", TypeError, "learning_rate must be a number"),
])
def test_an_impossible_learning_rate_is_refused_at_compile(learning_rate, error, message):
    vae = MyVariationalAutoencoder(**TINY_LAYOUT)
    with pytest.raises(error, match=message):
        vae.compile_myVAE(learning_rate)


def test_numpy_integers_are_accepted_and_saved_as_ints(tmp_path):
    vae = MyVariationalAutoencoder(**{**TINY_LAYOUT, "z_dim": np.int64(3),
                                      "encoder_conv_filters": [np.int32(4), np.int16(8)]},
                                   seed=np.int64(1))
    vae.save(tmp_path / "vae")
    params = json.loads((tmp_path / "vae" / saving.PARAMS_FILE).read_text())["params"]
    assert (params["z_dim"], params["encoder_conv_filters"], params["seed"]) == (3, [4, 8], 1)
    assert MyVariationalAutoencoder.load(tmp_path / "vae").architecture.z_dim == 3


@pytest.mark.parametrize("changes, error, message", [
    (dict(solution_type=True), ValueError, "solution_type=True is unknown"),
    (dict(act=True), ValueError, "act=True is unknown"),
    (dict(act=np.True_), ValueError, "act=np.True_ is unknown"),
    (dict(z_dim=True), TypeError, "z_dim must be an integer"),
    (dict(use_batch_norm="no"), TypeError, "use_batch_norm must be True or False, got 'no'"),
    (dict(use_dropout=1), TypeError, "use_dropout must be True or False, got 1"),
])
def test_bools_for_numbers_and_other_values_for_bools_are_refused(changes, error, message):
    with pytest.raises(error, match=message):
        MyVariationalAutoencoder(**{**TINY_LAYOUT, **changes})
