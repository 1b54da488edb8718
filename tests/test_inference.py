"""Encoding, decoding and reconstructing run batch by batch and give what predict gives."""

import logging

import numpy as np
import pytest
import tensorflow as tf

from my_AE_code import inference
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder
from my_AE_code.models.layouts import MNIST_LAYOUT


@pytest.fixture(scope="module")
def vae():
    return MyVariationalAutoencoder(**{**MNIST_LAYOUT, "z_dim": 3}, seed=1)


def _record_batch_sizes(monkeypatch, encoder):
    sizes = []
    original = inference.encoder_outputs

    def spy(model, batch):
        assert model is encoder
        sizes.append(len(batch))
        return original(model, batch)

    monkeypatch.setattr(inference, "encoder_outputs", spy)
    return sizes


def test_encode_streams_an_array_in_batches(vae, blobs, monkeypatch):
    images = blobs[:23]
    sizes = _record_batch_sizes(monkeypatch, vae.encoder)
    vae.set_enc_to_predict()
    try:
        z, mu, log_var = inference.encode(vae, images, batch_size=10)
        expected = vae.encoder.predict(images, verbose=0)
    finally:
        vae.set_enc_to_train()
    assert sizes == [10, 10, 3]
    for got, want in zip((z, mu, log_var), expected):
        assert got.shape == (23, 3)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(z, mu, atol=1e-6)  # sampling switched off


def test_encode_reads_image_batches_from_a_dataset_of_tuples(vae, blobs, monkeypatch):
    images = blobs[:20]
    dataset = tf.data.Dataset.from_tensor_slices((images, np.arange(20))).batch(8)
    sizes = _record_batch_sizes(monkeypatch, vae.encoder)
    _, mu, log_var = inference.encode(vae.encoder, dataset)
    assert sizes == [8, 8, 4]
    _, want_mu, want_log_var = vae.encoder.predict(images, verbose=0)
    np.testing.assert_allclose(mu, want_mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(log_var, want_log_var, rtol=1e-5, atol=1e-6)


def test_encode_returns_one_array_for_an_autoencoder(blobs):
    ae = MyAutoencoder(**MNIST_LAYOUT)
    z = inference.encode(ae, blobs[:9], batch_size=4)
    assert isinstance(z, np.ndarray)
    np.testing.assert_allclose(z, ae.encoder.predict(blobs[:9], verbose=0), rtol=1e-5, atol=1e-6)


def test_reconstruct_uses_mu_and_restores_the_sampling(vae, blobs):
    images = blobs[:5]
    reconstructions = inference.reconstruct(vae, images, batch_size=2)
    assert vae.enc_v_eps_factor == 1.0
    _, mu, _ = vae.encoder.predict(images, verbose=0)
    np.testing.assert_allclose(reconstructions, vae.decoder.predict(mu, verbose=0), atol=1e-5)


def test_encode_follows_the_sampling_switch_set_after_a_first_call(blobs):
    vae = MyVariationalAutoencoder(**{**MNIST_LAYOUT, "z_dim": 3}, seed=2)
    z, mu, _ = inference.encode(vae, blobs[:23], batch_size=10)
    assert not np.allclose(z, mu)
    vae.set_enc_to_predict()  # after the first trace: a Python number would stay (post XIV)
    z, mu, _ = inference.encode(vae, blobs[:23], batch_size=10)
    np.testing.assert_array_equal(z, mu)


def _tensorflow_warnings(work):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    tf.get_logger().addHandler(handler)
    try:
        work()
    finally:
        tf.get_logger().removeHandler(handler)
    return [record.getMessage() for record in records]


def test_reconstructing_with_several_models_traces_each_once_and_warns_nothing(blobs):
    """Keras's predict_on_batch traced a function per model and batch size, and TensorFlow,
    counting the traces of all models together, warned about "frequent retracing"."""
    models = [MyVariationalAutoencoder(**{**MNIST_LAYOUT, "z_dim": 3}, seed=s) for s in range(4)]
    messages = _tensorflow_warnings(
        lambda: [inference.reconstruct(model, blobs[:23], batch_size=10) for model in models])
    assert not any("retracing" in message for message in messages)
    assert all(part.predict_function is None for model in models
               for part in (model.encoder, model.decoder))  # no predict function was traced
    # one trace per Encoder for batches of 10, 10 and 3
    assert [inference._COMPILED[model.encoder].experimental_get_tracing_count()
            for model in models] == [1, 1, 1, 1]
    # The capture itself works: a TensorFlow warning reaches it.
    assert _tensorflow_warnings(lambda: tf.get_logger().warning("retracing?")) == ["retracing?"]
    models[0].encoder.predict_on_batch(blobs[:2])  # the attribute does record a traced one
    assert models[0].encoder.predict_function is not None
