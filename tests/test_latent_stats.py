"""Each statistic equals a direct numpy computation."""

import numpy as np

from my_AE_code import latent_stats


def test_radii_and_their_counts():
    points = np.random.default_rng(0).normal(size=(500, 7))
    r = latent_stats.radii(points)
    np.testing.assert_allclose(r, np.sqrt((points ** 2).sum(axis=1)))
    counts, edges = latent_stats.radius_counts(r, bins=12)
    assert counts.sum() == 500 and len(edges) == 13
    inner = [(r >= lo) & (r < hi) for lo, hi in zip(edges[:-2], edges[1:-1])]
    np.testing.assert_array_equal(counts[:-1], [mask.sum() for mask in inner])


def test_kmeans_inertia_matches_the_planted_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0], [20, 0, 0], [0, 20, 0], [0, 0, 20]], dtype=float)
    labels = np.repeat(np.arange(4), 150)
    points = centres[labels] + rng.normal(size=(600, 3))
    inertias = latent_stats.kmeans_inertia(points, [1, 2, 4], seed=0, batch_size=256)
    one_cluster = ((points - points.mean(axis=0)) ** 2).sum()
    means = np.array([points[labels == k].mean(axis=0) for k in range(4)])
    four_clusters = ((points - means[labels]) ** 2).sum()
    np.testing.assert_allclose(inertias[0], one_cluster, rtol=0.02)
    np.testing.assert_allclose(inertias[2], four_clusters, rtol=0.02)
    assert inertias[0] > inertias[1] > inertias[2]


def test_logvar_stats():
    log_var = np.random.default_rng(1).normal(-2.0, 2.0, size=(300, 8))
    stats = latent_stats.logvar_stats(log_var, thresholds=(-3.0, 0.0))
    assert stats["min"] == log_var.min() and stats["max"] == log_var.max()
    np.testing.assert_allclose(stats["mean"], log_var.mean())
    assert stats["counts_above"] == {-3.0: (log_var > -3).sum(), 0.0: (log_var > 0).sum()}
    np.testing.assert_allclose(stats["fraction_above"][0.0], (log_var > 0).mean())


def test_z_mu_deviations():
    rng = np.random.default_rng(2)
    mu = rng.normal(size=(400, 5)) * np.arange(1, 6)
    z = mu + rng.normal(scale=0.1, size=mu.shape)
    edges = np.array([0.5, 2.0, 4.0, 6.0])  # some points lie outside, as in np.histogram
    dev = latent_stats.z_mu_deviations(z, mu, radius_bins=edges)

    np.testing.assert_allclose(dev.abs_per_dim, np.abs(z - mu).mean(axis=0))
    np.testing.assert_allclose(dev.rel_per_dim,
                               np.abs(z - mu).mean(axis=0) / np.abs(mu).mean(axis=0))
    radius = np.sqrt((mu ** 2).sum(axis=1))
    distance = np.sqrt(((z - mu) ** 2).sum(axis=1))
    np.testing.assert_array_equal(dev.counts, np.histogram(radius, bins=edges)[0])
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        inside = (radius >= lo) & ((radius < hi) if i < len(edges) - 2 else (radius <= hi))
        np.testing.assert_allclose(dev.abs_per_bin[i], distance[inside].mean())
        np.testing.assert_allclose(dev.rel_per_bin[i], (distance[inside] / radius[inside]).mean())


def test_z_mu_deviations_leaves_empty_bins_nan():
    mu = np.array([[1.0, 0.0], [3.0, 0.0]])
    dev = latent_stats.z_mu_deviations(mu + 0.1, mu, radius_bins=[0.0, 2.0, 2.5, 4.0])
    np.testing.assert_array_equal(dev.counts, [1, 0, 1])
    assert np.isnan(dev.abs_per_bin[1]) and np.isnan(dev.rel_per_bin[1])


def test_tsne_subsamples_and_keeps_clusters_apart():
    rng = np.random.default_rng(3)
    points = np.concatenate([rng.normal(size=(60, 10)), rng.normal(size=(60, 10)) + 12.0])
    embedding, indices = latent_stats.tsne_projection(points, n_max=80, seed=0, perplexity=15)
    assert embedding.shape == (80, 2)
    assert len(np.unique(indices)) == 80 and indices.max() < 120
    second = indices >= 60
    gap = np.linalg.norm(embedding[second].mean(axis=0) - embedding[~second].mean(axis=0))
    spread = max(embedding[second].std(axis=0).max(), embedding[~second].std(axis=0).max())
    assert gap > 3 * spread
