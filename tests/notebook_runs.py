"""Every notebook runs as a reader runs it, twice, in one kernel: as shipped, then edited.

`NotebookRuns` holds the tests; tests/test_notebook_runs_mnist.py and
tests/test_notebook_runs_celeba.py run them on the two parts of the series
(`MNIST_PART`, `CELEBA_PART`), so that pytest-xdist's ``--dist loadfile`` gives the parts
to two workers. Within a part the notebooks run in order (11-14 load the model
that 10 saved), each in a Jupyter kernel of its own (marked ``slow``):

- **as shipped**, with the smoke budget: cells tagged ``raises-exception`` raise the
  error the prose explains; no other cell raises, prints to stderr (a red box in
  JupyterLab) or draws a figure twice; and every number the main job's checks read
  is reported;
- **edited**: every value of the parameters cell a reader might edit is changed at
  once, and the notebook runs again in the same kernel, its namespace emptied, as a
  reader who edits and runs all again (`run_notebook`'s ``kernel``; it spares a kernel
  start and TensorFlow's import). Every model the kernel then holds must have the
  edited values.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from helpers import EXPECTED_ERRORS
from my_AE_code.run_notebooks import (
    budget_parameters,
    key_numbers,
    new_kernel,
    run_notebook,
    shut_down,
)

#: The two parts of the series, by notebook number; each part runs on one pytest worker.
MNIST_PART = ("01", "02", "03", "04", "05", "06", "07", "08", "15")
CELEBA_PART = ("09", "10", "11", "12", "13", "14")

#: Warnings meant for the reader (the data is a stand-in). MNIST's shows as one line
#: "MnistFallbackWarning: ..."; Python's default form adds the caller's file and line in front
#: and the caller's code, indented, below.
MEANT_FOR_THE_READER = re.compile(
    r"^(?:.*: )?(MnistFallbackWarning|CelebaStandinWarning): .*\n(?:  .*\n?)?", re.MULTILINE)

MAIN_JOB_CHECKS = Path(__file__).with_name("test_main_job.py")


def main_job_keys(prefix):
    """The key numbers tests/test_main_job.py reads for notebook ``prefix``, as patterns.

    Its checks read ``n["name"]`` or ``n[f"name_{t}"]`` in functions named ``test_NN_...``.
    """
    patterns = set()
    for function in ast.parse(MAIN_JOB_CHECKS.read_text()).body:
        if not (isinstance(function, ast.FunctionDef)
                and function.name.startswith(f"test_{prefix}_")):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "n":
                key = node.slice
                if isinstance(key, ast.Constant):
                    patterns.add(re.escape(key.value))
                elif isinstance(key, ast.JoinedStr):
                    patterns.add("".join(re.escape(part.value) if isinstance(part, ast.Constant)
                                         else ".+" for part in key.values))
    return patterns


#: The MIME type under which `MODEL_REPORT` stores what it found.
MODELS_MIME = "application/vnd.my-ae-code.test-models+json"
#: Run after a notebook's last cell: every model still alive in its kernel, as plain data
#: (what only reference cycles kept, a model's layers and the model, collected first).
#: The package's models report their parameters (and the learning rate they were compiled
#: with); other Keras models (the posts' own recipes) their input shapes.
MODEL_REPORT = f"""
import gc as _gc
import keras as _keras
from IPython.display import display as _display
from my_AE_code.models import MyAutoencoder as _AE, MyVariationalAutoencoder as _VAE

_gc.collect()
_objects = _gc.get_objects()
_ours = [o for o in _objects if isinstance(o, (_AE, _VAE))]
_inside = {{id(getattr(o, part)) for o in _ours for part in ("encoder", "decoder", "model")}}
_report = [{{"class": type(o).__name__, **o.params, "learning_rate": o.learning_rate}}
           for o in _ours]
for _model in _objects:
    if isinstance(_model, _keras.Model) and id(_model) not in _inside:
        _optimizer = getattr(_model, "optimizer", None)
        _inputs = getattr(_model, "inputs", None) or []  # a subclassed Model: none known
        _report.append({{"class": "keras.Model", "name": _model.name,
                        "inputs": [list(t.shape[1:]) for t in _inputs],
                        "learning_rate": float(_optimizer.learning_rate) if _optimizer else None}})
_display({{"{MODELS_MIME}": _report, "text/plain": f"{{len(_report)}} models"}}, raw=True)
"""

#: For each notebook, every value of its parameters cell a reader might edit, edited at once
#: (what the smoke budget sets, the data's size and the epochs, stays as the budget says),
#: and what its models must then have: input_dim, a z_dim of `z_dims`, a fact of `facts`, ...
#: (a fact in the sum convention is the mean convention's x 2 x pixels / z_dim).
#: 10 saves a model of its edited shape; 11 asks for that image size and loads it, 13 asks
#: for another and trains its own, and 14 loads the tiny-KL VAE of 13's edited run.
MNIST = [28, 28, 1]
EDITED = {
    "01": (dict(SEED=7, N_SHOW=12, Z_DIM=3),
           dict(input_dim=MNIST, z_dims={3})),
    "02": (dict(SEED=7, Z_DIM=3, BATCH_SIZE=64, LEARNING_RATE=0.001),
           dict(input_dim=MNIST, z_dims={3}, learning_rates={0.001})),
    "03": (dict(SEED=7, Z_DIM=3, KL_FACTOR=1e-4),
           dict(input_dim=MNIST, z_dims={3})),
    "04": (dict(SEED=7, Z_DIM_TSNE=8, FACT_TSNE=1e-4, Z_DIM_AREA=2, FACT_AREA=1e-3,
                BATCH_SIZE=64, LEARNING_RATE=0.002),
           dict(input_dim=MNIST, z_dims={8, 2}, facts={1e-4, 1e-3}, learning_rates={0.002})),
    "05": (dict(SEED=7, Z_DIM=3, FACT=2e-3, BATCH_SIZE=64, LEARNING_RATE=0.001),
           dict(input_dim=MNIST, z_dims={3}, facts={2e-3}, learning_rates={0.001})),
    "06": (dict(SEED=7, Z_DIM=3, FACT=2e-3, BATCH_SIZE=64, LEARNING_RATE=0.001),
           dict(input_dim=MNIST, z_dims={3}, facts={2e-3}, learning_rates={0.001})),
    "07": (dict(SEED=7, Z_DIM=8, Z_DIM_2D=3, FACT=1e-3, BATCH_SIZE=128, LEARNING_RATE=0.001),
           dict(input_dim=MNIST, z_dims={8, 3}, facts={1e-3}, learning_rates={0.001})),
    "08": (dict(SEED=7, Z_DIM=3, FACT=2e-3, BATCH_SIZE=64, LEARNING_RATE=0.001),
           dict(input_dim=MNIST, z_dims={3}, facts={2e-3, 2e-3 * 2 * 784 / 3},
                learning_rates={0.001})),
    "09": (dict(SEED=7, IMAGE_SIZE=64, BATCH_SIZE=64),
           dict(input_dim=[64, 64, 3])),
    "10": (dict(SEED=7, Z_DIM=64, FACT=2.0, LEARNING_RATE=0.001, BATCH_SIZE=64,
                USE_BATCH_NORM=False, IMAGE_SIZE=48, MIXED_PRECISION="mixed_bfloat16"),
           dict(input_dim=[48, 48, 3], z_dims={64}, facts={2.0}, use_batch_norm=False,
                learning_rates={0.001}, dtype_policy="mixed_bfloat16")),
    "11": (dict(SEED=7, ATTRIBUTES=["Blond_Hair", "Smiling"], BATCH_SIZE=64, IMAGE_SIZE=48,
                MIXED_PRECISION=False),
           dict(input_dim=[48, 48, 3], z_dims={64}, facts={2.0}, use_batch_norm=False,
                dtype_policy="float32")),
    "12": (dict(SEED=7, DENSE_UNITS=64, Z_DIM=100, FACT=3.0, USE_BATCH_NORM=False,
                LEARNING_RATE=0.001, BATCH_SIZE=64, IMAGE_SIZE=48,
                MIXED_PRECISION="mixed_bfloat16"),
           dict(input_dim=[48, 48, 3], z_dims={100}, facts={3.0}, use_batch_norm=False,
                learning_rates={0.001}, dtype_policy="mixed_bfloat16")),
    "13": (dict(SEED=7, Z_DIM=32, FACT_TINY=1e-4, FACT=2.5, USE_BATCH_NORM=False,
                LEARNING_RATE=0.001, BATCH_SIZE=64, RADIUS_BIN=1.0, UNIFORM_RANGES=[3.0],
                IMAGE_SIZE=48, MIXED_PRECISION=False),
           dict(input_dim=[48, 48, 3], z_dims={32}, facts={1e-4, 2.5}, use_batch_norm=False,
                learning_rates={0.001}, dtype_policy="float32")),
    "14": (dict(SEED=7, BATCH_SIZE=64, IMAGE_SIZE=48, FACT_TINY=1e-4, MIXED_PRECISION=False),
           dict(input_dim=[48, 48, 3], facts={1e-4}, dtype_policy="float32")),
    "15": (dict(SEED=7, Z_DIM=3, FACT=2e-3, SWEEP_Z_DIM=8, BATCH_SIZE=64, LEARNING_RATE=0.001,
                N_SEEDS=1),
           dict(input_dim=MNIST, z_dims={3, 8}, learning_rates={0.001},
                # FACT in each strategy's convention (x 2 x 784 / z_dim for the sum), and
                # the sweep's facts (the smoke budget's SWEEP_FACTS and the post's value)
                facts={2e-3, 2e-3 * 2 * 784 / 3, 1e-5, 5.0, 2e-3 * 2 * 784 / 8})),
}

#: What the CelebA notebooks must say about the edited models saved before them.
SAYS = {"11": "loaded notebook 10's model",
        "13": "is not the one asked for here (z_dim=64 there, 32 here; fact=2.0 there, 2.5 here)",
        # notebook 13's edited tiny-KL VAE (48x48, fact 1e-4), which 14 watches
        "14": "loaded notebook 13's model"}


def _close_to_one_of(value, allowed):
    return any(abs(value - a) <= 1e-6 * abs(a) for a in allowed)  # float32 keeps ~7 digits


def _check_model(model, seed, input_dim, z_dims=None, facts=None, use_batch_norm=None,
                 learning_rates=None, dtype_policy=None):
    """What is wrong with one reported model, given the edited values ([] if nothing)."""
    wrong = []
    if model["learning_rate"] is not None and learning_rates is not None \
            and not _close_to_one_of(model["learning_rate"], learning_rates):
        wrong.append(f"learning rate {model['learning_rate']}, not one of {learning_rates}")
    if model["class"] == "keras.Model":  # the posts' recipes: images in, or z in
        for shape in model["inputs"]:
            if len(shape) == 3 and shape != input_dim:
                wrong.append(f"input {shape}, not {input_dim}")
            if len(shape) == 1 and z_dims is not None and shape[0] not in z_dims:
                wrong.append(f"latent input {shape}, not one of {z_dims}")
        return wrong
    if model["input_dim"] != input_dim:
        wrong.append(f"input_dim {model['input_dim']}, not {input_dim}")
    if z_dims is not None and model["z_dim"] not in z_dims:
        wrong.append(f"z_dim {model['z_dim']}, not one of {z_dims}")
    if model["seed"] is not None and model["seed"] != seed:
        wrong.append(f"seed {model['seed']}, not {seed}")
    if dtype_policy is not None and model["dtype_policy"] != dtype_policy:
        wrong.append(f"dtype_policy {model['dtype_policy']}, not {dtype_policy}")
    if model["class"] == "MyVariationalAutoencoder":
        if facts is not None and not _close_to_one_of(model["fact"], facts):
            wrong.append(f"fact {model['fact']}, not one of {facts}")
        if use_batch_norm is not None and model["use_batch_norm"] != use_batch_norm:
            wrong.append(f"use_batch_norm {model['use_batch_norm']}, not {use_batch_norm}")
    return wrong


class NotebookRuns:
    """The two runs of each notebook; a subclass is parametrized with its part's ``path``s
    (at class scope, so that each notebook's two runs follow each other)."""

    @pytest.fixture(scope="class")
    def folders(self, tmp_path_factory):
        """(data, results) for the runs as shipped, and apart for the edited runs: as in a
        reader's clone, 11-14 load the model 10 saved, as shipped or edited."""
        return {kind: (tmp_path_factory.mktemp(f"{kind}_data"),
                       tmp_path_factory.mktemp(f"{kind}_results"))
                for kind in ("shipped", "edited")}

    @pytest.fixture(scope="class")
    def kernel(self, path):
        """The notebook's kernel: its run as shipped starts it, its edited run reuses it."""
        kernel = new_kernel()
        yield kernel
        shut_down(kernel)

    def test_runs_with_the_smoke_budget(self, path, folders, kernel, monkeypatch):
        data_dir, results = folders["shipped"]
        monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
        monkeypatch.setenv("VAE_RESULTS_DIR", str(results))
        run = run_notebook(path, out_dir=results / "notebooks", budget="smoke", kernel=kernel)
        assert run.ok, run.problems
        expected = EXPECTED_ERRORS.get(path.stem, [])
        assert [name for name, _ in run.expected_errors] == [name for name, _ in expected]
        for (_, message), (_, phrase) in zip(run.expected_errors, expected):
            assert phrase in message if phrase else message == ""

        executed = nbformat.read(run.output, as_version=4)
        code_cells = [c for c in executed.cells if c.cell_type == "code"]
        if budget_parameters(path, "smoke"):
            assert "injected-parameters" in code_cells[1].metadata.tags
        images = [[o["data"]["image/png"] for o in c.outputs
                   if "image/png" in o.get("data", {})] for c in code_cells]
        assert any(images), "a notebook in this series shows its results as plots"
        for cell, pngs in zip(code_cells, images):
            assert len(set(pngs)) == len(pngs), f"a figure drawn twice:\n{cell.source[:200]}"
        stderr = "".join(o.text for c in code_cells for o in c.outputs
                         if o.output_type == "stream" and o.name == "stderr")
        red_boxes = MEANT_FOR_THE_READER.sub("", stderr).strip()
        assert not red_boxes, f"stderr shows in JupyterLab as red boxes:\n{red_boxes}"

        # Key drift: every number the main job's checks read is still reported, found here
        # in minutes rather than after `make run`.
        reported = key_numbers(run.output)
        missing = sorted(pattern for pattern in main_job_keys(path.name[:2])
                         if not any(re.fullmatch(pattern, key) for key in reported))
        assert not missing, f"tests/test_main_job.py reads keys the notebook no longer " \
                            f"reports: {missing}"

    def test_edited_parameters_reach_every_model(self, path, folders, kernel, monkeypatch):
        """A reader edits the parameters cell and runs the notebook (smoke budget) again: it
        runs, and every model it built has the edited values."""
        edits, expected = EDITED[path.name[:2]]
        data_dir, results = folders["edited"]
        monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
        monkeypatch.setenv("VAE_RESULTS_DIR", str(results))
        run = run_notebook(path, out_dir=results / "notebooks", budget="smoke",
                           parameters=edits, epilogue=MODEL_REPORT, kernel=kernel)
        assert run.ok, run.problems
        executed = nbformat.read(run.output, as_version=4)
        models = next(o["data"][MODELS_MIME] for o in executed.cells[-1].outputs
                      if MODELS_MIME in o.get("data", {}))
        ours = [m for m in models if m["class"] != "keras.Model"]
        if path.name[:2] not in ("01", "03", "09"):
            assert ours, "the notebook built none of the package's models"
        said = "".join(o.text for c in executed.cells for o in c.get("outputs", [])
                       if o.output_type == "stream")
        # my_AE_code.celeba.model.NOTEBOOK_10_MODEL (importing it would start TensorFlow here)
        if (results / "10_celeba_vae").exists():  # notebook 10's edited run came first
            assert SAYS.get(path.name[:2], "") in said
        wrong = {f"{m['class']} {m.get('name', '')}".strip(): problems for m in models
                 if (problems := _check_model(m, edits["SEED"], **expected))}
        assert not wrong, f"models that missed an edited value: {wrong}"
