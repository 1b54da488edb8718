"""Notebooks 01-08 and 15, on MNIST: each as shipped, then edited (tests/notebook_runs.py)."""

import pytest

from my_AE_code.run_notebooks import notebook_paths
from notebook_runs import MNIST_PART, NotebookRuns


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_paths(MNIST_PART), ids=lambda p: p.stem, scope="class")
class TestMnistNotebooks(NotebookRuns):
    pass
