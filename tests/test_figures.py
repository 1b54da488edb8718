"""Each figure function returns a Figure with the expected panels, for MNIST and CelebA shapes."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import norm  # noqa: E402

from helpers import images  # noqa: E402
from my_AE_code import figures  # noqa: E402
from my_AE_code.inference import decode  # noqa: E402

SHAPES = [(28, 28, 1), (96, 96, 3)]


def tiny_decoder(shape, z_dim=2):
    """z -> image with a sigmoid, enough to check what the figures decode and where."""
    return keras.Sequential([keras.Input((z_dim,)), keras.layers.Dense(int(np.prod(shape))),
                             keras.layers.Reshape(shape), keras.layers.Activation("sigmoid")])


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def shown(ax):
    """The image drawn in an axis, with the channel axis back for grey images."""
    array = np.asarray(ax.images[0].get_array())
    return array[..., None] if array.ndim == 2 else array


@pytest.fixture(autouse=True)
def no_figure_left_in_pyplot():
    yield
    assert plt.get_fignums() == []


@pytest.mark.parametrize("shape", SHAPES)
def test_reconstructions_two_rows(shape):
    originals, reconstructions = images(6, shape), images(6, shape, seed=1)
    fig = figures.plot_reconstructions(originals, reconstructions, n=4)
    axes = image_axes(fig)
    assert len(axes) == 8
    np.testing.assert_allclose(shown(axes[0]), originals[0])
    np.testing.assert_allclose(shown(axes[4]), reconstructions[0])
    assert axes[0].get_ylabel() == "original" and axes[4].get_ylabel() == "reconstruction"


def test_reconstructions_of_several_models_get_a_row_each():
    shape = (28, 28, 1)
    fig = figures.plot_reconstructions(images(3, shape), [images(3, shape)] * 2,
                                       row_titles=("original", "AE", "VAE"))
    assert len(image_axes(fig)) == 9
    assert [ax.get_ylabel() for ax in image_axes(fig)[::3]] == ["original", "AE", "VAE"]


@pytest.mark.parametrize("shape", SHAPES)
def test_images_grid_and_rows_of_a_5d_array(shape):
    fig = figures.plot_images(images(5, shape), ncols=4, titles=list("abcde"), suptitle="s")
    assert len(fig.axes) == 5  # the unused sixth cell is removed
    assert [ax.get_title() for ax in fig.axes] == list("abcde")
    rows = images(6, shape).reshape(2, 3, *shape)
    fig = figures.plot_images(rows, titles=["+0", "+1", "+2"])
    geometry = [ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes]
    assert len(fig.axes) == 6 and set(geometry) == {(2, 3)}
    assert [ax.get_title() for ax in fig.axes] == ["+0", "+1", "+2", "", "", ""]


def test_latent_scatter_coloured_by_label():
    z = np.random.default_rng(0).normal(size=(50, 3))
    labels = np.arange(50) % 10
    fig = figures.plot_latent_scatter(z, labels, title="digits")
    assert len(fig.axes) == 2  # the scatter and its colorbar
    points = fig.axes[0].collections[0]
    np.testing.assert_allclose(points.get_offsets(), z[:, :2])
    np.testing.assert_array_equal(points.get_array(), labels)
    assert fig.axes[0].get_title() == "digits"


def test_grid_values():
    np.testing.assert_allclose(figures.grid_values(5, 2.0, "linear"), [-2, -1, 0, 1, 2])
    values = figures.grid_values(7, 2.0, "normal")
    np.testing.assert_allclose(values[[0, -1]], [-2, 2])
    np.testing.assert_allclose(norm.cdf(values), np.linspace(norm.cdf(-2), norm.cdf(2), 7))
    steps = np.diff(values)
    assert steps[3] < steps[0]  # denser near the origin
    with pytest.raises(ValueError, match="spacing"):
        figures.grid_values(3, 1.0, "log")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("spacing", ["linear", "normal"])
def test_latent_grid_places_decoded_points(shape, spacing):
    decoder = tiny_decoder(shape, z_dim=3)
    center = np.array([0.5, -0.5, 1.0])
    n, extent = 4, 2.0
    fig = figures.plot_latent_grid(decoder, n=n, extent=extent, spacing=spacing, center=center)
    assert len(fig.axes) == 1
    mosaic = shown(fig.axes[0])
    height, width = shape[:2]
    assert mosaic.shape == (n * height, n * width, shape[2])
    values = figures.grid_values(n, extent, spacing)
    # top left: smallest z[0], largest z[1]; the third dimension stays at the centre
    top_left = decode(decoder, center + [values[0], values[-1], 0.0])[0]
    np.testing.assert_allclose(mosaic[:height, :width], top_left, atol=1e-5)
    bottom_right = decode(decoder, center + [values[-1], values[0], 0.0])[0]
    np.testing.assert_allclose(mosaic[-height:, -width:], bottom_right, atol=1e-5)
    # Each panel's tick sits at its middle and reads its z, with the centre added.
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.get_xticks(), np.arange(n) * width + width / 2)
    np.testing.assert_allclose(ax.get_yticks(), np.arange(n) * height + height / 2)
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{v:.2f}" for v in 0.5 + values]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{v:.2f}"
                                                            for v in -0.5 + values[::-1]]


def test_tsne_plot_with_and_without_labels():
    embedding = np.random.default_rng(0).normal(size=(30, 2))
    assert len(figures.plot_tsne(embedding, np.arange(30) % 3).axes) == 2
    fig = figures.plot_tsne(embedding, title="t")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "t"
    np.testing.assert_allclose(fig.axes[0].collections[0].get_offsets(), embedding)


def test_tsne_plot_names_its_classes_in_a_legend():
    embedding = np.random.default_rng(0).normal(size=(30, 2))
    labels = np.arange(30) % 3
    fig = figures.plot_tsne(embedding, labels, label_names=["black", "brown", "none"])
    (ax,) = fig.axes  # a legend, no colorbar
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["black", "brown", "none"]
    for label, points in enumerate(ax.collections):
        np.testing.assert_allclose(points.get_offsets(), embedding[labels == label])


def test_z_histograms_one_panel_per_dimension_with_the_normal_density():
    z = np.random.default_rng(0).normal(size=(400, 20))
    fig = figures.plot_z_histograms(z, bins=20)
    assert len(fig.axes) == 16  # max_dims
    fig = figures.plot_z_histograms(z, dims=[0, 5, 7], bins=20)
    assert [ax.get_title() for ax in fig.axes] == ["z[0]", "z[5]", "z[7]"]
    named = figures.plot_z_histograms(z, dims=[2], name="mu")
    assert [ax.get_title() for ax in named.axes] == ["mu[2]"]
    for ax in fig.axes:
        assert len(ax.patches) == 20
        density = ax.lines[0].get_ydata()
        np.testing.assert_allclose(density.max(), 1 / np.sqrt(2 * np.pi), rtol=1e-3)


@pytest.mark.parametrize("shape", SHAPES)
def test_generated_images_come_from_random_z(shape):
    decoder = tiny_decoder(shape, z_dim=4)
    fig = figures.plot_generated(decoder, z_dim=4, n=6, seed=3, scale=2.0)
    assert len(image_axes(fig)) == 6
    z = np.random.default_rng(3).normal(0.0, 2.0, size=(6, 4))
    np.testing.assert_allclose(shown(image_axes(fig)[5]), decode(decoder, z)[5], atol=1e-5)


def test_loss_curves_panels_follow_the_logged_losses():
    vae_history = {"loss": [3.0, 2.0, 1.5], "reco_loss": [2.5, 1.8, 1.4],
                   "kl_loss": [0.5, 0.2, 0.1], "val_loss": [3.1, 2.2, 1.7]}
    fig = figures.plot_loss_curves(vae_history, title="VAE")
    assert [ax.get_title() for ax in fig.axes] == ["total loss", "reconstruction loss", "KL loss"]
    total = fig.axes[0].lines
    assert len(total) == 2  # training and validation
    np.testing.assert_allclose(total[1].get_ydata(), vae_history["val_loss"])
    np.testing.assert_allclose(total[0].get_xdata(), [1, 2, 3])

    history = keras.callbacks.History()
    history.history = {"loss": [0.3, 0.2]}
    fig = figures.plot_loss_curves(history)
    assert len(fig.axes) == 1  # an AE logs only the total loss
    assert fig.legends == []  # one line: nothing to tell apart
    (legend,) = figures.plot_loss_curves(vae_history).legends
    assert [text.get_text() for text in legend.get_texts()] == ["training", "validation"]


def test_loss_curves_of_a_history_without_losses_is_an_error():
    with pytest.raises(ValueError, match="The history holds none of loss, reco_loss, kl_loss"):
        figures.plot_loss_curves({"accuracy": [0.5, 0.6]})


def test_loss_curves_overlay_several_runs():
    runs = {"strategy 0": {"loss": [2.0, 1.0], "kl_loss": [0.1, 0.2]},
            "AE": {"loss": [1.5, 0.9]}}
    fig = figures.plot_loss_curves(runs)
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["strategy 0 training",
                                                                 "AE training"]
    assert len(fig.axes[1].lines) == 1
    # one legend for the figure, beside the panels, each run named once
    (legend,) = fig.legends
    assert [text.get_text() for text in legend.get_texts()] == ["strategy 0 training",
                                                                 "AE training"]
    assert all(ax.get_legend() is None for ax in fig.axes)


def test_radius_distributions_overlay_with_shared_bins():
    rng = np.random.default_rng(0)
    radii = {"AE": rng.uniform(0, 10, 300), "VAE": rng.normal(4, 0.5, 300)}
    fig = figures.plot_radius_distributions(radii, bins=15)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and len(ax.patches) == 2
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["AE", "VAE"]
    edges = np.histogram_bin_edges(np.concatenate(list(radii.values())), bins=15)
    for patch, values in zip(ax.patches, radii.values()):
        heights = patch.get_xy()[1:-1:2, 1]  # the step outline: two vertices per bin
        np.testing.assert_allclose(heights, np.histogram(values, bins=edges)[0])
