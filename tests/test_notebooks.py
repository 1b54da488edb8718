"""The notebooks as a reader meets them.

Every notebook runs top to bottom in a real Jupyter kernel with the smoke
budget (marked ``slow``). Cells tagged ``raises-exception`` must raise the
error the prose explains; no other cell may raise, print to stderr (a red box
in JupyterLab) or draw a figure twice. The static checks need no kernel: the
parameters cell is what runs, and JupyterLab opens and saves a notebook
without changing it.
"""

import asyncio
import re
import shutil

import jupytext
import nbformat
import pytest
from jupytext.async_contentsmanager import AsyncTextFileContentsManager

from my_AE_code.run_notebooks import (
    NOTEBOOK_DIR,
    assigned_names,
    budget_parameters,
    notebook_paths,
    run_notebook,
)

#: The errors each notebook's raises-exception cells demonstrate, in order:
#: (error type, a phrase its message must contain).
EXPECTED_ERRORS = {
    "03_kl_loss_problems": [
        ("ValueError", "`add_loss()` can only be called from inside `build()` or `call()`, "
                       "on a tensor input"),
        ("TypeError", "You are passing KerasTensor"),
    ],
    "04_rules_and_remedy": [("NotImplementedError", "`add_metric()` method is deprecated")],
    # Keras 3's Model.add_loss on symbolic tensors: a bare NotImplementedError.
    "07_model_add_loss": [("NotImplementedError", "")],
}
#: Warnings meant for the reader (the data is a stand-in). MNIST's shows as one line
#: "MnistFallbackWarning: ..."; Python's default form adds the caller's file and line in front
#: and the caller's code, indented, below.
MEANT_FOR_THE_READER = re.compile(
    r"^(?:.*: )?(MnistFallbackWarning|CelebaStandinWarning): .*\n(?:  .*\n?)?", re.MULTILINE)

NOTEBOOKS = notebook_paths()


def parameters_cell(notebook):
    return next(c for c in notebook.cells if c.cell_type == "code")


def test_there_are_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{n:02d}" for n in range(1, len(NOTEBOOKS) + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_twin_in_sync(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{path.name} has no py:percent twin"
    from_py = jupytext.read(twin)
    from_ipynb = nbformat.read(path, as_version=4)
    assert [(c.cell_type, c.source) for c in from_py.cells] == \
           [(c.cell_type, c.source) for c in from_ipynb.cells], \
        f"run `jupytext --sync {twin}` to bring {path.name} in line"
    assert [c.metadata.get("tags", []) for c in from_py.cells] == \
           [c.metadata.get("tags", []) for c in from_ipynb.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_what_runs(path):
    """The parameters cell comes first, and no later cell assigns its names again."""
    notebook = nbformat.read(path, as_version=4)
    parameters = parameters_cell(notebook)
    assert "parameters" in parameters.metadata.get("tags", [])
    names = assigned_names(parameters.source)
    later = [c for c in notebook.cells if c.cell_type == "code" and c is not parameters]
    for cell in later:
        overwritten = names & assigned_names(cell.source)
        assert not overwritten, f"{path.name} changes {overwritten} after the parameters cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opens_in_jupyterlab_with_its_kernel(path):
    metadata = nbformat.read(path, as_version=4).metadata
    assert metadata["kernelspec"]["name"] == "python3"
    assert metadata["language_info"]["name"] == "python"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opening_and_saving_changes_nothing(path, tmp_path):
    """JupyterLab, with jupytext pairing the twins, opens and saves through this manager."""
    for name in ("jupytext.toml", path.name, path.with_suffix(".py").name):
        shutil.copy(NOTEBOOK_DIR / name, tmp_path / name)
    def files():
        return {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    before = files()
    manager = AsyncTextFileContentsManager(root_dir=str(tmp_path))

    async def open_and_save(name):
        await manager.save(await manager.get(name), name)

    for name in (path.name, path.with_suffix(".py").name):
        asyncio.run(open_and_save(name))
        assert files() == before, f"saving {name} changed a file"


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    """One data and one results folder for all notebooks, as in a reader's clone: 11-14 load
    the model notebook 10 saved (tests/test_celeba_real_photos.py runs 11 without it)."""
    return tmp_path_factory.mktemp("data"), tmp_path_factory.mktemp("results")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_with_the_smoke_budget(path, run_dirs, monkeypatch):
    data_dir, results = run_dirs
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("VAE_RESULTS_DIR", str(results))
    run = run_notebook(path, out_dir=results / "notebooks", budget="smoke")
    assert run.ok, run.problems
    expected = EXPECTED_ERRORS.get(path.stem, [])
    assert [name for name, _ in run.expected_errors] == [name for name, _ in expected]
    for (_, message), (_, phrase) in zip(run.expected_errors, expected):
        assert phrase in message

    executed = nbformat.read(run.output, as_version=4)
    code_cells = [c for c in executed.cells if c.cell_type == "code"]
    if budget_parameters(path, "smoke"):
        assert "injected-parameters" in code_cells[1].metadata.tags
    images = [[o["data"]["image/png"] for o in c.outputs if "image/png" in o.get("data", {})]
              for c in code_cells]
    assert any(images), "a notebook in this series shows its results as plots"
    for cell, pngs in zip(code_cells, images):
        assert len(set(pngs)) == len(pngs), f"a figure drawn twice:\n{cell.source[:200]}"
    stderr = "".join(o.text for c in code_cells for o in c.outputs
                     if o.output_type == "stream" and o.name == "stderr")
    red_boxes = MEANT_FOR_THE_READER.sub("", stderr).strip()
    assert not red_boxes, f"stderr shows in JupyterLab as red boxes:\n{red_boxes}"
