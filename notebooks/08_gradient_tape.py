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
# image. To compare all four strategies on equal terms we translate `fact`
# with `equivalent_fact`, and divide strategy 3's losses by the 784 pixels.

# %% tags=["parameters"]
SEED = 42
Z_DIM = 2
FACT = 1e-3            # mean convention; strategy 3 gets the equivalent sum-convention value
BATCH_SIZE = 128
EPOCHS = 10            # quick mode: 4
N_TRAIN = None         # None: all training images; quick mode: 2,000
N_VAL = 2000           # test images used for validation losses; quick mode: 500
LEARNING_RATE = 0.0005

# %%
from my_AE_code.notebook_setup import setup_notebook  # first: it quietens TensorFlow

import inspect

import matplotlib.pyplot as plt
import numpy as np

from my_AE_code import figures
from my_AE_code.callbacks import EpochTimer, LossPrinter
from my_AE_code.mnist import load_mnist
from my_AE_code.models import MyVariationalAutoencoder, kl_strategies
from my_AE_code.models.losses import equivalent_fact

setup = setup_notebook(seed=SEED)
EPOCHS = setup.pick(full=EPOCHS, quick=4)
N_TRAIN = setup.pick(full=N_TRAIN, quick=2000)
N_VAL = setup.pick(full=N_VAL, quick=500)
mnist = load_mnist(setup.data_dir)
x_train, x_test, y_test = mnist.x_train[:N_TRAIN], mnist.x_test, mnist.y_test
x_val = x_test[:N_VAL]
N_PIXELS = int(np.prod(x_train.shape[1:]))
FACT_SUM = equivalent_fact(FACT, n_pixels=N_PIXELS, z_dim=Z_DIM)
print(f"{len(x_train)} training images, {EPOCHS} epochs; fact {FACT} (mean convention) "
      f"= {FACT_SUM:.4g} (sum convention)")

# %% [markdown]
# ## The code

# %%
print(inspect.getsource(kl_strategies._TrainStepVAE))

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
    setup_notebook(seed=SEED)  # the same initial weights and batches for each
    vae = MyVariationalAutoencoder(**ARCH, solution_type=solution_type,
                                   fact=FACT_SUM if solution_type == 3 else FACT)
    vae.compile_myVAE(LEARNING_RATE)
    timers[name] = EpochTimer()
    print(f"solution_type {name}")
    history = vae.train_myVAE(x_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0,
                              validation_data=x_val, callbacks=[timers[name], LossPrinter()])
    logs = history.history
    if solution_type == 3:  # back to the mean convention, per pixel
        logs = {key: list(np.array(values) / N_PIXELS) for key, values in logs.items()}
    vaes[name], histories[name] = vae, logs

# %%
figures.plot_loss_curves(histories, title="The four strategies (mean convention, dashed: validation)")

# %% [markdown]
# Strategies 0, 1 and 2 compute the very same loss in different places, so
# with the same seed their curves lie on top of each other. Strategy 3 computes
# the equivalent objective scaled by the number of pixels; Adam is nearly
# blind to such a scale, so it follows closely too.

# %% [markdown]
# Time per epoch: the fastest epoch of each run after the first (which
# includes tracing). The fastest, not the mean: on a shared or virtual machine
# some epochs get only part of the CPU, whatever the model.

# %%
seconds = {name: timer.best for name, timer in timers.items()}
fastest = min(seconds, key=seconds.get)
for name, value in seconds.items():
    print(f"{name:24s} {value:5.2f} s/epoch  {value / seconds[fastest]:4.2f}x the fastest")
print(f"fastest here: strategy {fastest}")
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(list(seconds), list(seconds.values()), color=["C0", "C1", "C2", "C3"])
ax.set_xlabel("seconds per epoch (fastest after the first)")
ax.set_title(f"{len(x_train)} images, batch {BATCH_SIZE}, with validation on {N_VAL}")
ax.invert_yaxis()
fig

# %% [markdown]
# ## The train_step model's latent space and reconstructions

# %%
vae3 = vaes[NAMES[3]]
vae3.set_enc_to_predict()
z_test, mu_test, _ = vae3.encoder.predict(x_test, verbose=0)
figures.plot_latent_scatter(mu_test, y_test, title="solution_type 3: mu of the test digits")

# %%
figures.plot_reconstructions(x_test[:10], [vaes[name].model.predict(x_test[:10], verbose=0)
                                           if i != 1 else
                                           vaes[name].model.predict(x_test[:10], verbose=0)["reco"]
                                           for i, name in enumerate(NAMES.values())],
                             row_titles=("original", *NAMES.values()))

# %%
print(f"saved to {vae3.save(setup.results_dir / '08_vae_solution_type_3')}")

# %% [markdown]
# ## What this notebook showed
#
# - a hand-written `train_step` is short: forward pass under a tape, two
#   losses, gradients, optimizer, trackers; `test_step` gives validation;
# - all four strategies learn the same thing when their `fact` values mean the
#   same objective (the curves above);
# - their speeds, measured above, differ by little on today's TensorFlow:
#   each compiles one training step from the same tensors. The benchmark
#   (`benchmarks/`) measures this with repeats and memory.
