"""A reader's Run All and save leave git clean, so ``git pull`` can update the notebooks.

A fresh clone is set up as the README says (the git filter of ``make
setup``), notebook 01 is executed and saved in place through jupytext's
contents manager, as JupyterLab saves it (the .ipynb with its outputs and the
paired .py), and git must see no change; an upstream change to that notebook
must then pull cleanly. A deliberate edit of a cell still shows.
"""

import asyncio
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupytext.async_contentsmanager import AsyncTextFileContentsManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_basics.ipynb"


def git(repo, *args):
    command = ["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@example.org",
               *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def save_as_jupyterlab_does(folder, name, notebook):
    manager = AsyncTextFileContentsManager(root_dir=str(folder))
    model = {"type": "notebook", "format": "json", "content": notebook}
    asyncio.run(manager.save(model, name))


@pytest.mark.slow
def test_run_all_and_save_leave_the_clone_clean_and_pullable(tmp_path, monkeypatch):
    upstream, clone = tmp_path / "upstream", tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(upstream)], check=True)
    subprocess.run(["git", "clone", "-q", str(upstream), str(clone)], check=True)
    venv = Path(sys.executable).parents[1]
    subprocess.run(["make", "-s", "-C", str(clone), "git-filters", f"VENV={venv}"], check=True)
    monkeypatch.setenv("VAE_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "data"))

    notebooks = clone / "notebooks"
    notebook = nbformat.read(notebooks / NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(notebooks)}}).execute()
    save_as_jupyterlab_does(notebooks, NOTEBOOK, notebook)

    assert b'"output_type"' in (notebooks / NOTEBOOK).read_bytes()  # the outputs are on disk
    assert git(clone, "status", "--porcelain") == ""

    nb_upstream = nbformat.read(upstream / "notebooks" / NOTEBOOK, as_version=4)
    nb_upstream.cells[0].source += "\n\nA sentence added upstream."
    save_as_jupyterlab_does(upstream / "notebooks", NOTEBOOK, nb_upstream)
    git(upstream, "commit", "-qam", "Upstream edits notebook 01")

    git(clone, "pull", "-q")
    pulled = nbformat.read(notebooks / NOTEBOOK, as_version=4)
    assert pulled.cells[0].source.endswith("A sentence added upstream.")
    assert "A sentence added upstream." in (notebooks / NOTEBOOK).with_suffix(".py").read_text()

    pulled.cells[0].source += "\n\nThe reader's own note."  # a deliberate edit stays visible
    save_as_jupyterlab_does(notebooks, NOTEBOOK, pulled)
    assert sorted(git(clone, "status", "--porcelain").split()) == [
        "M", "M", "notebooks/01_basics.ipynb", "notebooks/01_basics.py"]
