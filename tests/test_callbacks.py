"""Callbacks: images written during training, readable loss lines, checkpoints and resuming."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import MNIST_ARCH  # noqa: E402
from my_AE_code import callbacks  # noqa: E402
from my_AE_code.latent_stats import encode  # noqa: E402
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder  # noqa: E402


def compiled_vae(solution_type=3, seed=0):
    """The same VAE every time: the global seed fixes weights and the sampling's seed."""
    keras.utils.set_random_seed(seed)
    vae = MyVariationalAutoencoder(**MNIST_ARCH, solution_type=solution_type)
    vae.compile_myVAE(learning_rate=0.001)
    return vae


# --- LossPrinter --------------------------------------------------------------------------

def test_loss_line_for_strategy_1():
    logs = {"loss": 0.20391, "reco_loss": 0.19853, "kl_loss": 0.00538, "mu_loss": 0.00122,
            "log_var_loss": 0.00414}
    lines = []
    callbacks.LossPrinter(print_fn=lines.append).on_epoch_end(2, logs)
    assert lines == ["epoch 3: total 0.2039  reco 0.1985  kl 0.0054  mu 0.0012  log_var 0.0041"]


def test_loss_line_with_validation_and_a_tiny_kl():
    line = callbacks.format_losses({"loss": 182.5, "kl_loss": 2.5e-5, "val_loss": 190.25})
    assert line == "total 182.5000  kl 2.500e-05  |  val: total 190.2500"


def test_loss_printer_reads_the_logs_of_a_real_run(blobs, capsys):
    vae = compiled_vae(solution_type=1)
    vae.train_myVAE(blobs[:64], batch_size=32, epochs=2, verbose=0,
                    callbacks=[callbacks.LossPrinter(every_n_epochs=2)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("epoch 2: total ")
    for label in ("reco", "kl", "mu", "log_var"):
        assert f"  {label} " in lines[0]


# --- ImageSaver ---------------------------------------------------------------------------

def test_image_saver_writes_grids_per_epoch_and_batch(blobs, tmp_path):
    vae = compiled_vae()
    saver = callbacks.ImageSaver(vae, tmp_path / "images", z_fixed=np.zeros((5, 2)),
                                 x_fixed=blobs[:3], every_n_epochs=1, every_n_batches=2)
    vae.train_myVAE(blobs[:64], batch_size=32, epochs=2, verbose=0, callbacks=[saver])
    names = sorted(path.name for path in (tmp_path / "images").iterdir())
    assert names == sorted(f"epoch_00{epoch}{batch}_{kind}.png" for epoch in (1, 2)
                           for batch in ("", "_batch_00002")
                           for kind in ("generated", "reconstructed"))
    assert sorted(path.name for path in saver.saved) == names
    image = matplotlib.image.imread(tmp_path / "images" / "epoch_002_reconstructed.png")
    assert image.ndim == 3 and image.shape[0] > 50
    assert vae.enc_v_eps_factor == 1.0  # sampling switched back on after reconstructing


def test_image_saver_leaves_the_random_state_alone(blobs, tmp_path):
    vae = compiled_vae()
    before = callbacks.rng_states(vae)
    callbacks.ImageSaver(vae, tmp_path, x_fixed=blobs[:2]).save_images("now")
    assert callbacks.rng_states(vae) == before
    encode(vae, blobs[:2])  # encoding itself does draw random numbers
    assert callbacks.rng_states(vae) != before


def test_image_saver_arguments(blobs, tmp_path):
    vae = compiled_vae()
    with pytest.raises(ValueError, match="z_fixed"):
        callbacks.ImageSaver(vae, tmp_path)
    with pytest.raises(ValueError, match="whole VAE"):
        callbacks.ImageSaver(vae.decoder, tmp_path, x_fixed=blobs[:2])
    paths = callbacks.ImageSaver(vae.decoder, tmp_path, z_fixed=np.ones((2, 2))).save_images("d")
    assert [path.name for path in paths] == ["d_generated.png"]


# --- checkpoints --------------------------------------------------------------------------

def test_latest_checkpoint_ignores_incomplete_ones(tmp_path):
    assert callbacks.latest_checkpoint(tmp_path / "missing") is None
    vae = compiled_vae()
    checkpoint = callbacks.EpochCheckpoint(vae, tmp_path, keep_last=2)
    for epoch in range(3):
        checkpoint.on_epoch_end(epoch, {"loss": 1.0})
    (tmp_path / "epoch_004").mkdir()  # a crash while saving: no training_state.json
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_002", "epoch_003", "epoch_004"]
    assert callbacks.latest_checkpoint(tmp_path) == (tmp_path / "epoch_003", 3)


def test_loading_a_checkpoint_needs_a_compiled_model(tmp_path):
    vae = compiled_vae()
    callbacks.EpochCheckpoint(vae, tmp_path).on_epoch_end(0)
    uncompiled = MyVariationalAutoencoder(**MNIST_ARCH, solution_type=3)
    with pytest.raises(RuntimeError, match="Compile"):
        callbacks.load_checkpoint(uncompiled, tmp_path / "epoch_001")


def test_a_checkpoint_of_other_hyperparameters_is_not_continued(tmp_path):
    callbacks.EpochCheckpoint(compiled_vae(), tmp_path).on_epoch_end(0)
    other = MyVariationalAutoencoder(**MNIST_ARCH, solution_type=3, fact=5.0)
    other.compile_myVAE(learning_rate=0.001)
    with pytest.raises(ValueError, match="fact=1.0 there, 5.0 here"):
        other.train_myVAE(np.zeros((4, 28, 28, 1), "float32"), batch_size=4, epochs=2,
                          checkpoint_dir=tmp_path)


def test_autoencoder_training_resumes_from_its_checkpoints(blobs, tmp_path):
    ae = MyAutoencoder(**MNIST_ARCH)
    ae.compile_myAE(learning_rate=0.001)
    ae.train_myAE(blobs[:32], batch_size=32, epochs=1, verbose=0, checkpoint_dir=tmp_path)
    history = ae.train_myAE(blobs[:32], batch_size=32, epochs=2, verbose=0,
                            checkpoint_dir=tmp_path)
    assert len(history.history["loss"]) == 1  # only epoch 2 was left
    assert callbacks.latest_checkpoint(tmp_path) == (tmp_path / "epoch_002", 2)


class Crash(keras.callbacks.Callback):
    """Stops training with an error when epoch ``at`` (0-based) begins."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt(f"crash before epoch {epoch + 1}")


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
    assert callbacks.latest_checkpoint(folder) == (folder / "epoch_002", 2)

    # Re-running the same call on a fresh object (another seed: nothing comes from it)
    # continues with epochs 3 and 4 and ends where the uninterrupted run ended.
    rerun = compiled_vae(solution_type, seed=99)
    history = rerun.train_myVAE(data, **fit, checkpoint_dir=folder)
    assert len(history.history["loss"]) == 2
    assert callbacks.latest_checkpoint(folder) == (folder / "epoch_004", 4)
    assert_same_weights(weights(rerun), weights(reference))

    # Loading epoch 2 by hand and passing initial_epoch=2 does the same.
    by_hand = compiled_vae(solution_type, seed=7)
    start = callbacks.load_checkpoint(by_hand, folder / "epoch_002")
    assert start == 2
    by_hand.train_myVAE(data, **fit, initial_epoch=start)
    assert_same_weights(weights(by_hand), weights(reference))

    if solution_type == 3:
        # Without the optimizer state (Keras's own load_weights on an unbuilt optimizer)
        # the result differs: the test above would notice a lost Adam state.
        no_optimizer = compiled_vae(solution_type, seed=7)
        with pytest.warns(UserWarning, match="optimizer"):
            no_optimizer.model.load_weights(folder / "epoch_002" / "model.weights.h5")
        no_optimizer.train_myVAE(data, **fit, initial_epoch=2)
        differences = [np.abs(a - b).max() for a, b in zip(weights(no_optimizer),
                                                           weights(reference))]
        assert max(differences) > 1e-4


def test_epoch_timer_measures_each_epoch(blobs):
    vae = MyVariationalAutoencoder(**MNIST_ARCH)
    vae.compile_myVAE(0.001)
    timer = callbacks.EpochTimer()
    vae.train_myVAE(blobs[:64], batch_size=32, epochs=3, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 3 and min(timer.seconds) > 0
    assert timer.steady == pytest.approx(float(np.median(timer.seconds[1:])))
    assert timer.best == min(timer.seconds[1:])
