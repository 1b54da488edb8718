"""The saved form of a model: a folder with ``params.json`` and ``model.weights.h5``.

``params.json`` holds the class name and the constructor parameters, so the
object can be rebuilt; the weights file holds what Keras saves (with the Adam
state when the model is compiled). No pickle: both files are plain formats.
"""

import json
import os
from pathlib import Path

PARAMS_FILE = "params.json"
WEIGHTS_FILE = "model.weights.h5"


def write_model_folder(obj, folder):
    """Write ``obj``'s weights and parameters into ``folder``; returns the folder.

    Each file is written under a temporary name and then renamed, so an
    interrupted save never leaves a half-written file behind.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp_weights = folder / f"tmp-{os.getpid()}.{WEIGHTS_FILE}"
    obj.model.save_weights(tmp_weights)
    os.replace(tmp_weights, folder / WEIGHTS_FILE)
    tmp_params = folder / f"tmp-{os.getpid()}.{PARAMS_FILE}"
    tmp_params.write_text(json.dumps({"class": type(obj).__name__, "params": obj.params},
                                     indent=2))
    os.replace(tmp_params, folder / PARAMS_FILE)
    return folder


def read_params(folder):
    """The ``{"class": ..., "params": {...}}`` saved in ``folder``."""
    path = Path(folder) / PARAMS_FILE
    if not path.exists():
        raise FileNotFoundError(f"No {PARAMS_FILE} in {folder}: is this a folder written by "
                                f".save(folder)?")
    return json.loads(path.read_text())


def param_differences(saved, live, ignore=()):
    """``"name=<saved> in the file, <live> here"`` for each parameter that differs, by name."""
    names = sorted((set(saved) | set(live)) - set(ignore))
    return [f"{name}={saved.get(name)!r} in the file, {live.get(name)!r} here"
            for name in names if saved.get(name) != live.get(name)]
