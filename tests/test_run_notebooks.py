"""The notebook runner reports what a reader's "Run All" would run into."""

import ast
import re
import tomllib

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from my_AE_code import run_notebooks
from my_AE_code.run_notebooks import (
    BUDGET_FILE,
    BUDGETS,
    budget_parameters,
    main,
    notebook_paths,
    run_notebook,
)


def write_notebook(path, cells):
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_tagged_error_is_collected(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", [
        new_code_cell("x = 1"),
        new_code_cell("raise KeyError('meant to fail')", metadata={"tags": ["raises-exception"]}),
        new_code_cell("print(x + 1)"),
    ])
    run = run_notebook(path, out_dir=tmp_path / "out")
    assert run.ok and run.expected_errors == [("KeyError", "'meant to fail'")]
    executed = nbformat.read(run.output, as_version=4)
    assert executed.cells[2].outputs[0]["text"] == "2\n"  # Run All went on after the error


def test_a_progress_bar_is_stored_as_a_terminal_shows_it(tmp_path):
    """tqdm sends one piece per update, each starting with a carriage return."""
    path = write_notebook(tmp_path / "nb.ipynb", [new_code_cell(
        "import sys\n"
        "for i in range(1, 4):\n"
        "    print(f'\\r{i}/3', end='', flush=True)\n"
        "print()\n"
        "print('done')\n"
        "print('to stderr', file=sys.stderr)")])
    run = run_notebook(path, out_dir=tmp_path / "out")
    outputs = nbformat.read(run.output, as_version=4).cells[0].outputs
    assert [(o.name, o.text) for o in outputs] == [("stdout", "3/3\ndone\n"),
                                                   ("stderr", "to stderr\n")]


def test_untagged_error_and_silent_tagged_cell_are_problems(tmp_path):
    quiet = write_notebook(tmp_path / "quiet.ipynb", [
        new_code_cell("y = 2", metadata={"tags": ["raises-exception"]})])
    run = run_notebook(quiet, out_dir=tmp_path / "out")
    assert run.problems == ["cell 0 is tagged raises-exception but raised nothing"]

    broken = write_notebook(tmp_path / "broken.ipynb", [new_code_cell("1 / 0")])
    run = run_notebook(broken, out_dir=tmp_path / "out")
    assert not run.ok and "ZeroDivisionError" in run.problems[0]


def test_a_kept_kernel_runs_again_emptied_and_with_the_folders_set_now(tmp_path, monkeypatch):
    """The edited run of a notebook reuses the kernel of its first run (tests/notebook_runs.py):
    the same process, which then holds the names a fresh kernel holds (the module's own, as
    ``__spec__``, which multiprocessing's "spawn" reads, and none of the first run's), no
    object that only the last error's traceback held, and this process's folders."""
    path = write_notebook(tmp_path / "nb.ipynb", [
        new_code_cell(
            "names = sorted(name for name in dir() if not name.startswith('_'))\n"
            "dunders = sorted(name for name in dir()\n"
            "                 if name.startswith('__') and name.strip('_'))\n"
            "import gc, os\n"
            "gc.collect()\n"
            "held = sum(type(o).__name__ == 'Held' for o in gc.get_objects())\n"
            "print(os.getpid(), os.environ.get('VAE_RESULTS_DIR'), os.environ.get('VAE_DATA_DIR'),"
            " held)\n"
            "print(names, dunders)\n"
            "left = 1"),
        new_code_cell("class Held:\n    pass\n\n"
                      "def fail(held):\n    raise ValueError('the traceback holds held')\n\n"
                      "fail(Held())", metadata={"tags": ["raises-exception"]})])
    kernel = run_notebooks.new_kernel()
    try:
        printed = []
        for run_name, data in (("first", "data"), ("second", None)):
            monkeypatch.setenv("VAE_RESULTS_DIR", str(tmp_path / run_name))
            if data:
                monkeypatch.setenv("VAE_DATA_DIR", data)
            else:
                monkeypatch.delenv("VAE_DATA_DIR")
            run = run_notebook(path, out_dir=tmp_path / run_name, kernel=kernel)
            assert run.ok and run.expected_errors == [("ValueError", "the traceback holds held")]
            printed.append(nbformat.read(run.output, as_version=4).cells[0].outputs[0]["text"])
            assert kernel.has_kernel  # the caller's to shut down
    finally:
        run_notebooks.shut_down(kernel)
    (first, first_names), (second, second_names) = (text.splitlines() for text in printed)
    # One process; the second run's "0": the first run's error no longer holds its Held.
    assert first.split() == [second.split()[0], str(tmp_path / "first"), "data", "0"]
    assert second.split()[1:] == [str(tmp_path / "second"), "None", "0"]
    assert second_names == first_names and "__spec__" in first_names
    assert not kernel.has_kernel


# --- budgets.toml: names are checked, not pasted in as code (issue 21, defect 10) ---------

def tiny_notebook(tmp_path):
    """A notebook numbered 02 whose parameters cell assigns EPOCHS and BATCH_SIZE."""
    return write_notebook(tmp_path / "02_tiny.ipynb", [
        new_code_cell("EPOCHS = 3\nBATCH_SIZE = 128", metadata={"tags": ["parameters"]}),
        new_code_cell("print(EPOCHS, BATCH_SIZE)"),
    ])


def budgets_file(tmp_path, table):
    path = tmp_path / "budgets.toml"
    path.write_text(f"[smoke.02]\n{table}\n")
    return path


def test_a_parameter_of_the_notebook_is_injected(tmp_path):
    notebook = tiny_notebook(tmp_path)
    budgets = budgets_file(tmp_path, "EPOCHS = 1\nBATCH_SIZE = 32")
    assert budget_parameters(notebook, "smoke", budgets) == {"EPOCHS": 1, "BATCH_SIZE": 32}
    assert budget_parameters(notebook, "main", budgets) == {}  # no QUICK switch in the notebook
    assert budget_parameters(notebook, "full", budgets) == {}


def test_a_name_with_code_in_it_is_refused_before_the_kernel_starts(tmp_path, monkeypatch):
    notebook = tiny_notebook(tmp_path)
    budgets = budgets_file(tmp_path, """"EPOCHS = 1; open('owned', 'w') #" = 1""")
    expected = (re.escape(f"[smoke.02] in {budgets}: \"EPOCHS = 1; open('owned', 'w') #\" "
                          "is not a Python name; papermill would write it into the notebook "
                          "as code."))
    with pytest.raises(ValueError, match=expected):
        budget_parameters(notebook, "smoke", budgets)
    # The runner reads the same file: it stops before a kernel could run the line (the
    # kernel would run in the notebook's folder, and leave the file `owned` there).
    monkeypatch.setattr(run_notebooks, "BUDGET_FILE", budgets)
    with pytest.raises(ValueError, match=expected):
        run_notebook(notebook, out_dir=tmp_path / "out", budget="smoke")
    assert not (tmp_path / "owned").exists()
    assert not (tmp_path / "out" / notebook.name).exists()


def test_a_misspelt_parameter_is_refused_not_ignored(tmp_path):
    notebook = tiny_notebook(tmp_path)
    budgets = budgets_file(tmp_path, "EPOCS = 1")
    with pytest.raises(ValueError) as raised:
        budget_parameters(notebook, "smoke", budgets)
    assert str(raised.value) == (f"[smoke.02] in {budgets}: 'EPOCS' is not a parameter of "
                                 "02_tiny.ipynb; its parameters cell assigns BATCH_SIZE, EPOCHS.")


def test_edited_values_are_injected_over_the_budget_and_checked_alike(tmp_path, monkeypatch):
    """The tests' way to try a reader's edits: ``parameters=`` after the budget's values."""
    notebook = tiny_notebook(tmp_path)
    monkeypatch.setattr(run_notebooks, "BUDGET_FILE", budgets_file(tmp_path, "EPOCHS = 1"))
    run = run_notebook(notebook, out_dir=tmp_path / "out", budget="smoke",
                       parameters={"BATCH_SIZE": 64}, epilogue="print(EPOCHS * BATCH_SIZE)")
    assert run.ok, run.problems
    outputs = [c.outputs for c in nbformat.read(run.output, as_version=4).cells]
    assert outputs[2][0]["text"] == "1 64\n"  # the notebook's own cell, after the injection
    assert outputs[-1][0]["text"] == "64\n"  # the epilogue, after the last cell
    with pytest.raises(ValueError, match="parameters=: 'BATCH' is not a parameter of "):
        run_notebook(notebook, out_dir=tmp_path / "out", parameters={"BATCH": 64})


@pytest.mark.parametrize("entry, shown", [
    ("EPOCHS = {every = 2}", "EPOCHS = {'every': 2}"),
    ("EPOCHS = 2024-01-01", "EPOCHS = datetime.date(2024, 1, 1)"),
    ("EPOCHS = [1, {n = 2}]", "EPOCHS = [1, {'n': 2}]"),
], ids=["inline_table", "date", "table_in_array"])
def test_a_value_that_is_no_plain_literal_is_refused(tmp_path, entry, shown):
    notebook = tiny_notebook(tmp_path)
    budgets = budgets_file(tmp_path, entry)
    with pytest.raises(ValueError) as raised:
        budget_parameters(notebook, "smoke", budgets)
    assert str(raised.value) == (f"[smoke.02] in {budgets}: {shown} is not a string, number, "
                                 "boolean or array of them.")


def test_a_string_value_is_injected_as_a_literal_not_as_code(tmp_path):
    """Quotes, a backslash and a line break in a value stay inside papermill's string."""
    notebook = tiny_notebook(tmp_path)
    budgets = budgets_file(tmp_path, r'''EPOCHS = "\"; open('owned', 'w') #\\\nx = 1"''')
    nasty = "\"; open('owned', 'w') #\\\nx = 1"
    parameters = budget_parameters(notebook, "smoke", budgets)
    assert parameters == {"EPOCHS": nasty}
    # As the runner does it: papermill reads the notebook, then injects after its parameters.
    injected = parameterize_notebook(load_notebook_node(str(notebook)), parameters,
                                     kernel_name="python3", language="python").cells[1]
    assert "injected-parameters" in injected.metadata["tags"]
    statements = ast.parse(injected.source).body
    assert len(statements) == 1 and isinstance(statements[0], ast.Assign)
    assert ast.literal_eval(statements[0].value) == nasty


def test_make_run_stops_on_a_bad_budget_before_any_notebook_runs(tmp_path, monkeypatch, capsys):
    """The 03 notebook's budget is bad: not even 01 and 02, which sort first, may run."""
    for number in ("01", "02", "03"):
        write_notebook(tmp_path / f"{number}_nb.ipynb", [
            new_code_cell("EPOCHS = 3", metadata={"tags": ["parameters"]})])
    budgets = tmp_path / "budgets.toml"
    budgets.write_text("[smoke.01]\nEPOCHS = 1\n\n[smoke.03]\nEPOCS = 1\n")
    monkeypatch.setattr(run_notebooks, "NOTEBOOK_DIR", tmp_path)
    monkeypatch.setattr(run_notebooks, "BUDGET_FILE", budgets)
    ran = []
    monkeypatch.setattr(run_notebooks, "run_notebook", lambda path, *a, **k: ran.append(path))
    with pytest.raises(SystemExit) as exited:
        main(["--budget", "smoke"])
    assert exited.value.code == 2 and ran == []
    assert f"[smoke.03] in {budgets}: 'EPOCS' is not a parameter of 03_nb.ipynb" in \
        capsys.readouterr().err


@pytest.mark.parametrize("budget", BUDGETS)
def test_the_real_budgets_pass_the_check(budget):
    """Every notebook's budget passes; every table of notebooks/budgets.toml names a notebook."""
    notebooks = notebook_paths()
    for path in notebooks:
        budget_parameters(path, budget)  # raises on a bad entry
    tables = tomllib.loads(BUDGET_FILE.read_text())
    assert set(tables) == {"smoke"}, "the main budget's values belong in the parameters cells"
    assert set(tables["smoke"]) <= {path.name[:2] for path in notebooks}, \
        "[smoke.NN] without a notebook"


# --- QUICK: the reader's quick values are the main budget (`make run`) ------------------

def quick_notebook(tmp_path, name="02_quick.ipynb"):
    return write_notebook(tmp_path / name, [
        new_code_cell("QUICK = False  # True: the quick values\n"
                      "EPOCHS = 2 if QUICK else 30\n"
                      "BATCH_SIZE = 128\n"
                      "SIZES = (1, 2) if QUICK else (3,)", metadata={"tags": ["parameters"]}),
        new_code_cell("print(QUICK, EPOCHS, BATCH_SIZE, SIZES)"),
    ])


def test_the_main_budget_is_what_a_reader_gets_by_setting_quick(tmp_path):
    notebook = quick_notebook(tmp_path)
    assert budget_parameters(notebook, "main") == {"QUICK": True, "EPOCHS": 2, "SIZES": [1, 2]}
    assert budget_parameters(notebook, "full") == {}
    main_run = run_notebook(notebook, out_dir=tmp_path / "main", budget="main")
    assert main_run.ok, main_run.problems
    printed = nbformat.read(main_run.output, as_version=4).cells[-1].outputs[0]["text"]
    assert printed == "True 2 128 [1, 2]\n"
    # A reader flips the switch in the cell itself: the same values, tuple and all.
    flipped = nbformat.read(notebook, as_version=4)
    flipped.cells[0].source = flipped.cells[0].source.replace("QUICK = False", "QUICK = True")
    nbformat.write(flipped, tmp_path / "02_flipped.ipynb")
    reader_run = run_notebook(tmp_path / "02_flipped.ipynb", out_dir=tmp_path / "reader",
                              budget="full")
    assert reader_run.ok, reader_run.problems
    shown = nbformat.read(reader_run.output, as_version=4).cells[-1].outputs[0]["text"]
    assert shown == "True 2 128 (1, 2)\n"


def test_a_main_table_in_budgets_toml_is_refused(tmp_path):
    notebook = quick_notebook(tmp_path)
    budgets = tmp_path / "budgets.toml"
    budgets.write_text("[main.02]\nEPOCHS = 1\n")
    with pytest.raises(ValueError, match=re.escape(
            f"{budgets} has a [main...] table, but the main budget's values are each "
            "notebook's QUICK values, in its parameters cell: move them there.")):
        budget_parameters(notebook, "smoke", budgets)


def test_every_notebook_that_trains_has_quick_values_with_explicit_sizes():
    """Quick runs do the same work whether MNIST came from the network (60,000 digits) or
    from the offline copy (4,000), and whether CelebA is there or not."""
    without = []
    for path in notebook_paths():
        quick = budget_parameters(path, "main")
        names = run_notebooks.parameter_names(path)
        if not quick:
            without.append(path.name[:2])
            continue
        if "N_TRAIN" in names:
            assert isinstance(quick.get("N_TRAIN"), int) and quick["N_TRAIN"] <= 4000, path.name
        if "N_STANDIN" in names:
            assert quick.get("USE_CELEBA") is False, path.name
    assert without == ["01"]  # 01 trains nothing
