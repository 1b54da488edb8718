"""What the AE and the VAE share: parameters, training input, saving and loading."""

import json
import os
from pathlib import Path

import keras
import tensorflow as tf

from my_AE_code.models.checks import check_architecture, check_dataset, check_images

#: The constructor parameters the AE and the VAE share; `check_architecture` validates them.
ARCHITECTURE = ("input_dim", "encoder_conv_filters", "encoder_conv_kernel_size",
                "encoder_conv_strides", "decoder_conv_t_filters", "decoder_conv_t_kernel_size",
                "decoder_conv_t_strides", "z_dim", "act", "enc_dense_units")
PARAMS_FILE = "params.json"
WEIGHTS_FILE = "model.weights.h5"
#: Parameters that change the weights' shapes or layout; the others (fact, seed)
#: only change how the model trains, so weights may move across them.
NOT_ARCHITECTURE = ("fact", "seed")


#: Options for pipelines over arrays already in memory. Slicing batches needs no
#: parallelism, and tf.data's autotuning threads otherwise compete with the
#: training step: on a 2-core machine every other epoch ran at one-core speed
#: (measured: 2.5 s instead of 1.3 s per epoch for 2,000 MNIST images).
_QUIET_PIPELINE = tf.data.Options()
_QUIET_PIPELINE.autotune.enabled = False
_QUIET_PIPELINE.threading.private_threadpool_size = 1


def array_batches(x, batch_size, shuffle=True):
    """Batches of an in-memory image array as float32, reshuffled every epoch if asked."""
    images = tf.data.Dataset.from_tensor_slices(tf.convert_to_tensor(x, dtype="float32"))
    if shuffle:
        images = images.shuffle(len(x), reshuffle_each_iteration=True)
    return images.batch(batch_size).with_options(_QUIET_PIPELINE)


class ConvAutoencoderBase:
    """Holds ``encoder``, ``decoder`` and ``model``; subclasses build them in ``_build``."""

    def __init__(self, **params):
        check_architecture(**{name: params[name] for name in ARCHITECTURE})
        params["input_dim"] = tuple(params["input_dim"])
        # A JSON round trip turns tuples into lists, so saved and live parameters compare equal.
        self.params = json.loads(json.dumps(params))
        for name, value in params.items():
            setattr(self, name, value)
        self.learning_rate = None
        self._build()

    def _build(self):
        raise NotImplementedError

    def _targets(self, x):
        """The ``y`` for ``fit`` given a batch ``x``; None when the model needs no targets."""
        return x

    # --- training --------------------------------------------------------------------

    def _compile(self, learning_rate, compile_model):
        self.learning_rate = learning_rate
        compile_model(self.model, keras.optimizers.Adam(learning_rate=learning_rate))

    def _fit(self, x_train, batch_size, epochs, initial_epoch, targets, callbacks, verbose,
             validation_data, shuffle, checkpoint_dir=None):
        if not self.model.compiled:
            raise RuntimeError(f"{type(self).__name__}.model is not compiled yet: call "
                               f"compile_myVAE(learning_rate) (compile_myAE for the AE) first.")
        if checkpoint_dir is not None:
            initial_epoch, callbacks = self._resumable(checkpoint_dir, initial_epoch, callbacks)
        train = self._as_dataset(x_train, batch_size, shuffle, targets, "x_train")
        val = None
        if validation_data is not None:
            val = self._as_dataset(validation_data, batch_size, False, self._targets, "validation_data")
        # shuffle=False: the dataset shuffles itself (Keras would only warn here).
        return self.model.fit(train, epochs=epochs, initial_epoch=initial_epoch, shuffle=False,
                              callbacks=callbacks, verbose=verbose, validation_data=val)

    def _resumable(self, checkpoint_dir, initial_epoch, callbacks):
        """Continue from the latest checkpoint in ``checkpoint_dir`` and add one per epoch.

        Re-running a training cell after a crash thus picks up where it
        stopped, with weights, optimizer and random state (see my_AE_code.callbacks).
        """
        from my_AE_code.callbacks import EpochCheckpoint, resume_latest

        initial_epoch = resume_latest(self, checkpoint_dir, initial_epoch)
        return initial_epoch, [*(callbacks or []), EpochCheckpoint(self, checkpoint_dir)]

    def _as_dataset(self, x, batch_size, shuffle, targets, name):
        """Batches of (x, y) pairs as ``fit`` wants them, from an array or a dataset.

        A tf.data.Dataset must already yield batches of images (or tuples whose
        first entry is the image batch, as the CelebA pipeline's (image,
        attributes) pairs); it is used as it is, without another shuffle.
        """
        input_dim = self.params["input_dim"]
        if isinstance(x, tf.data.Dataset):
            check_dataset(x, input_dim, name)
            if targets is None:  # already complete (x, y) pairs
                return x.prefetch(tf.data.AUTOTUNE)
            images = x.map(lambda *element: element[0])
        else:
            check_images(x, input_dim, name)
            images = array_batches(x, batch_size, shuffle)

        def pair(batch):
            y = targets(batch)
            return batch if y is None else (batch, y)

        return images.map(pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    # --- saving and loading ----------------------------------------------------------

    def save(self, folder):
        """Write ``params.json`` and ``model.weights.h5`` into ``folder``.

        Each file is written under a temporary name and then renamed, so an
        interrupted save never leaves a half-written file behind.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tmp_weights = folder / f"tmp-{os.getpid()}.{WEIGHTS_FILE}"
        self.model.save_weights(tmp_weights)
        os.replace(tmp_weights, folder / WEIGHTS_FILE)
        tmp_params = folder / f"tmp-{os.getpid()}.{PARAMS_FILE}"
        tmp_params.write_text(json.dumps({"class": type(self).__name__, "params": self.params},
                                         indent=2))
        os.replace(tmp_params, folder / PARAMS_FILE)
        return folder

    @classmethod
    def load(cls, folder):
        """Rebuild the object saved in ``folder`` and load its weights."""
        saved = _read_params(folder)
        if saved["class"] != cls.__name__:
            raise ValueError(f"{folder} holds a {saved['class']}, not a {cls.__name__}: "
                             f"load it with {saved['class']}.load(folder).")
        obj = cls(**saved["params"])
        obj.load_weights(folder)
        return obj

    def load_weights(self, folder):
        """Load weights saved by `save` (a folder) or by ``model.save_weights`` (a file).

        A folder's ``params.json`` is compared with this object's parameters
        first, so a mismatch is reported by name (``z_dim=16 in the file, 2
        here``) rather than as a shape error deep inside Keras.
        """
        path = Path(folder)
        if path.is_dir():
            self._check_same_architecture(_read_params(path), path)
            path = path / WEIGHTS_FILE
        if not path.exists():
            raise FileNotFoundError(f"No weights at {path}: save them with .save(folder) first.")
        optimizer = self.model.optimizer if self.model.compiled else None
        if optimizer is not None and not optimizer.built:
            # Keras skips a saved optimizer state (with a mere warning) when the
            # optimizer has no variables yet; build them so training continues
            # with the saved Adam moments.
            optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(path)
        except ValueError as error:
            raise ValueError(f"The weights in {path} do not fit this {type(self).__name__}; they "
                             f"were probably saved by a model with other constructor parameters. "
                             f"Keras says: {error}") from error

    def _check_same_architecture(self, saved, folder):
        if saved["class"] != type(self).__name__:
            raise ValueError(f"{folder} holds the weights of a {saved['class']}, but this is a "
                             f"{type(self).__name__}.")
        names = sorted((set(saved["params"]) | set(self.params)) - set(NOT_ARCHITECTURE))
        differ = [name for name in names if saved["params"].get(name) != self.params.get(name)]
        if differ:
            listing = "; ".join(f"{name}={saved['params'].get(name)!r} in the file, "
                                f"{self.params.get(name)!r} here" for name in differ)
            raise ValueError(f"The weights in {folder} belong to a different architecture: "
                             f"{listing}. Use {type(self).__name__}.load(folder) to rebuild the "
                             f"saved model, or build this one with the saved parameters.")


def _read_params(folder):
    path = Path(folder) / PARAMS_FILE
    if not path.exists():
        raise FileNotFoundError(f"No {PARAMS_FILE} in {folder}: is this a folder written by "
                                f".save(folder)?")
    return json.loads(path.read_text())
