"""The saved form of a model: a folder with ``params.json`` and a ``*.weights.h5`` file.

``params.json`` holds the class name and the constructor parameters, so the
object can be rebuilt; the weights file holds what Keras saves (with the Adam
state when the model is compiled). No pickle: both files are plain formats.

A saved folder is all or nothing. The weights are written first, under a
name made from their SHA-256 checksum (``model-<16 hex digits>.weights.h5``);
``params.json``, written last and renamed into place in one step, names that
file and records its checksum. Until that rename the folder still holds the
previous save, whole; after it, the new one. Loading checks the checksum, so
flipped bytes in a weights file are an error naming the file, not NaN
outputs. Folders saved before checksums (``model.weights.h5`` and no
checksum in ``params.json``) still load, unchecked.
"""

import hashlib
import json
import os
import re
from pathlib import Path

PARAMS_FILE = "params.json"
#: The weights file of folders saved before checksums were recorded.
LEGACY_WEIGHTS_FILE = "model.weights.h5"
#: What an interrupted save leaves behind; removed by the next save into the folder.
TEMP_PREFIX = "tmp-"
#: The weights files a save writes, now and before checksums.
WEIGHTS_NAME = re.compile(r"model(-[0-9a-f]{16})?\.weights\.h5")


class DamagedSaveError(ValueError):
    """A saved folder or checkpoint whose files are damaged or do not belong together."""


def write_model_folder(obj, folder):
    """Write ``obj``'s weights and parameters into ``folder``; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f"{TEMP_PREFIX}{os.getpid()}.weights.h5"
    obj.model.save_weights(temporary)
    checksum = file_sha256(temporary)
    weights = folder / f"model-{checksum[:16]}.weights.h5"
    os.replace(temporary, weights)
    write_json(folder / PARAMS_FILE, {"class": type(obj).__name__, "params": obj.params,
                                      "weights_file": weights.name, "weights_sha256": checksum})
    _remove_unreferenced_weights(folder, keep=weights.name)
    return folder


def write_json(path, data):
    """Write ``data`` as JSON under a temporary name, then rename: never a half-written file."""
    path = Path(path)
    temporary = path.with_name(f"{TEMP_PREFIX}{os.getpid()}.{path.name}")
    temporary.write_text(json.dumps(data, indent=2))
    os.replace(temporary, path)


def read_json(path):
    """A JSON file written by `write_json`; a damaged one is an error that names it."""
    try:
        return json.loads(Path(path).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedSaveError(f"{path} is damaged ({error}).") from error


def read_params(folder):
    """The ``{"class": ..., "params": {...}, ...}`` saved in ``folder``."""
    path = Path(folder) / PARAMS_FILE
    if not path.exists():
        raise FileNotFoundError(f"No {PARAMS_FILE} in {folder}: is this a folder written by "
                                f".save(folder)?")
    saved = read_json(path)
    if not isinstance(saved, dict) or not {"class", "params"} <= saved.keys():
        raise DamagedSaveError(f"{path} is damaged: it lacks the class or the parameters.")
    return saved


def checked_weights_file(folder, saved):
    """The weights file that ``saved`` (from ``folder``) names, checked against its checksum."""
    path = Path(folder) / saved.get("weights_file", LEGACY_WEIGHTS_FILE)
    if not path.exists():
        raise FileNotFoundError(f"No weights at {path}: save them with .save(folder) first.")
    expected = saved.get("weights_sha256")
    if expected is not None and file_sha256(path) != expected:
        raise DamagedSaveError(f"{path} is damaged: its SHA-256 checksum differs from the one "
                               f"recorded in {PARAMS_FILE} when it was saved. Save the model "
                               f"again, or load an earlier copy (e.g. a checkpoint).")
    return path


def file_sha256(path):
    """The SHA-256 checksum of a file, as hex digits."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _remove_unreferenced_weights(folder, keep):
    """Delete earlier saves' weights and what interrupted saves left, once the new save counts."""
    for path in folder.iterdir():
        ours = path.name.startswith(TEMP_PREFIX) or WEIGHTS_NAME.fullmatch(path.name)
        if ours and path.name != keep and path.is_file():
            path.unlink()


def param_differences(saved, live, ignore=()):
    """``"name=<saved> in the file, <live> here"`` for each parameter that differs, by name."""
    names = sorted((set(saved) | set(live)) - set(ignore))
    return [f"{name}={saved.get(name)!r} in the file, {live.get(name)!r} here"
            for name in names if saved.get(name) != live.get(name)]
