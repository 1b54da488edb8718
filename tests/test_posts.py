"""The posts' recipes kept for comparison (my_AE_code.posts): post IV's loss layer and the
Keras 2 VAEs, and what a missing Keras 2 is told."""

import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.architecture import Architecture
from my_AE_code.models.layouts import MNIST_LAYOUT
from my_AE_code.models.losses import kl_loss_mean, reco_loss_mean
from my_AE_code.posts.keras2 import build_keras2_vae, import_tf_keras
from my_AE_code.posts.part_iv import LossLayerAfterDecoder, build_part_iv_model

MNIST = Architecture(**MNIST_LAYOUT)


def test_part_iv_layer_adds_bce_plus_kl():
    rng = np.random.default_rng(1)
    mu, log_var = rng.normal(size=(2, 5, 3)).astype("float32")
    x = rng.uniform(size=(5, 4, 4, 1)).astype("float32")
    x_reco = rng.uniform(0.1, 0.9, size=x.shape).astype("float32")
    layer = LossLayerAfterDecoder(fact=1e-3)
    out = layer([mu, log_var, x, x_reco])
    np.testing.assert_array_equal(out, x_reco)
    expected = float(reco_loss_mean(x, x_reco)) + float(kl_loss_mean(mu, log_var, 1e-3))
    assert float(layer.losses[0]) == pytest.approx(expected, rel=1e-5)


def test_part_iv_model_trains_without_targets(blobs):
    parts = MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=3)
    model = build_part_iv_model(parts.encoder, parts.decoder, fact=1e-3)
    model.compile(optimizer="adam", loss=None)
    history = model.fit(blobs, None, batch_size=32, epochs=3, verbose=0).history
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    # The two parts are logged apart (the post's add_metric, done with trackers).
    np.testing.assert_allclose(history["loss"],
                               np.add(history["reco_loss"], history["kl_loss"]), rtol=1e-4)
    assert 0 < history["kl_loss"][-1] < history["reco_loss"][-1]


@pytest.mark.parametrize("kl_in", ["model", "encoder"])
def test_keras2_recipes_train(blobs, kl_in):
    import tf_keras

    model = build_keras2_vae(MNIST, fact=1e-3, kl_in=kl_in, learning_rate=0.001)
    # The KL term is attached where asked: a layer after mu and log_var, or the model itself.
    assert [layer.name for layer in model.layers if layer.name == "kl_loss"] == (
        ["kl_loss"] if kl_in == "encoder" else [])
    # One added loss: the mean-convention KL of the batch the model was called on.
    x = blobs[:8]
    model(x)
    moments = tf_keras.Model(model.input, [model.get_layer("mu").output,
                                           model.get_layer("log_var").output])
    mu, log_var = moments(x)
    assert len(model.losses) == 1
    assert float(model.losses[0]) == pytest.approx(float(kl_loss_mean(mu, log_var, 1e-3)),
                                                   rel=1e-5)
    history = model.fit(blobs, blobs, batch_size=32, epochs=3, verbose=0).history
    assert history["loss"][-1] < 0.9 * history["loss"][0]


def test_keras2_unknown_place_for_the_kl_loss():
    with pytest.raises(ValueError, match="kl_in='decoder'"):
        build_keras2_vae(MNIST, kl_in="decoder")


def test_keras2_refuses_layers_its_recipes_do_not_have():
    with pytest.raises(ValueError, match="without batch norm, dropout or an extra Dense layer"):
        build_keras2_vae(Architecture(**MNIST_LAYOUT, use_batch_norm=True))


def test_a_missing_tf_keras_says_which_extra_installs_it(monkeypatch):
    """None in sys.modules makes ``import tf_keras`` fail, as on a machine without it."""
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert pyproject["project"]["optional-dependencies"]["posts"] == ["tf-keras"]
    monkeypatch.setitem(sys.modules, "tf_keras", None)
    advice = re.escape("pip install -e '.[posts]'")
    with pytest.raises(ImportError, match=advice):
        import_tf_keras()
    with pytest.raises(ImportError, match=advice):
        build_keras2_vae(MNIST)
