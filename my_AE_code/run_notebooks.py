"""Execute the notebooks top to bottom, as a reader's "Run All" would, and keep the results.

``python -m my_AE_code.run_notebooks [--budget main|smoke|full] [NAME ...]`` runs
every notebook in ``notebooks/`` (or those whose file names start with the
given prefixes, e.g. ``01 02``) in a fresh Jupyter kernel, writes the executed
copies with their figures to ``results/notebooks/`` and each kernel's own log
to ``results/logs/``, prints one line per notebook, and fails if a cell raised
an error it was not tagged for, or a ``raises-exception`` cell did not raise.

Budgets
-------
Each notebook's parameters cell (tagged ``parameters``) holds the posts'
settings, and nothing below it changes them: a reader who edits a value gets
exactly that value. A notebook that trains also has a ``QUICK = False`` switch
there; its quick values are written beside the posts' (``EPOCHS = 12 if QUICK
else 40``). The runner may inject values right after that cell, the way
papermill does (it uses papermill's own injection):

- ``main`` (``make run``): ``QUICK = True`` and the quick values, read from the
  parameters cell itself (`quick_parameters`): what a reader who sets the switch
  gets, a few minutes a notebook on a 2-core CPU;
- ``smoke`` (the tests): seconds, only that every cell works; listed per notebook
  in ``notebooks/budgets.toml``;
- ``full``: nothing injected, the parameters cells' own values.

papermill writes each entry as the code line ``name = value``, so `budget_parameters`
accepts only names the notebook's parameters cell assigns and values that are TOML
strings, numbers, booleans or arrays of them; anything else stops the run before any
notebook starts.
"""

from __future__ import annotations

import argparse
import ast
import json
import keyword
import os
import platform
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from my_AE_code.notebook_setup import KEY_NUMBERS_MIME
from my_AE_code.paths import ENVIRONMENT, REPO_ROOT, results_dir
from my_AE_code.run_record import RUN_RECORD_KEY, run_record

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
BUDGET_FILE = NOTEBOOK_DIR / "budgets.toml"
BUDGETS = ("main", "smoke", "full")
RAISES = "raises-exception"
PARAMETERS = "parameters"
QUICK = "QUICK"  # the parameters cell's switch to the quick values


@dataclass
class NotebookRun:
    """What running one notebook gave."""

    name: str
    seconds: float
    output: Path
    log: Path
    #: (error name, message) raised by each cell tagged raises-exception, in order.
    expected_errors: list = field(default_factory=list)
    #: Problems: a tagged cell that did not raise, or an untagged cell that did.
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems


def make_notebooks(folder=NOTEBOOK_DIR):
    """Make each ``NN_name.ipynb`` from its py:percent twin, where it is missing or older.

    git tracks the twins only: the .ipynb files are the reader's, outputs and
    all, so "Run All" and a save leave ``git status`` clean and ``git pull``
    free to update the twins. jupytext's ``--sync`` keeps a notebook's outputs
    and takes its cells from the newer file (a pulled twin); ``--set-kernel``
    names the kernel, so JupyterLab opens the notebook without asking for one.
    """
    margin_s = 1.0  # jupytext's own: after a sync the twin is a few ms newer
    stale = [str(twin) for twin in sorted(Path(folder).glob("[0-9][0-9]_*.py"))
             if not twin.with_suffix(".ipynb").exists()
             or twin.stat().st_mtime > twin.with_suffix(".ipynb").stat().st_mtime + margin_s]
    if stale:
        # What the kernel and jupytext would add on opening: JupyterLab's tab opens clean.
        metadata = {
            "language_info": {"name": "python", "version": platform.python_version(),
                              "codemirror_mode": {"name": "ipython", "version": 3},
                              "file_extension": ".py", "mimetype": "text/x-python",
                              "nbconvert_exporter": "python", "pygments_lexer": "ipython3"},
            "jupytext": {"cell_metadata_filter": "tags,-all",
                         "notebook_metadata_filter": "-all"}}
        subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", "--set-kernel",
                        "python3", "--update-metadata", json.dumps(metadata),
                        *stale], check=True)
    return stale


def notebook_paths(prefixes=()):
    paths = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        paths = [p for p in paths if p.name.startswith(tuple(prefixes))]
    return paths


def assigned_names(source):
    """Names assigned at the top level of a cell's code."""
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                    names.add(name.id)  # not the ``K`` of ``table[K] = ...``
    return names


def parameters_source(path):
    """The code of notebook ``path``'s parameters cell ("" if it has none).

    The parameters cell is the first code cell tagged ``parameters``: the one papermill
    injects after.
    """
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and PARAMETERS in cell.metadata.get("tags", []):
            return cell.source
    return ""


def parameter_names(path):
    """The names that notebook ``path``'s parameters cell assigns (none if it has no such cell)."""
    return assigned_names(parameters_source(path))


def quick_parameters(path):
    """``QUICK = True`` and every value the parameters cell gives with it, where it differs.

    These are the values a reader gets by setting the switch in JupyterLab; the main
    budget injects them, so `make run` runs (and its checks test) exactly that. {} for
    a notebook without the switch.
    """
    source = parameters_source(path)
    if QUICK not in assigned_names(source):
        return {}
    posts, quick = (_parameters_with_switch(source, path, on) for on in (False, True))
    changed = {name: value for name, value in quick.items()
               if name != QUICK and value != posts[name]}
    return {QUICK: True, **changed}


def _parameters_with_switch(source, path, on):
    """The values the parameters cell assigns when its ``QUICK = ...`` line says ``on``."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] \
                == [QUICK]:
            node.value = ast.copy_location(ast.Constant(on), node.value)
    namespace = {}
    exec(compile(tree, str(path), "exec"), namespace)
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in namespace.items() if name in assigned_names(source)}


def budget_parameters(path, budget, budget_file=None):
    """The values injected into notebook ``path`` for ``budget`` ({} for "full").

    The main budget's are the notebook's quick values (`quick_parameters`). For the
    others, papermill writes each entry of the table ``[budget.NN]`` (NN: the notebook's number)
    as the code line ``name = value``. So a name must be one the notebook's parameters
    cell assigns: anything else would run as code, or, for a misspelt name, be ignored
    without a word. A value must be a TOML string, number, boolean or array of them,
    which papermill writes as Python literals. Anything else is a ValueError naming the
    entry, its table and the file. ``budget_file`` defaults to `BUDGET_FILE`.
    """
    if budget not in BUDGETS:
        raise ValueError(f"budget={budget!r} is unknown: use one of {', '.join(BUDGETS)}.")
    if budget == "full":
        return {}
    path = Path(path)
    if budget == "main":
        values = quick_parameters(path)
        _check_entries(path, values, f"the QUICK values of {path.name}'s parameters cell")
        return values
    budget_file = Path(budget_file or BUDGET_FILE)
    try:
        budgets = tomllib.loads(budget_file.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{budget_file} is not valid TOML: {error}") from error
    if "main" in budgets:
        raise ValueError(f"{budget_file} has a [main...] table, but the main budget's values "
                         "are each notebook's QUICK values, in its parameters cell: move them "
                         "there.")
    where = f"[{budget}.{path.name[:2]}] in {budget_file}"
    section = budgets.get(budget, {})
    table = section.get(path.name[:2], {}) if isinstance(section, dict) else None
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table of name = value lines.")
    _check_entries(path, table, where)
    return dict(table)


def _check_entries(path, table, where):
    """Each entry of ``table`` names a parameter of notebook ``path`` and is a plain value."""
    declared = parameter_names(path)
    for name, value in table.items():
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"{where}: {name!r} is not a Python name; papermill would write "
                             f"it into the notebook as code.")
        if name not in declared:
            raise ValueError(f"{where}: {name!r} is not a parameter of {path.name}; its "
                             f"parameters cell assigns {', '.join(sorted(declared)) or 'nothing'}.")
        if not _is_plain_value(value):
            raise ValueError(f"{where}: {name} = {value!r} is not a string, number, boolean or "
                             f"array of them.")


def _is_plain_value(value):
    """A TOML string, number, boolean or array of them: papermill writes these as literals.

    Not inline tables or dates and times, which papermill writes in other ways.
    """
    if isinstance(value, list):
        return all(_is_plain_value(item) for item in value)
    return isinstance(value, (str, int, float, bool))


def run_notebook(path, out_dir=None, budget="main", timeout=1200, log_dir=None,
                 parameters=None, epilogue=None, kernel=None):
    """Execute one notebook in a new kernel with the values of ``budget``; a `NotebookRun`.

    ``parameters`` ({name: value}) are injected too, over the budget's: a reader's edits
    of the parameters cell, as the tests try them (checked like a budget's entries).
    ``epilogue`` is code run after the notebook's last cell, in its kernel: the tests'
    way to look at what a notebook built.

    ``kernel`` (a `new_kernel()`) is a kernel the caller keeps and shuts down: the first
    run given it starts it; a later one first empties its namespace as ``%reset -f``
    does, drops the last error's traceback (which holds that cell's objects), and
    points it at the data and results folders this process's environment
    names now (`my_AE_code.paths.ENVIRONMENT`). That is a reader who edits the
    parameters cell and runs all again, and it spares the tests a kernel start and
    TensorFlow's import.
    """
    path = Path(path)
    out_dir = Path(out_dir) if out_dir else results_dir() / "notebooks"
    log_dir = Path(log_dir) if log_dir else out_dir.parent / "logs"
    out_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    notebook = load_notebook_node(str(path))  # as papermill reads it: every cell gets tags
    edits = dict(parameters or {})
    _check_entries(path, edits, "parameters=")
    parameters = {**budget_parameters(path, budget), **edits}
    if epilogue:
        notebook.cells.append(nbformat.v4.new_code_cell(epilogue, metadata={"tags": []}))
    if parameters:
        # Written as Python for the kernel the client starts, whatever the metadata says.
        notebook = parameterize_notebook(notebook, parameters, kernel_name="python3",
                                         language="python",
                                         comment=f"Injected by the runner: the {budget} budget"
                                         + (" and edited values" if edits else ""))
    # "immediate": once the last cell has replied, its outputs are in and its files written;
    # a graceful shutdown would spend about 2 s per notebook tearing TensorFlow down.
    if kernel is not None and kernel.has_kernel:
        _clear(kernel)
    client = NotebookClient(notebook, km=kernel, timeout=timeout, kernel_name="python3",
                            shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(path.parent)}})
    log = log_dir / f"{path.stem}.log"
    start = time.perf_counter()
    problems = []
    with open(log, "w") as kernel_output:
        try:
            # The kernel process's own output (start-up messages) goes to the log file.
            client.execute(stdout=kernel_output, stderr=kernel_output)
        except CellExecutionError as error:
            problems.append(f"an untagged cell raised: {str(error).strip().splitlines()[-1]}")
    seconds = time.perf_counter() - start
    output = out_dir / path.name
    notebook.metadata[RUN_RECORD_KEY] = run_record(budget)  # the book's "run on" line
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = settled_streams(cell.outputs)
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
    return NotebookRun(path.stem, seconds, output, log, expected, problems)


def new_kernel():
    """A kernel for `run_notebook` to start and keep (``kernel=``): the caller shuts it down
    (`shut_down`)."""
    return AsyncKernelManager(kernel_name="python3")


def shut_down(kernel):
    """End a `new_kernel()` that a run started; nothing if none did."""
    if kernel.has_kernel:
        run_sync(kernel.shutdown_kernel)(now=True)


#: What a kept kernel runs before its next notebook, leaving no name behind: ``%reset -f``
#: (IPython's reset) but for the module's own names, which a fresh kernel has and the reset
#: drops (multiprocessing's "spawn", the CelebA preparation's worker pool, reads
#: ``__main__.__spec__``); and without the last error's traceback, which the reset keeps
#: for ``%debug`` and whose frames hold that cell's objects (a model, in notebook 07);
#: then the folders; then what only the namespace held is freed.
_CLEAR = """
def _clear(environment, shell=get_ipython()):
    import gc, os, sys
    module_names = {name: shell.user_ns[name] for name in
                    ("__doc__", "__loader__", "__package__", "__spec__") if name in shell.user_ns}
    shell.reset(new_session=False)
    shell.user_ns.update(module_names)
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        sys.__dict__.pop(name, None)
    shell.InteractiveTB.tb = None
    for name, value in environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    gc.collect()
"""


def _clear(kernel):
    """Empty a kept kernel's namespace, and give it this process's data and results folders."""
    environment = {name: os.environ.get(name) for name in ENVIRONMENT}
    code = f"{_CLEAR}\n_clear({environment!r})"
    client = kernel.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(code, store_history=False, timeout=60,
                                           output_hook=lambda message: None)
    finally:
        client.stop_channels()
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the kept kernel could not be cleared: {reply['content']}")


def settled_streams(outputs):
    """A cell's outputs with each run of stdout (or stderr) pieces joined and progress bars
    settled: in every line only the text after its last carriage return stays, as a
    terminal or JupyterLab shows it. Stored as sent, a progress bar is one piece per
    update, and the executed copies and the book would show every one of them.
    """
    settled = []
    for output in outputs:
        if (output.output_type == "stream" and settled
                and settled[-1].output_type == "stream" and settled[-1].name == output.name):
            settled[-1].text += output.text
        else:
            settled.append(output)
    for output in settled:
        if output.output_type == "stream":
            output.text = "\n".join(next((part for part in reversed(line.split("\r")) if part), "")
                                    for line in output.text.split("\n"))
    return settled


def key_numbers(executed_path):
    """The numbers an executed notebook reported with ``show_key_numbers``, merged."""
    numbers = {}
    for cell in nbformat.read(executed_path, as_version=4).cells:
        for output in cell.get("outputs", []):
            numbers.update(output.get("data", {}).get(KEY_NUMBERS_MIME, {}))
    return numbers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks starting with these")
    parser.add_argument("--budget", choices=BUDGETS, default="main",
                        help="values injected after each parameters cell (default: main)")
    args = parser.parse_args(argv)
    make_notebooks()  # a twin pulled since the last run is what runs
    paths = notebook_paths(args.prefixes)
    if not paths:
        parser.error(f"no notebooks match {args.prefixes} in {NOTEBOOK_DIR}")
    try:  # every notebook's budget, before the first notebook runs for minutes
        for path in paths:
            budget_parameters(path, args.budget)
    except ValueError as error:
        parser.error(str(error))
    out_dir = results_dir() / "notebooks"
    print(f"{len(paths)} notebooks, {args.budget} budget; executed copies in {out_dir}, "
          f"kernel logs in {out_dir.parent / 'logs'}", flush=True)
    failed = 0
    for path in paths:
        run = run_notebook(path, out_dir, budget=args.budget)
        status = "ok" if run.ok else "FAILED: " + "; ".join(run.problems)
        print(f"{run.name:32s} {run.seconds:6.0f} s  {status}", flush=True)
        failed += not run.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
