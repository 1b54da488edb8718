# %% [markdown]
# # 06 · Strategy 1: mu and log_var as extra outputs with their own losses
#
# Keras gives every output of a model its own loss function with the
# standard signature `loss(y_true, y_pred)`, and adds them up. Post VI uses
# this: `mu` and `log_var` travel to the output side of the VAE, and the KL
# loss is split into a `mu` part and a `log_var` part:
#
# $$ -\mathrm{fact}\cdot\overline{(1 + \log\sigma^2 - \mu^2 - \sigma^2)}
#   = \underbrace{\mathrm{fact}\cdot\overline{\mu^2}}_{\texttt{mu\_loss}}
#   \; \underbrace{- \mathrm{fact}\cdot\overline{(1 + \log\sigma^2 - \sigma^2)}}_{\texttt{log\_var\_loss}} $$
#
# The catch: Keras insists on a `y_true` for every output, although the two KL
# parts ignore it. The post built dummy arrays of N x z_dim for that; the
# package makes zeros per batch instead. This is `solution_type=1`.

# %% tags=["parameters"]
SEED = 42
Z_DIM = 2
FACT = 1e-3
BATCH_SIZE = 128
EPOCHS = 10            # quick mode: 3
N_TRAIN = None         # None: all training images; quick mode: 5,000
LEARNING_RATE = 0.0005

# %%
from my_AE_code.notebook_setup import setup_notebook  # first: it quietens TensorFlow

import inspect

import numpy as np
import tensorflow as tf

from my_AE_code import figures
from my_AE_code.callbacks import LossPrinter
from my_AE_code.mnist import load_mnist
from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models import kl_strategies

setup = setup_notebook(seed=SEED)
EPOCHS = setup.pick(full=EPOCHS, quick=3)
N_TRAIN = setup.pick(full=N_TRAIN, quick=5000)
mnist = load_mnist(setup.data_dir)
x_train, x_test, y_test = mnist.x_train[:N_TRAIN], mnist.x_test, mnist.y_test

# %% [markdown]
# ## The code
#
# The two partial losses and the strategy. The model's outputs are a
# dictionary, and `compile(loss={...})` maps a loss to each key.

# %%
print(inspect.getsource(kl_strategies._mu_loss))
print(inspect.getsource(kl_strategies._log_var_loss))
print(inspect.getsource(kl_strategies.TransferKL))

# %%
vae = MyVariationalAutoencoder(
    input_dim=(28, 28, 1),
    encoder_conv_filters=[32, 64, 128], encoder_conv_kernel_size=[3, 3, 3],
    encoder_conv_strides=[1, 2, 2],
    decoder_conv_t_filters=[64, 32, 1], decoder_conv_t_kernel_size=[3, 3, 3],
    decoder_conv_t_strides=[2, 2, 1],
    z_dim=Z_DIM, solution_type=1, act=0, fact=FACT,
)
print("model outputs:", list(vae.model.output.keys()))

# %% [markdown]
# ## Dummy targets: per batch, not per data set
#
# What `fit` receives for one batch of 4 images:

# %%
targets = vae.strategy.targets(tf.constant(x_train[:4]))
print({key: tuple(value.shape) for key, value in targets.items()})
full_mb = 2 * len(mnist.x_train) * Z_DIM * 4 / 2**20
batch_kb = 2 * BATCH_SIZE * Z_DIM * 4 / 2**10
celeba_mb = 2 * 170_000 * 256 * 4 / 2**20
print(f"the post's two N x z_dim dummy arrays: {full_mb:.2f} MB; per batch here: {batch_kb:.1f} KB")
print(f"the same arrays for CelebA (170,000 images, z_dim 256): {celeba_mb:.0f} MB")

# %% [markdown]
# Small for `z_dim` = 2, but it grows with the data set and `z_dim`, as the
# CelebA line shows.
#
# ## Training, with readable loss names
#
# Keras logs the per-output losses as `<output key>_loss`; we named the keys so
# that reads well (`reco_loss`, `mu_loss`, `log_var_loss`), and the model adds
# their KL sum as `kl_loss`. `LossPrinter` (the post's printer callback)
# prints them in one line per epoch.

# %%
vae.compile_myVAE(learning_rate=LEARNING_RATE)
history = vae.train_myVAE(x_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0,
                          callbacks=[LossPrinter()])
figures.plot_loss_curves(history, title="solution_type 1: KL via extra outputs")

# %% [markdown]
# The post's own call, with its dummy arrays, still works:

# %%
n = 1024
post_history = vae.train_myVAE(x_train[:n], batch_size=BATCH_SIZE, epochs=1, verbose=0,
                               t_mu=np.zeros((n, Z_DIM), "float32"),
                               t_logvar=np.ones((n, Z_DIM), "float32"))
print({key: round(values[-1], 4) for key, values in post_history.history.items()})

# %% [markdown]
# ## The latent space

# %%
vae.set_enc_to_predict()
z_test, mu_test, _ = vae.encoder.predict(x_test, verbose=0)
figures.plot_latent_scatter(mu_test, y_test, title="solution_type 1: mu of the test digits")

# %%
figures.plot_reconstructions(x_test[:10], vae.decoder.predict(z_test[:10], verbose=0))

# %%
print(f"saved to {vae.save(setup.results_dir / '06_vae_solution_type_1')}")

# %% [markdown]
# ## What this notebook showed
#
# - a multi-output model with one standard loss function per output carries
#   the KL loss without any custom layer;
# - the dummy `y_true` that Keras requires costs almost nothing when made per
#   batch (the memory figures above);
# - the logged `mu_loss` and `log_var_loss` add up to `kl_loss`, and the
#   latent cloud looks like strategy 0's.
#
# Notebook 07 tries the shortest route of all: `model.add_loss`.
