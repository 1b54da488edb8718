# %% [markdown]
# # 05 · Strategy 0: a KL-loss layer inside the Encoder
#
# Notebook 04 repaired the old recipe by giving the loss layer `mu` and
# `log_var` as inputs, a layer after the Decoder; post IV found that layout
# slower on its GPU (15 s per epoch against 10 to 11 s), and notebook 04 timed
# it on today's TensorFlow. Post V moves the KL loss to where its tensors are made: a small
# layer right behind the `mu` and `log_var` Dense layers of the Encoder. It
# passes both tensors on unchanged and only calls `self.add_loss(...)`. Keras
# adds that term to the compiled BCE loss, so plain `compile` and `fit` work.
# In the package this is `solution_type=0`.
#
# **Running time.** With the parameters below (10 epochs over the 60,000
# training digits) about 7 minutes on a 2-core CPU (at the 1,522 images/s that
# `benchmarks/strategies.py` measured for this model); the post's GPU needed
# 10-11 s per epoch. With `QUICK = True` (what `make run` runs) it trains 20
# epochs with batches of 32 on 4,000 digits instead: about 2.5 minutes (144 s
# in `make run`) on a 2-core CPU.

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
Z_DIM = 2
FACT = 1e-3            # KL weight, mean convention (post V/VI value)
BATCH_SIZE = 32 if QUICK else 128
EPOCHS = 20 if QUICK else 10
N_TRAIN = 4000 if QUICK else None  # None: all training images
LEARNING_RATE = 0.0005

# %%
from my_AE_code.notebook_setup import setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import numpy as np

from my_AE_code import figures
from my_AE_code.callbacks import EpochTimer
from my_AE_code.inference import reconstruct
from my_AE_code.listing import readable_source
from my_AE_code.mnist import digit_classifier, load_mnist
from my_AE_code.models import MyVariationalAutoencoder, kl_strategies

mnist = load_mnist(setup.data_dir)
x_train, x_test, y_test = mnist.x_train[:N_TRAIN], mnist.x_test, mnist.y_test
print(f"MNIST from {mnist.source}: {len(x_train)} training images, {EPOCHS} epochs")

# %% [markdown]
# ## The code
#
# The layer, as the package defines it. `kl_loss_mean` is the mean convention
# of posts V-VII: `-fact * mean(1 + log_var - mu^2 - exp(log_var))`.

# %%
print(readable_source(kl_strategies.KLLossLayer))

# %% [markdown]
# And the strategy: `in_encoder` puts that layer into the Encoder, right after
# the `mu` and `log_var` layers (`MyVariationalAutoencoder` calls it there for
# every strategy; the others pass the two through). The model is just
# Encoder -> Decoder, compiled with BCE.
# Its model class adds nothing but `LogsAddedKL`, which only splits the logged
# total into `reco_loss` and `kl_loss` (strategy 2 uses it too):

# %%
print(readable_source(kl_strategies.EncoderLayerKL))
print(readable_source(kl_strategies.EncoderLayerVAE))
print(readable_source(kl_strategies.LogsAddedKL))

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
timer = EpochTimer()
history = vae.train_myVAE(x_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=2,
                          callbacks=[timer])
print(f"{timer.best:.1f} s per epoch for {len(x_train)} images (the fastest after the first)")
figures.plot_loss_curves(history, title="solution_type 0: KL layer in the Encoder")

# %% [markdown]
# ## The latent space
#
# With sampling switched off, each test image maps to its `mu`. Compare with
# notebook 02: the KL term pulls the points towards the origin and into a
# compact cloud. Two numbers say how compact and how centred: the radius
# that holds 98% of the points (for N(0, 1) in two dimensions it is 2.8), and
# how far the cloud's centre lies from the origin.

# %%
vae.set_enc_to_predict()
z_test, mu_test, log_var_test = vae.encoder.predict(x_test, verbose=0)
radius_98 = float(np.percentile(np.linalg.norm(mu_test, axis=1), 98))
centre_offset = float(np.linalg.norm(mu_test.mean(axis=0)))
print(f"mu: 98% of test points within radius {radius_98:.2f} of the origin; the cloud's "
      f"centre is {centre_offset:.2f} from it; mean sigma {np.exp(log_var_test / 2).mean():.3f}")
figures.plot_latent_scatter(mu_test, y_test, title="solution_type 0: mu of the test digits")

# %%
reconstructions = reconstruct(vae, x_test)
classifier = digit_classifier(mnist.x_train, mnist.y_train)
recognised = classifier.score(reconstructions.reshape(len(x_test), -1), y_test)
print(f"a nearest-neighbour classifier recognises {recognised:.0%} of the reconstructions")
figures.plot_reconstructions(x_test[:12], reconstructions[:12], n=12)

# %% [markdown]
# Decoding a grid spaced by quantiles of N(0, 1) shows what the Decoder makes
# of the region the KL term asks the points to fill:

# %%
figures.plot_latent_grid(vae.decoder, n=15, extent=2.5, spacing="normal")

# %%
print(f"saved to {vae.save(setup.results_dir / '05_vae_solution_type_0')}")

# %% [markdown]
# ## What this notebook showed

# %%
show_key_numbers(train_images=len(x_train), epochs=EPOCHS, seconds_per_epoch=timer.best,
                 radius_98=radius_98, centre_offset=centre_offset,
                 recognised_reconstructions=recognised)

# %% [markdown]
# - the KL layer is a few lines next to `mu` and `log_var`, and `compile`/`fit`
#   stay standard;
# - the loss curves above show reconstruction and KL loss separately, and the
#   time per epoch is this machine's figure (the post saw 10-11 s per epoch on
#   its GPU for full MNIST, against 15 s for notebook 04's layout);
# - the latent cloud is compact and centred (radius and offset above), unlike
#   the AE's in notebook 02;
# - reconstructions keep the digits' rough shapes; the classifier's share is in
#   the table above.
#
# Notebook 06 gets the same loss through a very different door: extra outputs.
