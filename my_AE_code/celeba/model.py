"""Post X's CelebA VAE, defined once: notebook 10 trains and saves it, notebooks 11-14 use it.

Notebook 13 saves its tiny-KL VAE (post XIII) too, which notebook 14 watches (post XIV).

`celeba_vae` builds it from a notebook's parameters (image size, z_dim, fact,
batch norm, learning rate, seed, dtype policy), so what a reader edits in a
parameters cell is what gets built, in notebook 10 and in every fallback.

Any notebook can be opened first: `load_or_train` takes notebook 10's saved
model when it is the model the notebook asks for, and otherwise trains one on
the spot, saying why.
"""

import math
import numbers
from pathlib import Path

from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.layouts import CELEBA_LAYOUT
from my_AE_code.models.saving import PARAMS_FILE, read_params

#: Where notebook 10 saves its model, inside the results folder.
NOTEBOOK_10_MODEL = "10_celeba_vae"
#: Where notebook 13 saves its VAE with a tiny KL loss (post XIII), for notebook 14.
NOTEBOOK_13_TINY_MODEL = "13_tiny_kl_vae"
#: Which notebook saves the model in each of these folders, for the messages.
SAVED_BY = {NOTEBOOK_10_MODEL: "notebook 10", NOTEBOOK_13_TINY_MODEL: "notebook 13"}
#: Post X's settings: z_dim, KL weight (sum convention, solution_type 3), batch norm, Adam's
#: learning rate, and the side of the prepared square faces.
Z_DIM = CELEBA_LAYOUT["z_dim"]
FACT = 5.0
USE_BATCH_NORM = True
LEARNING_RATE = 0.0005
IMAGE_SIZE = CELEBA_LAYOUT["input_dim"][0]
#: The conv layers of post X: 32, 64, 128 and 256 filters (kernel 3, stride 2) each way.
CONV_LAYERS = {name: value for name, value in CELEBA_LAYOUT.items()
               if name not in ("input_dim", "z_dim")}
#: How much the four stride-2 conv layers shrink an image's side (and the decoder grows it).
DOWNSCALE = math.prod(CONV_LAYERS["encoder_conv_strides"])


def check_image_size(image_size):
    """``image_size`` (a notebook's IMAGE_SIZE) is a side the conv layers can undo.

    Each of the four stride-2 layers halves the side (rounding up) and the
    decoder doubles it four times, so only a multiple of 16 comes back at its
    own size; any other would fail later as a shape mismatch deep in Keras.
    """
    if isinstance(image_size, bool) or not isinstance(image_size, numbers.Integral):
        raise TypeError(f"image_size (IMAGE_SIZE in the notebooks) must be an integer, got "
                        f"{image_size!r}.")
    if image_size < DOWNSCALE or image_size % DOWNSCALE:
        lower = max(DOWNSCALE, image_size // DOWNSCALE * DOWNSCALE)
        raise ValueError(
            f"image_size={image_size} (IMAGE_SIZE in the notebooks) does not go with post X's "
            f"four stride-2 conv layers: they shrink a side {DOWNSCALE}-fold and the decoder "
            f"grows it back, so the side must be a multiple of {DOWNSCALE}, e.g. {lower} or "
            f"{lower + DOWNSCALE} (the posts: {IMAGE_SIZE}).")


def celeba_vae(image_size=IMAGE_SIZE, z_dim=Z_DIM, fact=FACT, use_batch_norm=USE_BATCH_NORM,
               learning_rate=None, enc_dense_units=None, seed=None, dtype_policy=None,
               distribute=None):
    """Post X's VAE for ``image_size`` x ``image_size`` colour faces: conv 32/64/128/256
    (kernel 3, stride 2) each way, LeakyReLU, solution_type 3 (sum convention, ``fact``
    about 5; 1e-5 is post XIII's "tiny KL").

    ``enc_dense_units`` adds post XII's extra Dense layer. With ``learning_rate`` the
    model comes compiled (Adam), ready to train. ``dtype_policy`` and ``distribute`` are
    what the notebooks' MIXED_PRECISION and DISTRIBUTE choose.
    """
    check_image_size(image_size)
    vae = MyVariationalAutoencoder(
        input_dim=(image_size, image_size, 3), **CONV_LAYERS, z_dim=z_dim,
        use_batch_norm=use_batch_norm, act=0, solution_type=3, fact=fact,
        enc_dense_units=enc_dense_units, seed=seed, dtype_policy=dtype_policy,
        distribute=distribute)
    if learning_rate is not None:
        vae.compile_myVAE(learning_rate)
    return vae


def load_or_train(results_dir, train, epochs, *, image_size=IMAGE_SIZE, z_dim=None, fact=None,
                  use_batch_norm=None, learning_rate=LEARNING_RATE, seed=None, verbose=2,
                  dtype_policy=None, distribute=None, model_dir=NOTEBOOK_10_MODEL):
    """Notebook 10's saved VAE if it is the model asked for, else `celeba_vae` trained on
    ``train`` (batches of faces) for ``epochs``.

    ``model_dir`` names another saved model to look for, e.g. `NOTEBOOK_13_TINY_MODEL`
    (notebook 14 asks for it with notebook 13's ``fact``).

    The model asked for is `celeba_vae` of these arguments. ``z_dim``, ``fact`` and
    ``use_batch_norm`` left at None take whatever notebook 10 saved (notebooks 11 and 14
    need a VAE for their faces, of any z_dim) and post X's values when training; a
    notebook that names them (13) gets a saved model only if it has those values. A
    saved model of another shape is never used for the notebook's images: that would
    fail, or answer another question. The loaded model gets this notebook's ``seed`` and
    ``dtype_policy`` (its weights are float32 under every policy); it is not compiled.
    """
    asked = {"input_dim": [image_size, image_size, 3], "z_dim": z_dim, "fact": fact,
             "use_batch_norm": use_batch_norm}
    check_image_size(image_size)
    folder = Path(results_dir) / model_dir
    saver = SAVED_BY.get(model_dir, model_dir)
    saved = _saved_params(folder)
    if saved is None:
        reason = f"no model from {saver} in {folder}"
    else:
        wanted = {**_posts_layout(), **{name: value for name, value in asked.items()
                                        if value is not None}}
        differences = [f"{name}={saved.get(name)!r} there, {value!r} here"
                       for name, value in wanted.items() if saved.get(name) != value]
        if not differences:
            print(f"loaded {saver}'s model from {folder}")
            vae = celeba_vae(image_size, saved["z_dim"], saved["fact"], saved["use_batch_norm"],
                             seed=seed, dtype_policy=dtype_policy, distribute=distribute)
            vae.load_weights(folder)
            return vae
        reason = (f"{saver}'s model in {folder} is not the one asked for here "
                  f"({'; '.join(differences)})")
    vae = celeba_vae(image_size, Z_DIM if z_dim is None else z_dim,
                     FACT if fact is None else fact,
                     USE_BATCH_NORM if use_batch_norm is None else use_batch_norm,
                     learning_rate=learning_rate, seed=seed, dtype_policy=dtype_policy,
                     distribute=distribute)
    arch = vae.architecture
    print(f"{reason}: training post X's VAE here (z_dim {arch.z_dim}, fact {vae.fact:g}, "
          f"batch norm {arch.use_batch_norm}, {image_size}x{image_size} faces) for {epochs} "
          f"epochs. Run {saver} with these values to keep one for the notebooks after it.")
    vae.train_myVAE(train, batch_size=None, epochs=epochs, verbose=verbose)
    return vae


def _saved_params(folder):
    """The parameters of the VAE saved in ``folder``, or None if nothing is saved there."""
    if not (folder / PARAMS_FILE).exists():
        return None
    saved = read_params(folder)
    # Another class (an AE) has no solution_type: it differs from post X's VAE there.
    return {**saved["params"], "class": saved["class"]}


def _posts_layout():
    """Post X's architecture beyond what a notebook chooses, as saved in ``params.json``."""
    return {**{name: list(value) for name, value in CONV_LAYERS.items()},
            "act": 0, "solution_type": 3, "enc_dense_units": None, "use_dropout": False,
            "class": MyVariationalAutoencoder.__name__}
