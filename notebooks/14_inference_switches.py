# %% [markdown]
# # 14 · Switching the sampling off at inference time
#
# After training, `z` = `mu` + exp(`log_var` / 2) x `eps` is not always wanted:
# to study where the Encoder puts an image, `mu` alone is the answer. The
# posts' class had a switch for this: the sampling function multiplied `eps`
# by a Python number, `enc_v_eps_factor`, which `set_enc_to_predict()` set to
# 0 and `set_enc_to_train()` back to 1. Post XIV found that flipping it did
# nothing, at first. The reason: Keras traces `predict`'s step into a graph
# the first time it runs and **caches** it; a Python number read during
# tracing is frozen into that graph as a constant.
#
# This notebook first reproduces the pitfall and the post's four experiments,
# then shows the package's switch, which keeps the factor in a Keras variable
# that every call reads afresh. As in the post, the model watched is the VAE
# with a tiny KL loss of post XIII: notebook 13 saves it, and this notebook
# uses it if it was made for faces of this notebook's `IMAGE_SIZE` with this
# notebook's `FACT_TINY`.
#
# **Running time.** A minute or two with notebook 13's saved model (on CelebA
# longer: the watched image is looked for among all 162,770 training faces,
# a few minutes of encoding on a 2-core CPU). Without it, this notebook first
# trains that VAE itself, for `FALLBACK_EPOCHS` = 24 epochs over CelebA's
# training faces: about three hours on a 2-core CPU (notebook 10's figure,
# from the 329 images/s that `benchmarks/strategies.py --celeba` measured),
# under an hour on the posts' GPU. The experiments below need a VAE whose
# `log_var` varies, not a good one, so `QUICK = True` (what `make run` runs)
# trains only 2 fallback epochs, on the stand-in even where CelebA is found:
# under a minute on a 2-core CPU. With notebook 13's model, `make run` ran
# this notebook in about 20 s.

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
N_REPEATS = 20         # predictions of the same image in each mode
BATCH_SIZE = 128
IMAGE_SIZE = 96
N_STANDIN = 2000       # images in the stand-in, used only where CelebA is missing
USE_CELEBA = not QUICK  # False: the stand-in even where CelebA is found
FACT_TINY = 1e-5       # notebook 13's tiny KL loss (post XIII), the VAE post XIV watched
FALLBACK_EPOCHS = 2 if QUICK else 24  # trained only without notebook 13's model
MIXED_PRECISION = "auto"  # "auto": mixed_float16 on a GPU with tensor cores, else float32
DISTRIBUTE = "auto"       # "auto": MirroredStrategy over several GPUs, else one device

# %%
from my_AE_code.notebook_setup import scaling_choices, setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers, ops

from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, prepare_celeba
from my_AE_code.celeba.files import IMAGES_DIR
from my_AE_code.celeba.model import NOTEBOOK_13_TINY_MODEL, load_or_train
from my_AE_code.inference import encode

dtype_policy, distribute = scaling_choices(MIXED_PRECISION, DISTRIBUTE)
print(f"dtype policy {dtype_policy}; "
      f"{distribute.num_replicas_in_sync if distribute else 1} device(s) share each batch")

source = find_or_make_celeba(setup.data_dir, n_standin=N_STANDIN, seed=SEED,
                             use_celeba=USE_CELEBA)
prepared = prepare_celeba(source.root / IMAGES_DIR, size=IMAGE_SIZE, verbose=False).out_dir
data = celeba_datasets(prepared, BATCH_SIZE, shuffle=False)
vae = load_or_train(setup.results_dir, celeba_datasets(prepared, BATCH_SIZE, seed=SEED).train,
                    epochs=FALLBACK_EPOCHS, image_size=IMAGE_SIZE, fact=FACT_TINY, seed=SEED,
                    dtype_policy=dtype_policy, distribute=distribute,
                    model_dir=NOTEBOOK_13_TINY_MODEL)

# %% [markdown]
# As in the post, we watch the training image whose `log_var` has the largest
# component. A tiny KL loss lets `log_var` fall far below 0 almost
# everywhere (notebook 13), so sampling hardly moves `z`; this one component
# is where it moves `z` most, and where a switch that fails shows.

# %%
vae.set_enc_to_predict()
_, mu_train, log_var_train = encode(vae, data.train)
vae.set_enc_to_train()
image_index, component = np.unravel_index(np.argmax(log_var_train), log_var_train.shape)
image = next(iter(data.train.unbatch().skip(int(image_index)).batch(1))).numpy()
print(f"training image {image_index}, component {component}: "
      f"mu {mu_train[image_index, component]:.4f}, "
      f"log_var {log_var_train[image_index, component]:.4f} "
      f"(sigma {np.exp(log_var_train[image_index, component] / 2):.4f}); "
      f"mean log_var of all {log_var_train.size:,} components {log_var_train.mean():.2f}")

# %% [markdown]
# ## The pitfall: a Python number in the sampling function
#
# We rebuild the post's Encoder around the trained layers: the same `mu` and
# `log_var`, followed by a `Lambda` layer whose function reads the factor from
# a Python object, as the post's `z_point_sampling` read
# `self.enc_v_eps_factor`.

# %%
class PostsSwitch:
    """The post's switch: a plain Python number on an object."""

    enc_v_eps_factor = 1.0

    def set_enc_to_predict(self):
        self.enc_v_eps_factor = 0.0

    def set_enc_to_train(self):
        self.enc_v_eps_factor = 1.0


def build_posts_encoder(switch):
    _, mu, log_var = vae.encoder.outputs

    def z_point_sampling(tensors):
        mu, log_var = tensors
        eps = keras.random.normal(ops.shape(mu))
        return mu + ops.exp(log_var / 2.0) * eps * switch.enc_v_eps_factor

    z = layers.Lambda(z_point_sampling, name="encoder_output")([mu, log_var])
    return keras.Model(vae.encoder.input, [z, mu, log_var], name="posts_encoder")


def watched(encoder):
    """z, mu and log_var of the watched component, predicted for the watched image."""
    z, mu, log_var = encoder.predict(image, verbose=0)
    return float(z[0, component]), float(mu[0, component]), float(log_var[0, component])


experiments = {}

# %% [markdown]
# **Experiment 1**: factor 1, compile, predict; then factor 0 and predict again,
# without anything else. The post saw `z` still differ from `mu`.
#
# These experiments make Keras trace a new `predict` function again and
# again, on purpose. TensorFlow warns about such repeated tracing; we turn its
# warnings off for the rest of this notebook (errors still show).

# %%
tf.get_logger().setLevel("ERROR")
switch = PostsSwitch()
posts_encoder = build_posts_encoder(switch)
posts_encoder.compile()
experiments["1: factor 1, predict"] = watched(posts_encoder)
switch.set_enc_to_predict()
experiments["1: then factor 0, predict"] = watched(posts_encoder)

# %% [markdown]
# **Experiment 2**: recompiling after each change of the factor clears the
# cached predict function:

# %%
switch.set_enc_to_predict()
posts_encoder.compile()
experiments["2: factor 0, compile, predict"] = watched(posts_encoder)
switch.set_enc_to_train()
posts_encoder.compile()
experiments["2: factor 1, compile, predict"] = watched(posts_encoder)

# %% [markdown]
# **Experiment 3**: on a freshly built Encoder, set the factor to 0 *before* the
# first `predict`. No recompiling, yet `z` equals `mu`: what counts is the
# value when `predict` first traces its function, not when the model was
# compiled.

# %%
fresh_switch = PostsSwitch()
fresh_encoder = build_posts_encoder(fresh_switch)
fresh_encoder.compile()
fresh_switch.set_enc_to_predict()
experiments["3: new Encoder, factor 0 before predict"] = watched(fresh_encoder)

# %% [markdown]
# **Experiment 4**: instead of recompiling, `make_predict_function(force=True)`
# rebuilds the cached function:

# %%
switch.set_enc_to_train()
posts_encoder.compile()
experiments["4: factor 1, predict"] = watched(posts_encoder)
switch.set_enc_to_predict()
posts_encoder.make_predict_function(force=True)
experiments["4: factor 0, make_predict_function(force=True), predict"] = \
    watched(posts_encoder)

# %%
print(f"{'experiment':58s} {'z':>9s} {'mu':>9s} {'z == mu':>8s}")
for name, (z, mu, _) in experiments.items():
    print(f"{name:58s} {z:9.4f} {mu:9.4f} {str(np.isclose(z, mu)):>8s}")
fig, ax = plt.subplots(figsize=(8, 3.5))
names = list(experiments)
ax.scatter([experiments[n][0] for n in names], names, label="z", zorder=3)
ax.scatter([experiments[n][1] for n in names], names, marker="|", s=300, color="k", label="mu")
ax.set_xlabel(f"component {component} of the watched image")
ax.invert_yaxis()
ax.legend()
plt.show()

# %% [markdown]
# Of the rows where the factor is 0, only experiment 1's leaves `z` sampled:
# the cached predict function still holds the factor 1 it was traced with.
#
# ## The package's switch: a variable
#
# `MyVariationalAutoencoder` keeps the factor in a non-trainable Keras
# variable of its `Sampling` layer. A traced function reads a variable's
# current value at every call, so `set_enc_to_predict()` acts on the very
# next `predict`, with no recompiling and no forced rebuild. The same image,
# predicted twenty times in each mode:

# %%
def components(times):
    return np.array([vae.encoder.predict(image, verbose=0)[0][0, component]
                     for _ in range(times)])


modes = {}
vae.set_enc_to_train()
modes["sampling on"] = components(N_REPEATS)
vae.set_enc_to_predict()
modes["after set_enc_to_predict()"] = components(N_REPEATS)
vae.set_enc_to_train()
modes["after set_enc_to_train()"] = components(N_REPEATS)
mu_value = float(vae.encoder.predict(image, verbose=0)[1][0, component])

fig, ax = plt.subplots(figsize=(8, 3))
for row, (name, values) in enumerate(modes.items()):
    ax.scatter(values, [row] * len(values), alpha=0.6)
ax.axvline(mu_value, color="k", linestyle=":", label="mu")
ax.set_yticks(range(len(modes)), list(modes))
ax.invert_yaxis()  # top to bottom in the order they ran
ax.set_xlabel(f"z, component {component}, in {N_REPEATS} predictions each")
ax.legend()
plt.show()
for name, values in modes.items():
    print(f"{name:28s} range of z (max - min): {np.ptp(values):.4f}; all equal to mu: "
          f"{bool(np.allclose(values, mu_value))}")

# %% [markdown]
# ## What this notebook showed

# %%
show_key_numbers(
    experiment_1_z_equals_mu_after_switch=bool(
        np.isclose(*experiments["1: then factor 0, predict"][:2])),
    experiment_2_z_equals_mu=bool(np.isclose(*experiments["2: factor 0, compile, predict"][:2])),
    experiment_3_z_equals_mu=bool(
        np.isclose(*experiments["3: new Encoder, factor 0 before predict"][:2])),
    experiment_4_z_equals_mu=bool(np.isclose(
        *experiments["4: factor 0, make_predict_function(force=True), predict"][:2])),
    variable_switch_off_range=float(np.ptp(modes["after set_enc_to_predict()"])),
    variable_switch_on_range=float(np.ptp(modes["after set_enc_to_train()"])))

# %% [markdown]
# - a Python number read inside a model is frozen into `predict`'s cached
#   function when that function is first traced: changing it later does
#   nothing (experiment 1);
# - recompiling or `make_predict_function(force=True)` rebuilds the function
#   and picks up the new value (experiments 2 and 4); setting the number before
#   the first `predict` works too (experiment 3);
# - a Keras variable avoids the trap: the package's switch acts on the very
#   next `predict`, and switches back just as promptly.
