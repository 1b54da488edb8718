# %% [markdown]
# # 09 · CelebA: shrinking the images once, then streaming them
#
# The second half of the series trains on **CelebA**, 202,599 photographs of
# faces, 178x218 pixels each, with 40 yes/no attributes per face (Smiling,
# Eyeglasses, ...). Post IX met two problems before any training: the images
# are bigger than the model needs, and all of them together do not fit into
# memory. Its answers, which this notebook follows:
#
# 1. crop each image to its centred square (the face) and shrink it to 96x96,
#    **once**, into a folder of small JPEGs;
# 2. never load the data set as a whole: a **pipeline** reads, decodes and
#    batches the small files while the model trains on the previous batch.
#
# CelebA cannot be downloaded automatically (`data/README.md` says how to
# get it). Without it, the package draws a **stand-in**: face-like drawings
# in CelebA's folder layout and file formats, whose attributes match what is
# drawn. The first cell says which of the two this notebook runs on.
#
# **Running time.** Preparing CelebA takes a few minutes on a few cores;
# preparing the 2,000-image stand-in takes seconds. The notebook trains nothing
# (a few batches, to measure a speed), so it runs in a minute or two; with
# `QUICK = True` (what `make run` runs: the stand-in even where CelebA is
# found, three batches) 29 s on a 2-core CPU.

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
IMAGE_SIZE = 96        # side of the prepared squares (post IX)
BATCH_SIZE = 128
N_STANDIN = 2000       # images in the stand-in, used only where CelebA is missing
USE_CELEBA = not QUICK  # False: the stand-in even where CelebA is found
TRAINING_STEPS = 3 if QUICK else 5  # batches trained to measure what training consumes
INPUT_ROUNDS = 5       # interleaved rounds timing the stream against the decode-once caches

# %%
from my_AE_code.notebook_setup import setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import time

import keras
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from my_AE_code import figures
from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, pipeline, prepare_celeba
from my_AE_code.celeba.files import ATTR_FILES, IMAGES_DIR, find_file, list_images
from my_AE_code.celeba.model import LEARNING_RATE, celeba_vae
from my_AE_code.listing import readable_source
from my_AE_code.timing import compare, interleaved_seconds

source = find_or_make_celeba(setup.data_dir, n_standin=N_STANDIN, seed=SEED,
                             use_celeba=USE_CELEBA)
originals = source.root / IMAGES_DIR
names = list_images(originals)
print(f"{'the generated STAND-IN' if source.is_standin else 'CelebA'}: {len(names):,} images "
      f"in {originals}")

# %% [markdown]
# ## The original images

# %%
with Image.open(originals / names[0]) as first:
    print(f"{names[0]}: {first.width}x{first.height} pixels, mode {first.mode}")
raw = [np.asarray(Image.open(originals / name).convert("RGB")) / 255.0 for name in names[:8]]
figures.plot_images(raw, ncols=8, suptitle="original images (178x218)")

# %% [markdown]
# ## Why not load them all? The memory arithmetic
#
# One image is height x width x 3 colour values. As bytes (uint8) CelebA's
# originals already need more memory than most laptops have; as the float32
# values a network computes with, four times that. Even shrunk to 96x96 the
# float32 set needs more memory than a typical graphics card offers.

# %%
N_CELEBA = 202_599
sizes = {"178x218, uint8": 218 * 178 * 3, "178x218, float32": 218 * 178 * 3 * 4,
         "96x96, uint8": 96 * 96 * 3, "96x96, float32": 96 * 96 * 3 * 4}
gigabytes = {name: N_CELEBA * size / 1e9 for name, size in sizes.items()}
for name, value in gigabytes.items():
    print(f"all {N_CELEBA:,} images at {name:17s} {value:6.1f} GB")

fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(list(gigabytes), list(gigabytes.values()), color="C0")
for limit, label, style in ((4, "the posts' GTX 960: 4 GB", ":"), (8, "a typical GPU: 8 GB", "--"),
                            (16, "a typical laptop: 16 GB RAM", "-.")):
    ax.axvline(limit, color="C3", linestyle=style, label=label)
ax.set_xscale("log")
ax.set_xlabel("GB for the whole data set (log scale)")
ax.invert_yaxis()
ax.legend(loc="lower right", fontsize=8)
plt.show()

# %% [markdown]
# ## Preparing: crop, shrink, once
#
# `prepare_celeba` cuts each image to its centred 178x178 square and shrinks it
# with Lanczos to 96x96, on all cores, with a progress bar. Every file is
# written under a temporary name and renamed when complete, so the run can be
# stopped at any time and started again: it converts only what is missing. The
# report says what it did. Run the cell twice and the second report says
# "already done" for everything.

# %%
report = prepare_celeba(originals, size=IMAGE_SIZE)
again = prepare_celeba(originals, size=IMAGE_SIZE, verbose=False)
print(f"second run: {again.converted} converted, {again.already_done:,} already done")

# %% [markdown]
# ## Streaming instead of loading: `tf.data`
#
# The posts fed CelebA to the model with Keras's `ImageDataGenerator` and
# `fit_generator`. Keras 3 has neither:

# %%
print("keras.preprocessing.image.ImageDataGenerator exists:",
      hasattr(getattr(keras.preprocessing, "image", None), "ImageDataGenerator"))
print("keras.Model.fit_generator exists:", hasattr(keras.Model, "fit_generator"))

# %% [markdown]
# Their successor is `tf.data`. The package's pipeline holds only the list of
# file names (and the small attribute table) in memory. Per epoch it shuffles
# the names, reads and decodes the JPEGs in parallel on all cores, batches
# them, scales them to [0, 1] and **prefetches**: while the model trains on one
# batch, the next ones are being prepared. `model.fit` takes the dataset
# directly. The code:

# %%
print(readable_source(pipeline.celeba_datasets))

# %%
has_attributes = find_file(source.root, ATTR_FILES) is not None
data = celeba_datasets(report.out_dir, BATCH_SIZE, with_attributes=has_attributes, seed=SEED,
                      cache="stream")  # the stream; decoding once comes further down
print(f"{len(data.train_files):,} training and {len(data.test_files):,} test images of shape "
      f"{data.image_shape}")
print("one element of the stream:", data.train.element_spec)
if not has_attributes:
    print(f"No {' or '.join(ATTR_FILES)} in {source.root}: the stream yields images only.")

# %% [markdown]
# A batch, each face with the attributes it has among a few of the 40:

# %%
SHOWN = ("Smiling", "Eyeglasses", "Male", "Blond_Hair", "Black_Hair", "Bangs")
batch = next(iter(data.train))
images = batch[0] if has_attributes else batch
titles = None
if has_attributes:
    columns = [data.attribute_names.index(name) for name in SHOWN]
    titles = ["\n".join(name for name, col in zip(SHOWN, columns) if row[col] > 0) or "-"
              for row in batch[1].numpy()[:12]]
fig = figures.plot_images(images.numpy()[:12], ncols=6, titles=titles)
for ax in fig.axes:
    ax.title.set_fontsize(7)
fig.set_size_inches(fig.get_figwidth(), fig.get_figheight() * 1.6)
fig.tight_layout()
fig

# %% [markdown]
# ## Is the pipeline fast enough?
#
# The pipeline must never be what training waits for. We measure how many
# images per second it delivers (one pass over the training files), and how
# many the post's VAE consumes per second when training on this machine.

# %%
def one_pass(stream):
    start, count = time.perf_counter(), 0
    for element in stream:
        count += len(element[0] if has_attributes else element)
    return count / (time.perf_counter() - start)


one_pass(data.train)  # the first pass opens the files and traces the functions
pipeline_rate = one_pass(data.train)

vae = celeba_vae(image_size=IMAGE_SIZE, seed=SEED, learning_rate=LEARNING_RATE)  # post X's
vae.model.train_on_batch(images)  # traces the training step
start = time.perf_counter()
for _ in range(TRAINING_STEPS):
    vae.model.train_on_batch(images)
training_rate = TRAINING_STEPS * len(images) / (time.perf_counter() - start)
print(f"pipeline: {pipeline_rate:,.0f} images/s; training consumes {training_rate:,.0f} "
      f"images/s; the pipeline is {pipeline_rate / training_rate:.0f}x faster")

fig, ax = plt.subplots(figsize=(6, 2.2))
ax.barh(["pipeline delivers", "training consumes"], [pipeline_rate, training_rate],
        color=["C2", "C1"])
ax.set_xlabel("images per second")
ax.invert_yaxis()
plt.show()

# %% [markdown]
# ## Decoding once: an input path that can feed a GPU
#
# The stream decodes every JPEG again in every epoch. On this CPU that is
# plenty; a GPU trains this VAE tens of times faster, and then decoding on a
# few cores may become what training waits for, as the posts'
# `ImageDataGenerator` was. So `celeba_datasets` can decode the images **once**
# into one uint8 array (27,648 bytes a face: 4.5 GB for CelebA's 162,770
# training images) and gather shuffled batches from it:
#
# - `cache="memory"`: the array in RAM;
# - `cache="disk"`: a `.npy` file next to the images, memory-mapped, so the
#   operating system keeps in RAM what fits and reads the rest from disk;
# - `cache="stream"`: the stream above, decoding per epoch;
# - `cache="auto"` (the default): memory when the arrays take at most half
#   the memory available, else disk, else the stream.
#
# Only indices are shuffled, so every epoch still sees all images in a new
# order, and the batches hold exactly the pixels the stream delivers. Below,
# one pass over the training images on each path, timed in interleaved rounds
# so that the machine's changing load hits all three alike; the first pass of
# each is untimed, and the set-up time includes decoding everything once.

# %%
auto = celeba_datasets(report.out_dir, BATCH_SIZE, seed=SEED)
print(f"cache='auto' chose {auto.cache!r} here, for {len(auto.train_files):,} training images")
paths, setup_seconds = {}, {}
for cache in ("stream", "memory", "disk"):
    start = time.perf_counter()
    paths[cache] = celeba_datasets(report.out_dir, BATCH_SIZE, seed=SEED, cache=cache).train
    setup_seconds[cache] = time.perf_counter() - start


def one_pass_of(stream):
    def run():
        for _batch in stream:
            pass
    return run


seconds = interleaved_seconds({cache: one_pass_of(stream) for cache, stream in paths.items()},
                              INPUT_ROUNDS)
rates = {cache: [len(data.train_files) / s for s in times] for cache, times in seconds.items()}
median_rates = {cache: float(np.median(values)) for cache, values in rates.items()}
for cache, values in rates.items():
    print(f"{cache:6s}: {median_rates[cache]:8,.0f} images/s (rounds {min(values):,.0f}-"
          f"{max(values):,.0f}); set-up {setup_seconds[cache]:.2f} s")
for cache in ("memory", "disk"):
    print(f"seconds per pass, {compare(seconds, 'stream', cache)}")

fig, ax = plt.subplots(figsize=(7, 2.8))
labels = [f"{cache} delivers" for cache in rates] + ["training consumes"]
ax.barh(labels, [*median_rates.values(), training_rate], color=["C2", "C0", "C9", "C1"])
for row, values in enumerate(rates.values()):
    ax.plot(values, [row] * len(values), "k.", markersize=4)
ax.set_xscale("log")
ax.set_xlabel("images per second (log scale; dots: the rounds)")
ax.invert_yaxis()
plt.show()

# %% [markdown]
# On a GPU, `python -m benchmarks.gpu` (`make gpu-check`) measures the same
# paths against what that GPU trains per second.

# %% [markdown]
# ## What this notebook showed

# %%
show_key_numbers(standin=source.is_standin, images=len(names), converted=report.converted,
                 already_done_on_second_run=again.already_done, skipped=len(report.failed),
                 train_images=len(data.train_files), test_images=len(data.test_files),
                 pipeline_images_per_s=pipeline_rate, training_images_per_s=training_rate,
                 pipeline_over_training=pipeline_rate / training_rate,
                 auto_cache=auto.cache,
                 **{f"{cache}_images_per_s": rate for cache, rate in median_rates.items()},
                 memory_over_stream=median_rates["memory"] / median_rates["stream"],
                 disk_over_stream=median_rates["disk"] / median_rates["stream"])

# %% [markdown]
# - CelebA (or its stand-in) is found or made, and every image is cropped and
#   shrunk once; a second run has nothing left to do;
# - the whole data set would not fit into memory, as float32 not even at
#   96x96: hence a stream of small files instead of one big array;
# - `tf.data` replaces the posts' `ImageDataGenerator`, and it delivers images
#   many times faster than the VAE can train on them (the ratio above);
# - decoding once into memory delivers batches several times faster than the
#   stream (the ratio above, beyond the rounds' spread): the path for a GPU,
#   which trains far faster than this CPU, and what `cache="auto"` picks when
#   the images fit. The memory-mapped file, for when they do not, lands
#   between the two; how far above the stream, the printed verdict says.
#
# Notebook 10 trains the VAE of the posts on these images.
