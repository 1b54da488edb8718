"""Numbers about the latent space: where the Encoder puts images, and how tightly.

Post XIII asks whether a VAE with a tiny KL loss behaves like a plain AE. The
answer is measured here: radii of the z-points, how clustered they are
(MiniBatchKMeans inertia), how small the variances (log_var) became, and how
far the sampled z still strays from mu.

Everything is vectorised numpy over the latent points, which
`my_AE_code.inference.encode` gets from the images batch by batch.
"""

from dataclasses import dataclass

import numpy as np

#: log_var thresholds of `logvar_stats`: sigma = exp(log_var / 2) is about
#: 0.08, 0.37, 0.61 and 1.0 there. A VAE with a tiny KL loss pushes almost all
#: log_var far below -5; a VAE with a real KL loss keeps many near 0.
LOGVAR_THRESHOLDS = (-5.0, -2.0, -1.0, 0.0)


# --- radii and clusters -------------------------------------------------------------------

def radii(points):
    """Euclidean (L2) distance of every point from the origin."""
    return np.linalg.norm(np.asarray(points, dtype="float64"), axis=1)


def radius_counts(radii, bins=50):
    """How many points fall into each radius bin: (counts, bin_edges), as np.histogram."""
    return np.histogram(radii, bins=bins)


def kmeans_inertia(points, cluster_counts, seed=0, batch_size=4096):
    """MiniBatchKMeans inertia for each number of clusters (the "elbow" curve of post XIII).

    Inertia is the sum of squared distances of the points to their nearest
    cluster centre. A curve that keeps falling steeply means the points form
    many separate clusters, as an AE's latent space does.
    """
    from sklearn.cluster import MiniBatchKMeans

    points = np.asarray(points, dtype="float64")
    inertias = []
    for n_clusters in cluster_counts:
        kmeans = MiniBatchKMeans(n_clusters=n_clusters, random_state=seed, batch_size=batch_size,
                                 n_init=3)
        inertias.append(kmeans.fit(points).inertia_)
    return np.array(inertias)


# --- log_var and the spread of z around mu ------------------------------------------------

def logvar_stats(log_var, thresholds=LOGVAR_THRESHOLDS):
    """min, max, mean of all log_var values, and how many lie above each threshold.

    ``counts_above`` maps each threshold to a count over all values (points x
    dimensions); ``fraction_above`` gives the same as fractions, so runs of
    different sizes compare directly.
    """
    log_var = np.asarray(log_var, dtype="float64")
    thresholds = np.asarray(thresholds, dtype="float64")
    counts = (log_var.reshape(-1, 1) > thresholds).sum(axis=0)
    return {
        "min": float(log_var.min()),
        "max": float(log_var.max()),
        "mean": float(log_var.mean()),
        "counts_above": {float(t): int(c) for t, c in zip(thresholds, counts)},
        "fraction_above": {float(t): c / log_var.size for t, c in zip(thresholds, counts)},
    }


@dataclass
class ZMuDeviations:
    """How far the sampled z lie from mu, per latent dimension and per radius of mu.

    Per dimension j: ``abs_per_dim[j]`` = mean |z_j - mu_j| over the points and
    ``rel_per_dim[j]`` = that divided by mean |mu_j| (a ratio of means, since
    |z_j - mu_j| / |mu_j| per point explodes wherever mu_j crosses zero).

    Per radius bin of |mu|: ``abs_per_bin`` = mean |z - mu| and
    ``rel_per_bin`` = mean |z - mu| / |mu| of the points in the bin (NaN in
    empty bins); ``counts`` says how many points each bin holds.
    """

    abs_per_dim: np.ndarray
    rel_per_dim: np.ndarray
    bin_edges: np.ndarray
    counts: np.ndarray
    abs_per_bin: np.ndarray
    rel_per_bin: np.ndarray


def z_mu_deviations(z, mu, radius_bins=10):
    """Compare z with mu; ``radius_bins`` is a bin count or the edges for the radii of mu.

    Small relative deviations mean the sampling hardly moves z away from mu:
    the VAE then behaves like an AE (post XIII).
    """
    z = np.asarray(z, dtype="float64")
    mu = np.asarray(mu, dtype="float64")
    if z.shape != mu.shape:
        raise ValueError(f"z has shape {z.shape} but mu has {mu.shape}; they must match.")
    abs_per_dim = np.abs(z - mu).mean(axis=0)
    mu_radius = radii(mu)
    distance = radii(z - mu)
    with np.errstate(divide="ignore", invalid="ignore"):  # mu = 0 gives inf or NaN, not an error
        rel_per_dim = abs_per_dim / np.abs(mu).mean(axis=0)
        relative = distance / mu_radius
    edges = np.histogram_bin_edges(mu_radius, bins=radius_bins)
    n_bins = len(edges) - 1
    # Bin of every point: edges[i] <= r < edges[i + 1], the last bin closed, as np.histogram.
    inside = (mu_radius >= edges[0]) & (mu_radius <= edges[-1])
    index = np.clip(np.searchsorted(edges, mu_radius[inside], side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_per_bin = np.bincount(index, weights=distance[inside], minlength=n_bins) / counts
        rel_per_bin = np.bincount(index, weights=relative[inside], minlength=n_bins) / counts
    return ZMuDeviations(abs_per_dim, rel_per_dim, edges, counts, abs_per_bin, rel_per_bin)


# --- projection ----------------------------------------------------------------------------

def tsne_projection(points, n_max=5000, seed=0, perplexity=30.0, early_exaggeration=12.0):
    """2-D t-SNE embedding of at most ``n_max`` randomly chosen points: (embedding, indices).

    ``perplexity`` and ``early_exaggeration`` are sklearn's (its defaults: 30
    and 12; post XIII also uses 10 and 16). t-SNE costs O(n log n) per
    iteration and far more memory than the points themselves, so large sets
    are subsampled; ``indices`` picks the matching labels (``labels[indices]``).
    """
    from sklearn.manifold import TSNE

    points = np.asarray(points, dtype="float64")
    rng = np.random.default_rng(seed)
    if len(points) > n_max:
        indices = np.sort(rng.choice(len(points), size=n_max, replace=False))
    else:
        indices = np.arange(len(points))
    perplexity = min(perplexity, (len(indices) - 1) / 3)  # sklearn needs perplexity < n
    tsne = TSNE(n_components=2, perplexity=perplexity, early_exaggeration=early_exaggeration,
                random_state=seed, init="pca")
    return tsne.fit_transform(points[indices]), indices
