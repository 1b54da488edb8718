"""The source code a notebook prints, as a reader should read it.

Some of the package's methods carry mutmut's ``# pragma: no mutate block``
(see ``[tool.mutmut]`` in pyproject.toml: Keras reads the argument lists of
layers' and models' ``__init__``, which mutmut's wrapper would hide). mutmut 3
has no setting that does the same job, so the markers stay in the package and
only what the notebooks print leaves them out: they are tooling, not the idea.
"""

import inspect
import re

# A trailing "# pragma: ..." comment, with the spaces before it.
_PRAGMA = re.compile(r"\s*#\s*pragma:.*$")


def readable_source(obj):
    """The source of a class or function, without tools' pragma comments."""
    lines = []
    for line in inspect.getsource(obj).splitlines(keepends=True):
        stripped = _PRAGMA.sub("", line.rstrip("\n"))
        if stripped or not line.strip():
            lines.append(stripped + "\n" if line.endswith("\n") else stripped)
    return "".join(lines)
