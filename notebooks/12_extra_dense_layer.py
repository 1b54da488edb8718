# %% [markdown]
# # 12 · An extra Dense layer in the Encoder saves parameters
#
# Post XII looks at where the CelebA VAE's parameters sit. Most of them are
# not in the convolutions: they connect the Encoder's last feature map,
# flattened (for the post's 96 x 96 faces) to 6 x 6 x 256 = 9,216 numbers, to
# the two Dense layers `mu` and `log_var`, each `z_dim` wide. One Dense layer
# of moderate width between the flattened map and `mu`/`log_var` (keras.io's
# VAE example has one) cuts that sharply: its flattened-size x units
# connections are paid once instead of twice.
#
# This notebook counts the parameters from the models themselves and sets
# them against the post's figures, then trains the VAE with and without the
# extra layer for the same epochs and compares loss, time per epoch, memory
# and images from random points, and times batches of 128 against 256.
#
# **Running time.** With the parameters below (two models, 10 epochs each over
# CelebA's 162,770 training faces) the posts' GPU would need about 40 minutes
# (120 s per epoch, with or without the layer); a 2-core CPU nearly three hours
# (at the 329 images/s that `benchmarks/strategies.py --celeba` measured for
# the model without the layer). With `QUICK = True` (what `make run` runs) it
# trains 12 epochs each on the stand-in's 1,607 training faces, even where
# CelebA is found: about 6 minutes (345 s in `make run`, with the batch-size
# timing) on a 2-core CPU.

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
DENSE_UNITS = 256      # width of the extra layer (post XII: z_dim, i.e. 256; also 384)
Z_DIM = 256
FACT = 5.0             # sum convention (solution_type 3)
USE_BATCH_NORM = True  # the post's counts imply it (below), as in notebook 10
LEARNING_RATE = 0.0005
BATCH_SIZE = 128
EPOCHS = 12 if QUICK else 10
IMAGE_SIZE = 96
N_STANDIN = 2000       # images in the stand-in, used only where CelebA is missing
USE_CELEBA = not QUICK  # False: the stand-in even where CelebA is found
MEMORY_STEPS = 2 if QUICK else 3  # batches trained in a fresh process to measure peak memory
BATCH_ROUNDS = 3 if QUICK else 5  # interleaved rounds timing batches of 128 and 256
MIXED_PRECISION = "auto"  # "auto": mixed_float16 on a GPU with tensor cores, else float32
DISTRIBUTE = "auto"       # "auto": MirroredStrategy over several GPUs, else one device

# %%
from my_AE_code.notebook_setup import scaling_choices, setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from my_AE_code import figures, memory
from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, prepare_celeba
from my_AE_code.celeba.files import IMAGES_DIR
from my_AE_code.celeba.model import CONV_LAYERS, celeba_vae
from my_AE_code.models.layers import encoder_output_shape
from my_AE_code.timing import compare, interleaved_seconds

dtype_policy, distribute = scaling_choices(MIXED_PRECISION, DISTRIBUTE)
print(f"dtype policy {dtype_policy}; "
      f"{distribute.num_replicas_in_sync if distribute else 1} device(s) share each batch")



def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


# %% [markdown]
# ## Counting parameters
#
# The post prints its counts rounded, in millions: 9.83 for the Encoder with
# `z_dim` 512 (of which more than 9.4 sit in `mu` and `log_var`) and 5.1 for
# its Decoder; for `z_dim` 256 it gives the Encoder as 4.9 in one sentence and
# as 5.11 in another (they cannot both be right), and the Decoder as 2.76; with
# an extra layer of 256 units the Encoder has 2.88, with 384 units 4.13. Below,
# each model's exact count, counted from the model (96 x 96 faces), with and
# without batch norm on the convolutions, rounded as the post rounds it:

# %%
def millions(count, digits):
    return f"{count / 1e6:.{digits}f}"


POSTS_FIGURES = {  # (part, z_dim, extra units): the post's printed figures, in millions
    ("Encoder", 512, None): ["9.83"], ("Decoder", 512, None): ["5.1"],
    ("Encoder", 256, None): ["4.9", "5.11"], ("Decoder", 256, None): ["2.76"],
    ("Encoder", 256, 256): ["2.88"], ("Encoder", 256, 384): ["4.13"]}
counts = {}
for z_dim, units in {(z_dim, units) for _, z_dim, units in POSTS_FIGURES}:
    for batch_norm in (True, False):
        probe = celeba_vae(image_size=96, z_dim=z_dim, use_batch_norm=batch_norm,
                           enc_dense_units=units)
        for part in ("Encoder", "Decoder"):
            counts[part, z_dim, units, batch_norm] = trainable(getattr(probe, part.lower()))
matches = {True: 0, False: 0}
for (part, z_dim, units), printed in POSTS_FIGURES.items():
    print(f"{part} z_dim {z_dim}, extra layer {units or '-'} (ours, rounded as the post's "
          f"figure: = or ≠ the post's)")
    for batch_norm in (True, False):
        n = counts[part, z_dim, units, batch_norm]
        rounded = [millions(n, len(figure.split(".")[1])) for figure in printed]
        matches[batch_norm] += any(r == f for r, f in zip(rounded, printed))
        verdicts = ", ".join(f"{r} {'=' if r == f else '≠'} {f}" for r, f in zip(rounded, printed))
        print(f"    {'with' if batch_norm else 'without'} batch norm {n:>10,}: {verdicts}")
print(f"figures the post's rounding reproduces: with batch norm {matches[True]} of "
      f"{len(POSTS_FIGURES)}, without {matches[False]}")
del probe

# %% [markdown]
# Only with batch norm does every figure come out as the post prints it (the
# 384-unit Encoder has 4,124,864 parameters without, 4.12 million): the post's
# CelebA Encoder normalised its convolutions, as notebook 10's does. So this
# notebook's models do too (`USE_BATCH_NORM`). Of the post's two figures for
# the `z_dim` 256 Encoder, 5.11 million is the right one.

# %% [markdown]
# Where they come from, for this notebook's `IMAGE_SIZE`, `Z_DIM` and
# `DENSE_UNITS`: the four convolutions, then the connections after the
# flattened map. Without the extra layer, `mu` and `log_var` each connect all
# of the flattened numbers to `Z_DIM` outputs; with it, the flattened numbers
# feed the extra layer once, and `mu`/`log_var` connect only its
# `DENSE_UNITS`.

# %%
height, width, channels = encoder_output_shape((IMAGE_SIZE, IMAGE_SIZE, 3),
                                               CONV_LAYERS["encoder_conv_filters"],
                                               CONV_LAYERS["encoder_conv_strides"])
flat = height * width * channels
filters = [3, *CONV_LAYERS["encoder_conv_filters"]]
# weights and bias of each 3 x 3 convolution; batch norm trains two more numbers per filter
conv = sum(3 * 3 * c_in * c_out + c_out + (2 * c_out if USE_BATCH_NORM else 0)
           for c_in, c_out in zip(filters, filters[1:]))
without = conv + 2 * (flat * Z_DIM + Z_DIM)
with_layer = conv + (flat * DENSE_UNITS + DENSE_UNITS) + 2 * (DENSE_UNITS * Z_DIM + Z_DIM)
print(f"{IMAGE_SIZE} x {IMAGE_SIZE} faces: the last feature map is {height} x {width} x "
      f"{channels}, flattened {flat:,} numbers")
print(f"convolutions: {conv:,}")
print(f"without: {conv:,} + 2 x ({flat:,} x {Z_DIM} + {Z_DIM}) = {without:,}")
print(f"with {DENSE_UNITS} units: {conv:,} + ({flat:,} x {DENSE_UNITS} + {DENSE_UNITS}) "
      f"+ 2 x ({DENSE_UNITS} x {Z_DIM} + {Z_DIM}) = {with_layer:,}")

parts = {"convolutions": (conv, conv),
         "Flatten -> extra layer": (0, flat * DENSE_UNITS + DENSE_UNITS),
         "-> mu and log_var": (2 * (flat * Z_DIM + Z_DIM), 2 * (DENSE_UNITS * Z_DIM + Z_DIM))}
fig, ax = plt.subplots(figsize=(7, 2.6))
left = np.zeros(2)
for name, values in parts.items():
    ax.barh(["without", f"with {DENSE_UNITS} units"], values, left=left, label=name)
    left += values
ax.set_xlabel("Encoder parameters")
ax.legend(fontsize=8)
ax.invert_yaxis()
plt.show()

# %% [markdown]
# In memory each float32 parameter takes 4 bytes, and Adam keeps two more
# numbers per parameter (its running means of the gradient and of its
# square), so training holds three times the weights, plus the Decoder's:

# %%
setup_notebook(seed=SEED)
post_x = dict(image_size=IMAGE_SIZE, z_dim=Z_DIM, fact=FACT, use_batch_norm=USE_BATCH_NORM,
              seed=SEED, dtype_policy=dtype_policy, distribute=distribute)
big = celeba_vae(**post_x)
small = celeba_vae(**post_x, enc_dense_units=DENSE_UNITS)
models = {"no extra layer": big, f"extra layer of {DENSE_UNITS}": small}
for name, vae in models.items():
    n = trainable(vae.model)
    print(f"{name:16s} {n:>10,} parameters: weights {n * 4 / 2**20:5.1f} MiB, with Adam's "
          f"two slots {3 * n * 4 / 2**20:5.1f} MiB")

# %% [markdown]
# ## Training both
#
# Both VAEs train on the same faces for the same epochs, taking turns epoch by
# epoch, so that a slow moment of the machine hits both alike. The first
# epoch of each (which traces the training step) is not timed; a ratio of the
# median epochs counts as a difference only where it exceeds the spread
# between one model's epochs.

# %%
source = find_or_make_celeba(setup.data_dir, n_standin=N_STANDIN, seed=SEED,
                             use_celeba=USE_CELEBA)
prepared = prepare_celeba(source.root / IMAGES_DIR, size=IMAGE_SIZE, verbose=False).out_dir
data = celeba_datasets(prepared, BATCH_SIZE, seed=SEED)
print(f"{'the generated STAND-IN' if source.is_standin else 'CelebA'}: "
      f"{len(data.train_files):,} training faces")

histories = {name: {"loss": [], "reco_loss": [], "kl_loss": []} for name in models}


def one_more_epoch(name):
    vae, history = models[name], histories[name]
    done = len(history["loss"])
    logs = vae.train_myVAE(data.train, batch_size=None, epochs=done + 1, initial_epoch=done,
                           verbose=0).history
    for key in history:
        history[key].extend(logs[key])


for vae in models.values():
    vae.compile_myVAE(LEARNING_RATE)
seconds = interleaved_seconds({name: lambda name=name: one_more_epoch(name) for name in models},
                              rounds=max(1, EPOCHS - 1))
medians = {name: float(np.median(values)) for name, values in seconds.items()}
speed = compare(seconds, *models)
for name in models:
    print(f"{name:16s} median {medians[name]:.1f} s per epoch, final loss "
          f"{histories[name]['loss'][-1]:.1f}")
print(speed)
figures.plot_loss_curves(histories, title="with and without the extra Dense layer")

# %% [markdown]
# Peak memory while training, each model measured alone in a fresh process:
# on a GPU the allocator's peak, on a CPU the rise of the process's resident
# memory.

# %%
peaks = {name: memory.training_peak_mib(vae.params, BATCH_SIZE, MEMORY_STEPS)
         for name, vae in models.items()}
fig, axes = plt.subplots(1, 2, figsize=(9, 2.6))
axes[0].barh(list(medians), list(medians.values()), color=["C0", "C1"])
axes[0].set_xlabel("seconds per epoch (median)")
axes[1].barh(list(peaks), list(peaks.values()), color=["C0", "C1"])
axes[1].set_xlabel(f"peak memory, MiB ({memory.memory_kind()})")
for ax in axes:
    ax.invert_yaxis()
fig.tight_layout()
plt.show()
print(", ".join(f"{name}: {value:.0f} MiB" for name, value in peaks.items()))

# %% [markdown]
# ## Batches of 256?
#
# The post tried batches of 256 instead of 128 on its GPU, and an epoch took
# about as long: 128 already used the card fully. Here the same question for
# the model with the extra layer: training steps on 128 and on 256 faces, in
# `BATCH_ROUNDS` interleaved rounds, compared per 128 faces (one step of 256
# counts half).

# %%
faces = np.concatenate([images.numpy() for images in data.train.take(2)])[:2 * BATCH_SIZE]
steps = {"batch 128": faces[:BATCH_SIZE], "batch 256": faces}
for batch in steps.values():
    small.model.train_on_batch(batch)  # traces the step for this batch shape
step_seconds = interleaved_seconds(
    {name: lambda batch=batch: small.model.train_on_batch(batch) for name, batch in steps.items()},
    rounds=BATCH_ROUNDS)
per_128 = {name: [s * BATCH_SIZE / len(steps[name]) for s in values]
           for name, values in step_seconds.items()}
batch_speed = compare(per_128, *steps)
for name, values in per_128.items():
    print(f"{name}: {np.median(values):.2f} s per 128 faces (median of {len(values)} rounds)")
print(batch_speed)

# %% [markdown]
# ## Faces from random points, with and without the layer

# %%
for name, vae in models.items():
    print(name)
    display(figures.plot_generated(vae, Z_DIM, n=8, seed=SEED))

# %% [markdown]
# ## What this notebook showed

# %%
names = list(models)
show_key_numbers(
    standin=source.is_standin, epochs=EPOCHS, posts_figures=len(POSTS_FIGURES),
    posts_figures_reproduced_with_batch_norm=matches[True],
    posts_figures_reproduced_without_batch_norm=matches[False],
    encoder_params_without=trainable(big.encoder),
    encoder_params_with=trainable(small.encoder),
    seconds_per_epoch_without=medians[names[0]], seconds_per_epoch_with=medians[names[1]],
    time_difference_is_real=speed.real, batch_128_over_256=batch_speed.ratio,
    batch_difference_is_real=batch_speed.real,
    peak_mib_without=peaks[names[0]], peak_mib_with=peaks[names[1]],
    final_loss_without=histories[names[0]]["loss"][-1],
    final_loss_with=histories[names[1]]["loss"][-1])

# %% [markdown]
# - the models' parameter counts, rounded as the post rounds them, give the
#   post's figures when the convolutions have batch norm (one of its two
#   figures for the `z_dim` 256 Encoder excepted); the arithmetic shows why
#   the extra layer saves: the flattened numbers (9,216 for the post's
#   96 x 96 faces) are connected once instead of twice;
# - the extra layer saves memory: its weights and Adam's slots by the
#   arithmetic above (about 25 MiB for the post's model). The measured peaks
#   of a whole training process are far larger, and on a CPU they vary from
#   run to run by more than that saving, so either bar may come out higher;
# - whether an epoch's time differs, the verdict above says: the post saw the
#   same time on its GPU, since the work per image hardly changes (the
#   convolutions dominate it);
# - whether batches of 256 train faster per face than batches of 128, the
#   second verdict says; the post's GPU gained little from them;
# - faces from random points of both models are above, one grid each, to
#   compare by eye: the layer changes how the Encoder reaches `mu`, and the
#   Decoders are built alike.
