# %% [markdown]
# # 10 · A VAE for faces: training on CelebA
#
# Post X trains the VAE of this series on the 96x96 faces prepared in
# notebook 09. The model grows with the images: four convolutional layers
# with 32, 64, 128 and 256 filters (kernel 3, stride 2) on each side, a
# latent space of `z_dim` = 256, and strategy 3 (our own `train_step`), whose
# sum convention makes `fact` = 5 a working KL weight for these images.
#
# While it trains we watch it learn: after every epoch a callback decodes the
# same fixed points `z` and reconstructs the same test faces, and saves both as
# images. At the end come the loss curves, reconstructions of test faces, and
# the trained model, saved where notebooks 11-13 look for it. Training is
# resumable: re-running the training cell after an interruption continues
# from the last finished epoch.
#
# **Running time.** With the parameters below (24 epochs over CelebA's 162,770
# training faces, as in the posts' runs) training takes the posts' GPU about
# 120 s per epoch, under an hour; a 2-core CPU about 8 minutes per epoch, three
# hours in all (at the 329 images/s that `benchmarks/strategies.py --celeba`
# measured for this model). With `QUICK = True` (what `make run` runs) it
# trains on the stand-in's 1,607 training faces, even where CelebA is found:
# 40 epochs in batches of 32, 2,040 updates, in about 6 minutes on a 2-core
# CPU (366 s in `make run`). The full budget's 24 epochs in batches of 128
# would give so few faces only 312 updates, which in our trials left the
# codes too vague for notebook 11's smile and glasses to show. On a recent
# GPU, mixed precision (`MIXED_PRECISION`) and several GPUs (`DISTRIBUTE`)
# shorten this; both switches default to what the machine has (the README's
# "Scaling up").

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
Z_DIM = 256
FACT = 5.0             # sum convention (solution_type 3)
LEARNING_RATE = 0.0005
BATCH_SIZE = 32 if QUICK else 128  # quick: more, smaller steps on the stand-in's few faces
EPOCHS = 40 if QUICK else 24
USE_BATCH_NORM = True  # the posts' VAE normalised its conv layers (post XIII: the AE did not)
IMAGE_SIZE = 96
N_STANDIN = 2000       # images in the stand-in, used only where CelebA is missing
USE_CELEBA = not QUICK  # False: the stand-in even where CelebA is found
N_WATCHED = 8          # fixed z-points and fixed test faces watched during training
MIXED_PRECISION = "auto"  # "auto": mixed_float16 on a GPU with tensor cores, else float32
DISTRIBUTE = "auto"       # "auto": MirroredStrategy over several GPUs, else one device

# %%
from my_AE_code.notebook_setup import scaling_choices, setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import numpy as np
from IPython.display import Code, display

from my_AE_code import figures
from my_AE_code.callbacks import EpochTimer, ImageSaver, LossPrinter, saved_images
from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, prepare_celeba
from my_AE_code.celeba.files import IMAGES_DIR
from my_AE_code.celeba.model import NOTEBOOK_10_MODEL, celeba_vae
from my_AE_code.inference import reconstruct
from my_AE_code.listing import readable_source
from my_AE_code.models.checkpoints import training_history
from my_AE_code.models.losses import reco_loss_sum

dtype_policy, distribute = scaling_choices(MIXED_PRECISION, DISTRIBUTE)
print(f"dtype policy {dtype_policy}; "
      f"{distribute.num_replicas_in_sync if distribute else 1} device(s) share each batch")

source = find_or_make_celeba(setup.data_dir, n_standin=N_STANDIN, seed=SEED,
                             use_celeba=USE_CELEBA)
prepared = prepare_celeba(source.root / IMAGES_DIR, size=IMAGE_SIZE, verbose=False).out_dir
data = celeba_datasets(prepared, BATCH_SIZE, seed=SEED)
print(f"{'the generated STAND-IN' if source.is_standin else 'CelebA'}: "
      f"{len(data.train_files):,} training and {len(data.test_files):,} test faces")
MODEL_DIR = setup.results_dir / NOTEBOOK_10_MODEL
CHECKPOINT_DIR = setup.results_dir / "10_checkpoints"

# %% [markdown]
# ## The model
#
# Post X's VAE is defined once, in `my_AE_code/celeba/model.py`, because
# notebooks 11-14 build the same model when this notebook's is missing. Here is
# that definition, the posts' `MyVariationalAutoencoder` call with the
# notebook's values passed in:

# %%
display(Code(readable_source(celeba_vae), language="python"))

# %%
vae = celeba_vae(image_size=IMAGE_SIZE, z_dim=Z_DIM, fact=FACT, use_batch_norm=USE_BATCH_NORM,
                 seed=SEED, dtype_policy=dtype_policy, distribute=distribute)
vae.encoder.summary()

# %% [markdown]
# ## Training, and watching it learn
#
# The images the callback saves go to `results/10_images/`. With
# `checkpoint_dir`, every epoch also leaves a checkpoint: if the kernel dies,
# running this cell again resumes after the last complete epoch, with the
# same weights, optimizer state and random state.

# %%
test_faces = next(iter(data.test))[:N_WATCHED].numpy()
z_fixed = np.random.default_rng(SEED).normal(size=(N_WATCHED, Z_DIM))
saver = ImageSaver(vae, setup.results_dir / "10_images", z_fixed=z_fixed, x_fixed=test_faces)
timer = EpochTimer()
vae.compile_myVAE(learning_rate=LEARNING_RATE)
vae.train_myVAE(data.train, batch_size=None, epochs=EPOCHS, verbose=0,
                callbacks=[saver, timer, LossPrinter()], checkpoint_dir=CHECKPOINT_DIR)
if timer.seconds:
    print(f"{timer.best:.1f} s per epoch (the fastest after the first)")
# All epochs' losses and images, also those of a run this one resumed:
history, images = training_history(CHECKPOINT_DIR), saved_images(saver.folder)

# %% [markdown]
# The same eight points `z`, drawn once from N(0, I), decoded after selected
# epochs (one row each): from grey blurs to faces.

# %%
stems = list(images)  # epoch_001, epoch_002, ...
shown = [stems[i] for i in sorted({0, len(stems) // 4, len(stems) // 2, len(stems) - 1})]
epoch_titles = [f"epoch {int(stem[6:])}" for stem in shown]
figures.plot_images(np.stack([images[stem]["generated"] for stem in shown]),
                    row_titles=epoch_titles, suptitle="decoded from fixed z")

# %% [markdown]
# And eight test faces (never trained on), reconstructed after the same epochs:

# %%
figures.plot_images(np.stack([test_faces] + [images[stem]["reconstructed"] for stem in shown]),
                    row_titles=["original", *epoch_titles],
                    suptitle="test faces and their reconstructions")

# %% [markdown]
# ## Loss curves
#
# The losses are in the sum convention: the reconstruction loss sums the
# binary cross-entropy over the `IMAGE_SIZE` x `IMAGE_SIZE` pixels of a face
# (on the posts' 96 x 96 CelebA faces a VAE's total loss ends "around 4800 up
# to 5000", as post XIII puts it), the KL loss is `fact` times the KL
# divergence summed over the `Z_DIM` latent dimensions (256 in the posts).

# %%
trained_on = "the stand-in" if source.is_standin else "CelebA"
figures.plot_loss_curves(history, title=f"VAE on {trained_on} (solution_type 3)")

# %% [markdown]
# ## Reconstructions of test faces
#
# With sampling switched off (`z = mu`), sixteen test faces and what the
# Decoder makes of them:

# %%
more_faces = next(iter(data.test.unbatch().batch(16))).numpy()
figures.plot_reconstructions(more_faces, reconstruct(vae, more_faces), n=16)

# %% [markdown]
# Blurred faces could still be little more than the average face. A model
# that had learned only that would answer every face with the mean of the
# training faces; its reconstruction loss is the baseline to beat. Both on
# up to 512 test faces, summed over pixels as above:

# %%
test_sample = next(iter(data.test.unbatch().batch(512))).numpy()
mean_face = next(iter(data.train.unbatch().batch(512))).numpy().mean(axis=0)
test_reco_loss = float(reco_loss_sum(test_sample, reconstruct(vae, test_sample)))
mean_face_reco_loss = float(reco_loss_sum(test_sample, np.broadcast_to(mean_face,
                                                                       test_sample.shape)))
print(f"{len(test_sample)} test faces: reconstruction loss {test_reco_loss:,.0f}; with the "
      f"average training face for every face {mean_face_reco_loss:,.0f} "
      f"({mean_face_reco_loss - test_reco_loss:,.0f} more)")

# %%
vae.save(MODEL_DIR)
print(f"model saved to {MODEL_DIR}: notebooks 11-13 load it from there")

# %% [markdown]
# ## What this notebook showed

# %%
show_key_numbers(standin=source.is_standin, train_images=len(data.train_files), epochs=EPOCHS,
                 seconds_per_epoch=timer.best if timer.seconds else None,
                 first_loss=history["loss"][0], final_loss=history["loss"][-1],
                 final_reco_loss=history["reco_loss"][-1], final_kl_loss=history["kl_loss"][-1],
                 test_reco_loss=test_reco_loss, mean_face_reco_loss=mean_face_reco_loss)

# %% [markdown]
# - the post's VAE trains on the faces from the pipeline of notebook 09, with
#   the loss falling over the epochs (first and final loss above);
# - fixed points `z` turn from grey blurs into faces as the Decoder learns,
#   and test faces come back blurred: a VAE with a real KL loss trades
#   sharpness for a latent space it can sample from. Small details go
#   first: in `make run`'s copy glasses come back faint, and mouths, red lips
#   or open smiles alike, mostly as the same pale line, which leaves notebook
#   11's smile vector little to work with. After a short training a fine
#   checkerboard can also show: transposed convolutions of kernel 3 and stride 2
#   cover some output pixels more often than others (Odena, Dumoulin and
#   Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016, which
#   also gives the usual remedy: resize, then convolve);
# - the losses are sums over a face's pixels, so the posts' numbers (a
#   VAE's total loss "around 4800 up to 5000" on CelebA, in post XIII's
#   words) are on the same scale as ours. On the stand-in, the quick run's
#   short training ends above that (`final_reco_loss` in the table): binary
#   cross-entropy cannot
#   fall below the entropy of each pixel's own intensity, and the drawings'
#   flat mid-tone colours keep that floor high.
#
# Notebook 11 uses this model to create new faces.
