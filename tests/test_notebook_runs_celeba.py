"""Notebooks 09-14, on CelebA's faces: each as shipped, then edited (tests/notebook_runs.py)."""

import pytest

from my_AE_code.run_notebooks import notebook_paths
from notebook_runs import CELEBA_PART, NotebookRuns


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_paths(CELEBA_PART), ids=lambda p: p.stem,
                         scope="class")
class TestCelebaNotebooks(NotebookRuns):
    pass
