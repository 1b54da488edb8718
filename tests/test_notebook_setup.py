"""The setup helper every notebook calls first."""

import numpy as np
import pytest

from my_AE_code import notebook_setup


def test_quick_mode_from_environment(monkeypatch):
    monkeypatch.setenv("VAE_QUICK", "1")
    assert notebook_setup.quick_mode() is True
    monkeypatch.setenv("VAE_QUICK", "0")
    assert notebook_setup.quick_mode() is False
    monkeypatch.delenv("VAE_QUICK")
    assert notebook_setup.quick_mode() is False


def test_unclear_quick_value_is_an_error(monkeypatch):
    monkeypatch.setenv("VAE_QUICK", "maybe")
    with pytest.raises(ValueError, match="VAE_QUICK='maybe' is not understood"):
        notebook_setup.quick_mode()


def test_setup_seeds_and_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_QUICK", "1")
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VAE_RESULTS_DIR", str(tmp_path / "results"))
    setup = notebook_setup.setup_notebook(seed=7)
    first = np.random.rand(3)
    notebook_setup.setup_notebook(seed=7)
    np.testing.assert_array_equal(first, np.random.rand(3))
    assert setup.quick and setup.pick(full=30, quick=1) == 1
    assert setup.data_dir == tmp_path / "data"
    assert setup.results_dir.is_dir()
    assert isinstance(setup.gpus, tuple)
