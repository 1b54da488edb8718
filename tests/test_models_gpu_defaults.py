"""What a reader's GPU runs, forced on the CPU: mixed_float16 under XLA, saved, killed, resumed.

On a GPU with tensor cores the notebooks' ``MIXED_PRECISION="auto"`` picks
mixed_float16, and Keras's ``jit_compile="auto"`` turns XLA on; on this CPU
neither happens by itself. These tests ask for both (float16 is emulated on
a CPU, and slow, so the layout is tiny), to take the code paths a GPU
reader's first run takes: the loss scaling inside strategy 3's own
``train_step`` compiled by XLA, and a LossScaleOptimizer's state through a
checkpoint.
"""

import keras
import numpy as np
import pytest
from conftest import Crash

from helpers import default_facts
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder, checkpoints
from my_AE_code.models.layouts import TINY_LAYOUT

#: Each strategy's own fact, as the package defines it.
FACTS = default_facts()
CASES = [0, 1, 2, 3, "AE"]
LEARNING_RATE = 0.01


def tiny_images(n=64, seed=0):
    """8x8x2 images with a blob to learn: the blob in one channel, its negative in the other."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:8, 0:8]
    centres = rng.uniform(2, 6, size=(n, 2))
    blobs = np.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / 4.0)
    return np.stack([blobs, 1 - blobs], axis=-1).astype("float32")


def compiled(case, policy, jit_compile=True, seed=1):
    """The model of ``case`` (a solution_type or "AE"), compiled; and its training method."""
    if case == "AE":
        model = MyAutoencoder(**TINY_LAYOUT, seed=seed, dtype_policy=policy)
        model.compile_myAE(LEARNING_RATE, jit_compile=jit_compile)
        return model, model.train_myAE
    model = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=case, fact=FACTS[case],
                                     seed=seed, dtype_policy=policy)
    model.compile_myVAE(LEARNING_RATE, jit_compile=jit_compile)
    return model, model.train_myVAE


def adam_second_moments(optimizer):
    """Sum of Adam's second moments: (1 - beta_2) * sum(g**2) after one step."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    return sum(float(np.sum(v.numpy())) for v in optimizer.variables if "velocity" in v.path)


@pytest.mark.parametrize("case", CASES)
def test_mixed_float16_under_xla_scales_the_loss_and_trains(case):
    """One step against float32, then a few epochs at the default loss scale.

    With the loss scale at 16 (no overflow) the step is applied, and Adam's
    second moments hold the squared gradients it received: a missing
    ``scale_loss`` would make them 16**2 times too small, a missing
    unscaling 16**2 times too large. The float32 reference runs without XLA, which
    computes the same step and would double this test's compiling.
    """
    images = tiny_images()
    reference, train32 = compiled(case, "float32", jit_compile=False)
    first32 = train32(images[:16], batch_size=16, epochs=1, verbose=0, shuffle=False).history

    model, train = compiled(case, "mixed_float16")
    assert model.model.jit_compile is True  # every layer supports XLA: Keras did not refuse
    optimizer = model.model.optimizer
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.encoder.get_layer("encoder_conv_1").compute_dtype == "float16"
    optimizer.build(model.model.trainable_variables)
    optimizer.dynamic_scale.assign(16.0)
    first = train(images[:16], batch_size=16, epochs=1, verbose=0, shuffle=False).history
    assert int(optimizer.iterations.numpy()) == 1  # applied, not skipped
    np.testing.assert_allclose(first["loss"], first32["loss"], rtol=0.01)  # logged unscaled
    np.testing.assert_allclose(adam_second_moments(optimizer),
                               adam_second_moments(reference.model.optimizer), rtol=0.25)

    # A GPU reader's run starts at Keras's initial scale, 2**15.
    optimizer.dynamic_scale.assign(optimizer.initial_scale)
    history = train(images, batch_size=16, epochs=4, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    assert {weight.dtype for weight in model.model.weights} == {"float32"}
    assert np.all([np.all(np.isfinite(weight)) for weight in model.model.get_weights()])


def test_jit_compile_is_a_visible_choice_and_auto_is_off_on_a_cpu():
    vae, _ = compiled(3, "float32", jit_compile="auto")
    assert vae.model.jit_compile is False  # this machine has only CPUs
    vae, _ = compiled(3, "float32", jit_compile=False)
    assert vae.model.jit_compile is False
    ae, _ = compiled("AE", "float32", jit_compile=True)
    assert ae.model.jit_compile is True
    for bad in ("xla", 1, None):
        with pytest.raises(ValueError, match=r"jit_compile=.*\"auto\".*True.*False"):
            vae.compile_myVAE(LEARNING_RATE, jit_compile=bad)
        with pytest.raises(ValueError, match="jit_compile="):
            ae.compile_myAE(LEARNING_RATE, jit_compile=bad)


@pytest.mark.parametrize("case", [3, "AE"])
def test_a_float16_model_loads_to_identical_predictions(tmp_path, case):
    """Without XLA, whose compiling is most of this test's time under it and which the saved
    file does not see: the weights, the policy and the model's values are what is saved."""
    images = tiny_images(32)
    model, train = compiled(case, "mixed_float16", jit_compile=False)
    train(images, batch_size=16, epochs=2, verbose=0)
    cls = type(model)
    loaded = cls.load(model.save(tmp_path / "model"))
    assert loaded.params["dtype_policy"] == "mixed_float16"
    assert loaded.encoder.get_layer("encoder_conv_1").compute_dtype == "float16"
    for saved, restored in zip(model.model.get_weights(), loaded.model.get_weights(),
                               strict=True):
        np.testing.assert_array_equal(saved, restored)
    if case != "AE":
        model.set_enc_to_predict()  # z = mu: the encoder is deterministic
        loaded.set_enc_to_predict()
    # The parts, each on its own inputs: the Encoder's outputs and the Decoder's images.
    codes = np.linspace(-2, 2, 12, dtype="float32").reshape(4, 3)
    pairs = [(model.encoder, loaded.encoder, images), (model.decoder, loaded.decoder, codes)]
    for saved, restored, inputs in pairs:
        for a, b in zip(keras.tree.flatten(saved.predict(inputs, verbose=0)),
                        keras.tree.flatten(restored.predict(inputs, verbose=0)), strict=True):
            assert a.dtype == np.float32
            np.testing.assert_array_equal(a, b)


#: A loss scale no fresh optimizer has (Keras starts at 2**15): only a restored one holds it.
MARKED_SCALE = 64.0


def scale_state(model):
    optimizer = model.model.optimizer
    return float(optimizer.dynamic_scale.numpy()), int(optimizer.step_counter.numpy())


@pytest.mark.parametrize("case", [3, "AE"])
def test_a_killed_float16_run_resumes_with_its_loss_scale(tmp_path, case):
    images = tiny_images(32)
    fit = dict(batch_size=16, epochs=4, verbose=0, shuffle=False)

    def marked():
        model, train = compiled(case, "mixed_float16")
        model.model.optimizer.build(model.model.trainable_variables)
        model.model.optimizer.dynamic_scale.assign(MARKED_SCALE)
        return model, train

    reference, train = marked()
    train(images, **fit)
    assert scale_state(reference) == (MARKED_SCALE, 8)  # no step overflowed at this scale

    folder = tmp_path / "checkpoints"
    _, train = marked()
    with pytest.raises(KeyboardInterrupt):
        train(images, **fit, checkpoint_dir=folder, callbacks=[Crash(at=2)])
    assert checkpoints.latest_checkpoint(folder) == (folder / "epoch_002", 2)

    # A fresh kernel: a new object at Keras's initial loss scale, the same call.
    rerun, train = compiled(case, "mixed_float16")
    history = train(images, **fit, checkpoint_dir=folder)
    assert len(history.history["loss"]) == 2
    assert scale_state(rerun) == scale_state(reference)  # the scale came from the checkpoint
    for a, b in zip(rerun.model.get_weights(), reference.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
