"""Keras callbacks: images during training, readable losses, epoch times, a NaN loss stopped.

The models' ``train_my*`` add `StopOnNaNLoss` to every run; the others are
for the notebooks to pass. Checkpoints after every epoch (`EpochCheckpoint`)
and resuming from them live with the models, in `my_AE_code.models.checkpoints`.
"""

import time
from pathlib import Path

import keras
import numpy as np

from my_AE_code.figures import plot_images, plot_reconstructions
from my_AE_code.inference import decode, reconstruct
from my_AE_code.models.checkpoints import rng_states, set_rng_states

# --- images during training ---------------------------------------------------------------

class ImageSaver(keras.callbacks.Callback):
    """Save PNG grids during training: images decoded from fixed z, reconstructions of fixed x.

    Watching the same z-points and the same test images epoch after epoch
    shows how the Decoder learns (post X). ``vae_or_decoder`` is the whole
    VAE/AE object (needed for ``x_fixed``) or just a Decoder model.
    Files are named ``epoch_003_generated.png`` and
    ``epoch_003_reconstructed.png`` (``epoch_003_batch_00050_...`` with
    ``every_n_batches``), next to ``epoch_003.npz`` with the images
    themselves; `saved` lists every PNG written. `saved_images` reads the
    images back, also those of an earlier, interrupted run, to show how they
    changed across epochs in one figure.

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
        written, images = [], {}
        try:
            if self.z_fixed is not None:
                images["generated"] = decode(self.source, self.z_fixed)
                fig = plot_images(images["generated"], ncols=self.ncols,
                                  suptitle=f"{stem}: decoded from fixed z")
                written.append(self._save(fig, f"{stem}_generated.png"))
            if self.x_fixed is not None:
                images["reconstructed"] = reconstruct(self.source, self.x_fixed)
                fig = plot_reconstructions(self.x_fixed, images["reconstructed"],
                                           n=len(self.x_fixed))
                fig.suptitle(f"{stem}: reconstructions")
                written.append(self._save(fig, f"{stem}_reconstructed.png"))
        finally:
            set_rng_states(self.source, states)
        np.savez_compressed(self.folder / f"{stem}.npz", **images)
        self.saved.extend(written)
        return written

    def _save(self, fig, name):
        path = self.folder / name
        fig.savefig(path, dpi=80)
        return path


def saved_images(folder):
    """The images an `ImageSaver` wrote to ``folder``: {stem: {"generated": ..., ...}}, sorted."""
    images = {}
    for path in sorted(Path(folder).glob("epoch_*.npz")):
        with np.load(path) as arrays:
            images[path.stem] = {name: arrays[name] for name in arrays.files}
    return images


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


# --- a loss that turns NaN ----------------------------------------------------------------

class NaNLossError(FloatingPointError):
    """Training stopped because the loss became NaN or infinite."""


class StopOnNaNLoss(keras.callbacks.TerminateOnNaN):
    """Keras's ``TerminateOnNaN``, with an error that says what to do.

    Keras's callback either lets the epoch end (so a checkpoint of NaN
    weights would be written) or raises a bare RuntimeError. This one raises
    at the batch, before any checkpoint, with the likely causes and remedies.
    """

    #: It reads nothing but the logs it is given, so Keras may call it from a
    #: background thread and need not wait for every batch's loss.
    async_safe = True

    def __init__(self, learning_rate=None):
        super().__init__(raise_error=True)
        self.learning_rate = learning_rate
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        try:
            super().on_batch_end(batch, logs)
        except RuntimeError as error:
            raise NaNLossError(
                f"The loss became {logs['loss']} at batch {batch + 1} of epoch {self._epoch + 1}, "
                f"so training stopped: the weights are no longer usable. Lower the learning rate "
                f"(it is {self.learning_rate}) or check the data for NaN and unscaled values, "
                f"then build the model again (or re-run with checkpoint_dir, which resumes from "
                f"the last good epoch).") from error
