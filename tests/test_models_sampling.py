"""The sampling's distribution and the Encoder's three outputs, from the weights themselves.

z = mu + exp(log_var / 2) * eps, eps ~ N(0, 1) clipped to [-5, 5]: so z - mu has
the standard deviation exp(log_var / 2) and never leaves 5 of them; with the
switch off z is mu. The Encoder returns [z, mu, log_var], each of which is
checked against what its Dense layers compute from the features. Under
tf.distribute each replica draws its own rows of the global batch's noise.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models import layers as model_layers
from my_AE_code.models.kl_strategies import STRATEGIES
from my_AE_code.models.layers import Sampling
from my_AE_code.models.layouts import TINY_LAYOUT

#: One latent dimension per spread: narrow, unit and wide (log_var 0 alone
#: could not tell exp(log_var / 2) from exp(log_var)).
LOG_VAR = np.array([-2.0, 0.0, 1.5], "float32")
STD = np.exp(LOG_VAR / 2)
MU = np.array([0.5, -1.0, 2.0], "float32")


def draws(sampling, n):
    """n samples of z - mu from the layer, for MU and LOG_VAR."""
    mu, log_var = np.tile(MU, (n, 1)), np.tile(LOG_VAR, (n, 1))
    return ops.convert_to_numpy(sampling([mu, log_var])) - mu


def test_z_minus_mu_has_standard_deviation_exp_half_log_var():
    n = 200_000
    deviations = draws(Sampling(seed=3), n)
    # The standard error of a standard deviation from n draws is std / sqrt(2n): 0.16 % here.
    np.testing.assert_allclose(deviations.std(axis=0), STD, rtol=0.01)
    assert np.all(np.abs(deviations.mean(axis=0)) < 5 * STD / np.sqrt(n))
    # Clipped at 5 standard deviations: never beyond, and the clip is where it should be.
    assert np.all(np.abs(deviations) <= 5 * STD * (1 + 1e-6))


def test_huge_eps_stop_at_five_standard_deviations(monkeypatch):
    monkeypatch.setattr(model_layers.keras.random, "normal",
                        lambda shape, *args, **kwargs: ops.convert_to_tensor(
                            np.tile(np.array([-9.0, 7.0, 0.5], "float32"), (2, 1))))
    np.testing.assert_allclose(draws(Sampling(), 2), [[-5 * STD[0], 5 * STD[1], 0.5 * STD[2]]] * 2,
                               rtol=1e-6)


def test_one_layer_can_drop_the_clip_for_an_experiment(monkeypatch):
    """Notebook 13 trains runs without the clip by setting EPS_CLIP on their layer alone."""
    monkeypatch.setattr(model_layers.keras.random, "normal",
                        lambda shape, *args, **kwargs: ops.convert_to_tensor(
                            np.tile(np.array([-9.0, 7.0, 0.5], "float32"), (2, 1))))
    unclipped, clipped = Sampling(), Sampling()
    unclipped.EPS_CLIP = float("inf")
    np.testing.assert_allclose(draws(unclipped, 2), [[-9 * STD[0], 7 * STD[1], 0.5 * STD[2]]] * 2,
                               rtol=1e-6)
    np.testing.assert_allclose(draws(clipped, 2)[0], [-5 * STD[0], 5 * STD[1], 0.5 * STD[2]],
                               rtol=1e-6)


def test_the_draws_are_independent_of_each_other():
    deviations = draws(Sampling(seed=4), 50_000) / STD
    correlation = np.corrcoef(deviations, rowvar=False)
    np.testing.assert_allclose(correlation, np.eye(3), atol=0.03)
    assert np.abs(np.corrcoef(deviations[:-1, 0], deviations[1:, 0])[0, 1]) < 0.03


def test_a_sampling_layer_rebuilt_from_its_config_draws_the_same_noise():
    copy = Sampling.from_config(Sampling(seed=8).get_config())
    np.testing.assert_array_equal(draws(copy, 10), draws(Sampling(seed=8), 10))


class ReplicaOfTwo:
    """Stands in for replica ``index`` of a two-replica tf.distribute strategy."""

    num_replicas_in_sync = 2

    def __init__(self, index):
        self.replica_id_in_sync_group = index


def test_each_replica_draws_its_own_rows_of_the_global_batch_noise(monkeypatch):
    """Two replicas with 4 rows each get the noise one device draws for all 8 rows."""
    zeros = np.zeros((8, 3), "float32")
    one_device = ops.convert_to_numpy(Sampling(seed=6)([zeros, zeros]))
    per_replica = []
    for index in (0, 1):
        monkeypatch.setattr(tf.distribute, "get_replica_context", lambda i=index: ReplicaOfTwo(i))
        per_replica.append(ops.convert_to_numpy(Sampling(seed=6)([zeros[:4], zeros[:4]])))
    np.testing.assert_array_equal(np.concatenate(per_replica), one_device)
    assert not np.array_equal(per_replica[0], per_replica[1])


def test_in_a_strategy_scope_outside_any_replica_it_draws_as_on_one_device():
    zeros = np.zeros((8, 3), "float32")
    one_device = ops.convert_to_numpy(Sampling(seed=6)([zeros, zeros]))
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        assert tf.distribute.get_replica_context() is None  # the cross-replica context
        in_scope = ops.convert_to_numpy(Sampling(seed=6)([zeros, zeros]))
    np.testing.assert_array_equal(in_scope, one_device)


def test_with_the_switch_off_z_is_mu():
    sampling = Sampling(seed=5)
    sampling.eps_factor.assign(0.0)
    np.testing.assert_array_equal(draws(sampling, 100), 0.0)
    sampling.eps_factor.assign(1.0)
    assert draws(sampling, 100).std() > 0.1


@pytest.mark.parametrize("solution_type", sorted(STRATEGIES))
def test_encoder_outputs_are_z_mu_and_log_var(monkeypatch, solution_type):
    """z, mu and log_var as the Dense layers' weights and the drawn eps make them."""
    vae = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=solution_type, seed=2,
                                   enc_dense_units=5)
    encoder = vae.encoder
    mu_dense, log_var_dense = encoder.get_layer("mu"), encoder.get_layer("log_var")
    # Fresh Dense layers start with zero biases; shift log_var's so no output equals another.
    log_var_dense.bias.assign(np.array([-1.0, 0.5, 1.0], "float32"))

    images = np.random.default_rng(2).uniform(size=(6, *TINY_LAYOUT["input_dim"]))
    features = keras.Model(encoder.input, encoder.get_layer("encoder_dense_act").output)
    features = ops.convert_to_numpy(features(images))
    mu = features @ mu_dense.kernel.numpy() + mu_dense.bias.numpy()
    log_var = features @ log_var_dense.kernel.numpy() + log_var_dense.bias.numpy()
    eps = np.random.default_rng(3).normal(size=mu.shape).astype("float32")
    monkeypatch.setattr(model_layers.keras.random, "normal",
                        lambda shape, *args, **kwargs: ops.convert_to_tensor(eps))

    outputs = [ops.convert_to_numpy(out) for out in encoder(images)]
    expected = [mu + np.exp(log_var / 2) * eps, mu, log_var]
    for name, got, want in zip(("z", "mu", "log_var"), outputs, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)

    vae.set_enc_to_predict()
    z, mu_out, _ = encoder.predict(images, verbose=0)
    np.testing.assert_array_equal(z, mu_out)
