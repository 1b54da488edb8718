"""Crash-ordering promises: a checkpoint or a prepared image counts only once it is complete.

Each test interrupts a write between its steps (a patched step writes part of
its file, or all of it, and then raises, or ends the process outright as a
SIGKILL would) and checks what a resumed training or a re-run of the
preparation sees.
"""

import os
import subprocess
import sys

import keras
import pytest
from PIL import Image

from helpers import ROOT, images, tiny_vae, write_jpegs
from my_AE_code.celeba.prepare import prepare_celeba
from my_AE_code.models import checkpoints


class Killed(BaseException):
    """The process stops here (a BaseException, as KeyboardInterrupt: nothing catches it)."""


# --- checkpoints --------------------------------------------------------------------------

def kill_while_saving_weights(vae, monkeypatch, whole_file):
    """The next save of the weights writes half the file, or all of it, then the process dies."""
    real_save_weights = vae.model.save_weights

    def save_weights_then_die(path, *args, **kwargs):
        real_save_weights(path, *args, **kwargs)
        if not whole_file:
            data = open(path, "rb").read()
            with open(path, "wb") as file:
                file.write(data[: len(data) // 2])
        raise Killed(f"killed while saving {path}")

    monkeypatch.setattr(vae.model, "save_weights", save_weights_then_die)


class KillAtEpoch(keras.callbacks.Callback):
    """Arms the weights-saving crash when epoch ``at`` (0-based) begins."""

    def __init__(self, arm, at):
        super().__init__()
        self.arm, self.at = arm, at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            self.arm()


@pytest.mark.parametrize("whole_file", [False, True], ids=["half-written", "written"])
def test_a_checkpoint_killed_while_saving_is_not_resumed_from(tmp_path, monkeypatch, whole_file):
    folder = tmp_path / "checkpoints"
    vae = tiny_vae()
    arm = KillAtEpoch(lambda: kill_while_saving_weights(vae, monkeypatch, whole_file), at=2)
    with pytest.raises(Killed):
        vae.train_myVAE(images(), batch_size=4, epochs=4, verbose=0, checkpoint_dir=folder,
                        callbacks=[arm])
    # Epoch 3's checkpoint was being written when the process died: it does not count.
    assert checkpoints.latest_checkpoint(folder) == (folder / "epoch_002", 2)
    assert [epoch for _, epoch in checkpoints.checkpoints(folder)] == [1, 2]

    # Re-running the cell resumes after epoch 2 and finishes.
    monkeypatch.undo()
    rerun = tiny_vae()
    history = rerun.train_myVAE(images(), batch_size=4, epochs=4, verbose=0,
                                checkpoint_dir=folder)
    assert len(history.history["loss"]) == 2
    assert checkpoints.latest_checkpoint(folder) == (folder / "epoch_004", 4)
    assert checkpoints.load_checkpoint(tiny_vae(), folder / "epoch_004") == 4


# --- prepared images ----------------------------------------------------------------------

#: Preparation whose third image write stops halfway with the process: ``os._exit`` runs
#: no ``except`` or ``finally`` clause, as SIGKILL or a power cut would not.
DIE_WHILE_WRITING = """
import os, sys
from PIL import Image
from my_AE_code.celeba.prepare import prepare_celeba

real_save, saved = Image.Image.save, []

def save_then_die_on_the_third(image, fp, *args, **kwargs):
    real_save(image, fp, *args, **kwargs)
    saved.append(fp)
    if len(saved) == 3:
        fp.flush()
        fp.truncate(fp.tell() // 2)
        os._exit(9)

Image.Image.save = save_then_die_on_the_third
prepare_celeba(sys.argv[1], sys.argv[2], size=16, workers=1, verbose=False)
"""


def test_an_image_killed_while_written_is_redone_by_the_rerun(tmp_path):
    colours = [(40, 100 + 20 * index, 90) for index in range(6)]
    source = write_jpegs(tmp_path / "img_align_celeba", colours, quality=95)
    out = tmp_path / "prepared"
    killed = subprocess.run([sys.executable, "-c", DIE_WHILE_WRITING, str(source), str(out)],
                            cwd=ROOT, capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    # Only the two whole images carry a final name; the third is not there under its own.
    assert sorted(name for name in os.listdir(out) if name.endswith(".jpg")) == [
        "000001.jpg", "000002.jpg"]

    report = prepare_celeba(source, out, size=16, workers=1, verbose=False)
    assert (report.already_done, report.converted, report.failed) == (2, 4, [])
    assert sorted(os.listdir(out)) == sorted(os.listdir(source))
    for name in os.listdir(out):
        with Image.open(out / name) as image:
            image.load()  # decodes in full: no half image survived
            assert image.size == (16, 16)
