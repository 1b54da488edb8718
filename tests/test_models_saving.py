"""The saved folder (my_AE_code.models.saving) against concurrency and hostile contents.

Nothing a folder holds is trusted: a save must not write through a planted
link nor delete a user's files, and a load must refuse, with an error naming
the file and before building anything, whatever does not belong to a save.
"""

import errno
import json
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np
import pytest

from helpers import ROOT, flip_bytes, images, tiny_vae, weights_file
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder, saving
from my_AE_code.models.layouts import CELEBA_LAYOUT, MNIST_LAYOUT


def uncompiled_vae(seed=0, **changes):
    """What a save holds is the model alone: no optimizer to save."""
    return tiny_vae(seed, learning_rate=None, **changes)


def predict(vae):
    vae.set_enc_to_predict()
    return vae.model.predict(images(4), verbose=0)


def edit_params(folder, **changes):
    path = Path(folder) / saving.PARAMS_FILE
    saved = json.loads(path.read_text())
    saved.update(changes)
    path.write_text(json.dumps(saved))


@contextmanager
def deadline(seconds):
    """Fail, rather than hang the suite, if the block blocks (a FIFO, /dev/zero)."""
    def interrupt(*_):
        raise TimeoutError(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- 1. concurrent saves into one folder ------------------------------------------------------

SAVER = """
import sys
from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.layouts import TINY_LAYOUT
vae = MyVariationalAutoencoder(**TINY_LAYOUT, solution_type=3, seed=int(sys.argv[2]))
for _ in range(int(sys.argv[3])):
    vae.save(sys.argv[1])
"""

LOADER = """
import sys
from my_AE_code.models import MyVariationalAutoencoder
loaded = 0
while loaded < int(sys.argv[2]):
    try:
        MyVariationalAutoencoder.load(sys.argv[1])
    except FileNotFoundError as error:
        if "params.json" in str(error):  # before the first save: nothing to load yet
            continue
        raise
    loaded += 1
print("loaded", loaded)
"""


def test_concurrent_saves_and_loads_always_see_one_complete_model(tmp_path):
    folder = tmp_path / "vae"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = [sys.executable, "-c"]
    processes = [subprocess.Popen([*run, SAVER, str(folder), str(seed), "15"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for seed in (1, 2)]
    processes.append(subprocess.Popen([*run, LOADER, str(folder), "15"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-2000:]

    names = sorted(os.listdir(folder))
    assert names == sorted([saving.PARAMS_FILE, weights_file(folder).name])
    seed = saving.read_params(folder)["params"]["seed"]
    np.testing.assert_array_equal(predict(MyVariationalAutoencoder.load(folder)),
                                  predict(uncompiled_vae(seed)))


def test_a_file_system_without_locks_still_saves_and_loads(tmp_path, monkeypatch):
    def refuse(descriptor, operation):  # as some network mounts answer flock
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(saving.fcntl, "flock", refuse)
    uncompiled_vae().save(tmp_path / "vae")
    np.testing.assert_array_equal(predict(MyVariationalAutoencoder.load(tmp_path / "vae")),
                                  predict(uncompiled_vae()))


# --- 2. links planted in the folder ---------------------------------------------------------------

def test_a_save_never_writes_through_a_planted_link(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("the user's file")
    probe = tmp_path / "probe"
    uncompiled_vae().save(probe)
    folder = tmp_path / "vae"
    folder.mkdir()
    planted = [weights_file(probe).name, saving.PARAMS_FILE, f"tmp-{os.getpid()}.weights.h5",
               f"tmp-{os.getpid()}.params.json"]
    for name in planted:
        (folder / name).symlink_to(outside)

    uncompiled_vae().save(folder)

    assert outside.read_text() == "the user's file"
    for name in planted[:2]:
        assert not (folder / name).is_symlink()
    np.testing.assert_array_equal(predict(MyVariationalAutoencoder.load(folder)),
                                  predict(uncompiled_vae()))


# --- 3. what params.json names is not trusted ----------------------------------------------

def make_fifo(folder):
    os.mkfifo(folder / "model-0123456789abcdef.weights.h5")
    return "model-0123456789abcdef.weights.h5"


def link_out_of_the_folder(folder):
    target = folder.parent / "elsewhere.weights.h5"
    os.replace(weights_file(folder), target)
    (folder / "model-0123456789abcdef.weights.h5").symlink_to(target)
    return "model-0123456789abcdef.weights.h5"


@pytest.mark.parametrize("weights, message", [
    (lambda folder: "/dev/zero", "names the weights file '/dev/zero'"),
    (lambda folder: "../x.weights.h5", r"names the weights file '\.\./x\.weights\.h5'"),
    (lambda folder: str(weights_file(folder).resolve()), "names the weights file '/"),
    (link_out_of_the_folder, "is not a regular file"),
    (make_fifo, "is not a regular file"),
], ids=["dev-zero", "parent", "absolute", "symlink-out", "fifo"])
def test_load_reads_weights_only_from_a_regular_file_in_the_folder(tmp_path, weights, message):
    folder = tmp_path / "vae"
    uncompiled_vae().save(folder)
    edit_params(folder, weights_file=weights(folder))
    with deadline(30), pytest.raises(saving.DamagedSaveError, match=message):
        MyVariationalAutoencoder.load(folder)


def refuse_to_build(monkeypatch):
    def build(self):
        raise AssertionError("a model was built from the hostile parameters")
    monkeypatch.setattr(MyVariationalAutoencoder, "_build", build)


def test_an_absurd_architecture_is_refused_before_it_is_built(tmp_path, monkeypatch):
    folder = tmp_path / "vae"
    uncompiled_vae().save(folder)
    saved = saving.read_params(folder)
    edit_params(folder, params={**saved["params"], "z_dim": 10**7})
    refuse_to_build(monkeypatch)
    with pytest.raises(saving.DamagedSaveError, match=r"holds 1,065 weights, but the parameters "
                                                      r"in params.json describe .* of [\d,]{11}"):
        MyVariationalAutoencoder.load(folder)


def test_weights_of_another_architecture_are_refused_before_building(tmp_path, monkeypatch):
    folder = tmp_path / "vae"
    MyVariationalAutoencoder(**CELEBA_LAYOUT, solution_type=3).save(tmp_path / "celeba")
    uncompiled_vae().save(folder)
    other = weights_file(tmp_path / "celeba")
    os.replace(other, folder / other.name)
    edit_params(folder, weights_file=other.name, weights_sha256=saving.file_sha256(folder /
                                                                                   other.name))
    refuse_to_build(monkeypatch)
    with pytest.raises(saving.DamagedSaveError, match="do not belong together"):
        MyVariationalAutoencoder.load(folder)


@pytest.mark.parametrize("text, message", [
    ('{"class": "MyVariationalAutoencoder", "params": [1, 2]}', "parameters a mapping"),
    ('["not", "a", "dict"]', "lacks the class or the parameters"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"class": "MyVariationalAutoencoder", "params": {"z_dim": 1' + "0" * 5000 + "}}",
     "damaged"),
    ('{"class": "MyVariationalAutoencoder", "par', r"is damaged \(Unterminated string"),
], ids=["params-list", "top-list", "deep-nesting", "huge-integer", "truncated"])
def test_a_malformed_params_file_is_an_error_naming_it(tmp_path, text, message):
    folder = tmp_path / "vae"
    uncompiled_vae().save(folder)
    (folder / saving.PARAMS_FILE).write_text(text)
    with pytest.raises(saving.DamagedSaveError, match=message) as error:
        MyVariationalAutoencoder.load(folder)
    assert str(folder / saving.PARAMS_FILE) in str(error.value)


def test_a_folder_without_params_json_is_not_taken_for_a_save(tmp_path):
    folder = tmp_path / "vae"
    uncompiled_vae().save(folder)
    (folder / saving.PARAMS_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=f"No params.json in {folder}: is this a folder "
                                                r"written by \.save\(folder\)\?"):
        MyVariationalAutoencoder.load(folder)


@pytest.mark.parametrize("changes, message", [
    (dict(colour="red"), "unknown colour"),
    (dict(z_dim=None), "missing z_dim"),
    (dict(z_dim="3"), "z_dim must be an integer"),
    (dict(z_dim=1e400), "z_dim must be an integer"),
    (dict(solution_type=9), "solution_type=9 is unknown"),
], ids=["unknown-key", "missing-key", "string", "infinity", "strategy"])
def test_bad_parameters_are_an_error_naming_the_file(tmp_path, monkeypatch, changes, message):
    folder = tmp_path / "vae"
    uncompiled_vae().save(folder)
    params = {**saving.read_params(folder)["params"], **changes}
    params = {name: value for name, value in params.items() if value is not None}
    edit_params(folder, params=params)
    refuse_to_build(monkeypatch)
    with pytest.raises(saving.DamagedSaveError, match=message) as error:
        MyVariationalAutoencoder.load(folder)
    assert str(folder / saving.PARAMS_FILE) in str(error.value)


def plant_external_link(path, target):
    """Replace the group of the first weights of ``path`` by a link to that group in ``target``."""
    with h5py.File(path, "r+") as file:
        names = []
        file.visititems(lambda name, item: names.append(name)
                        if isinstance(item, h5py.Dataset) else None)
        group = names[0].rsplit("/", 1)[0]
        del file[group]
        file[group] = h5py.ExternalLink(str(target), group)


def test_an_hdf5_external_link_is_refused_as_what_it_is(tmp_path):
    uncompiled_vae(seed=1).save(tmp_path / "other")
    folder = tmp_path / "vae"
    uncompiled_vae().save(folder)
    weights = weights_file(folder)
    plant_external_link(weights, weights_file(tmp_path / "other"))
    edit_params(folder, weights_sha256=saving.file_sha256(weights))  # the attacker's own sum
    with pytest.raises(saving.DamagedSaveError, match="holds an HDF5 ExternalLink"):
        MyVariationalAutoencoder.load(folder)
    # Keras's own guard, reached by a bare file, is named as a refusal, not as a mismatch.
    with pytest.raises(saving.DamagedSaveError, match="Keras refuses to read .*ExternalLink"):
        uncompiled_vae().load_weights(weights)


# --- 4. a save removes only what saves wrote ----------------------------------------------------

def test_a_save_keeps_the_users_files_and_says_what_it_removed(tmp_path, capsys):
    folder = tmp_path / "vae"
    folder.mkdir()
    users = {"tmp-notes.txt": "notes", "model.weights.h5": "the user's own", "x.part": "part",
             ".tmp-notes": "hidden"}
    for name, text in users.items():
        (folder / name).write_text(text)
    (folder / ".tmp-abcd1234-weights").mkdir()  # what a save killed half-way leaves
    uncompiled_vae().save(folder)
    first = weights_file(folder).name
    capsys.readouterr()

    uncompiled_vae(seed=1).save(folder)

    for name, text in users.items():
        assert (folder / name).read_text() == text
    assert not (folder / first).exists() and not (folder / ".tmp-abcd1234-weights").exists()
    assert sorted(os.listdir(folder)) == sorted([*users, saving.PARAMS_FILE,
                                                 weights_file(folder).name])
    assert capsys.readouterr().out == (f"Removed from {folder}: {first} (written by earlier "
                                       f"saves).\n")


def test_a_save_into_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("")
    for path in (tmp_path / "file", tmp_path / "file" / "vae"):
        with pytest.raises(NotADirectoryError, match=f"{path} cannot be a folder: it, or a "
                                                     f"folder above it, is a file"):
            uncompiled_vae().save(path)


def test_a_legacy_save_replaced_by_a_new_one_is_removed(tmp_path):
    folder = tmp_path / "vae"
    uncompiled_vae().save(folder)
    params = saving.read_params(folder)
    os.replace(folder / params.pop("weights_file"), folder / saving.LEGACY_WEIGHTS_FILE)
    del params["weights_sha256"]
    (folder / saving.PARAMS_FILE).write_text(json.dumps(params))
    uncompiled_vae().save(folder)
    assert not (folder / saving.LEGACY_WEIGHTS_FILE).exists()  # params.json named it: a save's


def test_an_autoencoder_round_trip_passes_the_weight_count(tmp_path):
    ae = MyAutoencoder(**MNIST_LAYOUT, use_batch_norm=True, enc_dense_units=16)
    ae.save(tmp_path / "ae")
    x = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype("float32")
    np.testing.assert_array_equal(MyAutoencoder.load(tmp_path / "ae").model.predict(x, verbose=0),
                                  ae.model.predict(x, verbose=0))


# --- a save interrupted or damaged ----------------------------------------------------------

def test_a_save_interrupted_before_its_last_step_leaves_the_previous_save_whole(
        tmp_path, monkeypatch):
    uncompiled_vae().save(tmp_path / "vae")
    expected = predict(MyVariationalAutoencoder.load(tmp_path / "vae"))
    second = tiny_vae()
    second.train_myVAE(images(), batch_size=4, epochs=1, verbose=0)  # other weights

    def crash(path, data):
        raise KeyboardInterrupt  # killed after the new weights, before params.json

    monkeypatch.setattr(saving, "write_json", crash)
    with pytest.raises(KeyboardInterrupt):
        second.save(tmp_path / "vae")
    monkeypatch.undo()

    np.testing.assert_array_equal(predict(MyVariationalAutoencoder.load(tmp_path / "vae")),
                                  expected)
    second.save(tmp_path / "vae")  # the next save completes and tidies up
    assert sorted(os.listdir(tmp_path / "vae")) == sorted(
        ["params.json", saving.read_params(tmp_path / "vae")["weights_file"]])


def test_flipped_bytes_in_a_weights_file_are_detected(tmp_path):
    uncompiled_vae().save(tmp_path / "vae")
    weights = weights_file(tmp_path / "vae")
    flip_bytes(weights, start_fraction=0.6, n=16)
    with pytest.raises(saving.DamagedSaveError, match=f"{weights.name} is damaged: its SHA-256 "
                                                      "checksum differs"):
        MyVariationalAutoencoder.load(tmp_path / "vae")


def test_a_folder_saved_before_checksums_still_loads(tmp_path):
    vae = uncompiled_vae()
    vae.save(tmp_path / "vae")
    params = saving.read_params(tmp_path / "vae")
    os.replace(tmp_path / "vae" / params.pop("weights_file"),
               tmp_path / "vae" / saving.LEGACY_WEIGHTS_FILE)
    del params["weights_sha256"]
    (tmp_path / "vae" / saving.PARAMS_FILE).write_text(json.dumps(params))

    np.testing.assert_array_equal(predict(MyVariationalAutoencoder.load(tmp_path / "vae")),
                                  predict(vae))
