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
   an unreadable training state) is skipped with a warning that names it;
   training resumes from the one before it (``keep_last=2`` keeps one). What
   a crash left of an interrupted save (``tmp-*`` files) is deleted.

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

import re
import shutil
import warnings
from pathlib import Path

import keras
import numpy as np

from my_AE_code.inference import keras_part
from my_AE_code.models.saving import (
    TEMP_PREFIX,
    DamagedSaveError,
    param_differences,
    read_json,
    read_params,
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
    if len(variables) != len(states):
        raise ValueError(f"The model has {len(variables)} random generators, the saved state "
                         f"{len(states)}: it comes from a different architecture.")
    for variable, state in zip(variables, states):
        variable.assign(np.asarray(state, dtype=variable.dtype))


# --- writing ------------------------------------------------------------------------------

class EpochCheckpoint(keras.callbacks.Callback):
    """Save a complete training state after every epoch into ``folder/epoch_NNN``.

    ``vae`` is the `MyVariationalAutoencoder` (or `MyAutoencoder`) object.
    ``keep_last`` limits how many checkpoints stay on disk (None keeps all):
    CelebA checkpoints with the Adam state are large. See the module
    docstring for resuming.
    """

    def __init__(self, vae, folder, keep_last=None):
        super().__init__()
        if not hasattr(vae, "save"):
            raise TypeError("EpochCheckpoint needs the MyVariationalAutoencoder/MyAutoencoder "
                            "object (it saves with vae.save), not a Keras model.")
        self.vae = vae
        self.folder = Path(folder)
        self.keep_last = keep_last

    def on_epoch_end(self, epoch, logs=None):
        # The losses of all epochs so far: the previous epoch's checkpoint has the
        # earlier ones, also when this run resumed from it.
        history = _saved_history(self.folder / f"epoch_{epoch:03d}")
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(float(value))
        path = self.vae.save(self.folder / f"epoch_{epoch + 1:03d}")
        state = {"epoch": epoch + 1, "rng_states": rng_states(self.vae),
                 "logs": {key: float(value) for key, value in (logs or {}).items()},
                 "history": history}
        write_json(path / STATE_FILE, state)  # written last: marks the checkpoint complete
        if self.keep_last:
            for old, _ in checkpoints(self.folder)[:-self.keep_last]:
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


def _saved_history(path):
    try:
        return _read_state(path).get("history", {})
    except (FileNotFoundError, DamagedSaveError):
        return {}


def _read_state(path):
    """The training state of the checkpoint ``path``; a damaged one is a `DamagedSaveError`."""
    state = read_json(Path(path) / STATE_FILE)
    if not isinstance(state, dict) or not {"epoch", "rng_states"} <= state.keys():
        raise DamagedSaveError(f"{Path(path) / STATE_FILE} is damaged: it lacks the epoch or "
                               f"the random generators' states.")
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
    differences = param_differences(read_params(path)["params"], vae.params)
    if differences:
        raise ValueError(f"The checkpoint {path} belongs to a run with other parameters: "
                         f"{'; '.join(differences)}. Train into another folder, or delete the "
                         f"old one.")
    vae.load_weights(path)  # with the optimizer state, as the model is compiled
    _keep_compiled_learning_rate(vae, path)
    set_rng_states(vae, state["rng_states"])
    return state["epoch"]


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
    candidates = [path for path, epoch in checkpoints(folder) if epoch > initial_epoch]
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
    """Delete what saves interrupted by a crash left in the checkpoints (``tmp-*`` files)."""
    for path in Path(folder).glob(f"epoch_*/{TEMP_PREFIX}*"):
        path.unlink()
