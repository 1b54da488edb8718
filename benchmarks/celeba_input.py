"""The CelebA input path: preparing the images once, and streaming them to training.

    python -m benchmarks.celeba_input [--images 4000] [--repeats 3]

Runs on the stand-in (drawn into a temporary folder), so it needs no CelebA.
Printed:

1. preparation images/s: `prepare_celeba` (all cores, draft mode, box resize)
   against `plain_loop` (one process, open/crop/resize/save), on the same
   files, alternating, best of ``--repeats``;
2. the streaming pipeline's images/s (`celeba_datasets`, batch 128) against
   the images/s that a training step of the CelebA model consumes, and a
   training epoch fed by the pipeline against one fed from memory.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BATCH_SIZE = 128


def plain_loop(src_files, out_dir, size=96):
    """The naive baseline: one process, full decode, crop, resize, save."""
    from PIL import Image

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in src_files:
        image = Image.open(path).convert("RGB")
        width, height = image.size
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        square = image.crop((left, top, left + side, top + side))
        square.resize((size, size), Image.Resampling.LANCZOS).save(
            out_dir / (Path(path).stem + ".jpg"), quality=95
        )
    return len(src_files)


def best_rate(n_images, run, repeats):
    """Images per second of the fastest of ``repeats`` runs; ``run(i)`` does one."""
    best = float("inf")
    for i in range(repeats):
        start = time.perf_counter()
        run(i)
        best = min(best, time.perf_counter() - start)
    return n_images / best


def preparation(src, tmp, repeats):
    from my_AE_code.celeba import prepare_celeba

    files = sorted(src.glob("*.jpg"))
    rates = {"plain loop": [], "prepare_celeba": []}
    for i in range(repeats):  # alternate, so both see the same machine state
        rates["plain loop"].append(best_rate(
            len(files), lambda _: plain_loop(files, tmp / f"plain_{i}", 96), 1))
        rates["prepare_celeba"].append(best_rate(
            len(files), lambda _: prepare_celeba(src, tmp / f"prepared_{i}", 96, verbose=False), 1))
    best = {name: max(values) for name, values in rates.items()}
    print(f"preparation of {len(files)} images to 96x96 ({os.cpu_count()} CPUs):")
    for name, rate in best.items():
        print(f"  {name:16s} {rate:7.0f} images/s")
    print(f"  ratio: {best['prepare_celeba'] / best['plain loop']:.2f}x (target: at least 2x)")
    return tmp / "prepared_0"


def pipeline_against_training(prepared, meta_dir, repeats):
    import tensorflow as tf

    from my_AE_code.celeba import celeba_datasets
    from my_AE_code.models import MyVariationalAutoencoder
    from my_AE_code.models.layouts import CELEBA_LAYOUT

    data = celeba_datasets(prepared, BATCH_SIZE, meta_dir=meta_dir, seed=0)
    n_train = len(data.train_files)

    def one_pass(_):
        for _batch in data.train:
            pass

    one_pass(None)  # warm-up: opens the files once, traces the map functions
    pipeline_rate = best_rate(n_train, one_pass, repeats)

    vae = MyVariationalAutoencoder(**CELEBA_LAYOUT, solution_type=3, fact=5.0)
    vae.compile_myVAE(0.0005)
    batch = next(iter(data.train))
    vae.model.train_on_batch(batch)  # traces the step
    steps = 4
    training_rate = best_rate(steps * BATCH_SIZE, lambda _: [vae.model.train_on_batch(batch)
                                                             for _ in range(steps)], repeats)
    print(f"\nstreaming {n_train} prepared images, batch {BATCH_SIZE}:")
    print(f"  pipeline           {pipeline_rate:7.0f} images/s")
    print(f"  training consumes  {training_rate:7.0f} images/s (CelebA model, solution_type 3)")
    print(f"  ratio: {pipeline_rate / training_rate:.1f}x (target: at least 3x)")

    # The test that matters: does an epoch fed by the pipeline take longer than
    # the same steps fed from memory?
    steps_per_epoch = min(8, n_train // BATCH_SIZE)
    in_memory = tf.data.Dataset.from_tensors(batch).repeat(steps_per_epoch)
    timings = {}
    for name, dataset in (("from memory", in_memory),
                          ("from the pipeline", data.train.take(steps_per_epoch))):
        timings[name] = steps_per_epoch * BATCH_SIZE / best_rate(
            steps_per_epoch * BATCH_SIZE,
            lambda _, d=dataset: vae.model.fit(d, epochs=1, verbose=0), repeats)
    print(f"  an epoch of {steps_per_epoch} steps: " + ", ".join(
        f"{name} {seconds:.2f} s" for name, seconds in timings.items())
        + f" (ratio {timings['from the pipeline'] / timings['from memory']:.2f})")
    return pipeline_rate, training_rate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4000, help="stand-in images to draw")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from my_AE_code.celeba import make_standin

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = make_standin(tmp / "celeba", n_images=args.images, seed=0)
        prepared = preparation(root / "img_align_celeba", tmp, args.repeats)
        pipeline_against_training(prepared, root, args.repeats)


if __name__ == "__main__":  # needed: preparation's workers are spawned processes
    main()
