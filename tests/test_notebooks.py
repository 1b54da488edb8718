"""Every notebook runs top to bottom in quick mode, in a real Jupyter kernel.

Cells tagged ``raises-exception`` must raise, and raise the error the
notebook's prose explains; no other cell may raise.
"""

import jupytext
import nbformat
import pytest

from my_AE_code.run_notebooks import NOTEBOOK_DIR, RAISES, notebook_paths, run_notebook

#: The errors each notebook's raises-exception cells demonstrate, in order:
#: (error type, a phrase its message must contain).
EXPECTED_ERRORS = {
    "03_kl_loss_problems": [
        ("ValueError", "`add_loss()` can only be called from inside `build()` or `call()`, "
                       "on a tensor input"),
        ("TypeError", "You are passing KerasTensor"),
    ],
    # Keras 3's Model.add_loss on symbolic tensors: a bare NotImplementedError.
    "07_model_add_loss": [("NotImplementedError", "")],
}

NOTEBOOKS = notebook_paths()


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_twin_in_sync(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{path.name} has no py:percent twin"
    from_py = jupytext.read(twin)
    from_ipynb = nbformat.read(path, as_version=4)
    assert [(c.cell_type, c.source) for c in from_py.cells] == \
           [(c.cell_type, c.source) for c in from_ipynb.cells], \
        f"run `jupytext --sync {twin}` to bring {path.name} in line"
    tags = [c.metadata.get("tags", []) for c in from_py.cells]
    assert [t for t in tags if RAISES in t] == \
           [c.metadata.get("tags", []) for c in from_ipynb.cells if RAISES in c.metadata.get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_starts_with_a_parameters_cell(path):
    notebook = nbformat.read(path, as_version=4)
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_in_quick_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_QUICK", "1")
    monkeypatch.setenv("VAE_RESULTS_DIR", str(tmp_path / "results"))
    run = run_notebook(path, out_dir=tmp_path)
    assert run.ok, run.problems
    expected = EXPECTED_ERRORS.get(path.stem, [])
    assert [name for name, _ in run.expected_errors] == [name for name, _ in expected]
    for (_, message), (_, phrase) in zip(run.expected_errors, expected):
        assert phrase in message
    executed = nbformat.read(run.output, as_version=4)
    images = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert images, "a notebook in this series shows its results as plots"
