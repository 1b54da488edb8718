# Two entry points, both self-contained on a fresh machine with Python 3.11:
#   make run   - set up .venv, execute every notebook (main budget) into results/notebooks/,
#                then check that the results say what the notebooks' text says
#   make test  - set up .venv, run the test suite
#   make mutate - mutation testing of my_AE_code/models/ and its training guards (README)
#   make book  - a static site of the notebooks executed by `make run` (results/book/html/)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Values injected after each notebook's parameters cell: main, smoke or full (the posts').
BUDGET ?= main

.PHONY: setup notebooks run test test-fast lab bench gpu-check mutate book clean

setup: $(STAMP) notebooks

# The .ipynb files are made from their py:percent twins, which git tracks; the .ipynb
# are the reader's, outputs and all (see the README's "Your edits and git").
notebooks: $(STAMP)
	$(BIN)/python -c "from my_AE_code.run_notebooks import make_notebooks; make_notebooks()"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,posts]"
	touch $(STAMP)

run: setup
	$(BIN)/python -m my_AE_code.run_notebooks --budget $(BUDGET)
ifeq ($(BUDGET),main)
	VAE_MAIN_JOB_DONE=1 $(BIN)/python -m pytest -q -m mainjob tests/test_main_job.py
endif

# Two pytest workers (pytest-xdist) share the two cores; --dist loadfile runs each test file
# in order on one worker, so a file's notebook runs stay in order (11-14 need 10's model).
# (Not loadgroup: on pytest 9.2 it silently stops grouping, pytest-xdist issue #1386.)
test: setup
	$(BIN)/ruff check my_AE_code tests benchmarks notebooks
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not mainjob"

# The executed copies in results/notebooks/ as a site; it runs no notebook (make run does).
book: $(STAMP)
	$(BIN)/python -m my_AE_code.book.build

lab: setup
	@# No "get notified about Jupyter news?" pop-up in a tutorial's JupyterLab.
	mkdir -p $(VENV)/share/jupyter/lab/settings
	echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}' \
		> $(VENV)/share/jupyter/lab/settings/overrides.json
	@# JupyterLab refuses to start as root (a container, a cloud VM) unless told it may.
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.strategies
	$(BIN)/python -m benchmarks.strategies --celeba
	$(BIN)/python -m benchmarks.celeba_input

# On a GPU: training speed (float32/mixed, XLA off/on), the input path, notebooks 10 and 14;
# one table, also in results/gpu_check.json. Without a GPU: the same code briefly on the CPU.
gpu-check: setup
	$(BIN)/python -m benchmarks.gpu

# Mutants of my_AE_code/models/ against its fast unit tests ([tool.mutmut] in pyproject.toml).
# All of models/ is about 2,200 mutants: hours on two cores. Try one part with, e.g.,
#   make mutate MUTANTS='my_AE_code.models.losses*'
# Results are cached in mutants/: a second run only tries what changed or was not tried.
MUTANTS ?=
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) results .pytest_cache mutants
