# Two entry points, both self-contained on a fresh machine with Python 3.11:
#   make run   - set up .venv and execute every notebook (quick mode) into results/notebooks/
#   make test  - set up .venv and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	VAE_QUICK=$${VAE_QUICK:-1} $(BIN)/python -m my_AE_code.run_notebooks

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.strategies
	$(BIN)/python -m benchmarks.strategies --celeba
	$(BIN)/python -m benchmarks.celeba_input

clean:
	rm -rf $(VENV) results .pytest_cache
