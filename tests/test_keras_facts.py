"""What the notebooks' prose says Keras and TensorFlow do, checked on the installed versions.

Notebook 04's third rule and notebook 07's explanation of the failing
``model.add_loss`` rest on these facts; a Keras release that changes one
turns this red before a reader meets a false sentence.
"""

import inspect

import keras
import pytest
import tensorflow as tf

BACKEND_MATH = ("mean", "exp", "square")


def test_keras_3_backend_has_no_tensor_math():
    assert not any(hasattr(keras.backend, name) for name in BACKEND_MATH)


def test_tf_keras_backend_is_keras_3s_deprecated_legacy_math_on_tensorflow():
    assert tf.keras.__name__ == "keras._tf_keras.keras"
    for name in BACKEND_MATH:
        function = getattr(tf.keras.backend, name)
        assert function.__module__ == "keras.src.legacy.backend"
        assert function.__doc__.strip() == "DEPRECATED."
    assert "tf.reduce_mean" in inspect.getsource(tf.keras.backend.mean)


def test_keras_2_backend_still_has_tensor_math():
    tf_keras = pytest.importorskip("tf_keras")  # an optional Keras 2 install
    assert all(hasattr(tf_keras.backend, name) for name in BACKEND_MATH)


def test_functional_add_loss_is_not_implemented_yet():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(NotImplementedError) as error:
        model.add_loss(keras.ops.mean(inputs))
    assert str(error.value) == ""
    assert "# Symbolic only. TODO" in inspect.getsource(type(model).add_loss)
