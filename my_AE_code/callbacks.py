"""Keras callbacks for the notebooks: images during training, readable losses, checkpoints.

Resuming training
-----------------
`EpochCheckpoint` writes ``folder/epoch_001``, ``epoch_002``, ... after every
epoch. Each holds what ``vae.save`` writes (``params.json`` and
``model.weights.h5``, which with a compiled model also contains the Adam
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

import json
import os
import re
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from my_AE_code.figures import plot_images, plot_reconstructions
from my_AE_code.latent_stats import decode, reconstruct
from my_AE_code.models.base import PARAMS_FILE

STATE_FILE = "training_state.json"
CHECKPOINT_PATTERN = re.compile(r"epoch_(\d+)$")


# --- random-number generator state --------------------------------------------------------

def _keras_model(obj):
    """The Keras model inside a `MyVariationalAutoencoder`/`MyAutoencoder`, or obj itself."""
    return getattr(obj, "model", obj)


def _seed_variables(model):
    """The state variables of the model's SeedGenerators.

    Keras documents ``variables`` as ``weights`` plus the random seeds; the
    seeds are not in ``model.weights.h5``, so they are saved separately.
    """
    weight_ids = {id(weight) for weight in model.weights}
    return [variable for variable in model.variables if id(variable) not in weight_ids]


def rng_states(model):
    """Current state of every random generator in the model, as lists of ints."""
    return [np.asarray(v.numpy()).tolist() for v in _seed_variables(_keras_model(model))]


def set_rng_states(model, states):
    """Put the random generators back into the states `rng_states` returned."""
    variables = _seed_variables(_keras_model(model))
    if len(variables) != len(states):
        raise ValueError(f"The model has {len(variables)} random generators, the saved state "
                         f"{len(states)}: it comes from a different architecture.")
    for variable, state in zip(variables, states):
        variable.assign(np.asarray(state, dtype=variable.dtype))


# --- images during training ---------------------------------------------------------------

class ImageSaver(keras.callbacks.Callback):
    """Save PNG grids during training: images decoded from fixed z, reconstructions of fixed x.

    Watching the same z-points and the same test images epoch after epoch
    shows how the Decoder learns (post X). ``vae_or_decoder`` is the whole
    VAE/AE object (needed for ``x_fixed``) or just a Decoder model.
    Files are named ``epoch_003_generated.png`` and
    ``epoch_003_reconstructed.png`` (``epoch_003_batch_00050_...`` with
    ``every_n_batches``); `saved` lists every path written.

    Making the images draws no random numbers from the model's generators
    (their state is put back), so saving images does not change training.
    """

    def __init__(self, vae_or_decoder, folder, z_fixed=None, x_fixed=None, every_n_epochs=1,
                 every_n_batches=None, ncols=8):
        super().__init__()
        if z_fixed is None and x_fixed is None:
            raise ValueError("Give z_fixed (points to decode), x_fixed (images to reconstruct) "
                             "or both.")
        if x_fixed is not None and not hasattr(vae_or_decoder, "encoder"):
            raise ValueError("Reconstructing x_fixed needs the whole VAE/AE object, not a "
                             "Decoder model.")
        self.source = vae_or_decoder
        self.folder = Path(folder)
        self.z_fixed = None if z_fixed is None else np.asarray(z_fixed, dtype="float32")
        self.x_fixed = None if x_fixed is None else np.asarray(x_fixed, dtype="float32")
        self.every_n_epochs = every_n_epochs
        self.every_n_batches = every_n_batches
        self.ncols = ncols
        self.saved = []
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.every_n_batches and (batch + 1) % self.every_n_batches == 0:
            self.save_images(f"epoch_{self._epoch + 1:03d}_batch_{batch + 1:05d}")

    def on_epoch_end(self, epoch, logs=None):
        if self.every_n_epochs and (epoch + 1) % self.every_n_epochs == 0:
            self.save_images(f"epoch_{epoch + 1:03d}")

    def save_images(self, stem):
        """Write the grids for this point of training; returns the paths written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        states = rng_states(self.source)
        written = []
        try:
            if self.z_fixed is not None:
                fig = plot_images(decode(self.source, self.z_fixed), ncols=self.ncols,
                                  suptitle=f"{stem}: decoded from fixed z")
                written.append(self._save(fig, f"{stem}_generated.png"))
            if self.x_fixed is not None:
                fig = plot_reconstructions(self.x_fixed, reconstruct(self.source, self.x_fixed),
                                           n=len(self.x_fixed))
                fig.suptitle(f"{stem}: reconstructions")
                written.append(self._save(fig, f"{stem}_reconstructed.png"))
        finally:
            set_rng_states(self.source, states)
        self.saved.extend(written)
        return written

    def _save(self, fig, name):
        path = self.folder / name
        fig.savefig(path, dpi=80)
        return path


# --- readable losses ----------------------------------------------------------------------

#: Logged loss names and their short labels, in printing order.
LOSS_LABELS = (("loss", "total"), ("reco_loss", "reco"), ("kl_loss", "kl"),
               ("mu_loss", "mu"), ("log_var_loss", "log_var"))


def _number(value):
    """4 decimals, or 4 significant digits for tiny values (a tiny-KL VAE's kl_loss)."""
    value = float(value)
    return f"{value:.4f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.3e}"


def format_losses(logs):
    """One line with whatever losses ``logs`` holds: ``total 0.2039  reco 0.1985  kl 0.0054``."""
    parts = []
    for prefix in ("", "val_"):
        values = [f"{label} {_number(logs[prefix + key])}"
                  for key, label in LOSS_LABELS if prefix + key in logs]
        if values:
            parts.append(("val: " if prefix else "") + "  ".join(values))
    return "  |  ".join(parts)


class EpochClock:
    """Wall-clock seconds of every epoch, in ``seconds``.

    The first epoch includes tracing the training function, so only the
    later ones count. `best` (the fastest of them, as ``timeit`` reports) is
    the figure to compare: on shared or virtual machines some epochs run
    slower because the process briefly gets fewer cores, whatever the model.
    `steady` is their median. A plain mixin, so that Keras 2 (tf_keras)
    callbacks can use it too; `EpochTimer` is the Keras 3 callback.
    """

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)

    @property
    def _later(self):
        return self.seconds[1:] or self.seconds

    @property
    def steady(self):
        return float(np.median(self._later))

    @property
    def best(self):
        return float(np.min(self._later))


class EpochTimer(EpochClock, keras.callbacks.Callback):
    """`EpochClock` as a Keras 3 callback: ``train_myVAE(..., callbacks=[timer])``."""


class LossPrinter(keras.callbacks.Callback):
    """Print one short line of losses per epoch (post VI), for every solution_type.

    Train with ``verbose=0`` to get just these lines instead of progress bars,
    e.g. ``epoch 3: total 0.2039  reco 0.1985  kl 0.0054  mu 0.0012  log_var 0.0041``.
    """

    def __init__(self, every_n_epochs=1, print_fn=print):
        super().__init__()
        self.every_n_epochs = every_n_epochs
        self.print_fn = print_fn

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.print_fn(f"epoch {epoch + 1}: {format_losses(logs or {})}")


# --- checkpoints and resuming -------------------------------------------------------------

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
        path = self.vae.save(self.folder / f"epoch_{epoch + 1:03d}")
        state = {"epoch": epoch + 1, "rng_states": rng_states(self.vae),
                 "logs": {key: float(value) for key, value in (logs or {}).items()}}
        temporary = path / f"tmp-{os.getpid()}.{STATE_FILE}"
        temporary.write_text(json.dumps(state, indent=2))
        os.replace(temporary, path / STATE_FILE)  # written last: marks the checkpoint complete
        if self.keep_last:
            for old, _ in _checkpoints(self.folder)[:-self.keep_last]:
                shutil.rmtree(old)


def _checkpoints(folder):
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
    found = _checkpoints(folder)
    return found[-1] if found else None


def load_checkpoint(vae, path):
    """Load weights, optimizer state and random generators of a checkpoint; returns its epoch.

    ``vae`` must be compiled: the Adam state (including its learning rate)
    is loaded into its optimizer. Its constructor parameters must all equal
    the checkpoint's, ``fact`` and ``seed`` included, so that a notebook whose
    hyperparameters were edited never silently continues the old run. Pass the
    returned epoch to ``train_myVAE(..., initial_epoch=epoch)``. For inference
    only, use ``MyVariationalAutoencoder.load(path)`` instead.
    """
    path = Path(path)
    model = vae.model
    if not model.compiled:
        raise RuntimeError("Compile the model (compile_myVAE / compile_myAE) before loading a "
                           "checkpoint to train on: the optimizer state needs an optimizer.")
    _check_same_run(vae, path)
    vae.load_weights(path)  # with the optimizer state, as the model is compiled
    state = json.loads((path / STATE_FILE).read_text())
    set_rng_states(vae, state["rng_states"])
    return state["epoch"]


def _check_same_run(vae, path):
    """Refuse to continue a checkpoint made with other parameters (e.g. another fact)."""
    saved = json.loads((path / PARAMS_FILE).read_text())["params"]
    differ = [name for name in sorted(set(saved) | set(vae.params))
              if saved.get(name) != vae.params.get(name)]
    if differ:
        listing = "; ".join(f"{name}={saved.get(name)!r} there, {vae.params.get(name)!r} here"
                            for name in differ)
        raise ValueError(f"The checkpoint {path} belongs to a run with other parameters: "
                         f"{listing}. Train into another folder, or delete the old one.")


def resume_latest(vae, folder, initial_epoch=0, verbose=True):
    """Load the latest checkpoint in ``folder`` if it is past ``initial_epoch``.

    Returns the epoch to start training at: ``initial_epoch`` unchanged on a
    fresh start, the checkpoint's epoch after a crash. Used by
    ``train_myVAE(..., checkpoint_dir=folder)``.
    """
    found = latest_checkpoint(folder)
    if found is None or found[1] <= initial_epoch:
        return initial_epoch
    path, _ = found
    epoch = load_checkpoint(vae, path)
    if verbose:
        print(f"Resuming after epoch {epoch} from {path}.")
    return epoch
