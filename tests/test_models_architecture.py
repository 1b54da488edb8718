"""`Architecture`, the one home of the layers' parameters: params.json, equality, counts."""

import json

import keras
import numpy as np
import pytest

from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder
from my_AE_code.models.architecture import Architecture
from my_AE_code.models.layers import decoder_body, encoder_body
from my_AE_code.models.layouts import CELEBA_LAYOUT, TINY_LAYOUT


def weights_in(model):
    return sum(int(np.prod(weight.shape)) for weight in model.weights)


def test_as_params_and_from_params_round_trip_through_json():
    arch = Architecture(**CELEBA_LAYOUT, use_batch_norm=True, act=2, enc_dense_units=64)
    saved = json.loads(json.dumps(arch.as_params()))
    assert saved == arch.as_params()
    assert saved["input_dim"] == [96, 96, 3]  # lists, as params.json has always held them
    assert Architecture.from_params(saved) == arch


def test_from_params_takes_its_fields_out_of_a_larger_dict_and_defaults_the_rest():
    arch = Architecture.from_params({**TINY_LAYOUT, "fact": 5.0, "seed": 1})
    assert arch == Architecture(**TINY_LAYOUT)
    assert (arch.use_batch_norm, arch.use_dropout, arch.act, arch.enc_dense_units) == \
        (False, False, 0, None)


def test_lists_tuples_and_numpy_numbers_make_equal_architectures():
    as_lists = Architecture(**{name: list(value) if isinstance(value, tuple) else value
                               for name, value in TINY_LAYOUT.items()})
    as_tuples = Architecture(**{name: tuple(value) if isinstance(value, list) else value
                                for name, value in TINY_LAYOUT.items()})
    as_numpy = Architecture(**{**TINY_LAYOUT, "z_dim": np.int64(3),
                               "encoder_conv_filters": [np.int32(4), np.int16(8)]},
                            use_batch_norm=np.False_)
    assert as_lists == as_tuples == as_numpy
    assert len({as_lists, as_tuples, as_numpy}) == 1
    assert as_numpy.encoder_conv_filters == (4, 8)
    assert type(as_numpy.z_dim) is int and type(as_numpy.use_batch_norm) is bool


def test_an_architecture_cannot_be_changed_after_it_is_checked():
    arch = Architecture(**TINY_LAYOUT)
    with pytest.raises(AttributeError):
        arch.z_dim = 0


def test_params_hold_every_constructor_parameter_as_before():
    """``params`` is what params.json saves and ``cls(**params)`` rebuilds the model from."""
    vae = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=3, seed=np.int64(1))
    assert vae.params == {
        "input_dim": [8, 8, 2], "encoder_conv_filters": [4, 8],
        "encoder_conv_kernel_size": [3, 3], "encoder_conv_strides": [2, 2],
        "decoder_conv_t_filters": [4, 2], "decoder_conv_t_kernel_size": [3, 3],
        "decoder_conv_t_strides": [2, 2], "z_dim": 3, "use_batch_norm": False,
        "use_dropout": False, "act": 0, "solution_type": 3, "fact": 1.0,
        "enc_dense_units": None, "seed": 1, "dtype_policy": "float32"}
    assert type(vae.seed) is int
    assert vae.architecture == Architecture(**TINY_LAYOUT)
    ae = MyAutoencoder(**TINY_LAYOUT)
    assert set(ae.params) == set(vae.params) - {"solution_type", "fact"}
    assert MyAutoencoder(**ae.params).params == ae.params


@pytest.mark.parametrize("cls, changes", [
    (MyVariationalAutoencoder, {}),
    (MyVariationalAutoencoder, dict(use_batch_norm=True, enc_dense_units=5)),
    (MyAutoencoder, dict(use_batch_norm=True)),
    (MyAutoencoder, dict(input_dim=(9, 7, 3), decoder_conv_t_filters=[4, 3],
                         enc_dense_units=6)),
])
def test_the_weight_count_without_building_is_the_built_models(cls, changes):
    params = {**TINY_LAYOUT, **changes}
    if changes.get("input_dim") == (9, 7, 3):  # odd sizes do not decode back: count only
        params["decoder_conv_t_strides"] = [1, 1]
        params["encoder_conv_strides"] = [1, 1]
    model = cls(**params)
    # The bodies alone, as layers.py builds them...
    arch = model.architecture
    image, z = keras.Input(shape=arch.input_dim), keras.Input(shape=(arch.z_dim,))
    features = encoder_body(image, arch)
    bodies = weights_in(keras.Model(image, features)) + \
        weights_in(keras.Model(z, decoder_body(z, arch)))
    assert arch.weight_count() == (bodies, features.shape[-1])
    # ... and the whole model, with the layers to and from z.
    assert cls.weight_count(cls._with_defaults(params)) == weights_in(model.model)
