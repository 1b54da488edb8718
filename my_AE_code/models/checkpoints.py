"""Checkpoints after every epoch, and resuming an interrupted training from them.

`EpochCheckpoint` writes ``folder/epoch_001``, ``epoch_002``, ... after every
epoch. Each holds what ``vae.save`` writes (``params.json`` and a
``*.weights.h5`` file, which with a compiled model also contains the Adam
state: iteration count, learning rate, moments) plus ``training_state.json``
with the epoch and the state of every random-number generator in the model
(the Sampling layer's SeedGenerator, dropout layers). That file is written
last, so a checkpoint without it (a crash during saving) is ignored.

Two ways to continue:

1. After a crash, re-run the same cell::

       vae.train_myVAE(x, batch_size, epochs, checkpoint_dir=folder)

   ``checkpoint_dir`` adds an `EpochCheckpoint` and first loads the latest
   checkpoint in ``folder`` (if any), starting at the epoch after it; a run
   that had finished is just loaded. Keras's ``BackupAndRestore`` works the
   same way but restores weights and optimizer only: the SeedGenerator states
   are not in a ``.weights.h5`` file, so after its restore the sampling noise
   starts again from the seed and the run drifts away from an uninterrupted
   one. It also keeps only one backup and deletes it when training ends.
   The checkpoint's parameters must equal the model's (``fact`` included):
   edited hyperparameters never silently continue an old run.
   The learning rate is the exception: training continues at the one the
   model was just compiled with, not the checkpoint's, and a printed note
   says so when the two differ. Lowering it to continue a run (or after a
   NaN loss) is a usual step, and it changes no weight's meaning.

   A damaged latest checkpoint (a weights file whose checksum does not match,
   an unreadable or implausible training state) is skipped with a warning
   that names it; training resumes from the one before it (``keep_last=2``
   keeps one). What a crash left of an interrupted save is deleted.

   Each run has an id, kept in its checkpoints. A run into a folder that holds
   another run's checkpoints (another notebook, or ``initial_epoch`` past
   them) must have the same parameters, never deletes that run's
   checkpoints and never mixes its history into its own. Under a
   multi-worker strategy only the chief writes checkpoints, as Keras's
   ``BackupAndRestore`` does.

2. Explicitly, from any epoch k::

       vae.compile_myVAE(learning_rate)
       k = load_checkpoint(vae, folder / "epoch_003")
       vae.train_myVAE(x, batch_size, epochs, initial_epoch=k)

With the same data order (``shuffle=False``, or a dataset that yields the
same batches) both end with the same weights as an uninterrupted run. With
``shuffle=True`` the resumed run is a correct continuation, but tf.data's
shuffling restarts with the new ``fit`` call, so its batches differ from those
an uninterrupted run would have drawn.
"""

import numbers
import re
import shutil
import uuid
import warnings
from pathlib import Path

import keras
import numpy as np

from my_AE_code.inference import keras_part
from my_AE_code.models.saving import (
    DamagedSaveError,
    folder_lock,
    make_folder,
    param_differences,
    read_json,
    read_params,
    remove_temporaries,
    write_json,
)

STATE_FILE = "training_state.json"
CHECKPOINT_PATTERN = re.compile(r"epoch_(\d+)$")


# --- random-number generator state --------------------------------------------------------

def _seed_variables(model):
    """The state variables of the model's SeedGenerators.

    Keras documents ``variables`` as ``weights`` plus the random seeds; the
    seeds are not in the ``.weights.h5`` file, so they are saved separately.
    """
    weight_ids = {id(weight) for weight in model.weights}
    return [variable for variable in model.variables if id(variable) not in weight_ids]


def rng_states(model):
    """Current state of every random generator in a VAE/AE object or Keras model, as lists."""
    return [np.asarray(v.numpy()).tolist() for v in _seed_variables(keras_part(model, "model"))]


def set_rng_states(model, states):
    """Put the random generators back into the states `rng_states` returned."""
    variables = _seed_variables(keras_part(model, "model"))
    for variable, state in zip(variables, checked_rng_states(model, states)):
        variable.assign(state)


def checked_rng_states(model, states, origin="the saved state"):
    """``states`` as arrays that fit the model's random generators, or a `DamagedSaveError`."""
    variables = _seed_variables(keras_part(model, "model"))
    if not isinstance(states, list) or len(variables) != len(states):
        count = len(states) if isinstance(states, list) else "no list of"
        raise DamagedSaveError(f"The model has {len(variables)} random generators, {origin} "
                               f"{count}: it comes from a different architecture, or is damaged.")
    arrays = []
    for variable, state in zip(variables, states):
        dtype = np.dtype(variable.dtype)
        try:
            array = np.asarray(state, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        fits = (array is not None and array.shape == tuple(variable.shape)
                and np.all(np.isfinite(array)) and np.all(array == np.round(array))
                and np.all(array >= np.iinfo(dtype).min) and np.all(array <= np.iinfo(dtype).max)
                if array is not None and np.issubdtype(dtype, np.integer) else
                array is not None and array.shape == tuple(variable.shape))
        if not fits:
            raise DamagedSaveError(f"{origin} holds a random generator state {state!r:.60} that "
                                   f"does not fit the model's (shape {tuple(variable.shape)}, "
                                   f"{dtype}).")
        arrays.append(array.astype(dtype))
    return arrays


# --- writing ------------------------------------------------------------------------------

class EpochCheckpoint(keras.callbacks.Callback):
    """Save a complete training state after every epoch into ``folder/epoch_NNN``.

    ``vae`` is the `MyVariationalAutoencoder` (or `MyAutoencoder`) object.
    ``keep_last`` limits how many of this run's checkpoints stay on disk (None
    keeps all): CelebA checkpoints with the Adam state are large. Checkpoints
    of other runs in the folder are left alone. See the module docstring for
    resuming.
    """

    def __init__(self, vae, folder, keep_last=None):
        super().__init__()
        if isinstance(vae, keras.Model) or not hasattr(vae, "save"):  # a Keras model saves too
            raise TypeError("EpochCheckpoint needs the MyVariationalAutoencoder/MyAutoencoder "
                            "object (it saves with vae.save), not a Keras model.")
        self.vae = vae
        self.folder = make_folder(folder)  # a bad folder fails now, not after an epoch
        self.keep_last = keep_last
        # Only the chief of a multi-worker run writes: the workers hold the same weights.
        self.writes = getattr(vae.distribute.extended, "should_checkpoint", True)

    @property
    def run_id(self):
        """This run's id: the one of the checkpoint the model was loaded from, or a new one."""
        if getattr(self.vae, "checkpoint_run_id", None) is None:
            self.vae.checkpoint_run_id = uuid.uuid4().hex
        return self.vae.checkpoint_run_id

    def on_epoch_end(self, epoch, logs=None):
        if not self.writes:
            return
        # The losses of all epochs so far: the previous epoch's checkpoint has the
        # earlier ones, also when this run resumed from it.
        history = _saved_history(self.folder / f"epoch_{epoch:03d}", self.run_id)
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(float(value))
        path = self.vae.save(self.folder / f"epoch_{epoch + 1:03d}")
        state = {"epoch": epoch + 1, "run": self.run_id, "rng_states": rng_states(self.vae),
                 "logs": {key: float(value) for key, value in (logs or {}).items()},
                 "history": history}
        write_json(path / STATE_FILE, state)  # written last: marks the checkpoint complete
        if self.keep_last:
            ours = [path for path, _ in checkpoints(self.folder)
                    if _run_of(path) == self.run_id]
            for old in ours[:-self.keep_last]:
                shutil.rmtree(old)


# --- finding and loading ------------------------------------------------------------------

def checkpoints(folder):
    """Complete checkpoints in ``folder`` as (path, epoch), oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = CHECKPOINT_PATTERN.match(path.name)
        if match and (path / STATE_FILE).exists():
            found.append((path, int(match.group(1))))
    return sorted(found, key=lambda item: item[1])


def latest_checkpoint(folder):
    """(path, epoch) of the newest complete checkpoint in ``folder``, or None if there is none."""
    found = checkpoints(folder)
    return found[-1] if found else None


def _saved_history(path, run_id=None):
    """The history saved in checkpoint ``path``: {} if there is none, or it is another run's."""
    try:
        state = _read_state(path)
    except (FileNotFoundError, DamagedSaveError):
        return {}
    if run_id is not None and state.get("run") != run_id:
        return {}
    return state["history"]


def _run_of(path):
    try:
        return _read_state(path).get("run")
    except (FileNotFoundError, DamagedSaveError):
        return None


def _read_state(path):
    """The training state of the checkpoint ``path``; a damaged one is a `DamagedSaveError`.

    The epoch must be the one in the folder's name, and the history a mapping
    of names to lists of numbers; the random generators' states are checked
    against the model by `checked_rng_states`.
    """
    file = Path(path) / STATE_FILE
    state = read_json(file)
    if not isinstance(state, dict) or not {"epoch", "rng_states"} <= state.keys():
        raise DamagedSaveError(f"{file} is damaged: it lacks the epoch or the random "
                               f"generators' states.")
    match = CHECKPOINT_PATTERN.match(Path(path).name)
    epoch = state["epoch"]
    if (isinstance(epoch, bool) or not isinstance(epoch, int)
            or (match and epoch != int(match.group(1)))):
        raise DamagedSaveError(f"{file} is damaged: its epoch {epoch!r:.40} is not the "
                               f"checkpoint's ({Path(path).name}).")
    history = state.setdefault("history", {})
    if not isinstance(history, dict) or not all(
            isinstance(values, list) and all(isinstance(value, numbers.Real) for value in values)
            for values in history.values()):
        raise DamagedSaveError(f"{file} is damaged: its history is not lists of numbers.")
    if not isinstance(state.get("run", ""), str):
        raise DamagedSaveError(f"{file} is damaged: its run id is not a string.")
    return state


def training_history(folder):
    """The logged losses of every epoch up to the latest checkpoint, as ``History.history``.

    A resumed run's ``History`` holds only the epochs it trained; this holds
    them all, also those before the interruption.
    """
    found = latest_checkpoint(folder)
    return _saved_history(found[0]) if found else {}


def load_checkpoint(vae, path):
    """Load weights, optimizer state and random generators of a checkpoint; returns its epoch.

    ``vae`` must be compiled: the Adam state (including its learning rate)
    is loaded into its optimizer, all but the learning rate: training goes on
    at the one the model was compiled with (see the module docstring). Its
    constructor parameters must all equal the checkpoint's, ``fact`` and
    ``seed`` included, so that a notebook whose hyperparameters were edited
    never silently continues the old run. Pass the returned epoch to
    ``train_myVAE(..., initial_epoch=epoch)``. For inference only, use
    ``MyVariationalAutoencoder.load(path)`` instead. A damaged checkpoint
    raises `DamagedSaveError` before anything is loaded.
    """
    path = Path(path)
    if not vae.model.compiled:
        raise RuntimeError("Compile the model (compile_myVAE / compile_myAE) before loading a "
                           "checkpoint to train on: the optimizer state needs an optimizer.")
    state = _read_state(path)
    _check_same_run_parameters(vae, path)
    rng = checked_rng_states(vae, state["rng_states"], origin=str(path / STATE_FILE))
    vae.load_weights(path)  # with the optimizer state, as the model is compiled
    _keep_compiled_learning_rate(vae, path)
    set_rng_states(vae, rng)
    vae.checkpoint_run_id = state.get("run")  # continuing that run
    return state["epoch"]


def _check_same_run_parameters(vae, path):
    differences = param_differences(read_params(path)["params"], vae.params)
    if differences:
        raise ValueError(f"The checkpoint {path} belongs to a run with other parameters: "
                         f"{'; '.join(differences)}. Train into another folder, or delete the "
                         f"old one.")


def _keep_compiled_learning_rate(vae, path):
    """Put back the learning rate of ``compile_my*``, which loading the Adam state replaced."""
    if vae.learning_rate is None:
        return  # compiled by hand, not by compile_my*: nothing edited to keep
    if isinstance(vae.learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return  # a schedule follows the iteration count, which the checkpoint restores
    optimizer = vae.model.optimizer
    saved = float(optimizer.learning_rate)
    if not np.isclose(saved, vae.learning_rate, rtol=1e-6):
        print(f"Continuing with learning_rate={vae.learning_rate:g}, as compiled; the checkpoint "
              f"{path} was trained with {saved:g}.")
        optimizer.learning_rate = vae.learning_rate


def resume_latest(vae, folder, initial_epoch=0, verbose=True):
    """Load the latest checkpoint in ``folder`` if it is past ``initial_epoch``.

    Returns the epoch to start training at: ``initial_epoch`` unchanged on a
    fresh start, the checkpoint's epoch after a crash. A damaged checkpoint
    is skipped with a warning for the one before it; if every one is
    damaged, that is an error (training from the start would soon delete
    the new checkpoints as the oldest). Used by
    ``train_myVAE(..., checkpoint_dir=folder)``.
    """
    _remove_leftovers(folder)
    found = checkpoints(folder)
    if found:  # also when starting past them: never train on in a folder of another setting
        _check_same_run_parameters(vae, found[-1][0])
    candidates = [path for path, epoch in found if epoch > initial_epoch]
    for path in reversed(candidates):
        try:
            epoch = load_checkpoint(vae, path)
        except DamagedSaveError as error:
            warnings.warn(f"Skipping the damaged checkpoint {path}: {error}", stacklevel=2)
            continue
        if verbose:
            print(f"Resuming after epoch {epoch} from {path}.")
        return epoch
    if candidates:
        raise DamagedSaveError(f"Every checkpoint in {folder} past epoch {initial_epoch} is "
                               f"damaged ({', '.join(path.name for path in candidates)}): delete "
                               f"them to train from epoch {initial_epoch}.")
    return initial_epoch


def _remove_leftovers(folder):
    """Delete what saves interrupted by a crash left in the checkpoints."""
    for path in Path(folder).glob("epoch_*"):
        if path.is_dir() and not path.is_symlink():
            with folder_lock(path, exclusive=True):
                remove_temporaries(path)
