"""Mixed precision and several devices for the AE and the VAE, with Keras's and TF's own tools.

Mixed precision (constructor parameter ``dtype_policy``, saved with the others)
    ``"mixed_float16"`` (NVIDIA GPUs of compute capability 7 or more: their
    tensor cores) or ``"mixed_bfloat16"`` (recent CPUs, TPUs, GPUs from
    Ampere on) make the layers compute in 16 bits while their variables stay
    float32: Keras's dtype policies. The layers whose outputs feed the losses
    (mu, log_var, the KL layer, the sampling and the sigmoid output) are
    built with ``dtype="float32"``, so the losses, the KL term, z and the
    images are float32 whatever the policy. ``None`` or ``"float32"``:
    everything in float32, as before.

    float16's narrow exponent range lets small gradients underflow to zero.
    Keras's ``LossScaleOptimizer`` multiplies the loss by a large factor
    (``optimizer.scale_loss``) before the gradients are taken and divides the
    gradients by it before the update; a step with non-finite gradients is
    skipped and the factor halved. Keras's own ``train_step`` (strategies 0-2
    and the AE) calls ``scale_loss`` itself; strategy 3's ``train_step`` does
    the same. bfloat16 has float32's exponent range and needs no scaling.

Several devices (constructor parameter ``distribute``, not saved)
    A ``tf.distribute`` strategy, e.g. ``tf.distribute.MirroredStrategy()``
    over the GPUs of one machine: the model is built and compiled inside its
    scope and Keras's ``fit`` then splits every batch over the replicas and
    sums their gradients. ``batch_size`` is the *global* batch: with 2 GPUs
    and ``batch_size=128`` each GPU sees 64 images a step, and the training
    is the same as on one device (the sampling noise and batch norm's
    statistics are those of the global batch; see `layers.Sampling`).
    ``None`` takes the strategy whose scope is active when the model is built
    (TensorFlow's default, one device, when none is).

    For several machines the same code runs under
    ``tf.distribute.MultiWorkerMirroredStrategy()``: start the same script on
    every machine, each with a ``TF_CONFIG`` environment variable naming all
    workers and its own index (see TensorFlow's "Multi-worker training with
    Keras" tutorial), and pass the strategy as ``distribute``. Only the chief
    (index 0) should save the model. The strategy is a property of the
    machines, not of the model, so it is not saved: pass it again to
    ``load(folder, distribute=...)``.

XLA (``compile_myVAE(learning_rate, jit_compile="auto")``, likewise ``compile_myAE``)
    Keras's ``jit_compile``: with True the training, evaluation and predict
    steps are compiled by XLA, which fuses operations into fewer kernels.
    ``"auto"`` (Keras's default, and the package's) resolves on the
    TensorFlow backend to False on a machine with no device but CPUs, False
    under a tf.distribute strategy other than the default, and otherwise
    True when every layer supports XLA (all of this package's do) and op
    determinism is not enabled (Keras 3.15,
    ``Trainer._resolve_auto_jit_compile``). So a reader's single GPU trains
    with XLA, and this project's CPU runs without it: on a 2-core CPU
    forcing it on was no faster (README, "Scaling up"). True forces XLA
    (also on a CPU, as the tests do); False turns it off, e.g. to compare.
    ``model.jit_compile`` holds the resolved choice.
"""

import contextlib

import keras
import tensorflow as tf

#: The policies a model accepts, and what each is for.
DTYPE_POLICIES = {
    "float32": "everything in float32",
    "mixed_float16": "float16 compute with loss scaling: NVIDIA GPUs of compute capability >= 7",
    "mixed_bfloat16": "bfloat16 compute: recent CPUs, TPUs, NVIDIA GPUs from Ampere on",
}


def check_dtype_policy(dtype_policy):
    """The policy's name, ``"float32"`` for None; a clear error for anything else."""
    if dtype_policy is None:
        return "float32"
    if dtype_policy not in DTYPE_POLICIES:
        choices = "; ".join(f"{name!r} ({use})" for name, use in DTYPE_POLICIES.items())
        raise ValueError(f"dtype_policy={dtype_policy!r} is unknown: use None or one of "
                         f"{choices}.")
    return dtype_policy


#: What ``compile_myVAE`` / ``compile_myAE`` accept as ``jit_compile``.
JIT_COMPILE_CHOICES = ("auto", True, False)


def check_jit_compile(jit_compile):
    """``jit_compile`` unchanged, or a clear error naming the argument and the choices."""
    if not any(jit_compile is choice or (isinstance(jit_compile, str) and jit_compile == choice)
               for choice in JIT_COMPILE_CHOICES):
        raise ValueError(f"jit_compile={jit_compile!r} is not a choice: use \"auto\" (XLA where "
                         f"a GPU is visible, Keras's default), True (XLA always) or False "
                         f"(never).")
    return jit_compile


def check_distribute(distribute):
    """The strategy to build under: ``distribute``, else the one whose scope is active."""
    if distribute is None:
        return tf.distribute.get_strategy()
    if not isinstance(distribute, tf.distribute.Strategy):
        raise TypeError(f"distribute must be a tf.distribute.Strategy (e.g. "
                        f"tf.distribute.MirroredStrategy()) or None, got "
                        f"{type(distribute).__name__}.")
    return distribute


@contextlib.contextmanager
def building_scope(dtype_policy, distribute):
    """Inside ``distribute``'s scope, with ``dtype_policy`` as the default of new layers.

    Keras gives every layer made without a ``dtype`` the global policy; it is
    set only while the model is built, so models built afterwards (and the
    reader's own layers) keep theirs.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype_policy)
    try:
        with distribute.scope():
            yield
    finally:
        keras.config.set_dtype_policy(previous)


def with_loss_scaling(optimizer, dtype_policy):
    """``optimizer``, wrapped in Keras's ``LossScaleOptimizer`` when the layers compute in float16.

    ``compile`` would wrap it too, but only when the outer model's policy is
    mixed_float16; wrapping here makes it explicit for every strategy.
    """
    if keras.DTypePolicy(dtype_policy).compute_dtype == "float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def replicas_in_sync():
    """How many replicas share a training step (1 without tf.distribute).

    Each replica's gradients are summed, so Keras divides each replica's loss
    by this number; a hand-written ``train_step`` must do the same.
    """
    return tf.distribute.get_strategy().num_replicas_in_sync
