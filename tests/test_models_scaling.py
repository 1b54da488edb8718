"""Mixed precision and tf.distribute: the models train the same, in float32 where it matters.

The tests under MirroredStrategy need two logical CPU devices, which can only
be configured before TensorFlow initialises its devices; by the time this
module runs, other tests have done that. So they run in a child process:
this file, run as a script, configures the devices, trains every case on
one device and on two replicas, and prints the histories as JSON.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT, default_facts
from helpers import SMALL_MNIST_LAYOUT as SMALL_LAYOUT
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder
from my_AE_code.models.layouts import MNIST_LAYOUT
from my_AE_code.notebook_setup import default_distribution, default_precision, scaling_choices

#: Each strategy's own fact, as the package defines it.
FACTS = default_facts()
#: Fast enough for the small layout's loss to fall clearly from one epoch to the next.
LEARNING_RATE = 0.005
#: Distributed cases: (name, model class name, constructor extras). The AE is
#: built inside the strategy's scope, the VAEs get it as ``distribute``.
CASES = {
    **{f"solution_type {t}": ("vae", {"solution_type": t, "fact": FACTS[t]}) for t in range(4)},
    "solution_type 3 with batch norm": ("vae", {"solution_type": 3, "fact": FACTS[3],
                                                "use_batch_norm": True}),
    "AE": ("ae", {}),
}
#: The first training step on two replicas equals the one on a single device:
#: same data, initial weights and sampling noise; only the order of float32
#: sums differs. Compared: the logged losses, and Adam's second moments,
#: which hold the squared gradients the optimizer received.
FIRST_STEP_RTOL = 1e-4
#: Per-epoch losses over 2 epochs (16 steps): the steps after the first, each
#: from the optimizer state the one before left (the first starts from none),
#: and a loss that falls by 16% or more from one epoch to the next in every case.
#: A third epoch showed nothing more. Adam divides each gradient by its own
#: magnitude, so float rounding in gradients near zero turns into steps of
#: +-learning_rate in either direction, and the two runs drift apart a little
#: more with every step: by up to 0.7% after 2 epochs here, 1.7% after 3
#: (strategy 3; the first step differs by at most 4e-6). The small kl_loss
#: moves by more in relative terms and is left out of this comparison.
EPOCHS_RTOL = 0.05


def adam_second_moments(optimizer):
    """Sum of Adam's second-moment estimates: (1 - beta_2) * sum(g**2) after one step."""
    import keras

    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    return sum(float(np.sum(v.numpy())) for v in optimizer.variables if "velocity" in v.path)


# --- the child process: two logical CPUs, one-device and two-replica runs ----------------

def _train(kind, extras, images, distribute):
    """The model and what it logged: one step on 32 images, then 2 epochs on all."""
    import tensorflow as tf

    if kind == "ae":
        with (distribute or tf.distribute.get_strategy()).scope():  # the active scope is used
            model = MyAutoencoder(**SMALL_LAYOUT, seed=1)
            model.compile_myAE(LEARNING_RATE)
        train = model.train_myAE
    else:
        model = MyVariationalAutoencoder(**SMALL_LAYOUT, **extras, seed=1,
                                         distribute=distribute)
        model.compile_myVAE(LEARNING_RATE)
        train = model.train_myVAE
    first = train(images[:32], batch_size=32, epochs=1, verbose=0, shuffle=False).history
    moments = adam_second_moments(model.model.optimizer)
    epochs = train(images, batch_size=32, epochs=2, verbose=0).history
    return model, {"first step": first, "moments": moments, "epochs": epochs}


def run_distributed_cases(folder):
    """Train every case on one device and on two; what the tests check, as a dict."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from conftest import make_blob_images

    images = make_blob_images(256)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {"replicas": strategy.num_replicas_in_sync}
    for name, (kind, extras) in CASES.items():
        _, one = _train(kind, extras, images, None)
        two_model, two = _train(kind, extras, images, strategy)
        results[name] = {"one": one, "two": two}
        if name == "solution_type 3 with batch norm":
            two_model.save(Path(folder) / "saved")
            loaded = MyVariationalAutoencoder.load(Path(folder) / "saved", distribute=strategy)
            _, mu, _ = loaded.encoder.predict(images[:64], verbose=0)
            _, mu_saved, _ = two_model.encoder.predict(images[:64], verbose=0)
            results["loaded under the strategy"] = {
                "replicas": loaded.distribute.num_replicas_in_sync,
                "mu_max_abs_diff": float(np.max(np.abs(mu - mu_saved)))}
    return results


@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distributed")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    child = subprocess.run([sys.executable, __file__, str(folder)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=1800)
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", CASES)
def test_first_step_on_two_replicas_equals_one_device(distributed, name):
    assert distributed["replicas"] == 2
    one, two = distributed[name]["one"], distributed[name]["two"]
    assert set(one["first step"]) == set(two["first step"])
    for key in one["first step"]:  # loss, and reco_loss / kl_loss where the model logs them
        np.testing.assert_allclose(two["first step"][key], one["first step"][key],
                                   rtol=FIRST_STEP_RTOL, err_msg=key)
    np.testing.assert_allclose(two["moments"], one["moments"], rtol=FIRST_STEP_RTOL)


@pytest.mark.parametrize("name", CASES)
def test_trains_on_two_replicas_as_on_one_device(distributed, name):
    one, two = distributed[name]["one"]["epochs"], distributed[name]["two"]["epochs"]
    assert two["loss"][-1] < 0.9 * two["loss"][0]
    for key in ("loss", "reco_loss") if "reco_loss" in one else ("loss",):
        np.testing.assert_allclose(two[key], one[key], rtol=EPOCHS_RTOL, err_msg=key)


def test_saved_model_loads_under_the_strategy(distributed):
    loaded = distributed["loaded under the strategy"]
    assert loaded["replicas"] == 2
    assert loaded["mu_max_abs_diff"] < 1e-5


# --- mixed precision, in this process --------------------------------------------------

def output_dtypes(model):
    import keras

    images = keras.ops.zeros((2, 28, 28, 1))
    z, mu, log_var = model.encoder(images)
    outputs = {"z": z, "mu": mu, "log_var": log_var, "image": model.decoder(z)}
    return {name: keras.backend.standardize_dtype(value.dtype) for name, value in outputs.items()}


@pytest.mark.parametrize("solution_type", range(4))
def test_bfloat16_trains_saves_and_loads_in_float32_where_it_matters(blobs, tmp_path,
                                                                     solution_type):
    import keras

    vae = MyVariationalAutoencoder(**SMALL_LAYOUT, solution_type=solution_type,
                                   fact=FACTS[solution_type], seed=1,
                                   dtype_policy="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"  # set only while building
    assert vae.encoder.get_layer("encoder_conv_1").compute_dtype == "bfloat16"
    assert {w.dtype for w in vae.model.weights} == {"float32"}
    assert set(output_dtypes(vae).values()) == {"float32"}

    vae.compile_myVAE(LEARNING_RATE)
    assert not isinstance(vae.model.optimizer, keras.optimizers.LossScaleOptimizer)
    history = vae.train_myVAE(blobs, batch_size=32, epochs=3, verbose=0).history
    assert history["loss"][-1] < 0.9 * history["loss"][0]

    loaded = MyVariationalAutoencoder.load(vae.save(tmp_path / "vae"))
    assert loaded.params["dtype_policy"] == "mixed_bfloat16"
    assert loaded.encoder.get_layer("encoder_conv_1").compute_dtype == "bfloat16"
    for saved, restored in zip(vae.model.get_weights(), loaded.model.get_weights()):
        np.testing.assert_array_equal(saved, restored)
    # mu is deterministic: the loaded model predicts exactly what the saved one did.
    np.testing.assert_array_equal(loaded.encoder(blobs[:16])[1], vae.encoder(blobs[:16])[1])
    # The float32 weights move to a float32 twin, e.g. to analyse in full precision.
    twin = MyVariationalAutoencoder(**{**loaded.params, "dtype_policy": None})
    twin.load_weights(tmp_path / "vae")
    mu_bf16 = vae.encoder(blobs[:16])[1]
    mu_f32 = twin.encoder(blobs[:16])[1]
    # bfloat16 keeps 8 significant bits: about 1% per operation.
    np.testing.assert_allclose(mu_bf16, mu_f32, atol=0.05 * float(np.max(np.abs(mu_f32))))


def test_autoencoder_in_bfloat16(blobs):
    ae = MyAutoencoder(**SMALL_LAYOUT, seed=1, dtype_policy="mixed_bfloat16")
    assert {w.dtype for w in ae.model.weights} == {"float32"}
    z = ae.encoder(blobs[:2])
    assert z.dtype == "float32" and ae.decoder(z).dtype == "float32"
    ae.compile_myAE(LEARNING_RATE)
    history = ae.train_myAE(blobs, batch_size=32, epochs=3, verbose=0).history
    assert history["loss"][-1] < 0.9 * history["loss"][0]


@pytest.mark.parametrize("solution_type", range(4))
def test_float16_scales_the_loss_and_unscales_the_gradients(blobs, solution_type):
    """One step on CPU (slow there: float16 is for GPUs), compared with float32.

    The loss scale is set to 16, small enough that no strategy's gradients
    overflow, so the step is applied. Adam's second moments hold the squared
    gradients the optimizer received: a missing ``scale_loss`` would make
    them 16**2 times too small, a missing unscaling 16**2 times too large.
    """
    import keras

    images = blobs[:8]
    runs = {}
    for policy in ("float32", "mixed_float16"):
        vae = MyVariationalAutoencoder(**SMALL_LAYOUT, solution_type=solution_type,
                                       fact=FACTS[solution_type], seed=1, dtype_policy=policy)
        vae.compile_myVAE(LEARNING_RATE)
        optimizer = vae.model.optimizer
        if policy == "mixed_float16":
            assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
            optimizer.build(vae.model.trainable_variables)
            optimizer.dynamic_scale.assign(16.0)
        history = vae.train_myVAE(images, batch_size=8, epochs=1, verbose=0,
                                  shuffle=False).history
        assert int(optimizer.iterations.numpy()) == 1  # applied, not skipped
        runs[policy] = (history["loss"][0], adam_second_moments(optimizer))
    (loss32, moments32), (loss16, moments16) = runs["float32"], runs["mixed_float16"]
    np.testing.assert_allclose(loss16, loss32, rtol=0.01)  # the logged loss is unscaled
    np.testing.assert_allclose(moments16, moments32, rtol=0.25)


def test_unknown_policy_and_strategy_are_refused():
    with pytest.raises(ValueError, match="mixed_bfloat16"):
        MyVariationalAutoencoder(**MNIST_LAYOUT, dtype_policy="float16")
    with pytest.raises(TypeError, match="tf.distribute.Strategy"):
        MyAutoencoder(**MNIST_LAYOUT, distribute="mirrored")


def test_models_saved_before_dtype_policy_existed_still_load(tmp_path):
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT, seed=1)
    assert vae.params["dtype_policy"] == "float32"
    folder = vae.save(tmp_path / "vae")
    saved = json.loads((folder / "params.json").read_text())
    del saved["params"]["dtype_policy"]
    (folder / "params.json").write_text(json.dumps(saved))
    loaded = MyVariationalAutoencoder.load(folder)
    assert loaded.params["dtype_policy"] == "float32"


# --- what a notebook's "auto" switches pick ------------------------------------------------

class FakeGPUs:
    """tf.config's GPU list and details, for machines this test does not run on."""

    def __init__(self, monkeypatch, capabilities):
        import tensorflow as tf

        gpus = [f"GPU:{i}" for i in range(len(capabilities))]
        monkeypatch.setattr(tf.config, "list_physical_devices",
                            lambda kind=None: gpus if kind == "GPU" else [])
        details = dict(zip(gpus, capabilities))
        monkeypatch.setattr(tf.config.experimental, "get_device_details",
                            lambda gpu: {"compute_capability": details[gpu]})


@pytest.mark.parametrize("capabilities, expected", [
    ([], "float32"),
    ([(6, 1)], "float32"),
    ([(7, 5)], "mixed_float16"),
    ([(8, 6), (6, 1)], "float32"),
    ([(8, 0), (9, 0)], "mixed_float16"),
])
def test_default_precision(monkeypatch, capabilities, expected):
    FakeGPUs(monkeypatch, capabilities)
    assert default_precision() == expected


def test_default_distribution(monkeypatch):
    import tensorflow as tf

    FakeGPUs(monkeypatch, [(8, 0)])
    assert default_distribution() is None
    FakeGPUs(monkeypatch, [(8, 0), (8, 0)])
    monkeypatch.setattr(tf.distribute, "MirroredStrategy", lambda: "mirrored over both")
    assert default_distribution() == "mirrored over both"


def test_scaling_choices_read_the_notebook_switches(monkeypatch):
    import tensorflow as tf

    FakeGPUs(monkeypatch, [(7, 0), (7, 0)])
    monkeypatch.setattr(tf.distribute, "MirroredStrategy", lambda: "mirrored")
    assert scaling_choices() == ("mixed_float16", "mirrored")  # "auto": what the machine has
    assert scaling_choices(False, False) == ("float32", None)
    assert scaling_choices("mixed_bfloat16", True) == ("mixed_bfloat16", "mirrored")
    FakeGPUs(monkeypatch, [])
    assert scaling_choices(True, "auto") == ("mixed_bfloat16", None)
    assert scaling_choices("auto", "auto") == ("float32", None)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print(json.dumps(run_distributed_cases(sys.argv[1])))
