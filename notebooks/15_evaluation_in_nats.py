# %% [markdown]
# # 15 · How good is each VAE, in nats: test ELBO, log p(x), and what `fact` trades
#
# The series has compared the four KL strategies by speed and by pictures.
# Generative models are usually compared by likelihood instead: how probable
# the model finds test images it never saw, in nats (natural-log units) per
# image. `my_AE_code.evaluation` scores any of our VAEs that way, from the
# Encoder's `mu` and `log_var` and the Decoder's pixel probabilities alone,
# whatever `solution_type` and `fact` convention trained it:
#
# - **distortion** `-E_q[log p(x|z)]`: the nats the Decoder still needs to
#   describe an image once it knows the image's code `z`;
# - **rate** `KL(q(z|x) || N(0, I))`: the nats the code carries about the image;
# - **ELBO** `= -(distortion + rate)`, a lower bound on `log p(x)`;
# - **log p(x)** estimated from `K` importance samples per image (the IWAE
#   bound of Burda et al., 2016), which tightens towards the true value as `K`
#   grows.
#
# First the four strategies of notebook 08, trained alike, are scored on the
# same test digits: if they train the same model, they must score the same
# nats. Then `fact` is swept from tiny to large. Each model becomes one point
# of a rate-distortion curve, the trade that `fact` sets, and the plain
# Autoencoder marks where the curve ends as `fact` goes to 0.
#
# **Running time.** With the parameters below (twenty models of 10 epochs over
# the 60,000 training digits: the four strategies from three seeds each, the
# sweep and the Autoencoder; and 1,000 test digits scored with 1,000 samples
# each) about 2.5 hours on a 2-core CPU, at the 1,500 images/s that
# `benchmarks/strategies.py` measured for this architecture; on a GPU a few
# minutes. With `QUICK = True` (what `make run` runs) it trains 5 epochs per
# model on 4,000 digits, two seeds per strategy, and importance-samples 100
# test digits: about 8 minutes (469 s in `make run`) on a 2-core CPU; the
# seconds per epoch are in the key numbers at the end.

# %% tags=["parameters"]
QUICK = False          # True: the values left of "if QUICK": minutes on a 2-core CPU (`make run`)
SEED = 42
Z_DIM = 2
FACT = 1e-3            # the four strategies' KL weight, mean convention (posts V-VIII)
SWEEP_FACTS = [1e-5, 0.01, 0.3, 1.0, 2.0, 5.0]  # sum convention: loss = distortion + fact * rate
SWEEP_Z_DIM = 16      # the sweep's latent size: room for the code to carry what fact allows
BATCH_SIZE = 128
EPOCHS = 5 if QUICK else 10  # per model
N_TRAIN = 4000 if QUICK else None  # None: all training images
N_EVAL = 100 if QUICK else 1000  # test images scored with importance sampling
K = 1000               # importance samples per image
LEARNING_RATE = 0.0005
N_SEEDS = 2 if QUICK else 3  # seeds per strategy: how much runs of one strategy differ

# %%
from my_AE_code.notebook_setup import setup_notebook, show_key_numbers

setup = setup_notebook(seed=SEED)  # before anything imports TensorFlow

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from scipy.special import entr

from my_AE_code import evaluation, figures
from my_AE_code.callbacks import EpochTimer
from my_AE_code.evaluation import code_distortion, elbo_parts, log_likelihood
from my_AE_code.inference import decode, reconstruct
from my_AE_code.listing import readable_source
from my_AE_code.mnist import load_mnist
from my_AE_code.models import MyAutoencoder, MyVariationalAutoencoder
from my_AE_code.models.kl_strategies import STRATEGIES
from my_AE_code.models.layouts import MNIST_LAYOUT
from my_AE_code.models.losses import MEAN, SUM

mnist = load_mnist(setup.data_dir)
x_train, x_test = mnist.x_train[:N_TRAIN], mnist.x_test
x_eval = x_test[:N_EVAL]
N_PIXELS = x_train.shape[1] * x_train.shape[2]
print(f"MNIST from {mnist.source}: {len(x_train)} training images, {EPOCHS} epochs per model; "
      f"{len(x_test)} test images, {len(x_eval)} of them importance-sampled with K = {K}")

# %% [markdown]
# ## The code
#
# Everything rests on one loop: per batch of test images, encode once, draw
# `z = mu + exp(log_var / 2) * eps` with NumPy's own seeded noise, and score
# each draw twice: `log p(x|z)` from the Decoder, and `log p(z) - log q(z|x)`
# from the Gaussians. The ELBO averages the first and subtracts the exact
# KL; `log_likelihood` adds both and takes the log of the mean weight with
# log-sum-exp. Draws are decoded a few thousand at a time, so `K = 1000`
# needs no more memory than `K = 10`.

# %%
print(readable_source(evaluation._scored_draws))
print(readable_source(evaluation.log_likelihood))

# %% [markdown]
# One caveat before any number. MNIST pixels are grey levels, and
# `x log p + (1 - x) log(1 - p)` for a grey `x` is the continuous
# relaxation that training with binary cross-entropy uses, not a probability
# of a binary image. Even a perfect Decoder that outputs each test image
# itself (`p = x`) scores the pixels' own entropy, not 0 nats. That floor,
# on these test digits:

# %%
floor = (entr(x_test) + entr(1.0 - x_test)).sum(axis=(1, 2, 3))
print(f"a perfect Decoder's distortion: {floor.mean():.1f} nats per test image "
      f"({floor.mean() / N_PIXELS:.3f} per pixel)")

# %% [markdown]
# ## Four strategies, one model
#
# As in notebook 08: the same architecture (post VI's MNIST layout, kept in
# the package as `MNIST_LAYOUT`), the same seed, so the same initial weights
# and batches, and `fact` = 1e-3 in the mean convention, converted into the
# sum convention for strategy 3.

# %%
ARCH = dict(MNIST_LAYOUT, z_dim=Z_DIM)
print(ARCH)
timer = EpochTimer()
epoch_seconds = []
# Many models in one process: TensorFlow would warn that Keras traces their training
# and predict functions again and again, which is exactly what building them means here.
tf.get_logger().setLevel("ERROR")


def trained(model_class, z_dim=Z_DIM, seed=SEED, **kwargs):
    """A model of ARCH (with this z_dim), trained on x_train from the global ``seed``."""
    setup_notebook(seed=seed)  # the same initial weights and batches for every model
    model = model_class(**dict(ARCH, z_dim=z_dim), **kwargs)
    if isinstance(model, MyVariationalAutoencoder):
        model.compile_myVAE(LEARNING_RATE)
        model.train_myVAE(x_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0,
                          callbacks=[timer])
    else:
        model.compile_myAE(LEARNING_RATE)
        model.train_myAE(x_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0,
                         callbacks=[timer])
    epoch_seconds.extend(timer.seconds[1:] or timer.seconds)  # after the first (tracing)
    return model


NAMES = {0: "0: KL layer in Encoder", 1: "1: extra outputs", 2: "2: model loss",
         3: "3: train_step"}
vaes = {}
for solution_type, name in NAMES.items():
    convention = STRATEGIES[solution_type].convention
    fact = convention.fact_from(FACT, MEAN, N_PIXELS, Z_DIM)
    vaes[name] = trained(MyVariationalAutoencoder, solution_type=solution_type, fact=fact)
    print(f"solution_type {name:24s} fact {fact:<8.4g} ({convention.name} convention), "
          f"{sum(timer.seconds):.0f} s")

# %% [markdown]
# Every model is scored on the same test digits with the same random draws:
# the ELBO and its two parts from one draw per image, `log p(x)` from `K`.

# %%
scores = {}
for name, vae in vaes.items():
    parts = elbo_parts(vae, x_eval, seed=SEED)
    scores[name] = dict(distortion=parts.distortion, rate=parts.rate, elbo=parts.elbo,
                        log_px=log_likelihood(vae, x_eval, k=K, seed=SEED))


def mean_and_error(values):
    return f"{values.mean():7.2f} ± {values.std() / np.sqrt(len(values)):4.2f}"


print(f"nats per image, mean over {len(x_eval)} test digits (± standard error)")
print(f"{'strategy':24s} {'distortion':>10s} {'rate':>6s} {'ELBO':>15s} {'log p(x)':>15s}")
for name, s in scores.items():
    print(f"{name:24s} {s['distortion'].mean():10.2f} {s['rate'].mean():6.2f} "
          f"{mean_and_error(s['elbo'])} {mean_and_error(s['log_px'])}")

# %%
fig, ax = plt.subplots(figsize=(8, 3.2))
rows = np.arange(len(scores))
for offset, key, label in ((-0.2, "elbo", "-ELBO"), (0.2, "log_px", f"-log p(x), K = {K}")):
    values = np.array([-s[key].mean() for s in scores.values()])
    errors = np.array([s[key].std() / np.sqrt(len(s[key])) for s in scores.values()])
    bars = ax.barh(rows + offset, values, height=0.4, xerr=errors, label=label)
    ax.bar_label(bars, fmt="%.1f", padding=3, fontsize=8)
ax.set_yticks(rows, list(scores))
ax.invert_yaxis()
ax.set_xlabel("nats per test image (lower is better)")
ax.set_title("The four strategies, scored alike")
ax.legend(loc="lower right", fontsize=8)
plt.show()

# %%
elbo_means = [s["elbo"].mean() for s in scores.values()]
log_px_means = [s["log_px"].mean() for s in scores.values()]
elbo_spread = max(elbo_means) - min(elbo_means)
log_px_spread = max(log_px_means) - min(log_px_means)
iw_gain = np.mean(log_px_means) - np.mean(elbo_means)
print(f"largest difference between strategies: ELBO {elbo_spread:.2f} nats, "
      f"log p(x) {log_px_spread:.2f} nats")
print(f"log p(x) lies {iw_gain:.2f} nats above the ELBO, on average over the four")

# %% [markdown]
# Is that difference small? The yardstick is how much two runs of the *same*
# strategy differ. Each strategy trains again from `N_SEEDS` - 1 other seeds
# (other initial weights, batches and draws), scored by its ELBO on the same
# digits:

# %%
seed_elbos = {name: [scores[name]["elbo"].mean()] for name in NAMES.values()}
for solution_type, name in NAMES.items():
    fact = STRATEGIES[solution_type].convention.fact_from(FACT, MEAN, N_PIXELS, Z_DIM)
    for seed in range(SEED + 1, SEED + N_SEEDS):
        again = trained(MyVariationalAutoencoder, seed=seed, solution_type=solution_type,
                        fact=fact)
        seed_elbos[name].append(elbo_parts(again, x_eval, seed=SEED).elbo.mean())
    print(f"{name:24s} ELBO by seed: " + ", ".join(f"{e:.2f}" for e in seed_elbos[name]))
seed_spread = max(max(e) - min(e) for e in seed_elbos.values())
print(f"largest difference between seeds of one strategy {seed_spread:.2f} nats; between the "
      f"strategies (seed {SEED}) {elbo_spread:.2f} nats: the strategies differ "
      f"{'less than' if elbo_spread < seed_spread else 'more than'} runs of one strategy do")

# %% [markdown]
# The strategies differ only in where the KL loss enters training. Where the
# line above finds their spread below the spread between seeds, the four
# train the same model as far as one run can tell: four ways of writing its
# loss. The importance-weighted estimate sits above the ELBO, as a tighter
# lower bound must.
#
# The nats also check the units of training. Strategy 3 logs its losses in
# the sum convention, whose reconstruction term is the distortion itself, and
# whose KL term is `fact` times the rate (its own sampling noise aside):

# %%
vae3 = vaes[NAMES[3]]
logged = vae3.model.evaluate(x_eval, batch_size=BATCH_SIZE, verbose=0, return_dict=True)
print(f"strategy 3 logs reco_loss {logged['reco_loss']:.2f}, the distortion is "
      f"{scores[NAMES[3]]['distortion'].mean():.2f} nats")
print(f"strategy 3 logs kl_loss / fact {logged['kl_loss'] / vae3.fact:.2f}, the rate is "
      f"{scores[NAMES[3]]['rate'].mean():.2f} nats")

# %% [markdown]
# ## How many samples does log p(x) need?
#
# With one sample, the estimate is the ELBO again, its KL term estimated from
# the draw instead of computed. More samples let a few draws that explain the
# image well outweigh the rest; the estimate rises and levels off.

# %%
ks = [k for k in (1, 10, 100) if k < K] + [K]
by_k = {k: log_likelihood(vae3, x_eval, k=k, seed=SEED).mean() for k in ks[:-1]}
by_k[K] = scores[NAMES[3]]["log_px"].mean()
for k, value in by_k.items():
    print(f"K = {k:5d}: log p(x) ≈ {value:8.2f} nats")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(list(by_k), list(by_k.values()), "o-", label="importance-weighted estimate")
ax.axhline(scores[NAMES[3]]["elbo"].mean(), color="grey", linestyle="--",
           label="ELBO (exact KL, one draw)")
ax.set_xscale("log")
ax.set_xlabel("importance samples per image, K")
ax.set_ylabel("mean log p(x), nats")
ax.set_title(f"Strategy 3's model, {len(x_eval)} test digits")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## What `fact` trades: the rate-distortion curve
#
# In the sum convention the loss is `distortion + fact * rate`: `fact` is
# the price of one nat of code. Each `fact` below gets its own model (the same
# architecture, data, epochs and seed, `solution_type` 3), with a latent space
# of `SWEEP_Z_DIM` dimensions: with only two, the bottleneck itself limits
# every model's reconstructions, whatever `fact` allows. The posts' MNIST
# setting, 1e-3 in the mean convention, is one of the points, converted for
# this `z_dim`. The plain Autoencoder, trained alike, has no rate (its code is
# a point, not a distribution); its distortion is where the curve heads as
# `fact` goes to 0.

# %%
posts_fact = SUM.fact_from(FACT, MEAN, N_PIXELS, SWEEP_Z_DIM)
print(f"the posts' fact {FACT:g} (mean convention) is {posts_fact:.4g} in the sum convention "
      f"for {N_PIXELS} pixels and z_dim {SWEEP_Z_DIM}")
sweep = {}
for fact in sorted({*SWEEP_FACTS, posts_fact}):
    sweep[fact] = trained(MyVariationalAutoencoder, z_dim=SWEEP_Z_DIM, solution_type=3,
                          fact=fact)
    print(f"fact {fact:<8.4g} {sum(timer.seconds):.0f} s")
autoencoder = trained(MyAutoencoder, z_dim=SWEEP_Z_DIM)
ae_distortion = code_distortion(autoencoder, x_test).mean()

# %%
curve = {fact: elbo_parts(vae, x_test, seed=SEED) for fact, vae in sweep.items()}
rates = np.array([parts.rate.mean() for parts in curve.values()])
distortions = np.array([parts.distortion.mean() for parts in curve.values()])
# The same number of training digits, to see how much better each model fits what it saw.
x_seen = x_train[:len(x_test)]
train_distortions = np.array([elbo_parts(vae, x_seen, seed=SEED).distortion.mean()
                              for vae in sweep.values()])
ae_train_distortion = code_distortion(autoencoder, x_seen).mean()
print(f"nats per image, mean over {len(x_test)} test digits (and as many training digits)")
print(f"{'fact (sum)':>10s} {'rate':>7s} {'distortion':>10s} {'ELBO':>8s} {'training':>9s}")
for fact, rate, distortion, seen in zip(sweep, rates, distortions, train_distortions):
    print(f"{fact:10.4g} {rate:7.2f} {distortion:10.2f} {-(rate + distortion):8.2f} "
          f"{seen:9.2f}")
print(f"{'AE':>10s} {'-':>7s} {ae_distortion:10.2f} {'':>8s} {ae_train_distortion:9.2f}")

# %%
POSTS = {1e-5: "post XIII: tiny KL (1e-5)", posts_fact: f"posts V-VIII: {FACT:g} mean",
         5.0: "posts X-XIV: CelebA (5)"}
fig, ax = plt.subplots(figsize=(8, 5.5))
ax.plot(rates, distortions, "o-", color="C0", label="VAE, one per fact")
for fact, rate, distortion in zip(sweep, rates, distortions):
    ax.annotate(f"{fact:.3g}", (rate, distortion), textcoords="offset points", xytext=(6, 4),
                fontsize=8)
for fact, text in POSTS.items():
    if fact in sweep:
        index = list(sweep).index(fact)
        ax.plot(rates[index], distortions[index], "*", markersize=14, label=text)
ax.axhline(ae_distortion, color="black", linestyle=":", label="Autoencoder (no rate)")
best = np.argmax(-(rates + distortions))
span = np.linspace(0, rates.max() * 1.05, 2)
ax.plot(span, rates[best] + distortions[best] - span, color="grey", linestyle="--",
        linewidth=1, label="constant ELBO through the best point")
ax.set_xlim(0, rates.max() * 1.1)
ax.set_ylim(min(ae_distortion, distortions.min()) - 5, distortions.max() + 10)
ax.set_xlabel("rate: KL(q(z|x) || p(z)), nats per image")
ax.set_ylabel("distortion: -E log p(x|z), nats per image")
ax.set_title(f"Rate and distortion on {len(x_test)} test digits, z_dim {SWEEP_Z_DIM} "
             "(labels: fact)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Reading the curve: the dearer the code, the fewer nats the model spends on
# it. The rate falls at every step of `fact` (table above), from the tiny
# end, where code is almost free, to the CelebA posts' `fact` = 5, which
# buys the smallest rate at the largest distortion. In the sum convention
# `fact` = 1 optimises the ELBO itself; the grey line joins points of equal
# ELBO, however they split the nats.
#
# The distortion does not simply fall as `fact` shrinks: in the quick run
# the almost free codes (post XIII's tiny KL, and the Autoencoder, whose
# dotted line has no rate) end above a moderate `fact`. Overfitting would
# explain that if those models described the digits they trained on more
# closely than new ones. The table's last column, the distortion of as many
# training digits, tests it, and the line below prints the largest gap; in
# `make run` (4,000 digits, 5 epochs) the training digits score at most
# 0.3 nats better than the test digits at any `fact`, and at the cheap end
# worse. So the cheap end is not
# overfitting here: after this short training it reconstructs seen and
# unseen digits alike less well than a moderate `fact` does. From the
# moderate `fact` on, the trade is the textbook one: fewer nats of code, more
# nats of distortion. Whether all 60,000 digits and the posts' epochs bring
# the low-`fact` end down to the Autoencoder's line and below, the full
# settings (not run here) would show. The posts' MNIST `fact`, converted for
# this `z_dim`, is the orange star.

# %%
gaps = distortions - train_distortions
print("test minus training distortion, by fact: "
      + ", ".join(f"{fact:.3g}: {gap:+.2f}" for fact, gap in zip(sweep, gaps))
      + f"; Autoencoder {ae_distortion - ae_train_distortion:+.2f} nats")

# %% [markdown]
# ## Three points of the curve, in pictures
#
# Reconstructions (z = mu) of the first test digits, then images decoded from
# the same random `z ~ N(0, I)` by each model:

# %%
three = [min(sweep), posts_fact, max(sweep)]
originals = x_test[:10]
figures.plot_reconstructions(
    originals, [reconstruct(sweep[fact], originals) for fact in three]
    + [reconstruct(autoencoder, originals)],
    row_titles=("original", *(f"fact {fact:.3g}" for fact in three), "Autoencoder"))

# %%
z_random = np.random.default_rng(SEED).normal(size=(10, SWEEP_Z_DIM))
figures.plot_images(np.stack([decode(sweep[fact], z_random) for fact in three]),
                    row_titles=[f"fact {fact:.3g}" for fact in three],
                    suptitle="decoded from the same random z ~ N(0, I)")

# %% [markdown]
# ## Beside the published figures
#
# Two caveats make our nats incomparable with published MNIST figures. They
# are grey-level nats (see the floor above), and they come from 4,000
# digits if MNIST could not be downloaded. Scored on binarised test digits
# (pixel > 0.5), a model trained on grey levels is judged on data it never
# saw, but the numbers land on the published scale:

# %%
binary_elbo = elbo_parts(vae3, x_eval, seed=SEED, binarize="threshold").elbo.mean()
binary_log_px = log_likelihood(vae3, x_eval, k=K, seed=SEED, binarize="threshold").mean()
print(f"strategy 3's model on threshold-binarised test digits: ELBO {binary_elbo:.1f}, "
      f"log p(x) {binary_log_px:.1f} nats (K = {K})")

# %% [markdown]
# Their figures, for orientation (not run here). TensorFlow's CVAE tutorial
# trains a 2-D latent space for 10 epochs on the 60,000 binarised digits and
# prints the test ELBO with the KL estimated from one draw (our `K = 1`
# estimate); one reader's run of it printed -155.9 nats at epoch 10 (their
# figure, from a blog post). pythae's reproduction of a VAE on binarised
# MNIST reports a negative log-likelihood of 89.78 nats from 200 importance
# samples (their figure, pythae's `examples/scripts/reproducibility`; the
# paper it reproduces gives 89.9), with a much larger latent space than 2.
#
# ## What this notebook showed

# %%
show_key_numbers(
    train_images=len(x_train), epochs=EPOCHS, eval_images=len(x_eval), k=K,
    **{f"elbo_type_{t}": scores[name]["elbo"].mean() for t, name in NAMES.items()},
    **{f"log_px_type_{t}": scores[name]["log_px"].mean() for t, name in NAMES.items()},
    elbo_spread=elbo_spread, log_px_spread=log_px_spread, elbo_seed_spread=seed_spread,
    **{f"log_px_k{k}": value for k, value in by_k.items()},
    sweep_facts=[float(f"{fact:.4g}") for fact in sweep],
    sweep_rates=[round(float(r), 3) for r in rates],
    sweep_distortions=[round(float(d), 3) for d in distortions],
    sweep_train_distortions=[round(float(d), 3) for d in train_distortions],
    ae_distortion=ae_distortion, ae_train_distortion=ae_train_distortion,
    perfect_decoder_distortion=floor.mean(),
    binary_elbo=binary_elbo, binary_log_px=binary_log_px,
    seconds_per_epoch=float(np.median(epoch_seconds)))

# %% [markdown]
# - `my_AE_code.evaluation` scores any of the series' VAEs in nats: distortion,
#   rate, ELBO and an importance-weighted `log p(x)`, from `mu`, `log_var`
#   and the Decoder, whatever strategy and convention trained it;
# - the four strategies, trained alike, score the same nats: they train one
#   model;
# - more importance samples raise the `log p(x)` estimate above the ELBO;
# - `fact` walks a rate-distortion curve: more `fact`, fewer nats of code;
#   past a moderate `fact`, more nats of distortion. On the quick run's small
#   training set the almost free codes (tiny `fact`, the Autoencoder)
#   generalise worse to test digits (the table and the curve above hold this
#   run's nats).
