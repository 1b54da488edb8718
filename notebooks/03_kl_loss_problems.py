# %% [markdown]
# # 03 · The old KL-loss recipe and why today's TensorFlow refuses it
#
# A VAE needs two losses: the reconstruction loss (BCE) and the KL loss on
# `mu` and `log_var`. A well-known 2017 recipe (from F. Chollet's book on deep
# learning with Keras) puts both into one custom layer on *top* of the model,
# Encoder -> Decoder -> loss layer, and lets that layer pick up `mu` and
# `log_var` from the surrounding Python scope. Post III tried it on
# TensorFlow 2.8 and it failed. This notebook runs the recipe on Keras 3 and,
# if the package `tf-keras` is installed, on Keras 2, shows the errors both
# raise, and explains the cause: **symbolic** versus **eager** tensors.
#
#
# Nothing here trains for long: the notebook runs in about a minute, and in 14
# s with `QUICK = True` (what `make run` runs: 2,000 digits for the one
# training attempt instead of 6,000).

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
Z_DIM = 2
KL_FACTOR = 0.5e-4   # the recipe's weight of the KL term
N_TRAIN = 2000 if QUICK else 6000  # digits for the one training attempt on Keras 2

# %%
from my_AE_code.notebook_setup import setup_notebook

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import keras
import matplotlib.pyplot as plt
from keras import layers, ops

from my_AE_code.mnist import load_mnist
from my_AE_code.models import MyVariationalAutoencoder

x_train = load_mnist(setup.data_dir).x_train[:N_TRAIN]

# %% [markdown]
# ## The recipe's layout
#
# The loss layer sits after the Decoder and receives the input image and the
# reconstruction as its inputs. `mu` and `log_var`, which the KL term needs,
# are *not* among its inputs: the layer's loss function reaches out for them
# (dashed arrow).

# %%
def box(ax, x, y, text, color):
    ax.add_patch(plt.Rectangle((x - 0.11, y - 0.1), 0.22, 0.2, color=color, alpha=0.3))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


fig, ax = plt.subplots(figsize=(10, 2.8))
for x, text, color in [(0.08, "input x", "gray"), (0.33, "Encoder\n-> z, mu, log_var", "C0"),
                       (0.6, "Decoder\n-> x_reco", "C1"), (0.88, "loss layer\nBCE + KL", "C3")]:
    box(ax, x, 0.5, text, color)
for start, end in [(0.19, 0.22), (0.44, 0.49), (0.71, 0.77)]:
    ax.annotate("", (end, 0.5), (start, 0.5), arrowprops=dict(arrowstyle="->"))
ax.annotate("", (0.88, 0.62), (0.08, 0.62), arrowprops=dict(arrowstyle="->",
            connectionstyle="arc3,rad=-0.25"))
ax.annotate("", (0.84, 0.38), (0.36, 0.38), arrowprops=dict(arrowstyle="->", linestyle="--",
            color="C3", connectionstyle="arc3,rad=0.3"))
ax.text(0.6, 0.05, "mu, log_var taken from the enclosing scope", color="C3", ha="center")
ax.set_xlim(-0.05, 1.02)
ax.set_ylim(0, 1)
ax.axis("off")
ax.set_title("The 2017 recipe: the loss layer's KL term uses tensors it was not given")
plt.show()

# %% [markdown]
# We take Encoder and Decoder from our package (their structure does not
# matter here) and keep the Encoder's symbolic outputs, as the recipe does:

# %%
vae = MyVariationalAutoencoder(
    input_dim=(28, 28, 1),
    encoder_conv_filters=[32, 64, 128], encoder_conv_kernel_size=[3, 3, 3],
    encoder_conv_strides=[1, 2, 2],
    decoder_conv_t_filters=[64, 32, 1], decoder_conv_t_kernel_size=[3, 3, 3],
    decoder_conv_t_strides=[2, 2, 1],
    z_dim=Z_DIM, solution_type=3,
)
encoder_input = vae.encoder.input
z, mu, log_var = vae.encoder.outputs
decoder_output = vae.decoder(z)
print(type(mu).__name__, mu.shape)

# %% [markdown]
# ## Run the recipe on Keras 3
#
# The loss function below is a method of the layer. Look at its arguments:
# the two images. `mu` and `log_var` come from the notebook's scope.
#
# **The next cell fails on purpose**: it shows the error today's Keras raises.
# It is tagged `raises-exception`, so "Run All" goes on past it.

# %% tags=["raises-exception"]
class CustomVariationalLayer(layers.Layer):
    def vae_loss(self, x, x_reco):
        reco_loss = ops.mean(keras.losses.binary_crossentropy(
            ops.reshape(x, (-1, 784)), ops.reshape(x_reco, (-1, 784))))
        kl_loss = -KL_FACTOR * ops.mean(1 + log_var - ops.square(mu) - ops.exp(log_var))
        return reco_loss + kl_loss

    def call(self, inputs):
        x, x_reco = inputs
        self.add_loss(self.vae_loss(x, x_reco))
        return x


loss_layer_output = CustomVariationalLayer()([encoder_input, decoder_output])

# %% [markdown]
# Keras 3 stops already while *building* the model: `add_loss() can only be
# called ... on a tensor input. Received invalid value: <KerasTensor ...>`.
#
# ## Symbolic and eager tensors
#
# When we wire up a functional model, no data flows. `mu` is a **KerasTensor**:
# a placeholder with a shape and a dtype, a node in the plan of the model. When
# Keras later runs a layer, eagerly or inside a traced `tf.function`, it feeds
# **real tensors** into the layer's *inputs*. Anything the layer grabs from
# outside is not fed: it stays the old placeholder. So the KL term is computed
# from placeholders, its result is a placeholder too, and `add_loss` refuses it:
# there is nothing to differentiate, because the placeholder is not connected to
# the values flowing through this call.
#
# The two kinds side by side:

# %%
class ShowInputType(layers.Layer):
    def call(self, inputs):
        print(f"  inside call(): the input is a {type(inputs).__name__}; "
              f"the captured mu is a {type(mu).__name__}")
        return inputs


print("building a model (symbolic):")
symbolic_out = ShowInputType()(encoder_input)
print("running the layer on data (eager):")
_ = ShowInputType()(x_train[:2])

# %% [markdown]
# While the model is built, the input is not the KerasTensor we passed in:
# Keras runs `call` once on TensorFlow's own graph placeholders (class
# `SymbolicTensor`) to find out the output's shape and dtype; `fit` later does
# the same when it traces the training step into a graph. Run on data, `call`
# gets an `EagerTensor` holding numbers. In every case `mu` stays the
# KerasTensor it was: a node of the model's plan that neither TensorFlow's
# graph nor its eager mode can compute with.

# %% [markdown]
# ## The same recipe on Keras 2
#
# Keras 2 lives on as the package `tf-keras`. The recipe fails there too, in a
# different place: model construction goes through, but TensorFlow refuses to
# pass the captured KerasTensors into the gradient tape that `fit` needs.
#
# **The next cell fails on purpose too** (tagged `raises-exception`).

# %% tags=["raises-exception"]
from my_AE_code.posts.keras2 import import_tf_keras

tf_keras = import_tf_keras()  # Keras 2, the extra "posts"; if missing, says how to install it
k2 = tf_keras.backend
k2_input = tf_keras.Input((28, 28, 1))
k2_flat = tf_keras.layers.Flatten()(k2_input)
k2_mu = tf_keras.layers.Dense(Z_DIM)(k2_flat)
k2_log_var = tf_keras.layers.Dense(Z_DIM)(k2_flat)
k2_z = tf_keras.layers.Lambda(
    lambda t: t[0] + k2.exp(t[1] / 2) * k2.random_normal(k2.shape(t[0])))([k2_mu, k2_log_var])
k2_reco = tf_keras.layers.Reshape((28, 28, 1))(
    tf_keras.layers.Dense(784, activation="sigmoid")(k2_z))


class CustomVariationalLayerK2(tf_keras.layers.Layer):
    def vae_loss(self, x, x_reco):
        reco_loss = k2.mean(tf_keras.metrics.binary_crossentropy(k2.flatten(x), k2.flatten(x_reco)))
        kl_loss = -KL_FACTOR * k2.mean(1 + k2_log_var - k2.square(k2_mu) - k2.exp(k2_log_var))
        return reco_loss + kl_loss

    def call(self, inputs):
        x, x_reco = inputs
        self.add_loss(self.vae_loss(x, x_reco))
        return x


k2_vae = tf_keras.Model(k2_input, CustomVariationalLayerK2()([k2_input, k2_reco]))
k2_vae.compile(optimizer="adam", loss=None)
k2_vae.fit(x_train, None, batch_size=128, epochs=1, verbose=0)

# %% [markdown]
# Keras 2 accepted the layer while the model was built: it keeps a loss made
# of KerasTensors as a "symbolic loss" of the model. The traceback shows where
# that ends. In `fit`'s first training step, `train_step` calls
# `compute_loss`, which adds the model's losses to the compiled loss, and the
# loss tracker's `update_state` then tries to `assign_add` that sum to its
# variable. The sum still contains the captured KerasTensors, and TensorFlow
# refuses them: *"You are passing KerasTensor ... an intermediate TF-Keras
# symbolic input/output, to a TF API that does not allow registering custom
# dispatchers, such as `tf.cond`, `tf.function`, gradient tapes ..."*.
#
# ## What this notebook showed
#
# - the recipe fails on Keras 3 (a `ValueError` from `add_loss` while the model
#   is built) and on Keras 2 (a `TypeError` when training starts);
# - the cause is the same: the loss layer computes with symbolic tensors it
#   captured instead of receiving them as inputs, so at run time they carry no
#   values and no gradients.
#
# Notebook 04 repairs the recipe with one change: `mu` and `log_var` become
# inputs of the loss layer.
