"""Execute the notebooks top to bottom, as a reader's "Run All" would, and keep the results.

``python -m my_AE_code.run_notebooks [NAME ...]`` runs every notebook in
``notebooks/`` (or those whose file names start with the given prefixes,
e.g. ``01 02``) in a fresh Jupyter kernel, writes the executed copies with
their figures to ``results/notebooks/``, and fails if a cell raised an error
it was not tagged for, or a ``raises-exception`` cell did not raise.
Quick mode (``VAE_QUICK=1``) is what ``make run`` and the tests use.
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from my_AE_code.notebook_setup import REPO_ROOT, results_dir

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
RAISES = "raises-exception"


@dataclass
class NotebookRun:
    """What running one notebook gave."""

    name: str
    seconds: float
    output: Path
    #: (error name, message) raised by each cell tagged raises-exception, in order.
    expected_errors: list = field(default_factory=list)
    #: Problems: a tagged cell that did not raise, or an untagged cell that did.
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems


def notebook_paths(prefixes=()):
    paths = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        paths = [p for p in paths if p.name.startswith(tuple(prefixes))]
    return paths


def run_notebook(path, out_dir=None, timeout=900):
    """Execute one notebook in a new kernel; return a `NotebookRun`."""
    path = Path(path)
    out_dir = Path(out_dir) if out_dir else results_dir() / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    problems = []
    try:
        client.execute()
    except CellExecutionError as error:
        problems.append(f"an untagged cell raised: {str(error).strip().splitlines()[-1]}")
    seconds = time.perf_counter() - start
    output = out_dir / path.name
    nbformat.write(notebook, output)

    expected = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or RAISES not in cell.metadata.get("tags", []):
            continue
        errors = [(out.ename, out.evalue) for out in cell.get("outputs", [])
                  if out.output_type == "error"]
        if errors:
            expected.append(errors[0])
        elif cell.get("execution_count") is not None:
            problems.append(f"cell {index} is tagged {RAISES} but raised nothing")
    return NotebookRun(path.stem, seconds, output, expected, problems)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks starting with these")
    args = parser.parse_args(argv)
    paths = notebook_paths(args.prefixes)
    if not paths:
        parser.error(f"no notebooks match {args.prefixes} in {NOTEBOOK_DIR}")
    print(f"quick mode: {os.environ.get('VAE_QUICK', '0')}; executed copies go to "
          f"{results_dir() / 'notebooks'}")
    failed = 0
    for path in paths:
        run = run_notebook(path)
        status = "ok" if run.ok else "FAILED: " + "; ".join(run.problems)
        print(f"{run.name}: {run.seconds:.0f} s, {status}", flush=True)
        failed += not run.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
