"""Callbacks: images written during training, readable loss lines, epoch times."""

import types

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import compiled_vae  # noqa: E402
from my_AE_code import callbacks  # noqa: E402
from my_AE_code.inference import decode, encode  # noqa: E402
from my_AE_code.models import MyVariationalAutoencoder  # noqa: E402
from my_AE_code.models.checkpoints import rng_states  # noqa: E402
from my_AE_code.models.layouts import MNIST_LAYOUT  # noqa: E402

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
    names = sorted(path.name for path in (tmp_path / "images").glob("*.png"))
    stems = sorted(f"epoch_00{epoch}{batch}" for epoch in (1, 2) for batch in ("", "_batch_00002"))
    assert names == sorted(f"{stem}_{kind}.png" for stem in stems
                           for kind in ("generated", "reconstructed"))
    assert sorted(path.name for path in saver.saved) == names
    image = matplotlib.image.imread(tmp_path / "images" / "epoch_002_reconstructed.png")
    assert image.ndim == 3 and image.shape[0] > 50
    assert vae.enc_v_eps_factor == 1.0  # sampling switched back on after reconstructing

    # The images themselves come back, for a figure across epochs.
    images = callbacks.saved_images(tmp_path / "images")
    assert sorted(images) == stems
    np.testing.assert_allclose(images["epoch_002"]["generated"],
                               decode(vae, np.zeros((5, 2))), atol=1e-6)
    assert images["epoch_002"]["reconstructed"].shape == (3, 28, 28, 1)


def test_image_saver_leaves_the_random_state_alone(blobs, tmp_path):
    vae = compiled_vae()
    before = rng_states(vae)
    callbacks.ImageSaver(vae, tmp_path, x_fixed=blobs[:2]).save_images("now")
    assert rng_states(vae) == before
    encode(vae, blobs[:2])  # encoding itself does draw random numbers
    assert rng_states(vae) != before


def test_image_saver_arguments(blobs, tmp_path):
    vae = compiled_vae()
    with pytest.raises(ValueError, match="z_fixed"):
        callbacks.ImageSaver(vae, tmp_path)
    with pytest.raises(ValueError, match="whole VAE"):
        callbacks.ImageSaver(vae.decoder, tmp_path, x_fixed=blobs[:2])
    paths = callbacks.ImageSaver(vae.decoder, tmp_path, z_fixed=np.ones((2, 2))).save_images("d")
    assert [path.name for path in paths] == ["d_generated.png"]


def test_epoch_timer_measures_each_epoch(blobs, monkeypatch):
    """A fake clock: epoch k takes k + 1 seconds, plus 10 for the first one's tracing."""
    ticks = iter([0.0, 11.0, 100.0, 102.0, 200.0, 203.0, 300.0, 304.0])
    fake_time = types.SimpleNamespace(perf_counter=lambda: next(ticks))
    monkeypatch.setattr(callbacks, "time", fake_time)  # only the callbacks' clock
    vae = MyVariationalAutoencoder(**MNIST_LAYOUT)
    vae.compile_myVAE(0.001)
    timer = callbacks.EpochTimer()
    vae.train_myVAE(blobs[:64], batch_size=32, epochs=4, verbose=0, callbacks=[timer])
    assert timer.seconds == [11.0, 2.0, 3.0, 4.0]
    assert timer.steady == 3.0 and timer.best == 2.0  # the first (tracing) epoch left out


def test_epoch_clock_of_one_epoch_falls_back_to_it():
    clock = callbacks.EpochClock()
    clock.on_train_begin()
    clock.seconds.append(7.5)
    assert clock.steady == 7.5 and clock.best == 7.5


