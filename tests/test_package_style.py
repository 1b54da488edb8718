"""The package's one style for types (README, development notes): functions carry no
type hints; only dataclass and named-tuple fields are annotated, as Python requires."""

import ast

from helpers import ROOT


def hinted_functions(folder):
    """'file:line name' of every function in ``folder`` with an annotated parameter or return."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_bytes())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            a = node.args
            parameters = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
            if node.returns or any(p is not None and p.annotation for p in parameters):
                found.append(f"{path.relative_to(folder.parent)}:{node.lineno} {node.name}")
    return found


def test_no_function_of_the_package_has_type_hints():
    assert hinted_functions(ROOT / "my_AE_code") == []


def test_the_check_sees_parameter_and_return_hints(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("def f(x: int):\n    pass\n\n\ndef g(y) -> int:\n    return y\n"
                                  "\n\ndef h(z=1):\n    return z\n")
    assert hinted_functions(package) == ["pkg/a.py:1 f", "pkg/a.py:5 g"]
