"""The four ways of handling the KL loss (``solution_type`` 0 to 3), one unit each.

Every strategy receives the same Encoder (x -> z, mu, log_var) and Decoder
(z -> image) and turns them into a trainable Keras model. They differ only
in where the KL loss enters training:

==  =======================  ====================================================
0   Encoder layer (post V)   a layer after mu/log_var calls ``add_loss``
1   transfer (post VI)       mu and log_var are extra model outputs with own losses
2   model loss (post VII)    the model itself adds the KL loss in ``call``
3   train_step (post VIII)   a hand-written ``train_step`` with ``GradientTape``
==  =======================  ====================================================

Each strategy states its loss ``convention`` for ``fact`` (strategies 0-2
the mean convention, strategy 3 the sum convention; see
`my_AE_code.models.losses`) and its ``default_fact``, so callers ask the
strategy instead of testing ``solution_type``. All four log ``loss`` (total),
``reco_loss`` and ``kl_loss``; strategy 1 also logs its two KL parts as
``mu_loss`` and ``log_var_loss``.

``fact`` is held by the Keras layer or model that reads it (given when the
strategy builds it), next to the `MyVariationalAutoencoder` parameter it
comes from; a strategy keeps no copy.
"""

import keras
import tensorflow as tf
from keras import layers, ops

from my_AE_code.models.inputs import array_batches
from my_AE_code.models.losses import MEAN, SUM, kl_loss_mean, kl_loss_sum, reco_loss_sum
from my_AE_code.models.scaling import replicas_in_sync


class KLStrategy:
    """What each strategy provides to `MyVariationalAutoencoder`."""

    solution_type: int
    #: How ``fact`` and the logged losses are meant (`losses.MEAN` or `losses.SUM`).
    convention = MEAN
    #: ``fact`` when none is given: a usual MNIST value in the mean convention.
    default_fact = 1e-3

    def __init__(self, z_dim):
        self.z_dim = z_dim

    def in_encoder(self, mu, log_var, fact):
        """The Encoder's (mu, log_var), past whatever the strategy adds there (only strategy 0)."""
        return mu, log_var

    def build_model(self, encoder, decoder, fact):
        """The full VAE as a Keras model (built, ready to compile)."""
        raise NotImplementedError

    def compile(self, model, optimizer, jit_compile="auto"):
        model.compile(optimizer=optimizer, loss=keras.losses.BinaryCrossentropy(),
                      jit_compile=jit_compile)

    def targets(self, x):
        """The ``y`` that ``fit`` needs for a batch ``x`` (None: no targets)."""
        return x


def _vae_input(encoder):
    return keras.Input(shape=encoder.input_shape[1:], name="vae_input")


def _called_once(model, encoder):
    """A subclassed model has no weights until it is called; call it on one blank image."""
    model(ops.zeros((1, *encoder.input_shape[1:])))
    return model


class LogsAddedKL:
    """Mixin for models whose KL loss arrives through ``add_loss``: log it apart from the BCE.

    Keras adds every ``add_loss`` term to the compiled loss and logs only the
    sum. Splitting them here gives readable ``reco_loss`` and ``kl_loss``.
    It is a plain class, not a ``keras.Model``: Keras rewrites the base
    classes of a functional Model subclass, which must not reach the
    subclassed model of strategy 2.
    """

    def __init__(self, *args, **kwargs):  # pragma: no mutate block
        super().__init__(*args, **kwargs)
        self.reco_loss_tracker = keras.metrics.Mean(name="reco_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = super().compute_loss(x, y, y_pred, sample_weight, training)
        kl = ops.sum(self.losses)
        self.kl_loss_tracker.update_state(kl)
        # Under tf.distribute Keras divides each replica's total by the replica count.
        self.reco_loss_tracker.update_state(total * replicas_in_sync() - kl)
        return total


# --- solution_type 0: a KL layer in the Encoder (post V) ---------------------------------

class KLLossLayer(layers.Layer):
    """Strategy 0 (post V): add the KL loss right where mu and log_var are made.

    It passes mu and log_var through unchanged; its only effect is
    ``self.add_loss``, which Keras adds to the compiled reconstruction loss.
    """

    def __init__(self, fact, **kwargs):  # pragma: no mutate block
        super().__init__(**kwargs)
        self.fact = fact

    def call(self, inputs):
        mu, log_var = inputs
        self.add_loss(kl_loss_mean(mu, log_var, self.fact))
        return mu, log_var

    def get_config(self):
        return {**super().get_config(), "fact": self.fact}


class EncoderLayerVAE(LogsAddedKL, keras.Model):
    """Functional Encoder -> Decoder model; the KL loss comes from the Encoder's layer."""


class EncoderLayerKL(KLStrategy):
    """The Encoder's `KLLossLayer` adds the KL loss; the model is plain Encoder -> Decoder.

    Fastest and most Keras-like: the loss sits right next to the tensors it
    depends on, and compile/fit work unchanged with a BCE loss.
    """

    solution_type = 0

    def in_encoder(self, mu, log_var, fact):
        return KLLossLayer(fact, dtype="float32", name="kl_loss")([mu, log_var])

    def build_model(self, encoder, decoder, fact):
        x = _vae_input(encoder)
        z, _, _ = encoder(x)
        return EncoderLayerVAE(x, decoder(z), name="vae")


# --- solution_type 1: mu and log_var transferred to the output (post VI) ------------------

def mu_loss_fn(fact):
    def mu_loss(y_true, y_pred):
        """The mu part of the KL loss; y_true is a dummy Keras insists on."""
        return fact * ops.mean(ops.square(y_pred), axis=-1)
    return mu_loss


def log_var_loss_fn(fact):
    def log_var_loss(y_true, y_pred):
        """The log_var part of the KL loss; y_true is a dummy Keras insists on."""
        return -fact * ops.mean(1.0 + y_pred - ops.exp(y_pred), axis=-1)
    return log_var_loss


class TransferVAE(keras.Model):
    """Multi-output VAE that also logs the sum of its two KL parts as ``kl_loss``."""

    def __init__(self, *args, fact, **kwargs):  # pragma: no mutate block
        super().__init__(*args, **kwargs)
        self.fact = fact
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = super().compute_loss(x, y, y_pred, sample_weight, training)
        self.kl_loss_tracker.update_state(kl_loss_mean(y_pred["mu"], y_pred["log_var"], self.fact))
        return total


class TransferKL(KLStrategy):
    """mu and log_var leave the model as outputs, each with a standard ``loss(y_true, y_pred)``.

    The post routed them through a multi-input Decoder; here they go straight
    to the model's outputs, so ``decoder`` stays a plain z -> image model.
    Keras needs a ``y_true`` for every output even though the KL parts ignore
    it: `targets` makes zeros per batch, never an N x z_dim array.
    """

    solution_type = 1

    def build_model(self, encoder, decoder, fact):
        x = _vae_input(encoder)
        z, mu, log_var = encoder(x)
        outputs = {"reco": decoder(z), "mu": mu, "log_var": log_var}
        return TransferVAE(x, outputs, fact=fact, name="vae")

    def compile(self, model, optimizer, jit_compile="auto"):
        model.compile(optimizer=optimizer, loss={
            "reco": keras.losses.BinaryCrossentropy(),
            "mu": mu_loss_fn(model.fact),
            "log_var": log_var_loss_fn(model.fact),
        }, jit_compile=jit_compile)

    def targets(self, x):
        dummy = tf.zeros((tf.shape(x)[0], self.z_dim), dtype=x.dtype)
        return {"reco": x, "mu": dummy, "log_var": dummy}


def posts_dummy_targets(strategy, x, t_mu, t_logvar, batch_size, shuffle, seed=None):
    """Post VI's call: x with {reco: x, mu: t_mu, log_var: t_logvar}, as batches.

    Only strategy 1 has these outputs, and its KL parts ignore their targets:
    `TransferKL.targets` makes zeros per batch, so nobody needs to pass them.
    """
    if not isinstance(strategy, TransferKL):
        raise ValueError(f"t_mu and t_logvar are dummy targets for solution_type 1 only; this "
                         f"VAE has solution_type {strategy.solution_type}.")
    if t_mu is None or t_logvar is None:
        raise ValueError("Give both t_mu and t_logvar, or neither.")
    for name, target in (("t_mu", t_mu), ("t_logvar", t_logvar)):
        if tuple(target.shape) != (len(x), strategy.z_dim):
            raise ValueError(f"{name} has shape {tuple(target.shape)}, but x_train needs "
                             f"({len(x)}, {strategy.z_dim}).")
    return array_batches((x, {"reco": x, "mu": t_mu, "log_var": t_logvar}), batch_size,
                         shuffle, seed)


# --- solution_type 2: the model adds the KL loss (post VII) -------------------------------

class ModelAddLossVAE(LogsAddedKL, keras.Model):
    """Keras 3 refuses ``model.add_loss`` on symbolic tensors; inside ``call`` it works."""

    def __init__(self, encoder, decoder, fact, **kwargs):  # pragma: no mutate block
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.fact = fact

    def call(self, x, training=False):
        z, mu, log_var = self.encoder(x, training=training)
        self.add_loss(kl_loss_mean(mu, log_var, self.fact))
        return self.decoder(z, training=training)


class ModelLossKL(KLStrategy):
    """The KL loss belongs to the whole model, apart from the layer structure."""

    solution_type = 2

    def build_model(self, encoder, decoder, fact):
        return _called_once(ModelAddLossVAE(encoder, decoder, fact, name="vae"), encoder)


# --- solution_type 3: own train_step with GradientTape (post VIII) ------------------------

class TrainStepVAE(keras.Model):
    """A VAE that computes its losses itself; Keras only runs the loop."""

    def __init__(self, encoder, decoder, fact, **kwargs):  # pragma: no mutate block
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.fact = fact
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reco_loss_tracker = keras.metrics.Mean(name="reco_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reco_loss_tracker, self.kl_loss_tracker]

    def call(self, x, training=False):
        z, _, _ = self.encoder(x, training=training)
        return self.decoder(z, training=training)

    def compute_losses(self, x, training):
        z, mu, log_var = self.encoder(x, training=training)
        reco_loss = reco_loss_sum(x, self.decoder(z, training=training))
        kl_loss = kl_loss_sum(mu, log_var, self.fact)
        return reco_loss + kl_loss, reco_loss, kl_loss

    def _track(self, total, reco_loss, kl_loss):
        self.total_loss_tracker.update_state(total)
        self.reco_loss_tracker.update_state(reco_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        """One step, scaled as Keras's own ``train_step`` scales it.

        Under tf.distribute the replicas' gradients are summed, so each
        replica's loss counts 1 / replicas. Under mixed_float16 the optimizer
        is a LossScaleOptimizer: ``scale_loss`` multiplies the loss by its
        factor, and ``apply_gradients`` divides the gradients by it again
        (or skips a step whose gradients overflowed). Other optimizers
        return the loss unchanged.
        """
        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            total, reco_loss, kl_loss = self.compute_losses(x, training=True)
            scaled = self.optimizer.scale_loss(total / replicas_in_sync())
        gradients = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._track(total, reco_loss, kl_loss)

    def test_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self._track(*self.compute_losses(x, training=False))


class TrainStepKL(KLStrategy):
    """Full control: losses in the sum convention, computed in ``train_step``."""

    solution_type = 3
    convention = SUM
    #: The textbook ELBO; the CelebA posts use 5, and 1e-5 for a "tiny KL".
    default_fact = 1.0

    def build_model(self, encoder, decoder, fact):
        return _called_once(TrainStepVAE(encoder, decoder, fact, name="vae"), encoder)

    def compile(self, model, optimizer, jit_compile="auto"):
        model.compile(optimizer=optimizer, jit_compile=jit_compile)

    def targets(self, x):
        return None


STRATEGIES = {strategy.solution_type: strategy
              for strategy in (EncoderLayerKL, TransferKL, ModelLossKL, TrainStepKL)}
