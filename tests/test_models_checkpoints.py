"""Checkpoints after every epoch, and resuming an interrupted training to the same result."""

import contextlib
import json
import os
import shutil
import subprocess
import types

import keras
import numpy as np
import pytest
from conftest import Crash

from helpers import SMALL_MNIST_LAYOUT, compiled_vae, flip_bytes, images, tiny_vae, weights_file
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder, checkpoints, saving
from my_AE_code.models.layouts import TINY_LAYOUT


def test_latest_checkpoint_ignores_incomplete_ones(tmp_path):
    assert checkpoints.latest_checkpoint(tmp_path / "missing") is None
    vae = compiled_vae()
    checkpoint = checkpoints.EpochCheckpoint(vae, tmp_path, keep_last=2)
    for epoch in range(3):
        checkpoint.on_epoch_end(epoch, {"loss": 1.0})
    (tmp_path / "epoch_004").mkdir()  # a crash while saving: no training_state.json
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_002", "epoch_003", "epoch_004"]
    assert checkpoints.latest_checkpoint(tmp_path) == (tmp_path / "epoch_003", 3)


def test_loading_a_checkpoint_needs_a_compiled_model(tmp_path):
    vae = compiled_vae()
    checkpoints.EpochCheckpoint(vae, tmp_path).on_epoch_end(0)
    uncompiled = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=3)
    with pytest.raises(RuntimeError, match="Compile"):
        checkpoints.load_checkpoint(uncompiled, tmp_path / "epoch_001")


def test_a_checkpoint_of_other_hyperparameters_is_not_continued(tmp_path):
    checkpoints.EpochCheckpoint(compiled_vae(), tmp_path).on_epoch_end(0)
    other = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=3, fact=5.0)
    other.compile_myVAE(learning_rate=0.001)
    with pytest.raises(ValueError, match="fact=1.0 in the file, 5.0 here"):
        other.train_myVAE(np.zeros((4, 28, 28, 1), "float32"), batch_size=4, epochs=2,
                          checkpoint_dir=tmp_path)


def test_autoencoder_training_resumes_from_its_checkpoints(blobs, tmp_path):
    ae = MyAutoencoder(**SMALL_MNIST_LAYOUT)
    ae.compile_myAE(learning_rate=0.001)
    first = ae.train_myAE(blobs[:32], batch_size=32, epochs=1, verbose=0, checkpoint_dir=tmp_path)
    second = ae.train_myAE(blobs[:32], batch_size=32, epochs=3, verbose=0,
                           checkpoint_dir=tmp_path)
    assert len(second.history["loss"]) == 2  # only epochs 2 and 3 were left
    assert checkpoints.latest_checkpoint(tmp_path) == (tmp_path / "epoch_003", 3)
    # train_my* keeps the newest two checkpoints; their history spans both runs.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_002", "epoch_003"]
    assert checkpoints.training_history(tmp_path)["loss"] == pytest.approx(
        first.history["loss"] + second.history["loss"])


def weights(vae):
    return [w.numpy() for w in vae.model.weights]


def assert_same_weights(a, b):
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("solution_type", [0, 3])
def test_an_interrupted_run_resumes_to_the_uninterrupted_result(blobs, tmp_path, solution_type):
    data = blobs[:64]
    fit = dict(batch_size=32, epochs=4, verbose=0, shuffle=False)
    reference = compiled_vae(solution_type)
    reference.train_myVAE(data, **fit)

    # The crash: two epochs done and checkpointed, then an error.
    folder = tmp_path / "checkpoints"
    crashed = compiled_vae(solution_type)
    with pytest.raises(KeyboardInterrupt):
        crashed.train_myVAE(data, **fit, checkpoint_dir=folder, callbacks=[Crash(at=2)])
    assert checkpoints.latest_checkpoint(folder) == (folder / "epoch_002", 2)
    epoch_2 = shutil.copytree(folder / "epoch_002", tmp_path / "kept" / "epoch_002")

    # Re-running the same call on a fresh object (another seed: nothing comes from it)
    # continues with epochs 3 and 4 and ends where the uninterrupted run ended.
    rerun = compiled_vae(solution_type, seed=99)
    history = rerun.train_myVAE(data, **fit, checkpoint_dir=folder)
    assert len(history.history["loss"]) == 2
    assert checkpoints.latest_checkpoint(folder) == (folder / "epoch_004", 4)
    assert_same_weights(weights(rerun), weights(reference))

    # Loading epoch 2 by hand and passing initial_epoch=2 does the same.
    by_hand = compiled_vae(solution_type, seed=7)
    start = checkpoints.load_checkpoint(by_hand, epoch_2)
    assert start == 2
    by_hand.train_myVAE(data, **fit, initial_epoch=start)
    assert_same_weights(weights(by_hand), weights(reference))

    if solution_type == 3:
        # Without the optimizer state (Keras's own load_weights on an unbuilt optimizer)
        # the result differs: the test above would notice a lost Adam state.
        no_optimizer = compiled_vae(solution_type, seed=7)
        weights_file = saving.checked_weights_file(epoch_2, saving.read_params(epoch_2))
        with pytest.warns(UserWarning, match="optimizer"):
            no_optimizer.model.load_weights(weights_file)
        no_optimizer.train_myVAE(data, **fit, initial_epoch=2)
        differences = [np.abs(a - b).max() for a, b in zip(weights(no_optimizer),
                                                           weights(reference))]
        assert max(differences) > 1e-4


# --- hostile and shared checkpoint folders ---------------------------------------------------

class CountEpochs(keras.callbacks.Callback):
    epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


@contextlib.contextmanager
def unwritable(folder):
    """``folder`` that refuses new files, also to root (who ignores permission bits)."""
    folder.mkdir()
    folder.chmod(0o500)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    try:
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o700)


def test_a_checkpoint_dir_that_is_a_file_or_unwritable_fails_before_training(tmp_path):
    (tmp_path / "file").write_text("")
    counter = CountEpochs()
    with pytest.raises(NotADirectoryError, match="file cannot be a folder"):
        tiny_vae().train_myVAE(images(), 4, 2, verbose=0, callbacks=[counter],
                               checkpoint_dir=tmp_path / "file")
    with unwritable(tmp_path / "read-only") as folder:
        with pytest.raises(PermissionError, match=f"Cannot write into {folder}"):
            tiny_vae().train_myVAE(images(), 4, 2, verbose=0, callbacks=[counter],
                                   checkpoint_dir=folder)
    assert counter.epochs == 0


def test_another_run_into_the_folder_keeps_the_first_runs_checkpoints_and_history(tmp_path):
    tiny_vae().train_myVAE(images(), 4, 3, verbose=0, checkpoint_dir=tmp_path)
    first = {path.name: saving.file_sha256(path / saving.read_params(path)["weights_file"])
             for path, _ in checkpoints.checkpoints(tmp_path)}
    assert sorted(first) == ["epoch_002", "epoch_003"]

    history = tiny_vae(seed=0).train_myVAE(images(), 4, 6, initial_epoch=3, verbose=0,
                                           checkpoint_dir=tmp_path)

    assert len(history.history["loss"]) == 3
    assert [path.name for path, _ in checkpoints.checkpoints(tmp_path)] == [
        "epoch_002", "epoch_003", "epoch_005", "epoch_006"]
    for name, checksum in first.items():  # the first run's, untouched
        path = tmp_path / name
        assert saving.file_sha256(path / saving.read_params(path)["weights_file"]) == checksum
    assert checkpoints.training_history(tmp_path) == history.history  # not the first run's


def test_another_run_past_the_checkpoints_with_other_parameters_is_refused(tmp_path):
    tiny_vae().train_myVAE(images(), 4, 1, verbose=0, checkpoint_dir=tmp_path)
    other = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=3, seed=0, fact=5.0)
    other.compile_myVAE(0.01)
    with pytest.raises(ValueError, match="fact=1.0 in the file, 5.0 here"):
        other.train_myVAE(images(), 4, 3, initial_epoch=2, verbose=0,
                          checkpoint_dir=tmp_path)


@pytest.mark.parametrize("changes", [
    {"epoch": 10**12}, {"epoch": 2.5}, {"epoch": True}, {"epoch": "2"},
    {"rng_states": [[1, 2, 3]]}, {"rng_states": [[0.5, 2]]}, {"rng_states": "seed"},
    {"rng_states": [[2**70, 2]]}, {"history": {"loss": ["x"]}}, {"run": 7},
], ids=["huge-epoch", "float-epoch", "bool-epoch", "string-epoch", "rng-shape", "rng-float",
        "rng-string", "rng-overflow", "history", "run-id"])
def test_a_tampered_training_state_falls_back_to_the_checkpoint_before(tmp_path, changes):
    tiny_vae().train_myVAE(images(), 4, 2, verbose=0, checkpoint_dir=tmp_path)
    state_file = tmp_path / "epoch_002" / checkpoints.STATE_FILE
    state = json.loads(state_file.read_text())
    if "rng_states" in changes and isinstance(changes["rng_states"], list):
        changes = {"rng_states": changes["rng_states"] * len(state["rng_states"])}
    state_file.write_text(json.dumps({**state, **changes}))

    with pytest.warns(UserWarning, match=r"Skipping the damaged checkpoint .*epoch_002"):
        history = tiny_vae().train_myVAE(images(), 4, 2, verbose=0,
                                         checkpoint_dir=tmp_path)

    assert len(history.history["loss"]) == 1  # epoch 2 again, from epoch_001


def test_only_the_chief_of_a_multi_worker_run_writes_checkpoints(tmp_path):
    vae = tiny_vae()
    callback = checkpoints.EpochCheckpoint(vae, tmp_path / "chief")
    assert callback.writes  # one machine: its own chief
    vae.distribute = types.SimpleNamespace(  # what a non-chief worker's strategy says
        extended=types.SimpleNamespace(should_checkpoint=False), scope=vae.distribute.scope)
    worker = checkpoints.EpochCheckpoint(vae, tmp_path / "worker")
    worker.on_epoch_end(0, {"loss": 1.0})
    callback.on_epoch_end(0, {"loss": 1.0})
    assert os.listdir(tmp_path / "worker") == []
    assert [path.name for path, _ in checkpoints.checkpoints(tmp_path / "chief")] == ["epoch_001"]


# --- resuming after an edit, or from a damaged checkpoint -----------------------------------

@pytest.mark.parametrize("part", ["model", "encoder"])
def test_epoch_checkpoint_refuses_a_keras_model(tmp_path, part):
    """A Keras model has a save method too, but its checkpoint could not be resumed from."""
    with pytest.raises(TypeError, match="needs the MyVariationalAutoencoder/MyAutoencoder "
                                        "object .it saves with vae.save., not a Keras model"):
        checkpoints.EpochCheckpoint(getattr(tiny_vae(), part), tmp_path / "checkpoints")
    assert not (tmp_path / "checkpoints").exists()  # refused before making the folder


def test_resuming_under_a_learning_rate_schedule_follows_the_schedule(tmp_path, capsys):
    """A schedule follows the step count the checkpoint restores: no rate is put back."""
    def halving():
        return keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=1, decay_rate=0.5)

    tiny_vae(learning_rate=halving()).train_myVAE(images(), batch_size=4, epochs=1, verbose=0,
                                                  checkpoint_dir=tmp_path)
    resumed = tiny_vae(learning_rate=halving())
    history = resumed.train_myVAE(images(), batch_size=4, epochs=2, verbose=0,
                                  checkpoint_dir=tmp_path)
    assert len(history.history["loss"]) == 1  # it did resume
    assert "Continuing with" not in capsys.readouterr().out
    optimizer = resumed.model.optimizer
    assert int(optimizer.iterations) == 4  # two steps an epoch, two epochs
    # Halved at every step: a rate fixed at the resume would still be 0.01 / 4.
    assert float(optimizer.learning_rate) == pytest.approx(0.01 / 2 ** 4)


def test_resuming_applies_the_edited_learning_rate_and_says_so(tmp_path, capsys):
    tiny_vae(learning_rate=0.001).train_myVAE(images(), batch_size=4, epochs=1, verbose=0,
                                              checkpoint_dir=tmp_path)
    edited = tiny_vae(learning_rate=0.0001)
    history = edited.train_myVAE(images(), batch_size=4, epochs=2, verbose=0,
                                 checkpoint_dir=tmp_path)
    assert len(history.history["loss"]) == 1  # it did resume
    assert ("Continuing with learning_rate=0.0001, as compiled; the checkpoint "
            f"{tmp_path / 'epoch_001'} was trained with 0.001.") in capsys.readouterr().out
    assert float(edited.model.optimizer.learning_rate) == pytest.approx(1e-4)


@pytest.mark.parametrize("damage", [
    lambda checkpoint: flip_bytes(weights_file(checkpoint)),
    lambda checkpoint: (checkpoint / checkpoints.STATE_FILE).write_text('{"epoch": 2, "rng'),
], ids=["flipped_weights", "truncated_state"])
def test_a_damaged_latest_checkpoint_falls_back_to_the_one_before(tmp_path, damage):
    tiny_vae().train_myVAE(images(), batch_size=4, epochs=2, verbose=0, checkpoint_dir=tmp_path)
    damage(tmp_path / "epoch_002")
    leftover = tmp_path / "epoch_001" / ".tmp-4242abcd-weights"  # a save killed half-way
    leftover.mkdir()
    (leftover / "model.weights.h5").write_bytes(b"half a save")

    with pytest.warns(UserWarning, match=r"Skipping the damaged checkpoint .*epoch_002"):
        history = tiny_vae().train_myVAE(images(), batch_size=4, epochs=2, verbose=0,
                                         checkpoint_dir=tmp_path)

    assert len(history.history["loss"]) == 1  # epoch 2 again, from epoch_001
    assert not leftover.exists()
    assert checkpoints.load_checkpoint(tiny_vae(), tmp_path / "epoch_002") == 2  # repaired


def test_every_checkpoint_damaged_is_an_error_not_a_silent_restart(tmp_path):
    tiny_vae().train_myVAE(images(), batch_size=4, epochs=2, verbose=0, checkpoint_dir=tmp_path)
    for checkpoint in ("epoch_001", "epoch_002"):
        flip_bytes(weights_file(tmp_path / checkpoint))
    with pytest.warns(UserWarning), pytest.raises(saving.DamagedSaveError,
                                                  match="epoch_001, epoch_002.*delete them"):
        tiny_vae().train_myVAE(images(), batch_size=4, epochs=3, verbose=0,
                               checkpoint_dir=tmp_path)
