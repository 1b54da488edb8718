"""The notebook runner reports what a reader's "Run All" would run into."""

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from my_AE_code.run_notebooks import run_notebook


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


def test_untagged_error_and_silent_tagged_cell_are_problems(tmp_path):
    quiet = write_notebook(tmp_path / "quiet.ipynb", [
        new_code_cell("y = 2", metadata={"tags": ["raises-exception"]})])
    run = run_notebook(quiet, out_dir=tmp_path / "out")
    assert run.problems == ["cell 0 is tagged raises-exception but raised nothing"]

    broken = write_notebook(tmp_path / "broken.ipynb", [new_code_cell("1 / 0")])
    run = run_notebook(broken, out_dir=tmp_path / "out")
    assert not run.ok and "ZeroDivisionError" in run.problems[0]
