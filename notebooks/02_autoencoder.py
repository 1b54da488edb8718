# %% [markdown]
# # 02 · A plain Autoencoder on MNIST with binary cross-entropy
#
# Before any KL loss, the plain **Autoencoder (AE)**: Encoder, a 2-D latent
# space, Decoder, trained to rebuild its input. With `z_dim = 2` we can look at
# the whole latent space at once. Three pictures tell the story: where the
# test digits land in z, how well they come back, and what the Decoder makes of
# points in between.
#
# The loss is **binary cross-entropy (BCE)** averaged over pixels. MNIST pixels
# lie in [0, 1] and the Decoder ends in a sigmoid, so each pixel is treated as
# the probability of "ink".
#
# **Running time.** With the parameters below (the post's: 20 epochs over the
# 60,000 training digits) training takes about 13 minutes on a 2-core CPU (at
# the 1,575 images/s that `benchmarks/strategies.py` measured for this model)
# and a few minutes on a GPU. With `QUICK = True` (what `make run` runs) it
# trains 25 epochs with batches of 32 on 4,000 digits instead: about 2 minutes
# (117 s in `make run`) for the whole notebook on a 2-core CPU.

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
Z_DIM = 2
BATCH_SIZE = 32 if QUICK else 128
EPOCHS = 25 if QUICK else 20
N_TRAIN = 4000 if QUICK else None  # None: all training images
LEARNING_RATE = 0.0005

# %%
from my_AE_code.notebook_setup import setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import numpy as np
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from my_AE_code import figures
from my_AE_code.callbacks import EpochTimer
from my_AE_code.inference import reconstruct
from my_AE_code.mnist import digit_classifier, load_mnist
from my_AE_code.models import MyAutoencoder

mnist = load_mnist(setup.data_dir)
x_train, x_test, y_test = mnist.x_train[:N_TRAIN], mnist.x_test, mnist.y_test
print(f"MNIST from {mnist.source}: {len(x_train)} training and {len(x_test)} test images; "
      f"{EPOCHS} epochs")

# %% [markdown]
# ## The model
#
# The same conv stacks as the VAE of the later notebooks (post VI's layout),
# but the Encoder ends in one Dense layer that *is* `z`: no `mu`, no
# `log_var`, no sampling.

# %%
ae = MyAutoencoder(
    input_dim=(28, 28, 1),
    encoder_conv_filters=[32, 64, 128], encoder_conv_kernel_size=[3, 3, 3],
    encoder_conv_strides=[1, 2, 2],
    decoder_conv_t_filters=[64, 32, 1], decoder_conv_t_kernel_size=[3, 3, 3],
    decoder_conv_t_strides=[2, 2, 1],
    z_dim=Z_DIM, act=0,
)
ae.encoder.summary()

# %%
ae.compile_myAE(learning_rate=LEARNING_RATE)
timer = EpochTimer()
history = ae.train_myAE(x_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=2,
                        callbacks=[timer])
print(f"{timer.best:.1f} s per epoch (the fastest after the first)")
figures.plot_loss_curves(history, title="Autoencoder, BCE")

# %% [markdown]
# ## Where the test digits land
#
# Each dot is one test image's `z`, coloured by its digit. The Encoder was
# never told the labels, yet digits that look alike land near each other.

# %%
z_test = ae.encoder.predict(x_test, verbose=0)
low, high = np.percentile(z_test, [1, 99], axis=0)
print(f"98% of the test points lie in z1 in [{low[0]:.1f}, {high[0]:.1f}], "
      f"z2 in [{low[1]:.1f}, {high[1]:.1f}]")
figures.plot_latent_scatter(z_test, y_test, title="AE latent space (test digits)")

# %% [markdown]
# How well do the digits gather? A vote of each test point's five nearest
# neighbours in the 2-D codes (5-fold cross-validated) names the right digit
# this often; chance is 10%:

# %%
neighbour_vote = cross_val_score(KNeighborsClassifier(5), z_test, y_test, cv=5).mean()
print(f"the 5 nearest codes name the right digit for {neighbour_vote:.0%} of the test digits")

# %% [markdown]
# Nothing keeps the AE's points near the origin or its clusters compact: the
# area used is whatever training happened to produce. Notebook 04 compares
# that area with a VAE's, whose KL term pulls the points towards N(0, 1).
#
# ## Reconstructions
#
# Two numbers besides the picture: the BCE of the test images, and how many
# reconstructions a plain nearest-neighbour classifier, trained on the
# original training digits, still assigns to the right digit. Two numbers per
# digit cannot hold every detail: a reconstruction keeps the rough shape, and
# digits of similar shape (4 and 9, 3, 5 and 8) come back as each other. The
# share below says how often the digit survives.

# %%
reconstructions = reconstruct(ae, x_test)
bce = -np.mean(x_test * np.log(reconstructions + 1e-7)
               + (1 - x_test) * np.log(1 - reconstructions + 1e-7))
classifier = digit_classifier(mnist.x_train, mnist.y_train)
recognised = classifier.score(reconstructions.reshape(len(x_test), -1), y_test)
originals = classifier.score(x_test.reshape(len(x_test), -1), y_test)
print(f"test BCE {bce:.4f}; the classifier recognises {recognised:.0%} of the reconstructions "
      f"(and {originals:.0%} of the original test digits)")
figures.plot_reconstructions(x_test[:12], reconstructions[:12], n=12)

# %% [markdown]
# ## Decoding a grid of latent points
#
# Decode a regular grid that spans the occupied region. Where the grid hits a
# cluster the Decoder draws clean digits; between and beyond the clusters it
# has never been trained, and the images blur or turn odd. That gap is what a
# VAE is meant to close.

# %%
centre = (low + high) / 2
extent = float(np.max(high - low) / 2)
figures.plot_latent_grid(ae.decoder, n=15, extent=extent, center=centre, spacing="linear")

# %%
saved = ae.save(setup.results_dir / "02_autoencoder")
print(f"model saved to {saved}")

# %% [markdown]
# ## What this notebook showed
#
# - the loss curve above: BCE falls quickly in the first epochs;
# - the AE arranges the digits in a 2-D latent space without labels, spread
#   over the region printed above; how well each digit gathers with its own,
#   the neighbour vote says (in the table below, against 10% for chance);
# - reconstructions keep each digit's rough shape, blurred; the share still
#   recognised as their digit (in the table below) is far above chance (10%),
#   and the others come back as a digit of similar shape;
# - points between clusters decode to blurred or invalid digits.

# %%
show_key_numbers(train_images=len(x_train), epochs=EPOCHS, seconds_per_epoch=timer.best,
                 test_bce=bce, recognised_reconstructions=recognised,
                 recognised_originals=originals, latent_neighbour_vote=neighbour_vote)

# %% [markdown]
# Notebook 03 adds the KL loss the old way, and runs into today's TensorFlow.
