# %% [markdown]
# # 13 · Does a VAE with a tiny KL loss behave like an Autoencoder?
#
# Post XIII compares three models with the same convolutional layers, trained
# on CelebA: a plain **Autoencoder (AE)**, a VAE whose KL loss is made
# **tiny** (`fact` = 1e-5 in the sum convention), and, for contrast, the
# **normal VAE** of notebook 10 (`fact` = 5). The expectation sounds obvious
# (no KL loss, no VAE), yet the tiny-KL VAE has twice the Encoder weights
# (`mu` *and* `log_var`) and could find a different solution. The post looks
# at the latent space in every way it can:
#
# 1. the losses (post: AE 4,515, tiny-KL VAE 4,553-4,555, normal VAE 4,800-5,000);
# 2. how far the points lie from the origin (the distribution of radii);
# 3. how clustered they are (MiniBatchKMeans inertia) and a t-SNE map;
# 4. how small `log_var` became (post: mean -13.7), and so how little `z`
#    differs from `mu`;
# 5. whether random points decode to faces;
# 6. how often the clipping of `eps` at 5 acts.
#
# The AE and the tiny-KL VAE train here; the normal VAE is notebook 10's
# model if that has this notebook's `IMAGE_SIZE`, `Z_DIM`, `FACT` and
# `USE_BATCH_NORM`, and is otherwise trained here for as many epochs (the
# notebook says which).
#
# **Running time.** With the parameters below (two models of 24 epochs over
# CelebA's 162,770 training faces) about two hours on the posts' GPU (120 s per
# epoch); on a 2-core CPU about six and a half hours (at the 329-334 images/s
# that `benchmarks/strategies.py --celeba` measured for these models). With
# `QUICK = True` (what `make run` runs) it trains 20 epochs each on the
# stand-in's 1,607 training faces, even where CelebA is found: about 8 minutes
# (461 s in `make run`) on a 2-core CPU.

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
Z_DIM = 256
FACT_TINY = 1e-5       # sum convention: the "tiny KL" of post XIII
FACT = 5.0             # the normal VAE's (notebook 10, post X)
USE_BATCH_NORM = True  # both VAEs normalise their conv layers; the post's AE did not
LEARNING_RATE = 0.0005
BATCH_SIZE = 128
EPOCHS = 20 if QUICK else 24
RADIUS_BIN = 0.5       # width of the radius intervals (post XIII)
CLUSTER_COUNTS = tuple(range(2, 81, 2))  # MiniBatchKMeans from 2 to 80 clusters
N_TSNE = 2000 if QUICK else 20000  # points in each t-SNE map (post: 20,000 to 140,000)
IMAGE_SIZE = 96
N_STANDIN = 2000       # images in the stand-in, used only where CelebA is missing
USE_CELEBA = not QUICK  # False: the stand-in even where CelebA is found
MIXED_PRECISION = "auto"  # "auto": mixed_float16 on a GPU with tensor cores, else float32
DISTRIBUTE = "auto"       # "auto": MirroredStrategy over several GPUs, else one device

# %%
from my_AE_code.notebook_setup import scaling_choices, setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from scipy.stats import norm

from my_AE_code import figures, latent_stats
from my_AE_code.callbacks import LossPrinter
from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, prepare_celeba
from my_AE_code.celeba.files import IMAGES_DIR
from my_AE_code.celeba.model import celeba_vae, load_or_train
from my_AE_code.inference import encode
from my_AE_code.models import MyAutoencoder
from my_AE_code.models.layers import Sampling
from my_AE_code.models.layouts import CELEBA_LAYOUT

dtype_policy, distribute = scaling_choices(MIXED_PRECISION, DISTRIBUTE)
print(f"dtype policy {dtype_policy}; "
      f"{distribute.num_replicas_in_sync if distribute else 1} device(s) share each batch")

# The conv layers of notebook 10's VAE (post X): 32, 64, 128 and 256 filters.
CELEBA_CONV = {**CELEBA_LAYOUT, "input_dim": (IMAGE_SIZE, IMAGE_SIZE, 3), "z_dim": Z_DIM}
source = find_or_make_celeba(setup.data_dir, n_standin=N_STANDIN, seed=SEED,
                             use_celeba=USE_CELEBA)
prepared = prepare_celeba(source.root / IMAGES_DIR, size=IMAGE_SIZE, verbose=False).out_dir
data = celeba_datasets(prepared, BATCH_SIZE, seed=SEED)
in_order = celeba_datasets(prepared, BATCH_SIZE, shuffle=False)  # for encoding
N_PIXELS = IMAGE_SIZE * IMAGE_SIZE
print(f"{'the generated STAND-IN' if source.is_standin else 'CelebA'}: "
      f"{len(data.train_files):,} training faces")

# %% [markdown]
# ## Three models, trained alike

# %%
histories = {}
setup_notebook(seed=SEED)
ae = MyAutoencoder(**CELEBA_CONV, seed=SEED, dtype_policy=dtype_policy, distribute=distribute)
ae.compile_myAE(LEARNING_RATE)
print("AE")
logs = ae.train_myAE(data.train, batch_size=None, epochs=EPOCHS, verbose=0,
                     callbacks=[LossPrinter(every_n_epochs=max(1, EPOCHS // 4))]).history
# The AE's BCE is a mean over pixels; times the pixels of a face it is on the VAEs' scale.
histories["AE"] = {"loss": [value * N_PIXELS for value in logs["loss"]]}

setup_notebook(seed=SEED)
tiny = celeba_vae(image_size=IMAGE_SIZE, z_dim=Z_DIM, fact=FACT_TINY,
                  use_batch_norm=USE_BATCH_NORM, learning_rate=LEARNING_RATE, seed=SEED,
                  dtype_policy=dtype_policy, distribute=distribute)
print(f"VAE, fact {FACT_TINY}")
histories["tiny-KL VAE"] = tiny.train_myVAE(
    data.train, batch_size=None, epochs=EPOCHS, verbose=0,
    callbacks=[LossPrinter(every_n_epochs=max(1, EPOCHS // 4))]).history

print(f"normal VAE (fact {FACT:g})")
vae = load_or_train(setup.results_dir, data.train, epochs=EPOCHS, image_size=IMAGE_SIZE,
                    z_dim=Z_DIM, fact=FACT, use_batch_norm=USE_BATCH_NORM,
                    learning_rate=LEARNING_RATE, seed=SEED, verbose=0,
                    dtype_policy=dtype_policy, distribute=distribute)
models = {"AE": ae, "tiny-KL VAE": tiny, "normal VAE": vae}

# %% [markdown]
# ### 1. Losses
#
# All on one scale: the binary cross-entropy summed over a face's
# `IMAGE_SIZE` x `IMAGE_SIZE` pixels (the AE's per-pixel mean times
# `N_PIXELS`; 9,216 for the posts' 96 x 96), plus for the VAEs `fact` times
# their KL divergence. The last epoch's training losses, as the post reports
# them:

# %%
final = {name: logs["loss"][-1] for name, logs in histories.items()}
vae.compile_myVAE(LEARNING_RATE)  # to evaluate its loss on the training faces
final["normal VAE"] = float(vae.model.evaluate(data.train, verbose=0, return_dict=True)["loss"])
posts = {"AE": "4,515", "tiny-KL VAE": "4,553-4,555", "normal VAE": "4,800-5,000"}
for name, value in final.items():
    print(f"{name:12s} {value:9.1f}   (post, on CelebA: {posts[name]})")
figures.plot_loss_curves({name: logs for name, logs in histories.items()},
                         title="training loss, sum convention")

# %% [markdown]
# The normal VAE's value is its loss on the training faces now, evaluated
# once after training. On the stand-in, the quick run's losses sit above the
# post's CelebA figures: binary cross-entropy cannot fall below the entropy
# of each pixel's own intensity, and the drawings' flat mid-tone colours keep
# that floor high (notebook 10). What compares is the pattern. In the post
# the AE and the tiny-KL VAE ended close together and the normal VAE well
# above both; the three losses printed above say how far this run agrees.
# As in the post, the AE has no batch norm and both VAEs have it
# (`USE_BATCH_NORM`), so the AE differs from them in that too.
#
# ### 2. How far from the origin?
#
# Each training face's `z` (sampled, as the post's `encoder.predict` gave it)
# and its radius, the Euclidean length of `z`, in intervals of 0.5:

# %%
latent = {}
for name, model in models.items():
    encoded = encode(model, in_order.train)
    if isinstance(encoded, tuple):
        z, _, _ = encoded
        model.set_enc_to_predict()
        _, mu, log_var = encode(model, in_order.train)
        model.set_enc_to_train()
        latent[name] = {"z": z, "mu": mu, "log_var": log_var}
    else:
        latent[name] = {"z": encoded}
radii = {name: latent_stats.radii(values["z"]) for name, values in latent.items()}
edges = np.arange(0, max(r.max() for r in radii.values()) + RADIUS_BIN, RADIUS_BIN)
peaks = {}
for name, r in radii.items():
    counts, _ = latent_stats.radius_counts(r, bins=edges)
    peaks[name] = float(edges[np.argmax(counts)] + RADIUS_BIN / 2)
    print(f"{name:12s} radius: mean {r.mean():6.2f}, peak at {peaks[name]:6.2f}")
figures.plot_radius_distributions(radii, bins=edges)

# %% [markdown]
# The post found the AE's radii peaking near 16.75 and the tiny-KL VAE's close
# to it, near 16, with the same width. A VAE with a real KL loss pulls its
# points in: for the post's 256 components drawn from N(0, 1) the radius
# would sit near the square root of 256, that is 16, with little spread (for
# `Z_DIM` components, near the square root of `Z_DIM`).
#
# ### 3. Clusters
#
# MiniBatchKMeans inertia (the summed squared distance of the points to their
# nearest of k cluster centres) for k from 2 to 80. A curve that keeps falling
# without an elbow means no clear clusters; the post saw that for both the AE
# and the tiny-KL VAE.

# %%
inertia = {name: latent_stats.kmeans_inertia(values["z"], CLUSTER_COUNTS, seed=SEED)
           for name, values in latent.items()}
fig, ax = plt.subplots(figsize=(7, 3.5))
for name, values in inertia.items():
    ax.plot(CLUSTER_COUNTS, values / values[0], marker=".", label=name)
ax.set_xlabel("number of clusters")
ax.set_ylabel("inertia / inertia with 2 clusters")
ax.legend()
plt.show()

# %% [markdown]
# t-SNE maps of the AE's and the tiny-KL VAE's points, with sklearn's default
# settings and with the post's other choice (early exaggeration 16,
# perplexity 10):

# %%
fig, axes = plt.subplots(2, 2, figsize=(10, 9))
for row, (name, settings) in enumerate([(n, s) for n in ("AE", "tiny-KL VAE")
                                        for s in ((12.0, 30.0), (16.0, 10.0))]):
    exaggeration, perplexity = settings
    embedding, _ = latent_stats.tsne_projection(latent[name]["z"], n_max=N_TSNE, seed=SEED,
                                                perplexity=perplexity,
                                                early_exaggeration=exaggeration)
    figures.plot_tsne(embedding, title=f"{name}: exaggeration {exaggeration:g}, "
                      f"perplexity {perplexity:g}", ax=axes.flat[row])
plt.show()

# %% [markdown]
# ### 4. How small did `log_var` become?
#
# A VAE can only behave like an AE if it stops sampling: `log_var` very
# negative, so that `z` = `mu` + exp(`log_var` / 2) x `eps` hardly differs from
# `mu`. The post found a mean `log_var` of about -13.7 (sigma about 0.001) for
# the tiny-KL VAE.

# %%
logvar = {name: latent_stats.logvar_stats(latent[name]["log_var"])
          for name in ("tiny-KL VAE", "normal VAE")}
for name, stats in logvar.items():
    above = ", ".join(f"> {t:g}: {f:.1%}" for t, f in stats["fraction_above"].items())
    print(f"{name:12s} log_var mean {stats['mean']:7.2f}, min {stats['min']:7.2f}, "
          f"max {stats['max']:6.2f}; share {above}")
fig, ax = plt.subplots(figsize=(7, 3))
for name in logvar:
    ax.hist(latent[name]["log_var"].ravel(), bins=100, histtype="step", label=name)
ax.set_xlabel("log_var (all components of all faces)")
ax.set_yscale("log")
ax.legend()
plt.show()

# %% [markdown]
# And so how far `z` strays from `mu`, per component and as radius: the post
# measured an average relative radius difference of 6e-5.

# %%
relative = {}
for name in ("tiny-KL VAE", "normal VAE"):
    z, mu = latent[name]["z"], latent[name]["mu"]
    deviation = latent_stats.z_mu_deviations(z, mu, radius_bins=10)
    r_z, r_mu = latent_stats.radii(z), latent_stats.radii(mu)
    relative[name] = float(np.mean(np.abs(r_z - r_mu) / r_mu))
    print(f"{name:12s} max |z - mu| per component {np.abs(z - mu).max():.4f}; relative radius "
          f"difference: mean {relative[name]:.2e}, max {np.max(np.abs(r_z - r_mu) / r_mu):.2e}")
fig, ax = plt.subplots(figsize=(7, 3))
for name in relative:
    deviation = latent_stats.z_mu_deviations(latent[name]["z"], latent[name]["mu"], 10)
    centres = (deviation.bin_edges[:-1] + deviation.bin_edges[1:]) / 2
    ax.plot(centres, deviation.rel_per_bin, marker="o", label=name)
ax.set_xlabel("radius of mu")
ax.set_ylabel("mean |z - mu| / |mu|")
ax.set_yscale("log")
ax.legend()
plt.show()

# %% [markdown]
# ### 5. Faces from random points?
#
# Points drawn from N(0, I), decoded by each model. The post's tiny-KL VAE,
# like its AE, failed here: its faces live on thin threads of the latent space
# that random points miss.

# %%
for name, model in models.items():
    print(name)
    display(figures.plot_generated(model, Z_DIM, n=8, seed=SEED))

# %% [markdown]
# ### 6. How often does the clipping of `eps` act?
#
# Sampling clips each `eps` to [-5, 5] (post XIII added this after a run in
# which one extreme draw threw the training off). How often would a draw
# exceed 5? Per component the chance is 2 x (1 - Phi(5)), and an epoch draws
# one `eps` per component per face:

# %%
p_beyond = 2 * norm.sf(5.0)
for name, n_faces in (("CelebA, 170,000 faces", 170_000), ("here", len(data.train_files))):
    print(f"{name}: {p_beyond * n_faces * Z_DIM:.2f} clipped components expected per epoch")
eps = Sampling(seed=SEED)
draws = np.asarray(eps([np.zeros((len(data.train_files), Z_DIM), "float32")] * 2))
print(f"one epoch's worth of draws here: largest |eps| {np.abs(draws).max():.2f} (clipped at 5)")
largest_sigma = float(np.exp(latent["normal VAE"]["log_var"].max() / 2))
print(f"without the clip, the largest draw of a CelebA epoch would be about "
      f"{norm.isf(0.5 / (170_000 * Z_DIM)):.2f} sigma; at the normal VAE's largest sigma "
      f"({largest_sigma:.2f}) the clip keeps such a z within {5 * largest_sigma:.2f} of mu")

# %% [markdown]
# ## Conclusion, from this run's numbers

# %%
closer = abs(peaks["tiny-KL VAE"] - peaks["AE"]) < abs(peaks["tiny-KL VAE"] - peaks["normal VAE"])
print(f"- radius peaks: AE {peaks['AE']:.2f}, tiny-KL VAE {peaks['tiny-KL VAE']:.2f}, normal VAE "
      f"{peaks['normal VAE']:.2f}: the tiny-KL VAE's is "
      f"{'nearer the AE' if closer else 'nearer the normal VAE'}'s")
print(f"- mean log_var of the tiny-KL VAE {logvar['tiny-KL VAE']['mean']:.2f} (post: -13.7), of "
      f"the normal VAE {logvar['normal VAE']['mean']:.2f}")
print(f"- relative difference of the radii of z and mu: tiny-KL VAE "
      f"{relative['tiny-KL VAE']:.1e} (post: 6e-5), normal VAE {relative['normal VAE']:.1e}")
print("- final losses: " + ", ".join(f"{name} {value:.0f}" for name, value in final.items()))
show_key_numbers(
    standin=source.is_standin, epochs=EPOCHS,
    radius_peak_ae=peaks["AE"], radius_peak_tiny=peaks["tiny-KL VAE"],
    radius_peak_vae=peaks["normal VAE"], mean_log_var_tiny=logvar["tiny-KL VAE"]["mean"],
    mean_log_var_vae=logvar["normal VAE"]["mean"],
    relative_radius_diff_tiny=relative["tiny-KL VAE"],
    relative_radius_diff_vae=relative["normal VAE"], loss_ae=final["AE"],
    loss_tiny=final["tiny-KL VAE"], loss_vae=final["normal VAE"])

# %% [markdown]
# The post's answer was yes: with a tiny KL loss the VAE drives `log_var` far
# down, stops sampling in effect, and ends where the AE ends, in loss, radii,
# clusters and its failure to make faces from random points. The lines above
# say how far this run, with its data and epochs, agrees; where it trained
# far fewer steps than the post (on the stand-in, in the quick run), `log_var`
# has not yet fallen as far as the post's -13.7, and the tiny-KL VAE's points
# still stray measurably from `mu`.
