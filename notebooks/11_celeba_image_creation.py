# %% [markdown]
# # 11 · Creating faces: random points, attribute vectors, morphing
#
# Post XI puts the CelebA VAE of notebook 10 to creative use. A VAE's KL loss
# pulls the latent points of all training faces into a cloud shaped like the
# standard normal N(0, I). If that worked, then
#
# - any point drawn from N(0, I) decodes to a plausible face;
# - each latent component, over all faces, looks like N(0, 1);
# - directions in the latent space carry meaning: the mean `z` of smiling faces
#   minus that of the others is a "smile vector", and adding it to any face's
#   `z` should add a smile;
# - the straight line between two faces' points morphs one face into the other.
#
# This notebook checks each claim, with pictures and, for the smile, with a
# number: a classifier trained on the attribute labels judges whether the
# shifted faces really show the attribute more than the originals.
#
# It uses the model notebook 10 saved (`results/10_celeba_vae`) when that model
# was made for faces of this notebook's `IMAGE_SIZE`; otherwise it trains post
# X's VAE first, for `FALLBACK_EPOCHS`, and says so. **Running time:** a minute
# or two with the saved model; otherwise add notebook 10's training time. With
# `QUICK = True` (what `make run` runs: the stand-in even where CelebA is
# found, and notebook 10's quick model) 19 s on a 2-core CPU.

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
ATTRIBUTES = ("Smiling", "Eyeglasses")  # attribute vectors to add (CelebA column names)
FACTORS = (0, 1, 2, 3)                  # multiples of an attribute vector added to a face
N_ENCODE = 20000       # training faces encoded to find the attribute vectors
N_FACES = 5 if QUICK else 6  # faces that get each attribute added
BATCH_SIZE = 128
IMAGE_SIZE = 96
N_STANDIN = 2000       # images in the stand-in, used only where CelebA is missing
USE_CELEBA = not QUICK  # False: the stand-in even where CelebA is found
FALLBACK_EPOCHS = 24   # epochs to train, only without notebook 10's model for IMAGE_SIZE
MIXED_PRECISION = "auto"  # "auto": mixed_float16 on a GPU with tensor cores, else float32
DISTRIBUTE = "auto"       # "auto": MirroredStrategy over several GPUs, else one device

# %%
from my_AE_code.notebook_setup import scaling_choices, setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import math

import numpy as np
from IPython.display import display

from my_AE_code import figures
from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, prepare_celeba
from my_AE_code.celeba.files import ATTR_FILES, IMAGES_DIR, find_file, read_attributes
from my_AE_code.celeba.model import load_or_train
from my_AE_code.inference import encode
from my_AE_code.latent_arithmetic import (
    add_attribute,
    attribute_classifier,
    attribute_vector,
    morph,
    shrink,
)

dtype_policy, distribute = scaling_choices(MIXED_PRECISION, DISTRIBUTE)
print(f"dtype policy {dtype_policy}; "
      f"{distribute.num_replicas_in_sync if distribute else 1} device(s) share each batch")

source = find_or_make_celeba(setup.data_dir, n_standin=N_STANDIN, seed=SEED,
                             use_celeba=USE_CELEBA)
prepared = prepare_celeba(source.root / IMAGES_DIR, size=IMAGE_SIZE, verbose=False).out_dir
data = celeba_datasets(prepared, BATCH_SIZE, shuffle=False)
print(f"{'the generated STAND-IN' if source.is_standin else 'CelebA'}: "
      f"{len(data.train_files):,} training and {len(data.test_files):,} test faces")

# %%
vae = load_or_train(setup.results_dir, celeba_datasets(prepared, BATCH_SIZE, seed=SEED).train,
                    epochs=FALLBACK_EPOCHS, image_size=IMAGE_SIZE, seed=SEED,
                    dtype_policy=dtype_policy, distribute=distribute)
Z_DIM = vae.architecture.z_dim

# %% [markdown]
# ## Faces from random points
#
# Sixteen points drawn from N(0, I), decoded:

# %%
figures.plot_generated(vae, Z_DIM, n=16, seed=SEED)

# %% [markdown]
# ## Does each latent component look like N(0, 1)?
#
# The test faces' `mu` (sampling off) and sampled `z`, one histogram per
# component for the first eight of the model's `Z_DIM`, against the N(0, 1) density.
# `z` adds each face's own spread to `mu`, so its histograms come closer to
# N(0, 1); the summary numbers below cover all components.
#
# Where `mu` is much narrower than N(0, 1) and a face's own sigma is close to
# 1, as for most components after the quick run's short training on the stand-in,
# the KL loss has pushed that component back to the prior: it carries little
# about the face, and the few wide ones carry the rest. `z` is N(0, 1)-like
# either way, which is what sampling from N(0, I) needs.

# %%
vae.set_enc_to_predict()
_, mu_test, log_var_test = encode(vae, data.test)
vae.set_enc_to_train()
z_test = encode(vae, data.test)[0]
figures.plot_z_histograms(mu_test, max_dims=8, name="mu")

# %%
figures.plot_z_histograms(z_test, max_dims=8)

# %%
print(f"over all {Z_DIM} components: mean of mu {mu_test.mean():+.3f}, std of mu "
      f"{mu_test.std(axis=0).mean():.3f}; std of z {z_test.std(axis=0).mean():.3f} "
      f"(N(0, 1): mean 0, std 1); mean sigma of a face's cloud "
      f"{np.exp(log_var_test / 2).mean():.3f}")

# %% [markdown]
# ## Attribute vectors
#
# The attribute file says which faces show which attribute. We encode the
# training faces (sampling off), average `mu` over the faces with an attribute
# and over those without, and take the difference. Then we add multiples of
# that vector to test faces that lack the attribute and decode.

# %%
attr_file = find_file(source.root, ATTR_FILES)
if attr_file is None:
    print(f"No {' or '.join(ATTR_FILES)} next to {source.root / IMAGES_DIR}: this folder has no "
          "attribute labels, so the attribute vectors are skipped. Put CelebA's attribute file "
          "there to use them (see data/README.md).")
    attributes = None
else:
    attributes = read_attributes(attr_file)
    n_batches = math.ceil(N_ENCODE / BATCH_SIZE)
    train_files = data.train_files[:n_batches * BATCH_SIZE]
    vae.set_enc_to_predict()
    _, mu_train, _ = encode(vae, data.train.take(n_batches))
    vae.set_enc_to_train()
    train_labels = attributes.rows_for(train_files)
    test_labels = attributes.rows_for(data.test_files)
    print(f"{len(mu_train):,} training faces encoded; attributes from {attr_file.name}")

# %% [markdown]
# A classifier judges the result. For each attribute, a logistic regression
# learns from the training faces' pixels (shrunk to 24x24 for 96x96 faces:
# the largest side up to 24 that divides `IMAGE_SIZE`) whether a face
# shows it. It then scores the decoded test faces: the originals (factor 0)
# and the same faces with the vector added. If the vector carries the
# attribute, the probability rises with the factor.

# %%
training_faces = np.concatenate([batch.numpy() for batch in data.train.take(n_batches)]) \
    if attributes is not None else None
side = max(s for s in range(1, 25) if IMAGE_SIZE % s == 0)  # the classifier's image side
unknown = [name for name in ATTRIBUTES if attributes is not None and name not in attributes.names]
if unknown:
    raise ValueError(f"ATTRIBUTES names {unknown}, which {attr_file.name} does not have; its "
                     f"columns are {', '.join(attributes.names)}.")
shift_scores, rose_for = {}, {}
for name in ATTRIBUTES if attributes is not None else ():
    column = attributes.names.index(name)
    vector = attribute_vector(mu_train, train_labels[:, column])
    without = np.flatnonzero(test_labels[:, column] < 0)[:N_FACES]
    shifted = add_attribute(vae, mu_test[without], vector, factors=FACTORS)
    classifier = attribute_classifier(training_faces, train_labels[:, column], size=side)
    probability = classifier.predict_proba(
        shrink(shifted.reshape(-1, *shifted.shape[2:]), size=side))[:, 1].reshape(
            shifted.shape[:2])
    shift_scores[name] = probability.mean(axis=0)
    per_factor = {factor: round(float(p), 2) for factor, p in zip(FACTORS, probability.mean(0))}
    rose_for[name] = float(np.mean(probability[:, -1] > probability[:, 0]))
    print(f"{name}: mean probability per factor {per_factor}, a rise of "
          f"{probability[:, -1].mean() - probability[:, 0].mean():+.2f} from factor 0 to "
          f"{FACTORS[-1]}; it rose for {rose_for[name]:.0%} of the faces")
    display(figures.plot_images(shifted, titles=[f"+{f} x {name}" for f in FACTORS]))

# %% [markdown]
# ## Morphing
#
# Ten points on the straight line between two test faces' `mu`, decoded: from
# the first test face to the one whose `mu` lies farthest from it, so that the
# two ends differ.

# %%
farthest = int(np.argmax(np.linalg.norm(mu_test - mu_test[0], axis=1)))
figures.plot_images(morph(vae, mu_test[0], mu_test[farthest], steps=10), ncols=10,
                    suptitle=f"from test face 0 to test face {farthest}")

# %% [markdown]
# ## What this notebook showed

# %%
show_key_numbers(
    standin=source.is_standin, mean_of_mu=float(mu_test.mean()),
    std_of_mu=float(mu_test.std(axis=0).mean()), std_of_z=float(z_test.std(axis=0).mean()),
    **{f"{name}_probability_factor_{f}": float(p) for name, scores in shift_scores.items()
       for f, p in zip(FACTORS, scores)},
    **{f"{name}_rose_for_share_of_faces": share for name, share in rose_for.items()})

# %% [markdown]
# - faces decoded from random points of N(0, I) are faces, as post XI found:
#   the KL loss has made the region around the origin usable;
# - the components of `z` spread roughly like N(0, 1) (numbers above);
# - adding an attribute vector adds the attribute: the classifier's
#   probability rises with the factor, for nearly every face (where the data
#   has attribute labels). How far it rises depends on the model (the
#   printed rise from factor 0 to the last). In `make run`'s copy (notebook
#   10's quick model of the stand-in) glasses appear plainly from +2, and the
#   smile shows only as a slightly wider, lighter mouth: that model gives
#   back most mouths as the same pale line (notebook 10's reconstructions),
#   and the classifier sees the change more clearly than the eye;
# - walking the straight line between two faces morphs one into the other.
