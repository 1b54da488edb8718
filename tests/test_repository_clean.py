"""A reader's Run All and save leave git clean, and ``git pull`` updates the notebooks.

git tracks the py:percent twins; the .ipynb files are made from them by
``make setup`` and belong to the reader. A fresh clone is set up that way,
notebook 01 is executed and saved in place through jupytext's contents
manager, as JupyterLab saves it (the .ipynb with its outputs, and the paired
.py), and git must see no change. An upstream change to the notebook must
then pull cleanly and reach the reader's .ipynb, outputs kept; a deliberate
edit of a cell still shows in git.
"""

import asyncio
import subprocess
import sys

import pytest
from jupytext.async_contentsmanager import AsyncTextFileContentsManager
from nbclient import NotebookClient

from helpers import ROOT

NAME = "01_basics"


def git(repo, *args):
    command = ["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@example.org",
               *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def open_as_jupyterlab_does(folder, name):
    manager = AsyncTextFileContentsManager(root_dir=str(folder))
    return asyncio.run(manager.get(name))["content"]


def save_as_jupyterlab_does(folder, name, notebook):
    manager = AsyncTextFileContentsManager(root_dir=str(folder))
    model = {"type": "notebook", "format": "json", "content": notebook}
    asyncio.run(manager.save(model, name))


def make_notebooks(clone):
    """What ``make setup`` does after installing: the .ipynb made from the twins."""
    subprocess.run([sys.executable, "-c", "from my_AE_code.run_notebooks import make_notebooks; "
                    f"make_notebooks({str(clone / 'notebooks')!r})"], check=True)


@pytest.mark.slow
def test_run_all_and_save_leave_the_clone_clean_and_pullable(tmp_path, monkeypatch):
    upstream, clone = tmp_path / "upstream", tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(upstream)], check=True)
    subprocess.run(["git", "clone", "-q", str(upstream), str(clone)], check=True)
    notebooks = clone / "notebooks"
    assert not (notebooks / f"{NAME}.ipynb").exists()  # not in git: made by the set-up
    make_notebooks(clone)
    monkeypatch.setenv("VAE_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "data"))

    notebook = open_as_jupyterlab_does(notebooks, f"{NAME}.ipynb")
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(notebooks)}}).execute()
    save_as_jupyterlab_does(notebooks, f"{NAME}.ipynb", notebook)
    outputs = [cell.outputs for cell in notebook.cells if cell.cell_type == "code"]
    assert any(outputs) and b'"output_type"' in (notebooks / f"{NAME}.ipynb").read_bytes()
    assert git(clone, "status", "--porcelain") == ""

    twin = upstream / "notebooks" / f"{NAME}.py"
    twin.write_text(twin.read_text().replace("# It trains nothing", "# Added upstream. It trains "
                                                                    "nothing", 1))
    git(upstream, "commit", "-qam", "Upstream edits notebook 01")

    git(clone, "pull", "-q")
    make_notebooks(clone)
    pulled = open_as_jupyterlab_does(notebooks, f"{NAME}.ipynb")
    assert "Added upstream." in pulled.cells[0].source
    assert [cell.outputs for cell in pulled.cells if cell.cell_type == "code"] == outputs

    pulled.cells[0].source += "\n\nThe reader's own note."  # a deliberate edit stays visible
    save_as_jupyterlab_does(notebooks, f"{NAME}.ipynb", pulled)
    assert git(clone, "status", "--porcelain").split() == ["M", f"notebooks/{NAME}.py"]
