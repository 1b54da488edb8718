# %% [markdown]
# # 08 · Strategy 3: our own train_step with GradientTape, and all four side by side
#
# The last strategy takes the training step into our own hands. A Model
# subclass overrides `train_step`: run Encoder and Decoder under a
# `tf.GradientTape`, compute reconstruction and KL loss, take the gradients,
# let the optimizer apply them, and update three loss trackers. Keras still
# runs the loop, the callbacks and the progress output. A matching
# `test_step` gives validation losses. This is `solution_type=3`, the form the
# CelebA notebooks use.
#
# Strategy 3 also switches to the **sum convention** of the later posts: BCE
# summed over the pixels of each image, KL `fact * -0.5 * sum(...)` per
# image. To compare all four strategies on equal terms, each strategy states
# its convention, which converts `fact` and brings the logged losses back to
# per-pixel values (for strategy 3: divided by the 784 pixels).
#
# **Running time.** With the parameters below (10 epochs over the 60,000
# training digits, four times) about 30 minutes on a 2-core CPU (at the
# 1,500-1,560 images/s that `benchmarks/strategies.py` measured for these
# models), a few minutes on a GPU. With `QUICK = True` (what `make run` runs)
# it trains 12 epochs with batches of 32 on 4,000 digits instead: about 5
# minutes (306 s in `make run`) on a 2-core CPU.

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
Z_DIM = 2
FACT = 1e-3            # mean convention; each strategy gets the equivalent in its own
BATCH_SIZE = 32 if QUICK else 128
EPOCHS = 12 if QUICK else 10
N_TRAIN = 4000 if QUICK else None  # None: all training images
N_VAL = 1000 if QUICK else 2000  # test images used for validation losses
LEARNING_RATE = 0.0005

# %%
from my_AE_code.notebook_setup import setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import matplotlib.pyplot as plt
import numpy as np

from my_AE_code import figures
from my_AE_code.callbacks import EpochTimer, LossPrinter
from my_AE_code.inference import reconstruct
from my_AE_code.listing import readable_source
from my_AE_code.mnist import digit_classifier, load_mnist
from my_AE_code.models import MyVariationalAutoencoder, kl_strategies
from my_AE_code.models.kl_strategies import STRATEGIES
from my_AE_code.models.losses import MEAN
from my_AE_code.timing import compare

mnist = load_mnist(setup.data_dir)
x_train, x_test, y_test = mnist.x_train[:N_TRAIN], mnist.x_test, mnist.y_test
x_val = x_test[:N_VAL]
N_PIXELS = x_train.shape[1] * x_train.shape[2]
print(f"{len(x_train)} training images, {EPOCHS} epochs")

# %% [markdown]
# ## The code

# %%
print(readable_source(kl_strategies.TrainStepVAE))

# %% [markdown]
# ## All four strategies, same data, same architecture, same seed

# %%
ARCH = dict(
    input_dim=(28, 28, 1),
    encoder_conv_filters=[32, 64, 128], encoder_conv_kernel_size=[3, 3, 3],
    encoder_conv_strides=[1, 2, 2],
    decoder_conv_t_filters=[64, 32, 1], decoder_conv_t_kernel_size=[3, 3, 3],
    decoder_conv_t_strides=[2, 2, 1],
    z_dim=Z_DIM,
)
NAMES = {0: "0: KL layer in Encoder", 1: "1: extra outputs", 2: "2: model loss",
         3: "3: train_step"}
vaes, histories, timers = {}, {}, {}
for solution_type, name in NAMES.items():
    convention = STRATEGIES[solution_type].convention
    fact = convention.fact_from(FACT, MEAN, N_PIXELS, Z_DIM)
    setup_notebook(seed=SEED)  # the same initial weights and batches for each
    vae = MyVariationalAutoencoder(**ARCH, solution_type=solution_type, fact=fact)
    vae.compile_myVAE(LEARNING_RATE)
    timers[name] = EpochTimer()
    print(f"solution_type {name}: fact {fact:.4g} ({convention.name} convention)")
    history = vae.train_myVAE(x_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0,
                              validation_data=x_val, callbacks=[timers[name], LossPrinter()])
    vaes[name] = vae
    histories[name] = {key: [convention.per_pixel(value, N_PIXELS) for value in values]
                       for key, values in history.history.items()}

# %%
figures.plot_loss_curves(histories,
                         title="The four strategies (mean convention, dashed: validation)")

# %% [markdown]
# Strategies 0, 1 and 2 compute the very same loss in different places, so
# with the same seed their curves lie on top of each other. Strategy 3 computes
# the equivalent objective scaled by the number of pixels; Adam is nearly
# blind to such a scale, so it follows closely too. The largest gap between
# any two strategies' final training losses:

# %%
final_losses = {name: logs["loss"][-1] for name, logs in histories.items()}
loss_spread = (max(final_losses.values()) - min(final_losses.values())) / min(final_losses.values())
print(", ".join(f"{name}: {value:.4f}" for name, value in final_losses.items()))
print(f"largest relative difference: {loss_spread:.1%}")

# %% [markdown]
# Time per epoch, every epoch after the first (which includes tracing). The
# strategies trained one after the other, so a slow moment of the machine hits
# one of them alone: read a difference between the boxes as real only where it
# is larger than the boxes themselves. `benchmarks/strategies.py` times them
# in interleaved rounds instead.

# %%
seconds = {name: timer.seconds[1:] for name, timer in timers.items()}
medians = {name: float(np.median(values)) for name, values in seconds.items()}
fastest = min(medians.values())
for name, value in medians.items():
    print(f"{name:24s} median {value:5.2f} s/epoch  {value / fastest:4.2f}x the fastest")
# The same rule as the interleaved benchmarks: a ratio counts only where it exceeds
# the spread of a run's own epochs.
speed = compare(seconds, max(medians, key=medians.get), min(medians, key=medians.get))
print(speed)
fig, ax = plt.subplots(figsize=(7, 3))
ax.boxplot(list(seconds.values()), orientation="horizontal", tick_labels=list(seconds))
ax.set_xlabel("seconds per epoch (after the first)")
ax.set_title(f"{len(x_train)} images, batch {BATCH_SIZE}, with validation on {N_VAL}")
ax.invert_yaxis()
plt.show()

# %% [markdown]
# ## The train_step model's latent space and reconstructions

# %%
vae3 = vaes[NAMES[3]]
vae3.set_enc_to_predict()
z_test, mu_test, _ = vae3.encoder.predict(x_test, verbose=0)
figures.plot_latent_scatter(mu_test, y_test, title="solution_type 3: mu of the test digits")

# %% [markdown]
# Reconstructions by all four, with sampling switched off (`z = mu`), and the
# share of all test reconstructions that a nearest-neighbour digit classifier
# still recognises:

# %%
classifier = digit_classifier(mnist.x_train, mnist.y_train)
reconstructions = {name: reconstruct(vae, x_test) for name, vae in vaes.items()}
recognised = {name: classifier.score(images.reshape(len(x_test), -1), y_test)
              for name, images in reconstructions.items()}
for name, share in recognised.items():
    print(f"{name:24s} recognised: {share:.0%}")
figures.plot_reconstructions(x_test[:10], [images[:10] for images in reconstructions.values()],
                             row_titles=("original", *NAMES.values()))

# %%
print(f"saved to {vae3.save(setup.results_dir / '08_vae_solution_type_3')}")

# %% [markdown]
# ## What this notebook showed

# %%
show_key_numbers(train_images=len(x_train), epochs=EPOCHS, final_loss_spread=loss_spread,
                 slowest_over_fastest=max(medians.values()) / fastest,
                 speed_difference_real=speed.real,
                 **{f"recognised_type_{t}": recognised[name] for t, name in NAMES.items()})

# %% [markdown]
# - a hand-written `train_step` is short: forward pass under a tape, two
#   losses, gradients, optimizer, trackers; `test_step` gives validation;
# - from the same seed, all four strategies follow the same loss curve when
#   their `fact` values mean the same objective (the curves and the spread
#   of the final losses above). That is one run each: notebook 15 sets the
#   difference between strategies beside the difference between two seeds
#   of one strategy;
# - their speeds were measured above; the printed comparison of the slowest
#   and the fastest says whether they differ by more than one run's own epochs
#   vary. Each compiles one training step from the same tensors. The benchmark
#   (`benchmarks/`) measures this with interleaved rounds and memory.
