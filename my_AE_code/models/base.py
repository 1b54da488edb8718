"""What the AE and the VAE share: parameters, training input, saving and loading."""

import inspect
import json
import numbers
from pathlib import Path

import keras

from my_AE_code.celeba.damaged import naming_damaged_images
from my_AE_code.models import saving
from my_AE_code.models.architecture import Architecture
from my_AE_code.models.checkpoints import EpochCheckpoint, resume_latest
from my_AE_code.models.checks import check_learning_rate
from my_AE_code.models.inputs import training_batches
from my_AE_code.models.scaling import (
    building_scope,
    check_distribute,
    check_dtype_policy,
    check_jit_compile,
    with_loss_scaling,
)

#: Parameters that change how the model trains, not the weights' shapes or
#: layout: weights may move across them (variables are float32 under every policy).
NOT_ARCHITECTURE = ("fact", "seed", "dtype_policy")
#: Checkpoints kept by ``train_my*(checkpoint_dir=...)``: the newest, and one
#: before it in case the newest is damaged. (With Adam's state a CelebA
#: checkpoint takes about 60 MB.)
KEEP_CHECKPOINTS = 2


class ConvAutoencoderBase:
    """Holds ``encoder``, ``decoder`` and ``model``; subclasses build them in ``_build``.

    ``architecture`` (an `Architecture`) fixes the layers; ``seed``,
    ``dtype_policy`` and what `_loss_params` returns change how they start
    and compute. All of them are saved, as ``params``. ``dtype_policy``
    and ``distribute`` (a tf.distribute strategy, not saved: it belongs to
    the machine) are explained in `my_AE_code.models.scaling`; building and
    compiling happen in the strategy's scope under that policy.
    """

    def __init__(self, architecture, *, seed=None, dtype_policy=None, distribute=None):
        self.architecture = architecture
        self.dtype_policy = check_dtype_policy(dtype_policy)
        self.distribute = check_distribute(distribute)
        # The constructor's parameters, as params.json holds them. A JSON round trip turns
        # tuples into lists and numpy numbers into Python's, so saved and live ones compare equal.
        self.params = json.loads(json.dumps(
            {**architecture.as_params(), **self._loss_params(), "seed": seed,
             "dtype_policy": self.dtype_policy}, default=_plain_number))
        self.seed = self.params["seed"]
        self.learning_rate = None
        with building_scope(self.dtype_policy, self.distribute):
            self._build()

    def _loss_params(self):
        """The subclass's parameters of the loss, saved with the others: the AE has none."""
        return {}

    def _build(self):
        raise NotImplementedError

    def _targets(self, x):
        """The ``y`` for ``fit`` given a batch ``x``; None when the model needs no targets."""
        return x

    # --- training --------------------------------------------------------------------

    def _compile(self, learning_rate, compile_model, jit_compile="auto"):
        """Adam (with loss scaling under float16), compiled by ``compile_model``.

        ``compile_model(model, optimizer, jit_compile)`` is the strategy's
        ``compile``; ``self.model.jit_compile`` then says whether XLA is on.
        """
        check_learning_rate(learning_rate)
        check_jit_compile(jit_compile)
        self.learning_rate = learning_rate
        with self.distribute.scope():
            optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
            compile_model(self.model, with_loss_scaling(optimizer, self.dtype_policy),
                          jit_compile)

    def _batches(self, x, batch_size, shuffle, name="x_train"):
        """(x, y) batches for ``fit`` from an image array or a dataset of image batches."""
        return training_batches(x, batch_size, self.architecture.input_dim, self._targets,
                                shuffle=shuffle, seed=self.seed, name=name)

    def _fit(self, train, *, batch_size, epochs, initial_epoch, callbacks, verbose,
             validation_data, checkpoint_dir):
        """``model.fit`` on prepared batches, with validation data and checkpoints if asked."""
        if not self.model.compiled:
            raise RuntimeError(f"{type(self).__name__}.model is not compiled yet: call "
                               f"compile_myVAE(learning_rate) (compile_myAE for the AE) first.")
        if checkpoint_dir is not None:
            # Made first: a folder that cannot be written fails now, not after an epoch.
            checkpoint = EpochCheckpoint(self, checkpoint_dir, keep_last=KEEP_CHECKPOINTS)
            # Re-running a training cell after a crash picks up where it stopped.
            initial_epoch = resume_latest(self, checkpoint_dir, initial_epoch)
            callbacks = [*(callbacks or []), checkpoint]
        # Imported here: my_AE_code.callbacks imports models.checkpoints, so an import at the
        # top would make a cycle.
        from my_AE_code.callbacks import StopOnNaNLoss

        # First, so a NaN loss stops the run before any other callback sees the epoch end.
        callbacks = [StopOnNaNLoss(self.learning_rate), *(callbacks or [])]
        val = None
        if validation_data is not None:
            val = self._batches(validation_data, batch_size, shuffle=False,
                                name="validation_data")
        # shuffle=False: the batches are shuffled already (Keras would only warn here).
        with naming_damaged_images():
            return self.model.fit(train, epochs=epochs, initial_epoch=initial_epoch,
                                  shuffle=False, callbacks=callbacks, verbose=verbose,
                                  validation_data=val)

    # --- saving and loading ----------------------------------------------------------

    def save(self, folder):
        """Write ``params.json`` and the weights into ``folder``, all or nothing; returns it."""
        return saving.write_model_folder(self, folder)

    @classmethod
    def load(cls, folder, distribute=None):
        """Rebuild the object saved in ``folder`` (under ``distribute``) and load its weights.

        Nothing in the folder is trusted: the parameters are checked, and
        their weight count compared with the weights file's, before a model
        is built.
        """
        folder = _saved_folder(folder)
        with saving.folder_lock(folder, exclusive=False):  # no save half done meanwhile
            saved = saving.read_params(folder)
            if saved["class"] != cls.__name__:
                raise ValueError(f"{folder} holds a {saved['class']}, not a {cls.__name__}: "
                                 f"load it with {saved['class']}.load(folder).")
            params = cls._checked_saved_params(saved["params"], folder / saving.PARAMS_FILE)
            weights = saving.checked_weights_file(folder, saved)
            cls._check_weight_count(params, weights)
            obj = cls(**params, distribute=distribute)
            obj._load_weights_file(weights)
        return obj

    def load_weights(self, folder):
        """Load weights saved by `save` (a folder) or by ``model.save_weights`` (a file).

        A folder's ``params.json`` is compared with this object's parameters
        first, so a mismatch is reported by name (``z_dim=16 in the file, 2
        here``) rather than as a shape error deep inside Keras.
        """
        path = Path(folder)
        if not path.is_dir():
            if not path.exists():
                raise FileNotFoundError(f"No weights at {path}: save them with .save(folder) "
                                        f"first.")
            self._load_weights_file(path)
            return
        with saving.folder_lock(path, exclusive=False):
            saved = saving.read_params(path)
            self._check_same_architecture(saved, path)
            weights = saving.checked_weights_file(path, saved)
            self._check_weight_count(self.params, weights)
            self._load_weights_file(weights)

    @classmethod
    def _checked_saved_params(cls, params, origin):
        """``params`` read from the file ``origin``, valid for this class, or a clear error."""
        signature = inspect.signature(cls.__init__).parameters
        accepted = set(signature) - {"self", "distribute"}
        required = {name for name in accepted
                    if signature[name].default is inspect.Parameter.empty}
        unknown, missing = sorted(set(params) - accepted), sorted(required - set(params))
        if unknown or missing:
            listing = [f"{what} {', '.join(names)}" for what, names
                       in (("unknown", unknown), ("missing", missing)) if names]
            raise saving.DamagedSaveError(f"{origin} does not hold the parameters of a "
                                          f"{cls.__name__}: {'; '.join(listing)}.")
        try:
            cls.check_params(params)
        except (TypeError, ValueError) as error:
            raise saving.DamagedSaveError(f"{origin} holds parameters a {cls.__name__} cannot "
                                          f"be built with: {error}") from None
        return params

    @classmethod
    def _with_defaults(cls, params):
        """``params`` completed with the constructor's defaults (a save may predate one)."""
        defaults = {name: parameter.default for name, parameter
                    in inspect.signature(cls.__init__).parameters.items()
                    if parameter.default is not inspect.Parameter.empty}
        return {**defaults, **params}

    @classmethod
    def check_params(cls, params):
        """Validate constructor parameters without building anything."""
        params = cls._with_defaults(params)
        Architecture.from_params(params)
        check_dtype_policy(params["dtype_policy"])

    @classmethod
    def weight_count(cls, params):
        """How many weights the model of ``params`` has, counted without building it."""
        raise NotImplementedError

    @classmethod
    def _check_weight_count(cls, params, weights_file):
        """The weights file holds as many weights as ``params`` need: checked before building."""
        needed = cls.weight_count(cls._with_defaults(params))
        stored = saving.stored_weight_count(weights_file)
        if stored != needed:
            raise saving.DamagedSaveError(
                f"{weights_file} holds {stored:,} weights, but the parameters in "
                f"{saving.PARAMS_FILE} describe a {cls.__name__} of {needed:,}: the two files do "
                f"not belong together. Save the model again.")

    def _load_weights_file(self, path):
        optimizer = self.model.optimizer if self.model.compiled else None
        if optimizer is not None and not optimizer.built:
            # Keras skips a saved optimizer state (with a mere warning) when the
            # optimizer has no variables yet; build them so training continues
            # with the saved Adam moments.
            with self.distribute.scope():
                optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(path)
        except ValueError as error:
            if "Not allowed" in str(error):  # Keras's guard against hostile HDF5 files
                raise saving.DamagedSaveError(
                    f"Keras refuses to read {path}: {error}. A weights file written by .save "
                    f"never holds such a thing; do not use this file.") from None
            raise ValueError(f"The weights in {path} do not fit this {type(self).__name__}; they "
                             f"were probably saved by a model with other constructor parameters. "
                             f"Keras says: {error}") from error
        except OSError as error:  # h5py's word for a damaged file
            raise saving.DamagedSaveError(
                f"{path} is damaged and cannot be read ({error}). Save the model again, or "
                f"load an earlier copy (e.g. a checkpoint).") from error

    def _check_same_architecture(self, saved, folder):
        if saved["class"] != type(self).__name__:
            raise ValueError(f"{folder} holds the weights of a {saved['class']}, but this is a "
                             f"{type(self).__name__}.")
        differences = saving.param_differences(saved["params"], self.params, NOT_ARCHITECTURE)
        if differences:
            raise ValueError(f"The weights in {folder} belong to a different architecture: "
                             f"{'; '.join(differences)}. Use {type(self).__name__}.load(folder) "
                             f"to rebuild the saved model, or build this one with the saved "
                             f"parameters.")


def _saved_folder(folder):
    """``folder`` as a Path, or a clear error when there is no such folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No saved model at {folder}: is this a folder written by "
                                f".save(folder)?")
    return folder


def _plain_number(value):
    """JSON for numpy numbers (``z_dim=np.int64(16)``), which ``json`` does not know."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"{value!r} ({type(value).__name__}) cannot be saved as a parameter.")
