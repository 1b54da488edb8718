"""The notebooks as a reader meets them.

Every notebook runs top to bottom in a real Jupyter kernel with the smoke
budget (marked ``slow``). Cells tagged ``raises-exception`` must raise the
error the prose explains; no other cell may raise, print to stderr (a red box
in JupyterLab) or draw a figure twice. The static checks need no kernel: the
parameters cell is what runs, and JupyterLab opens and saves a notebook
without changing it.
"""

import ast
import asyncio
import re
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.async_contentsmanager import AsyncTextFileContentsManager

from helpers import EXPECTED_ERRORS
from my_AE_code.run_notebooks import (
    NOTEBOOK_DIR,
    assigned_names,
    budget_parameters,
    key_numbers,
    notebook_paths,
    run_notebook,
)

#: Warnings meant for the reader (the data is a stand-in). MNIST's shows as one line
#: "MnistFallbackWarning: ..."; Python's default form adds the caller's file and line in front
#: and the caller's code, indented, below.
MEANT_FOR_THE_READER = re.compile(
    r"^(?:.*: )?(MnistFallbackWarning|CelebaStandinWarning): .*\n(?:  .*\n?)?", re.MULTILINE)

NOTEBOOKS = notebook_paths()
MAIN_JOB_CHECKS = Path(__file__).with_name("test_main_job.py")


def main_job_keys(prefix):
    """The key numbers tests/test_main_job.py reads for notebook ``prefix``, as patterns.

    Its checks read ``n["name"]`` or ``n[f"name_{t}"]`` in functions named ``test_NN_...``.
    """
    patterns = set()
    for function in ast.parse(MAIN_JOB_CHECKS.read_text()).body:
        if not (isinstance(function, ast.FunctionDef)
                and function.name.startswith(f"test_{prefix}_")):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "n":
                key = node.slice
                if isinstance(key, ast.Constant):
                    patterns.add(re.escape(key.value))
                elif isinstance(key, ast.JoinedStr):
                    patterns.add("".join(re.escape(part.value) if isinstance(part, ast.Constant)
                                         else ".+" for part in key.values))
    return patterns


def test_the_main_job_key_reader_finds_keys():
    """The parser above sees plain and f-string keys (else the drift check proves nothing)."""
    assert re.escape("area_ratio") in main_job_keys("04")
    assert "recognised_type_.+" in main_job_keys("08")


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
        assert phrase in message if phrase else message == ""

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

    # Key drift: every number the main job's checks read is still reported, found here in
    # minutes rather than after `make run`.
    reported = key_numbers(run.output)
    missing = sorted(pattern for pattern in main_job_keys(path.name[:2])
                     if not any(re.fullmatch(pattern, key) for key in reported))
    assert not missing, f"tests/test_main_job.py reads keys the notebook no longer reports: " \
                        f"{missing}"
