# %% [markdown]
# # 05 · Strategy 0: a KL-loss layer inside the Encoder
#
# Notebook 04 repaired the old recipe by giving the loss layer `mu` and
# `log_var` as inputs, and found it slow because the layer sits after the
# Decoder. Post V moves the KL loss to where its tensors are made: a small
# layer right behind the `mu` and `log_var` Dense layers of the Encoder. It
# passes both tensors on unchanged and only calls `self.add_loss(...)`. Keras
# adds that term to the compiled BCE loss, so plain `compile` and `fit` work.
# In the package this is `solution_type=0`.

# %% tags=["parameters"]
SEED = 42
Z_DIM = 2
FACT = 1e-3            # KL weight, mean convention (post V/VI value)
BATCH_SIZE = 128
EPOCHS = 10            # quick mode: 3
N_TRAIN = None         # None: all training images; quick mode: 5,000
LEARNING_RATE = 0.0005

# %%
from my_AE_code.notebook_setup import setup_notebook  # first: it quietens TensorFlow

import inspect
import time

import numpy as np

from my_AE_code import figures
from my_AE_code.mnist import load_mnist
from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models import kl_strategies, layers

setup = setup_notebook(seed=SEED)
EPOCHS = setup.pick(full=EPOCHS, quick=3)
N_TRAIN = setup.pick(full=N_TRAIN, quick=5000)
mnist = load_mnist(setup.data_dir)
x_train, x_test, y_test = mnist.x_train[:N_TRAIN], mnist.x_test, mnist.y_test
print(f"MNIST from {mnist.source}: {len(x_train)} training images, {EPOCHS} epochs")

# %% [markdown]
# ## The code
#
# The layer, as the package defines it. `kl_loss_mean` is the mean convention
# of posts V-VII: `-fact * mean(1 + log_var - mu^2 - exp(log_var))`.

# %%
print(inspect.getsource(layers.KLLossLayer))

# %% [markdown]
# And the strategy: the model is just Encoder -> Decoder, compiled with BCE.
# `_LogsAddedKL` only splits the logged total into `reco_loss` and `kl_loss`.

# %%
print(inspect.getsource(kl_strategies.EncoderLayerKL))

# %%
vae = MyVariationalAutoencoder(
    input_dim=(28, 28, 1),
    encoder_conv_filters=[32, 64, 128], encoder_conv_kernel_size=[3, 3, 3],
    encoder_conv_strides=[1, 2, 2],
    decoder_conv_t_filters=[64, 32, 1], decoder_conv_t_kernel_size=[3, 3, 3],
    decoder_conv_t_strides=[2, 2, 1],
    z_dim=Z_DIM, solution_type=0, act=0, fact=FACT,
)
vae.encoder.summary()

# %% [markdown]
# ## Training

# %%
vae.compile_myVAE(learning_rate=LEARNING_RATE)
start = time.perf_counter()
history = vae.train_myVAE(x_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=2)
seconds_per_epoch = (time.perf_counter() - start) / EPOCHS
print(f"{seconds_per_epoch:.1f} s per epoch for {len(x_train)} images (first epoch includes tracing)")
figures.plot_loss_curves(history, title="solution_type 0: KL layer in the Encoder")

# %% [markdown]
# ## The latent space
#
# With sampling switched off, each test image maps to its `mu`. Compare with
# notebook 02: the KL term pulls the points towards the origin and into a
# compact, roughly round cloud.

# %%
vae.set_enc_to_predict()
z_test, mu_test, log_var_test = vae.encoder.predict(x_test, verbose=0)
radius = np.linalg.norm(mu_test, axis=1)
print(f"mu: 98% of test points within radius {np.percentile(radius, 98):.2f} of the origin; "
      f"mean sigma {np.exp(log_var_test / 2).mean():.3f}")
figures.plot_latent_scatter(mu_test, y_test, title="solution_type 0: mu of the test digits")

# %%
reconstructions = vae.decoder.predict(z_test[:10], verbose=0)
figures.plot_reconstructions(x_test[:10], reconstructions)

# %% [markdown]
# Decoding a grid spaced by quantiles of N(0, 1) shows what the Decoder makes
# of the region the KL term asks the points to fill:

# %%
figures.plot_latent_grid(vae.decoder, n=15, extent=2.5, spacing="normal")

# %%
print(f"saved to {vae.save(setup.results_dir / '05_vae_solution_type_0')}")

# %% [markdown]
# ## What this notebook showed
#
# - the KL layer is a few lines next to `mu` and `log_var`, and `compile`/`fit`
#   stay standard;
# - the loss curves above show reconstruction and KL loss separately, and the
#   time per epoch printed above is this machine's figure (the post saw 10-11 s
#   per epoch on its GPU for full MNIST, against 15 s for notebook 04's layout);
# - the latent cloud is compact and centred, unlike the AE's in notebook 02.
#
# Notebook 06 gets the same loss through a very different door: extra outputs.
