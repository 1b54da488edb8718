"""Training speed of the KL-loss strategies, the AE, post IV's layout and Keras 2's recipe.

    python -m benchmarks.strategies            # post VI's MNIST layout
    python -m benchmarks.strategies --celeba   # 96x96x3, conv 32/64/128/256, z_dim 256,
                                               # also mixed precision and the extra Dense layer

Every variant trains on the same data with the same batch size and number of
steps per epoch, in this one process. On a shared machine the speed drifts
while a benchmark runs (other jobs, CPU steal): timed one block after the
other, drift would look like a difference between variants. So the variants
are timed round-robin with `my_AE_code.timing.interleaved_seconds`: every
round trains one epoch of each variant, and drift hits them all alike. Each
variant's first epoch builds it and traces its training step; it is not
timed, and its memory peak is taken then.

Printed per variant: samples/s and ms/step (medians over the rounds); the
spread, max / min of its rounds; the ratio to the fastest variant, stated
only when it exceeds the spread of both (else "within noise", see
`my_AE_code.timing.compare`); the measured time per sample over the FLOP
floor (see benchmarks/flops.py; float32 matmul speed, for mixed precision
too); peak memory. With ``--celeba`` also strategy 3 in mixed precision
(float16 on a GPU, bfloat16 on a CPU) and with post XII's extra Dense layer,
each compared with strategy 3 as the notebooks train it. In both layouts
strategy 3 and the AE also train with XLA forced on (``jit_compile=True``;
"auto", Keras's default, leaves it off on a CPU and turns it on on a GPU),
each compared with its twin as compiled by default.
"""

import argparse
import gc
import os
import statistics
from dataclasses import dataclass
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import flops  # noqa: E402
from my_AE_code import memory  # noqa: E402
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder  # noqa: E402
from my_AE_code.models.architecture import Architecture  # noqa: E402
from my_AE_code.models.inputs import array_batches  # noqa: E402
from my_AE_code.models.kl_strategies import STRATEGIES  # noqa: E402
from my_AE_code.models.layouts import CELEBA_LAYOUT, MNIST_LAYOUT  # noqa: E402
from my_AE_code.models.losses import MEAN  # noqa: E402
from my_AE_code.posts.part_iv import build_part_iv_model  # noqa: E402
from my_AE_code.timing import compare, interleaved_seconds  # noqa: E402

FACT = 1e-3  # mean convention; each strategy gets the equivalent in its own convention
#: The extra Dense layer of post XII, as notebook 12 uses it.
DENSE_UNITS = 256
#: Suffix of the variants trained with ``jit_compile=True``.
XLA = "XLA"


@dataclass
class Runner:
    """A built, compiled variant: ``epoch()`` trains it one epoch."""

    epoch: Callable[[], object]
    #: Training FLOPs per sample, for the floor.
    flops: float


def mixed_policy(choice="auto"):
    """float16 where a GPU runs it fast; bfloat16 on a CPU (float16 is emulated there)."""
    if choice != "auto":
        return choice
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def variants(arch, x, batch_size, celeba, mixed="mixed_bfloat16"):
    """name -> a function that builds and compiles the variant and returns its `Runner`.

    The models of this package train through their own ``train_my*`` methods,
    as a reader's training does, one epoch per call. ``mixed`` is the policy
    of the CelebA mixed-precision variant.
    """
    n_pixels = arch["input_dim"][0] * arch["input_dim"][1]

    def runner(train_one_epoch, parts):
        return Runner(train_one_epoch, flops.training_flops_per_sample(parts.encoder,
                                                                       parts.decoder))

    def vae(solution_type, jit_compile="auto", **extras):
        fact = STRATEGIES[solution_type].convention.fact_from(FACT, MEAN, n_pixels, arch["z_dim"])
        model = MyVariationalAutoencoder(**arch, solution_type=solution_type, fact=fact, **extras)
        model.compile_myVAE(0.0005, jit_compile=jit_compile)
        return runner(lambda: model.train_myVAE(x, batch_size, epochs=1, verbose=0), model)

    def autoencoder(jit_compile="auto"):
        model = MyAutoencoder(**arch)
        model.compile_myAE(0.0005, jit_compile=jit_compile)
        return runner(lambda: model.train_myAE(x, batch_size, epochs=1, verbose=0), model)

    def part_iv():
        parts = MyVariationalAutoencoder(**arch, solution_type=3, fact=FACT)
        model = build_part_iv_model(parts.encoder, parts.decoder, FACT)
        model.compile(optimizer="adam", loss=None)
        dataset = array_batches(x, batch_size)
        return runner(lambda: model.fit(dataset, epochs=1, verbose=0), parts)

    def keras2_add_loss():
        from my_AE_code.posts.keras2 import build_keras2_vae

        model = build_keras2_vae(Architecture(**arch), fact=FACT, kl_in="model")
        dataset = array_batches(x, batch_size).map(lambda batch: (batch, batch))
        same_layout = MyVariationalAutoencoder(**arch)  # for the FLOP count only
        return runner(lambda: model.fit(dataset, epochs=1, verbose=0), same_layout)

    found = {
        "AE": autoencoder,
        "part IV layout": part_iv,
        **{f"solution_type {t}": (lambda t=t: vae(t)) for t in range(4)},
        # XLA forced on; "auto" (the twins above) is off on a CPU, on with a GPU.
        f"AE {XLA}": lambda: autoencoder(jit_compile=True),
        f"solution_type 3 {XLA}": lambda: vae(3, jit_compile=True),
    }
    if celeba:
        # The CelebA notebooks' choices: strategy 3 in mixed precision, and with post XII's layer.
        found[f"solution_type 3 {mixed}"] = lambda: vae(3, dtype_policy=mixed)
        found[f"solution_type 3 Dense {DENSE_UNITS}"] = lambda: vae(3, enc_dense_units=DENSE_UNITS)
    try:
        import tf_keras  # noqa: F401

        found["Keras 2 model.add_loss"] = keras2_add_loss
    except ImportError:
        print("tf_keras is not installed: the Keras 2 recipe is left out.")
    return found


class Variant:
    """One variant as `interleaved_seconds` runs it: each call trains one epoch.

    The first call (untimed: it traces the training step) builds the variant
    too, and takes its memory peak. ``peak_mib`` right after ``reset_peak``
    is where memory stood (the GPU allocator's use; about 0 on a CPU);
    subtracting it leaves this variant's own rise while the variants built
    before it stay alive.
    """

    def __init__(self, build):
        self._build = build
        self.runner = None
        self.peak_mib = None

    def __call__(self):
        if self.runner is not None:
            self.runner.epoch()
            return
        gc.collect()
        memory.reset_peak()
        before = memory.peak_mib()
        self.runner = self._build()
        self.runner.epoch()
        self.peak_mib = memory.peak_mib() - before


def spread(seconds):
    """max / min of one variant's rounds: how much its epochs moved while the benchmark ran."""
    return max(seconds) / min(seconds)


def ratio_to_fastest(seconds, name, fastest):
    """``"1.13"`` when ``name``'s gap to the fastest exceeds the spread of their rounds."""
    if name == fastest:
        return "1.00"
    comparison = compare(seconds, name, fastest)
    return f"{comparison.ratio:.2f}" if comparison.real else "within noise"


def print_table(seconds, variants_run, n_samples, steps, matmul_rate):
    medians = {name: statistics.median(times) for name, times in seconds.items()}
    fastest = min(medians, key=medians.get)
    print(f"\n{'variant':30s} {'samples/s':>9s} {'ms/step':>8s} {'spread':>7s} "
          f"{'x fastest':>12s} {'x floor':>8s} {memory.memory_kind() + ' MiB':>14s}")
    for name, median in medians.items():
        variant = variants_run[name]
        floor_seconds = variant.runner.flops / matmul_rate * n_samples
        print(f"{name:30s} {n_samples / median:9.0f} {median / steps * 1e3:8.1f} "
              f"{spread(seconds[name]):7.2f} {ratio_to_fastest(seconds, name, fastest):>12s} "
              f"{median / floor_seconds:8.2f} {variant.peak_mib:14.0f}")


def print_pairs(seconds):
    """Each variant of strategy 3 (and the AE with XLA) against its default twin."""
    for name in seconds:
        for base in ("solution_type 3", "AE"):
            if name.startswith(base + " ") and base in seconds:
                print(compare(seconds, name, base))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--celeba", action="store_true", help="the CelebA architecture")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per timed epoch (default 40 for MNIST, 8 for CelebA)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="timed rounds, one epoch of every variant each (at least 2)")
    parser.add_argument("--mixed", choices=("auto", "mixed_float16", "mixed_bfloat16"),
                        default="auto", help="policy of the CelebA mixed-precision variant "
                        "(auto: float16 with a GPU, bfloat16 without)")
    parser.add_argument("--only", nargs="*", help="names of variants to run (default: all)")
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error("--rounds must be at least 2: the spread between rounds is the noise.")

    arch = CELEBA_LAYOUT if args.celeba else MNIST_LAYOUT
    steps = args.steps or (8 if args.celeba else 40)
    rng = np.random.default_rng(0)
    x = rng.random((steps * args.batch_size, *arch["input_dim"]), dtype=np.float32)

    probe = MyVariationalAutoencoder(**arch)
    train_flops = flops.training_flops_per_sample(probe.encoder, probe.decoder)
    matmul_rate = flops.matmul_flops_per_second()
    print(f"{'CelebA' if args.celeba else 'MNIST'} layout, batch {args.batch_size}, {steps} steps "
          f"per epoch, {args.rounds} timed rounds; TensorFlow {tf.__version__}, "
          f"{os.cpu_count()} CPUs, GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    print(f"training FLOPs per sample: {train_flops / 1e6:.1f} M; matmul: "
          f"{matmul_rate / 1e9:.1f} GFLOP/s; floor: {train_flops / matmul_rate * 1e6:.1f} "
          f"us/sample")

    found = variants(arch, x, args.batch_size, args.celeba, mixed_policy(args.mixed))
    run = {name: Variant(build) for name, build in found.items()
           if not args.only or name in args.only}
    seconds = interleaved_seconds(run, args.rounds)
    print_table(seconds, run, len(x), steps, matmul_rate)
    print_pairs(seconds)
    return {name: {"seconds": times, "median": statistics.median(times),
                   "spread": spread(times), "peak_mib": run[name].peak_mib}
            for name, times in seconds.items()}


if __name__ == "__main__":
    main()
