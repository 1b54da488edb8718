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
# 1. the losses (post: AE 4515, tiny-KL VAE "4553 ≤ loss ≤ 4555", a VAE "around
#    4800 up to 5000"),
#    and the tiny KL loss beside the reconstruction loss (post: 0.0178 against 4550);
# 2. how far the points lie from the origin (the distribution of radii);
# 3. how clustered they are (MiniBatchKMeans inertia) and t-SNE maps;
# 4. how small `log_var` became (post: average -13.682616), and so how little `z`
#    differs from `mu`;
# 5. whether random points decode to faces;
# 6. how often the clipping of `eps` at 5 acts, and whether runs with and
#    without it go astray.
#
# The AE and the tiny-KL VAE train here; the normal VAE is notebook 10's
# model if that has this notebook's `IMAGE_SIZE`, `Z_DIM`, `FACT` and
# `USE_BATCH_NORM`, and is otherwise trained here for as many epochs (the
# notebook says which). So that the three train alike, `BATCH_SIZE` and
# `EPOCHS` are notebook 10's (quick values included): edit them in both. The
# tiny-KL VAE is saved for notebook 14, which watches it as post XIV did.
#
# **Running time.** With the parameters below (two models of 24 epochs over
# CelebA's 162,770 training faces, then six runs of the same length for
# section 6) about six and a half hours on the posts' GPU (120 s per epoch); on a
# 2-core CPU, at the 329-334 images/s that `benchmarks/strategies.py --celeba`
# measured for these models, about 26 hours: lower `RUN_SEEDS` or
# `RUN_EPOCHS` to save most of it. With `QUICK = True` (what `make run` runs) it trains
# 40 epochs each in batches of 32, as notebook 10's quick run does, on the
# stand-in's 1,607 training faces, even where CelebA is found, and six runs of
# 4 epochs: about 15 minutes on a 2-core CPU (963 s and 890 s in two runs of the
# main budget).

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
Z_DIM = 256
FACT_TINY = 1e-5       # sum convention: the "tiny KL" of post XIII
FACT = 5.0             # the normal VAE's (notebook 10, post X)
USE_BATCH_NORM = True  # both VAEs normalise their conv layers; the post's AE did not
LEARNING_RATE = 0.0005
BATCH_SIZE = 32 if QUICK else 128  # as notebook 10's, whose VAE is the normal VAE here
EPOCHS = 40 if QUICK else 24
RADIUS_BIN = 0.5       # width of the radius intervals (post XIII)
CLUSTER_COUNTS = tuple(range(2, 81, 2))  # MiniBatchKMeans from 2 to 80 clusters
N_TSNE = 2000 if QUICK else 20000  # points in each t-SNE map (post: 20,000 to 140,000)
N_TSNE_MORE = (400,) if QUICK else (80000, 140000)  # other sizes, sklearn's default settings
UNIFORM_RANGES = (2.0, 10.0)  # random z, components uniform in [-a, a] (post: "equidistant")
RUN_SEEDS = (1, 2)      # further tiny-KL runs: with the clip, again with it, without it
RUN_EPOCHS = 4 if QUICK else 24  # epochs of each of those runs (post: 24)
IMAGE_SIZE = 96
N_STANDIN = 2000       # images in the stand-in, used only where CelebA is missing
USE_CELEBA = not QUICK  # False: the stand-in even where CelebA is found
MIXED_PRECISION = "auto"  # "auto": mixed_float16 on a GPU with tensor cores, else float32
DISTRIBUTE = "auto"       # "auto": MirroredStrategy over several GPUs, else one device

# %%
from my_AE_code.notebook_setup import scaling_choices, setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator, NullFormatter
from scipy.stats import chi2, norm
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from my_AE_code import figures, latent_stats
from my_AE_code.callbacks import LossPrinter
from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, prepare_celeba
from my_AE_code.celeba.files import ATTR_FILES, IMAGES_DIR, find_file, read_attributes
from my_AE_code.celeba.model import NOTEBOOK_13_TINY_MODEL, celeba_vae, load_or_train
from my_AE_code.inference import decode, encode
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
print(f"saved for notebook 14 in {tiny.save(setup.results_dir / NOTEBOOK_13_TINY_MODEL)}")

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
posts = {"AE": "4515", "tiny-KL VAE": "4553 ≤ loss ≤ 4555", "normal VAE": "around 4800 up to 5000"}
for name, value in final.items():
    print(f"{name:12s} {value:9.1f}   (post, on CelebA: {posts[name]})")
tiny_last = {key: values[-1] for key, values in histories["tiny-KL VAE"].items()}
print(f"tiny-KL VAE, last epoch: KL loss (fact x KL) {tiny_last['kl_loss']:.4f} beside the "
      f"reconstruction loss {tiny_last['reco_loss']:.1f}, a ratio of "
      f"{tiny_last['kl_loss'] / tiny_last['reco_loss']:.1e} (post: 0.0178 against 4550)")
figures.plot_loss_curves({name: logs for name, logs in histories.items()},
                         title=f"training loss, sum convention "
                               f"({'stand-in' if source.is_standin else 'CelebA'})")

# %% [markdown]
# The normal VAE's value is its loss on the training faces now, evaluated
# once after training. On the stand-in, the losses sit above the post's
# CelebA figures: binary cross-entropy cannot fall below the entropy of each
# pixel's own intensity, and the drawings' flat mid-tone colours keep that
# floor high (notebook 10). What compares is the pattern. In the post the AE
# and the tiny-KL VAE ended close together, the AE a little lower, and the
# normal VAE well above both; the three losses printed above say how far
# this run agrees, and the conclusion at the end prints the order. As in the
# post, the AE has no batch norm and both VAEs have it (`USE_BATCH_NORM`), so
# the AE differs from them in that too: a difference between the AE and the
# tiny-KL VAE may come from either.
#
# The tiny KL loss is what makes this VAE "almost an AE": in the post a
# ratio "below 4.e-6" to the reconstruction loss. The line above gives this
# run's ratio.
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
peaks, central_share = {}, {}
for name, r in radii.items():
    counts, _ = latent_stats.radius_counts(r, bins=edges)
    peaks[name] = float(edges[np.argmax(counts)] + RADIUS_BIN / 2)
    low, high = np.percentile(r, [1, 99])
    # The post's band 14 <= R <= 19 is 5 wide around its peak: the same width around ours.
    central_share[name] = float(np.mean(np.abs(r - peaks[name]) <= 2.5))
    print(f"{name:12s} radius: mean {r.mean():6.2f}, peak at {peaks[name]:6.2f}, 98% within "
          f"{low:5.2f}-{high:5.2f}, {central_share[name]:.0%} within 2.5 of the peak")
low, high = np.sqrt(chi2.ppf([0.01, 0.99], Z_DIM))  # the squared radius of N(0, I) is chi2
print(f"N(0, I) in {Z_DIM} dimensions: radius about {np.sqrt(Z_DIM):.2f}, 98% within "
      f"{low:5.2f}-{high:5.2f}; of each model's points inside that band: "
      + ", ".join(f"{name} {np.mean((r >= low) & (r <= high)):.0%}" for name, r in radii.items()))
figures.plot_radius_distributions(radii, bins=edges)

# %% [markdown]
# The post found almost all of the AE's radii between 12 and 24, more than
# half of them between 14 and 19, peaking near 16.75, and the tiny-KL VAE's
# close to it, near 16, with the same width.
#
# A VAE with a real KL loss pulls its `z` towards N(0, I), whose radius sits
# near the square root of `Z_DIM` (16 for the posts' 256) in a narrow band,
# as the last line above prints. The post's AE peaked at 16.75 with no KL
# loss at all, so in the post the peak's place alone did not tell the AE from
# a VAE; the width did. In this run, the lines above give each model's peak
# and width: the normal VAE's radii are the ones to hold against the N(0, I)
# line, and the AE's and the tiny-KL VAE's against each other.
#
# ### 3. Clusters
#
# MiniBatchKMeans inertia (the summed squared distance of the points to their
# nearest of k cluster centres) for k from 2 to 80. A curve that keeps falling
# smoothly, without an elbow, means no clear clusters; the post saw that for
# both the AE and the tiny-KL VAE on CelebA. A curve that drops steeply for
# the first few k and then flattens has a knee: a few groups hold most of the
# points. The share of the inertia left at 10 clusters is printed for each
# model below the plot.

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
at_10 = {name: float(values[np.argmin(np.abs(np.array(CLUSTER_COUNTS) - 10))] / values[0])
         for name, values in inertia.items()}
print("inertia left at (about) 10 clusters, of that at 2: "
      + ", ".join(f"{name} {share:.0%}" for name, share in at_10.items()))

# %% [markdown]
# t-SNE maps of the AE's and the tiny-KL VAE's points, with sklearn's default
# settings and with the post's other choice (early exaggeration 16,
# perplexity 10). Each point is coloured by the hair colour its face's
# attributes name, so a reader can see whether islands in a map are groups
# of faces that share something visible. One number says the same: how
# often a point's five nearest neighbours on the map name its own hair
# colour (5-fold cross-validated), against the share of the commonest colour,
# which a guess without the map would reach.

# %%
HAIR = ("Black_Hair", "Brown_Hair", "Blond_Hair", "Gray_Hair")
attr_file = find_file(source.root, ATTR_FILES)
if attr_file is None:
    hair = np.zeros(len(in_order.train_files), int)  # no attributes: one colour for all
    print("no attribute file next to the images: the maps are not coloured")
else:
    rows = read_attributes(attr_file)
    present = rows.rows_for(in_order.train_files)[:, [rows.names.index(h) for h in HAIR]] == 1
    hair = np.where(present.any(axis=1), present.argmax(axis=1), len(HAIR))
hair_names = [h.split("_")[0].lower() for h in HAIR] + ["none"]
chance = np.bincount(hair).max() / len(hair)
hair_agree = {}


def tsne_panel(name, n_points, ax, exaggeration=12.0, perplexity=30.0):
    """One t-SNE map, coloured by hair; returns how often neighbours share the colour."""
    embedding, used = latent_stats.tsne_projection(latent[name]["z"], n_max=n_points, seed=SEED,
                                                   perplexity=perplexity,
                                                   early_exaggeration=exaggeration)
    figures.plot_tsne(embedding, labels=hair[used], ax=ax, label_names=hair_names,
                      title=f"{name}, {len(used):,} points\n"
                            f"exaggeration {exaggeration:g}, perplexity {perplexity:g}")
    folds = KFold(5, shuffle=True, random_state=SEED)  # plain folds: a rare colour may be missing
    return cross_val_score(KNeighborsClassifier(5), embedding, hair[used], cv=folds).mean()


fig, axes = plt.subplots(2, 2, figsize=(10, 10))
for ax, (name, settings) in zip(axes.flat, [(n, s) for n in ("AE", "tiny-KL VAE")
                                            for s in ((12.0, 30.0), (16.0, 10.0))]):
    hair_agree[(name, *settings)] = tsne_panel(name, N_TSNE, ax, *settings)
fig.suptitle("t-SNE maps of the latent points, coloured by hair")
plt.show()
for (name, exaggeration, perplexity), agree in hair_agree.items():
    print(f"{name:12s} exaggeration {exaggeration:g}, perplexity {perplexity:g}: neighbours "
          f"name the point's hair colour {agree:.0%} of the time (commonest colour: {chance:.0%})")

# %% [markdown]
# The post also drew maps of 20,000, 80,000 and 140,000 points. How much a
# map shows depends on how many points it holds; the same models at the
# other sizes of `N_TSNE_MORE` (sklearn's default settings; a size above the
# number of faces takes them all):

# %%
fig, axes = plt.subplots(len(N_TSNE_MORE), 2, figsize=(10, 5 * len(N_TSNE_MORE)),
                         squeeze=False)
for row, n_points in zip(axes, N_TSNE_MORE):
    for ax, name in zip(row, ("AE", "tiny-KL VAE")):
        agree = tsne_panel(name, n_points, ax)
        print(f"{name:12s} {min(n_points, len(hair)):,} points: neighbours name the hair colour "
              f"{agree:.0%} of the time")
plt.show()

# %% [markdown]
# The post saw on CelebA some clustering without clear gaps between the
# clusters, much the same for the AE and the tiny-KL VAE. What this run's
# maps show is above, with the numbers beside them: where the islands carry
# one colour each and the neighbours' agreement is far above the commonest
# colour's share, the groups are faces of one hair colour. The stand-in draws
# each face's hair in one of four colours or none, and hair with the
# background fills most of a drawing, so on the stand-in such groups are what
# to expect; CelebA's hair and backgrounds vary continuously.

# %% [markdown]
# ### 4. How small did `log_var` become?
#
# A VAE can only behave like an AE if it stops sampling: `log_var` very
# negative, so that `z` = `mu` + exp(`log_var` / 2) x `eps` hardly differs from
# `mu`. For the tiny-KL VAE the post printed `log_var` between -24.660698
# and -2.0205276 with an average of -13.682616 (a sigma of about 0.001), and
# -22.777826 to 3.3761873, average -13.4265175, in a second run.

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
# And so how far `z` strays from `mu`. The post counted the components with
# |z - mu| > 0.05 (5 out of the 45.52 million), found a largest |z - mu| of
# 0.26, and an average relative difference of the radii,
# |R(z) - R(mu)| / R(mu), of 6.1240215e-05 (6.5660715e-05 in the second
# run). The same numbers for this run:

# %%
relative, beyond = {}, {}
for name in ("tiny-KL VAE", "normal VAE"):
    z, mu = latent[name]["z"], latent[name]["mu"]
    radius_difference = np.abs(latent_stats.radii(z) - latent_stats.radii(mu))
    relative_difference = radius_difference / latent_stats.radii(mu)
    relative[name] = float(relative_difference.mean())
    beyond[name] = float(np.mean(np.abs(z - mu) > 0.05))
    print(f"{name:12s} |z - mu| > 0.05 in {int(np.sum(np.abs(z - mu) > 0.05)):,} of {z.size:,} "
          f"components ({beyond[name]:.1%}), largest {np.abs(z - mu).max():.4f}; relative "
          f"radius difference: mean {relative[name]:.2e}, max {relative_difference.max():.2e}")

# %% [markdown]
# The figure shows a related ratio per interval of `mu`'s radius: the length
# of the vector `z` - `mu` over the length of `mu`. It bounds the radius
# difference above (|R(z) - R(mu)| <= |z - mu|), and it shows where in the
# cloud the sampling still moves points most.

# %%
fig, ax = plt.subplots(figsize=(7, 3))
for name in relative:
    deviation = latent_stats.z_mu_deviations(latent[name]["z"], latent[name]["mu"], 10)
    centres = (deviation.bin_edges[:-1] + deviation.bin_edges[1:]) / 2
    ax.plot(centres, deviation.rel_per_bin, marker="o", label=name)
ax.set_xlabel("radius of mu")
ax.set_ylabel("mean |z - mu| / |mu|")
ax.set_yscale("log")
ax.yaxis.set_minor_formatter(NullFormatter())  # labels at the powers of ten only
ax.legend()
plt.show()

# %% [markdown]
# ### 5. Faces from random points?
#
# Points drawn from N(0, I), and, as in the post, points whose components are
# spread evenly over [-2, 2] and over [-10, 10] (uniformly drawn here), each
# decoded by each model. The post's tiny-KL VAE, like its AE, failed here:
# its faces live on thin threads of the latent space that random points
# miss. The radius of such points is printed first, to hold against each
# model's radii in section 2.
#
# In `make run`'s executed copy (the stand-in, quick values) the AE turns the
# N(0, I) and [-2, 2] points into noisy, greyish ghosts of faces, the tiny-KL
# VAE (whose own points lie much farther out, section 2) into grey blurs
# with at most the ghost of a face, and both turn the [-10, 10] points into
# noisy sketches of faces in odd colours; the normal VAE draws a face from
# every N(0, I) and [-2, 2] point, and over-coloured ones from [-10, 10].

# %%
rng = np.random.default_rng(SEED)
draws = {"N(0, I)": rng.normal(size=(8, Z_DIM))}
draws.update({f"U[-{a:g}, {a:g}]": rng.uniform(-a, a, size=(8, Z_DIM)) for a in UNIFORM_RANGES})
for kind, z in draws.items():
    print(f"{kind:12s} radius of the points about {latent_stats.radii(z).mean():.1f}")
rows = [(name, kind) for name in models for kind in draws]
figures.plot_images(np.stack([decode(models[name], draws[kind]) for name, kind in rows]),
                    row_titles=[f"{name}, {kind}" for name, kind in rows],
                    suptitle="decoded from random points")

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
# Rare, then, but not absent on CelebA. The post saw one run in which, at
# epoch 22, the radii suddenly jumped to a peak at R = 66 and the KL loss
# with them; three of its four runs without the clip ended near R = 16, and
# after a change of the initial weights one ended near R = 19.75. With the
# clip all its runs ended near 16.
#
# The same idea, measured: the tiny-KL VAE trained again from the initial
# weights of each seed in `RUN_SEEDS`, for `RUN_EPOCHS` epochs each, three
# times: with the clip, a second time with the clip, and without it (the
# `Sampling` layer's `EPS_CLIP` set to infinity before training). The second
# run with the clip measures how much two runs of the very same settings
# differ; only a difference larger than that can be put down to the clip.
# After every epoch the mean radius of `mu` for the first 512 training faces
# is recorded, with the epoch's KL loss.

# %%
def sampling_layer(model):
    return next(layer for layer in model.encoder.layers if isinstance(layer, Sampling))


watched_faces = np.concatenate([images.numpy() for images in in_order.train.take(4)])[:512]
VARIANTS = {"clip": True, "clip, again": True, "no clip": False}  # name: clipped
runs = {}
for run_seed in RUN_SEEDS:
    for variant, clipped in VARIANTS.items():
        setup_notebook(seed=run_seed)  # the run's initial weights and draws come from run_seed
        run = celeba_vae(image_size=IMAGE_SIZE, z_dim=Z_DIM, fact=FACT_TINY,
                         use_batch_norm=USE_BATCH_NORM, learning_rate=LEARNING_RATE,
                         dtype_policy=dtype_policy, distribute=distribute)
        if not clipped:
            sampling_layer(run).EPS_CLIP = float("inf")
        radius = []
        record = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: radius.append(
            latent_stats.radii(run.encoder.predict(watched_faces, verbose=0)[1]).mean()))
        logs = run.train_myVAE(data.train, batch_size=None, epochs=RUN_EPOCHS, verbose=0,
                               callbacks=[record]).history
        runs[run_seed, variant] = {"radius": np.array(radius), "kl": np.array(logs["kl_loss"])}
        print(f"seed {run_seed}, {variant:11s}: mean radius of mu by epoch "
              + " ".join(f"{r:5.2f}" for r in radius) + f"; KL loss {logs['kl_loss'][-1]:.4f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5), layout="constrained")
LINES = {"clip": "-", "clip, again": ":", "no clip": "--"}
for (run_seed, variant), values in runs.items():
    style = dict(color=f"C{list(RUN_SEEDS).index(run_seed)}", linestyle=LINES[variant],
                 marker=".", label=f"seed {run_seed}, {variant}")
    epochs = np.arange(1, len(values["radius"]) + 1)
    left.plot(epochs, values["radius"], **style)
    right.plot(epochs, values["kl"], **style)
left.set(xlabel="epoch", ylabel="mean radius of mu (512 faces)")
right.set(xlabel="epoch", ylabel="KL loss (fact x KL)", yscale="log")
for ax in (left, right):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
right.legend(fontsize=8)
plt.show()

final_radius = np.array([values["radius"][-1] for values in runs.values()])
by_seed = {seed: {variant: runs[seed, variant]["radius"][-1] for variant in VARIANTS}
           for seed in RUN_SEEDS}
repeat_spread = max(abs(r["clip"] - r["clip, again"]) for r in by_seed.values())
clip_effect = max(abs(r["no clip"] - (r["clip"] + r["clip, again"]) / 2)
                  for r in by_seed.values())
print(f"final mean radii of all runs from {final_radius.min():.2f} to {final_radius.max():.2f}")
print(f"two runs with the same settings ended up to {repeat_spread:.2f} apart; a run without "
      f"the clip ended up to {clip_effect:.2f} from the mean of its seed's two runs with it: "
      f"{'more' if clip_effect > repeat_spread else 'no more'} than runs of the same settings "
      f"differ")

# %% [markdown]
# One colour per seed; solid and dotted lines are the two runs with the clip,
# dashed the run without. The three runs of a seed start from the same
# weights and the same random draws, yet they need not end alike: unless
# `tf.config.experimental.enable_op_determinism()` is called (at some cost in
# speed), TensorFlow's ops may add floating-point numbers in a different
# order from run to run, as their threads finish (its documentation of that
# function says so), and training amplifies such differences of the last
# digit, as it would amplify a clipped draw. The solid and dotted lines show
# how far that alone carries a run; the lines printed above say whether the
# dashed one strays further. The
# expected counts above make clipped draws rare here (a fraction of one per
# epoch on the stand-in), and these runs are short: the early epochs, where
# the radii still climb, dominate them. A jump like the post's, from one
# extreme draw late in a long run on CelebA, needs the full settings
# (`QUICK = False`: 24 epochs per run on CelebA) to have a chance to show.

# %% [markdown]
# ## Conclusion, from this run's numbers

# %%
peak_ratio = peaks["tiny-KL VAE"] / peaks["AE"]
print(f"- radius peaks: AE {peaks['AE']:.2f}, tiny-KL VAE {peaks['tiny-KL VAE']:.2f}, normal VAE "
      f"{peaks['normal VAE']:.2f}: the tiny-KL VAE's is {peak_ratio:.2f} times the AE's, "
      f"{'close to it, as in the post' if 0.8 < peak_ratio < 1.25 else 'unlike the post'}")
print(f"- mean log_var of the tiny-KL VAE {logvar['tiny-KL VAE']['mean']:.2f} "
      f"(post: -13.682616), of the normal VAE {logvar['normal VAE']['mean']:.2f}")
print(f"- relative difference of the radii of z and mu: tiny-KL VAE "
      f"{relative['tiny-KL VAE']:.1e} (post: 6.1240215e-05), "
      f"normal VAE {relative['normal VAE']:.1e}")
order = sorted(final, key=final.get)
print("- final losses: " + ", ".join(f"{name} {final[name]:.0f}" for name in order)
      + " (from lowest; the post: AE, tiny-KL VAE, normal VAE)")
show_key_numbers(
    standin=source.is_standin, epochs=EPOCHS,
    radius_peak_ae=peaks["AE"], radius_peak_tiny=peaks["tiny-KL VAE"],
    radius_peak_vae=peaks["normal VAE"], mean_log_var_tiny=logvar["tiny-KL VAE"]["mean"],
    mean_log_var_vae=logvar["normal VAE"]["mean"],
    relative_radius_diff_tiny=relative["tiny-KL VAE"],
    relative_radius_diff_vae=relative["normal VAE"], loss_ae=final["AE"],
    loss_tiny=final["tiny-KL VAE"], loss_vae=final["normal VAE"],
    kl_share_tiny=tiny_last["kl_loss"] / tiny_last["reco_loss"],
    radius_central_share_ae=central_share["AE"],
    radius_central_share_tiny=central_share["tiny-KL VAE"],
    radius_central_share_vae=central_share["normal VAE"],
    inertia_at_10_ae=at_10["AE"], inertia_at_10_tiny=at_10["tiny-KL VAE"],
    inertia_at_10_vae=at_10["normal VAE"],
    tsne_hair_agree_ae=hair_agree[("AE", 12.0, 30.0)],
    tsne_hair_agree_tiny=hair_agree[("tiny-KL VAE", 12.0, 30.0)], tsne_hair_chance=chance,
    z_mu_beyond_005_tiny=beyond["tiny-KL VAE"], z_mu_beyond_005_vae=beyond["normal VAE"],
    runs_final_radius_min=final_radius.min(), runs_final_radius_max=final_radius.max(),
    runs_repeat_spread=repeat_spread, runs_clip_effect=clip_effect)

# %% [markdown]
# The post's answer was yes: with a tiny KL loss the VAE drives `log_var` far
# down, stops sampling in effect, and ends where the AE ends, in loss, radii,
# clusters and its failure to make faces from random points. The lines above
# say how far this run, with its data and epochs, agrees. Where its mean
# `log_var` lies well above the post's -13.682616, it has trained fewer
# steps than the post's 24 epochs of 1,329 batches (the quick run makes
# 2,040, on the stand-in), and until `log_var` has fallen, sampling still
# moves `z` measurably away from `mu` (the share of components beyond 0.05
# in section 4).
#
# The radii need not agree, and in `make run`'s copy they do not: the AE and
# the tiny-KL VAE end close together in loss, as in the post, but the
# tiny-KL VAE's points lie several times as far out as the AE's. At a KL
# weight of 1e-5 nothing holds them in: its KL loss, section 1's tiny
# figure, is what keeping them out there costs, so the Encoder may move its
# points outwards as freely as an AE's. Where they end is then a matter of
# the run, as the post's own instability (one run jumping to R = 66) showed.
