"""What this machine's GPU makes of the CelebA half: training speed, the input path, notebooks.

    make gpu-check              # or: python -m benchmarks.gpu
    python -m benchmarks.gpu --quick   # the short CPU run, also on a GPU machine

On a GPU (under 8 minutes on one current card), in one process:

1. training samples/s of the CelebA layout (96x96x3, conv 32-256, z_dim 256,
   batch 128) for strategy 3 and the AE, each in float32 and mixed_float16,
   with XLA off and on (``jit_compile``): eight variants timed in
   interleaved rounds (`my_AE_code.timing`), the first, tracing epoch of each
   untimed. The batches come from memory, so this is the model's own rate;
2. the CelebA input path on the stand-in: images/s of one pass of the
   tf.data stream and of the decode-once caches (memory, disk), also in
   interleaved rounds, against the fastest training rate of step 1;
3. notebooks 10 and 14 in the main budget (`my_AE_code.run_notebooks`),
   whose ``"auto"`` switches pick what this machine has (mixed_float16, XLA,
   several GPUs), with their run time and whether every cell worked.

It prints one table headed by the GPU's name and memory, and writes it as
JSON to ``results/gpu_check.json``. Without a GPU it says so and runs the
same code briefly on the CPU (the tiny test layout, a few steps, a small
stand-in, no notebooks), in seconds, writing ``results/gpu_check_cpu.json``:
so CI checks that the script works.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import flops  # noqa: E402
from benchmarks.celeba_input import input_paths  # noqa: E402
from benchmarks.strategies import Runner, Variant, spread  # noqa: E402
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder  # noqa: E402
from my_AE_code.models.layouts import CELEBA_LAYOUT, TINY_LAYOUT  # noqa: E402
from my_AE_code.paths import results_dir  # noqa: E402
from my_AE_code.timing import compare, interleaved_seconds  # noqa: E402

PRECISIONS = ("float32", "mixed_float16")
MODELS = ("solution_type 3", "AE")
NOTEBOOKS = ("10", "14")


@dataclass(frozen=True)
class Settings:
    """How much of everything one run does."""

    layout: dict
    batch_size: int
    steps: int
    rounds: int
    standin_images: int
    #: Side of the prepared stand-in images the input path streams.
    image_size: int
    notebooks: tuple


#: On a GPU: the CelebA layout, long enough epochs to time (about a second each).
GPU_RUN = Settings(CELEBA_LAYOUT, batch_size=128, steps=50, rounds=5, standin_images=4000,
                   image_size=96, notebooks=NOTEBOOKS)
#: Without one: the same code in seconds.
CPU_RUN = Settings(TINY_LAYOUT, batch_size=8, steps=2, rounds=2, standin_images=48,
                   image_size=32, notebooks=())


def gpu_description():
    """{"name", "memory_gib", "compute_capability", "count"} of the first GPU; None without."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    name, memory_gib = details.get("device_name", gpus[0].name), None
    if shutil.which("nvidia-smi"):
        try:
            line = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                capture_output=True, text=True, timeout=30, check=True).stdout.splitlines()[0]
            name, mebibytes = (part.strip() for part in line.split(","))
            memory_gib = float(mebibytes) / 1024
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            pass
    return {"name": name, "memory_gib": memory_gib, "count": len(gpus),
            "compute_capability": details.get("compute_capability")}


def training_variants(settings):
    """{name: `Variant`} of the models x precisions x XLA, fed one batch from memory."""
    arch = settings.layout
    rng = np.random.default_rng(0)
    batch = rng.random((settings.batch_size, *arch["input_dim"]), dtype=np.float32)
    # One batch held as a tensor, repeated: the model's rate, not the input path's.
    batches = tf.data.Dataset.from_tensors(tf.constant(batch)).repeat(settings.steps)

    def build(model_name, policy, jit):
        if model_name == "AE":
            model = MyAutoencoder(**arch, seed=0, dtype_policy=policy)
            model.compile_myAE(0.0005, jit_compile=jit)
            train = model.train_myAE
        else:
            model = MyVariationalAutoencoder(**arch, solution_type=3, fact=5.0, seed=0,
                                             dtype_policy=policy)
            model.compile_myVAE(0.0005, jit_compile=jit)
            train = model.train_myVAE
        return Runner(lambda: train(batches, settings.batch_size, epochs=1, verbose=0),
                      flops.training_flops_per_sample(model.encoder, model.decoder))

    return {variant_name(model_name, policy, jit):
            Variant(lambda m=model_name, p=policy, j=jit: build(m, p, j))
            for model_name in MODELS for policy in PRECISIONS for jit in (False, True)}


def variant_name(model_name, policy, jit):
    return f"{model_name}, {policy}, XLA {'on' if jit else 'off'}"


def measure_training(settings):
    """{variant: {"samples_per_s", "spread", "x_float32", "seconds"}}; x_float32 vs XLA off."""
    variants = training_variants(settings)
    seconds = interleaved_seconds(variants, settings.rounds)
    samples = settings.steps * settings.batch_size
    table = {}
    for name, times in seconds.items():
        base = variant_name(name.split(",")[0], "float32", False)
        comparison = compare(seconds, base, name)  # how many times faster than float32
        table[name] = {"samples_per_s": samples / statistics.median(times),
                       "spread": spread(times), "seconds": times,
                       "speed_up": comparison.ratio,
                       "speed_up_real": bool(comparison.real) if name != base else None}
    return table


def measure_input(settings, tmp):
    """Images/s of the stream and the caches over a prepared stand-in."""
    from my_AE_code.celeba import make_standin, prepare_celeba

    root = make_standin(Path(tmp) / "celeba", n_images=settings.standin_images, seed=0)
    size = settings.image_size
    prepared = prepare_celeba(root / "img_align_celeba", Path(tmp) / f"prepared_{size}", size,
                              verbose=False).out_dir
    rates = input_paths(prepared, root, settings.rounds, batch_size=settings.batch_size,
                        tmp=tmp)
    return {path: {key: value for key, value in rate.items() if key != "rounds"}
            for path, rate in rates.items()}


def run_notebooks(names):
    """{notebook: {"seconds", "ok", "problems"}} of each run in the main budget."""
    from my_AE_code.run_notebooks import notebook_paths, run_notebook

    runs = {}
    for path in notebook_paths(names):
        run = run_notebook(path, results_dir() / "gpu_check" / "notebooks", budget="main")
        runs[run.name] = {"seconds": run.seconds, "ok": run.ok, "problems": run.problems}
        print(f"  notebook {run.name}: {run.seconds:.0f} s, {'ok' if run.ok else run.problems}",
              flush=True)
    return runs


def print_table(report):
    gpu = report["gpu"]
    if gpu:
        memory = f"{gpu['memory_gib']:.0f} GiB" if gpu["memory_gib"] else "memory unknown"
        print(f"\n{gpu['name']} ({memory}, compute capability {gpu['compute_capability']}, "
              f"{gpu['count']} GPU(s)); TensorFlow {report['tensorflow']}, {report['cpus']} CPUs")
    else:
        print(f"\nNo GPU: a short CPU run of the same code ({report['layout']} layout); "
              f"TensorFlow {report['tensorflow']}, {report['cpus']} CPUs")
    print(f"{'what':48s} {'per s':>9s} {'spread':>7s} {'x f32, no XLA':>15s}")
    fastest = max(row["samples_per_s"] for row in report["training"].values())
    for name, row in report["training"].items():
        if row["speed_up_real"] is None:
            verdict = "1.00"
        else:
            verdict = f"{row['speed_up']:.2f}" + ("" if row["speed_up_real"] else " (noise)")
        print(f"{'train ' + name:48s} {row['samples_per_s']:9.0f} {row['spread']:7.2f} "
              f"{verdict:>15s}")
    print(f"{'what':48s} {'per s':>9s} {'spread':>7s} {'x fastest train':>15s}")
    for path, row in report["input"].items():
        print(f"{'input ' + path:48s} {row['images_per_s']:9.0f} {row['spread']:7.2f} "
              f"{row['images_per_s'] / fastest:15.2f}")
    for name, run in report["notebooks"].items():
        print(f"{'notebook ' + name + ', main budget':48s} {run['seconds']:8.0f}s "
              f"{'ok' if run['ok'] else 'FAILED'}")
    if not report["notebooks"]:
        print("notebooks 10 and 14: not run without a GPU (minutes each on a CPU)")
    print(f"total {report['seconds']:.0f} s; written to {report['file']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the short CPU-sized run, also where there is a GPU")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    gpu = gpu_description()
    quick = args.quick or gpu is None
    if gpu is None:
        print("No GPU found: TensorFlow sees none. Running the same code briefly on the CPU; "
              "on a machine with an NVIDIA GPU install tensorflow[and-cuda] and run again.",
              flush=True)
    settings = CPU_RUN if quick else GPU_RUN
    print("training: 8 variants in interleaved rounds ...", flush=True)
    training = measure_training(settings)
    print("input path: stream and caches ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = measure_input(settings, tmp)
    notebooks = run_notebooks(settings.notebooks) if settings.notebooks else {}
    file = results_dir() / ("gpu_check_cpu.json" if quick else "gpu_check.json")
    report = {"gpu": gpu, "quick": quick, "layout": "CelebA" if not quick else "tiny test",
              "settings": {**asdict(settings), "layout": dict(settings.layout)},
              "tensorflow": tf.__version__, "cpus": os.cpu_count(),
              "machine": platform.platform(), "training": training, "input": inputs,
              "notebooks": notebooks, "file": str(file)}
    report["seconds"] = time.perf_counter() - start
    file.write_text(json.dumps(report, indent=1, default=str))
    print_table(report)
    return report


if __name__ == "__main__":  # needed: the preparation's workers are spawned processes
    main()
