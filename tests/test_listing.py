"""The code the notebooks print: the package's own, without tools' markers."""

import ast
import importlib
import inspect
import textwrap

import pytest

from my_AE_code.listing import readable_source
from my_AE_code.run_notebooks import notebook_paths

PRINTER = "readable_source"


def _imported_names(tree):
    """What a notebook's `from my_AE_code... import` lines bind: name -> (module, attribute)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("my_AE_code"):
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
    return names


def _resolve(expr, names):
    """The object a dotted expression such as ``kl_strategies.TransferVAE`` names."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.insert(0, expr.attr)
        expr = expr.value
    module, attribute = names[expr.id]
    obj = importlib.import_module(module)
    try:
        obj = getattr(obj, attribute)
    except AttributeError:  # a submodule the package does not import itself
        obj = importlib.import_module(f"{module}.{attribute}")
    for part in parts:
        obj = getattr(obj, part)
    return obj


def printed_objects():
    """(notebook, expression, object) for every call of the printer in the notebooks' twins."""
    found = []
    for notebook in notebook_paths():
        tree = ast.parse(notebook.with_suffix(".py").read_text())
        names = _imported_names(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == PRINTER):
                found.append((notebook.stem, ast.unparse(node.args[0]),
                              _resolve(node.args[0], names)))
    return found


def test_notebooks_print_source_only_through_the_printer():
    for notebook in notebook_paths():
        assert "getsource" not in notebook.with_suffix(".py").read_text(), notebook.stem


def test_no_printed_source_carries_a_pragma():
    """Some of these carry mutmut's markers in the package (tested below); none is printed."""
    printed = printed_objects()
    assert len(printed) > 10
    for notebook, expression, obj in printed:
        assert "pragma" not in readable_source(obj), (notebook, expression)


@pytest.mark.parametrize("text, expected", [
    ("def f(self, x):  # pragma: no mutate block\n    return x\n",
     "def f(self, x):\n    return x\n"),
    ("def f(x):\n    # pragma: no mutate start\n    return x\n    # pragma: no mutate end\n",
     "def f(x):\n    return x\n"),
    ("def f(x):\n\n    return x  # the mean, not the sum\n",
     "def f(x):\n\n    return x  # the mean, not the sum\n"),
])
def test_only_pragma_comments_go(text, expected, monkeypatch):
    monkeypatch.setattr(inspect, "getsource", lambda obj: text)
    assert readable_source(object()) == expected


def test_a_marked_class_reads_as_the_same_code():
    """A Keras layer whose __init__ carries the marker: the same code, comments aside."""
    from my_AE_code.models.kl_strategies import KLLossLayer

    original = inspect.getsource(KLLossLayer)
    assert "# pragma: no mutate block" in original
    shown = readable_source(KLLossLayer)
    assert ast.dump(ast.parse(textwrap.dedent(shown))) == ast.dump(
        ast.parse(textwrap.dedent(original)))
