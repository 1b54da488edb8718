"""The notebooks as files: what a reader opens before running anything.

The parameters cell is what runs, JupyterLab opens and saves a notebook without
changing it, and each .ipynb matches its py:percent twin. No kernel runs here:
the notebooks run, as shipped and edited, in tests/notebook_runs.py.
"""

import asyncio
import re
import shutil

import jupytext
import nbformat
import pytest
from jupytext.async_contentsmanager import AsyncTextFileContentsManager

from my_AE_code.run_notebooks import NOTEBOOK_DIR, assigned_names, notebook_paths
from notebook_runs import CELEBA_PART, EDITED, MNIST_PART, main_job_keys

NOTEBOOKS = notebook_paths()


def test_the_main_job_key_reader_finds_keys():
    """The parser of main_job_keys sees plain and f-string keys (else the drift check proves
    nothing)."""
    assert re.escape("area_ratio") in main_job_keys("04")
    assert "recognised_type_.+" in main_job_keys("08")


def test_the_two_parts_run_every_notebook_once_and_each_has_its_edits():
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert sorted(MNIST_PART + CELEBA_PART) == numbers
    assert sorted(EDITED) == numbers


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
