"""Training speed of the KL-loss strategies, the AE, post IV's layout and Keras 2's recipe.

    python -m benchmarks.strategies            # post VI's MNIST layout
    python -m benchmarks.strategies --celeba   # 96x96x3, conv 32/64/128/256, z_dim 256

Every variant trains the same architecture on the same data with the same
batch size and number of steps, in this one process. A first epoch (which
traces the step) is not timed; then ``--repeats`` epochs are, all in the
same ``fit`` call. Printed per variant: samples/s and ms/step (median of the repeats),
the ratio to the fastest, peak memory, and the measured time per sample
over the FLOP floor (see benchmarks/flops.py).
"""

import argparse
import gc
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import flops  # noqa: E402
from my_AE_code import memory  # noqa: E402
from my_AE_code.callbacks import EpochClock, EpochTimer  # noqa: E402
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder  # noqa: E402
from my_AE_code.models.inputs import array_batches  # noqa: E402
from my_AE_code.models.kl_strategies import STRATEGIES  # noqa: E402
from my_AE_code.models.layouts import CELEBA_LAYOUT, MNIST_LAYOUT  # noqa: E402
from my_AE_code.models.losses import MEAN  # noqa: E402
from my_AE_code.models.part_iv import build_part_iv_model  # noqa: E402

FACT = 1e-3  # mean convention; each strategy gets the equivalent in its own convention


def epoch_clock(keras_module):
    """A fresh epoch timer for models of ``keras_module`` (keras, or tf_keras for Keras 2)."""
    if keras_module.__name__ == "keras":
        return EpochTimer()
    return type("Keras2EpochTimer", (EpochClock, keras_module.callbacks.Callback), {})()


def variants(arch, x, batch_size):
    """name -> a function that builds the model and returns ``fit(epochs) -> seconds per epoch``.

    Each variant trains in one ``fit`` call, as a reader's training does; the
    models of this package through their own ``train_my*`` methods.
    """
    import keras

    n_pixels = arch["input_dim"][0] * arch["input_dim"][1]

    def timed(keras_module, run):
        def fit(epochs):
            clock = epoch_clock(keras_module)
            run(epochs, clock)
            return clock.seconds
        return fit

    def vae(solution_type):
        fact = STRATEGIES[solution_type].convention.fact_from(FACT, MEAN, n_pixels, arch["z_dim"])
        model = MyVariationalAutoencoder(**arch, solution_type=solution_type, fact=fact)
        model.compile_myVAE(0.0005)
        return timed(keras, lambda epochs, clock: model.train_myVAE(
            x, batch_size, epochs=epochs, verbose=0, callbacks=[clock]))

    def autoencoder():
        model = MyAutoencoder(**arch)
        model.compile_myAE(0.0005)
        return timed(keras, lambda epochs, clock: model.train_myAE(
            x, batch_size, epochs=epochs, verbose=0, callbacks=[clock]))

    def part_iv():
        parts = MyVariationalAutoencoder(**arch, solution_type=3, fact=FACT)
        model = build_part_iv_model(parts.encoder, parts.decoder, FACT)
        model.compile(optimizer="adam", loss=None)
        dataset = array_batches(x, batch_size)
        return timed(keras, lambda epochs, clock: model.fit(
            dataset, epochs=epochs, verbose=0, callbacks=[clock]))

    def keras2_add_loss():
        import tf_keras

        from my_AE_code.models.keras2 import build_keras2_vae

        model = build_keras2_vae(**arch, fact=FACT, kl_in="model")
        dataset = array_batches(x, batch_size).map(lambda batch: (batch, batch))
        return timed(tf_keras, lambda epochs, clock: model.fit(
            dataset, epochs=epochs, verbose=0, callbacks=[clock]))

    found = {
        "AE": autoencoder,
        "part IV layout": part_iv,
        **{f"solution_type {t}": (lambda t=t: vae(t)) for t in range(4)},
    }
    try:
        import tf_keras  # noqa: F401

        found["Keras 2 model.add_loss"] = keras2_add_loss
    except ImportError:
        print("tf_keras is not installed: the Keras 2 recipe is left out.")
    return found


def time_variant(build, repeats):
    """(seconds of each timed epoch, peak MiB): one fit of 1 + ``repeats`` epochs.

    The first epoch traces the training step and is not counted.
    """
    gc.collect()
    memory.reset_peak()
    fit = build()
    seconds = fit(1 + repeats)[1:]
    return seconds, memory.peak_mib()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--celeba", action="store_true", help="the CelebA architecture")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=None, help="steps per timed epoch")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed epochs per variant (default 5 for MNIST, 3 for CelebA)")
    parser.add_argument("--only", nargs="*", help="names of variants to run (default: all)")
    args = parser.parse_args(argv)

    arch = CELEBA_LAYOUT if args.celeba else MNIST_LAYOUT
    steps = args.steps or (8 if args.celeba else 40)
    repeats = args.repeats or (3 if args.celeba else 5)
    rng = np.random.default_rng(0)
    x = rng.random((steps * args.batch_size, *arch["input_dim"]), dtype=np.float32)

    probe = MyVariationalAutoencoder(**arch)
    train_flops = flops.training_flops_per_sample(probe.encoder, probe.decoder)
    matmul_rate = flops.matmul_flops_per_second()
    floor_us = train_flops / matmul_rate * 1e6
    print(f"{'CelebA' if args.celeba else 'MNIST'} layout, batch {args.batch_size}, {steps} steps "
          f"per epoch, {repeats} timed epochs per variant; TensorFlow {tf.__version__}, "
          f"{os.cpu_count()} CPUs, GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    print(f"training FLOPs per sample: {train_flops / 1e6:.1f} M; matmul: "
          f"{matmul_rate / 1e9:.1f} GFLOP/s; floor: {floor_us:.1f} us/sample")

    results = {}
    for name, build in variants(arch, x, args.batch_size).items():
        if args.only and name not in args.only:
            continue
        seconds, peak = time_variant(build, repeats)
        results[name] = (statistics.median(seconds), min(seconds), peak)
        print(f"  {name}: done", flush=True)

    fastest = min(median for median, _, _ in results.values())
    print(f"\n{'variant':24s} {'samples/s':>10s} {'ms/step':>8s} {'x fastest':>9s} "
          f"{'x floor':>8s} {memory.memory_kind() + ' MiB':>14s}")
    for name, (median, best, peak) in results.items():
        per_sample_us = median / len(x) * 1e6
        print(f"{name:24s} {len(x) / median:10.0f} {median / steps * 1e3:8.1f} "
              f"{median / fastest:9.2f} {per_sample_us / floor_us:8.2f} {peak:14.0f}")
    return results


if __name__ == "__main__":
    main()
