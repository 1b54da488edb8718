"""The CelebA input path: preparing the images once, and streaming them to training.

    python -m benchmarks.celeba_input [--images 4000] [--repeats 3] [--rounds 5]
                                      [--gpu-tflops 20] [--no-preparation]

Runs on the stand-in (drawn into a temporary folder), so it needs no CelebA.
Printed:

1. preparation images/s: `prepare_celeba` (all cores, draft mode, box resize)
   against `plain_loop` (one process, open/crop/resize/save), on the same
   files, alternating, best of ``--repeats``;
2. the streaming pipeline's images/s (`celeba_datasets`, batch 128) against
   the images/s that a training step of the CelebA model consumes, and a
   training epoch fed by the pipeline against one fed from memory;
3. the stream against the decode-once caches (``celeba_datasets(cache=...)``:
   "memory" and "disk"), one pass over the training images each, in
   interleaved rounds (`my_AE_code.timing`), beside what a GPU would consume:
   the CelebA VAE's training FLOPs per image (benchmarks/flops.py) at an
   assumed sustained rate, ``--gpu-tflops`` (20 TFLOP/s by default: a current
   card in mixed precision sustains a few tens on convolutions this small,
   well below its peak).
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


CACHES = ("stream", "memory", "disk")


def gpu_images_per_second(tflops):
    """Images/s a GPU sustaining ``tflops`` would train the CelebA VAE on; and FLOPs/image."""
    from benchmarks.flops import training_flops_per_sample
    from my_AE_code.models import MyVariationalAutoencoder
    from my_AE_code.models.layouts import CELEBA_LAYOUT

    probe = MyVariationalAutoencoder(**CELEBA_LAYOUT, solution_type=3, fact=5.0)
    per_image = training_flops_per_sample(probe.encoder, probe.decoder)
    return tflops * 1e12 / per_image, per_image


def input_paths(prepared, meta_dir, rounds, batch_size=BATCH_SIZE, caches=CACHES, tmp=None):
    """{path: {"images_per_s": median, "rounds": [...], "spread", "fill_s"}} of one pass each.

    Each path's first pass is untimed (it opens files and traces functions);
    "fill_s" is the time ``celeba_datasets`` took, which for a cache includes
    decoding every image once.
    """
    import statistics

    from my_AE_code.celeba import celeba_datasets
    from my_AE_code.timing import interleaved_seconds

    runs, fills, counts = {}, {}, {}
    for cache in caches:
        start = time.perf_counter()
        data = celeba_datasets(prepared, batch_size, meta_dir=meta_dir, seed=0, cache=cache,
                               cache_dir=Path(tmp or prepared.parent) / "input_cache")
        fills[cache] = time.perf_counter() - start
        counts[cache] = len(data.train_files)

        def one_pass(stream=data.train):
            for _batch in stream:
                pass

        runs[cache] = one_pass
    seconds = interleaved_seconds(runs, rounds)
    return {cache: {"images_per_s": counts[cache] / statistics.median(times),
                    "rounds": [counts[cache] / t for t in times],
                    "seconds": times, "spread": max(times) / min(times),
                    "fill_s": fills[cache]}
            for cache, times in seconds.items()}


def print_input_paths(rates, gpu_rate, tflops, per_image):
    from my_AE_code.timing import compare

    cores = os.cpu_count()
    print(f"\none pass over the training images, batch {BATCH_SIZE}, interleaved rounds "
          f"({cores} CPUs):")
    print(f"  {'path':8s} {'images/s':>9s} {'per core':>9s} {'spread':>7s} {'set-up s':>9s}")
    for cache, rate in rates.items():
        print(f"  {cache:8s} {rate['images_per_s']:9.0f} {rate['images_per_s'] / cores:9.0f} "
              f"{rate['spread']:7.2f} {rate['fill_s']:9.2f}")
    stream = rates.get("stream")
    seconds = {cache: rate["seconds"] for cache, rate in rates.items()}
    for cache in ("memory", "disk"):
        if stream and cache in rates:  # the same images: seconds per pass compare the rates
            print(f"  seconds per pass, {compare(seconds, 'stream', cache)}")
    print(f"  a GPU sustaining {tflops:g} TFLOP/s trains the CelebA VAE ({per_image / 1e9:.2f} "
          f"GFLOP per image) on {gpu_rate:,.0f} images/s", end="")
    if stream:
        print(f": the stream would need {gpu_rate / (stream['images_per_s'] / cores):.0f} "
              f"cores like these.")
    else:
        print(".")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4000, help="stand-in images to draw")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds of stream and caches (at least 2)")
    parser.add_argument("--gpu-tflops", type=float, default=20.0,
                        help="a GPU's assumed sustained TFLOP/s, for the images/s it consumes")
    parser.add_argument("--no-preparation", action="store_true",
                        help="prepare once, without timing the preparation or training")
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error("--rounds must be at least 2: the spread between rounds is the noise.")

    from my_AE_code.celeba import make_standin, prepare_celeba

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = make_standin(tmp / "celeba", n_images=args.images, seed=0)
        if args.no_preparation:
            prepared = prepare_celeba(root / "img_align_celeba", tmp / "prepared_0", 96,
                                      verbose=False).out_dir
        else:
            prepared = preparation(root / "img_align_celeba", tmp, args.repeats)
            pipeline_against_training(prepared, root, args.repeats)
        rates = input_paths(prepared, root, args.rounds, tmp=tmp)
        gpu_rate, per_image = gpu_images_per_second(args.gpu_tflops)
        print_input_paths(rates, gpu_rate, args.gpu_tflops, per_image)
        return rates


if __name__ == "__main__":  # needed: preparation's workers are spawned processes
    main()
