"""The pictures of the series: reconstructions, latent scatters, manifolds, histograms, losses.

Every function returns a matplotlib Figure and never calls ``plt.show``. The
figure is closed in pyplot right away, so Jupyter shows it exactly once when
it is a cell's last expression (or when passed to ``display``), loops and
callbacks can make hundreds of figures without piling them up, and
``fig.savefig(...)`` writes it to a file. Functions that draw a single panel
also take ``ax=``, to draw into a panel of a figure of your own (they return
that panel's figure). Images may have 1 channel (MNIST, shown in grey) or 3
(CelebA, shown in colour).
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from my_AE_code.inference import decode, keras_part

#: Names and panel titles of the losses the models log (see kl_strategies).
LOSS_PANELS = (("loss", "total loss"), ("reco_loss", "reconstruction loss"),
               ("kl_loss", "KL loss"))


# --- helpers ------------------------------------------------------------------------------

def _figure(nrows=1, ncols=1, size_per_panel=(4.0, 3.5), **kwargs):
    """A figure with a grid of axes, detached from pyplot (see the module docstring)."""
    width, height = size_per_panel
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False, **kwargs)
    plt.close(fig)
    return fig, axes


def _panel(ax, size):
    """The axis to draw into: ``ax`` if given, else the single panel of a new figure."""
    if ax is not None:
        return ax
    _, axes = _figure(size_per_panel=size)
    return axes[0, 0]


def _show_image(ax, image):
    """Draw one image without ticks: grey for 1 channel, colour for 3."""
    image = np.clip(np.asarray(image, dtype="float32"), 0.0, 1.0)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])


def _image_grid(images, nrows, ncols, panel_size=1.3):
    """A figure with one axis per image; unused cells of the grid are removed."""
    fig, axes = _figure(nrows, ncols, size_per_panel=(panel_size, panel_size))
    flat = axes.ravel()
    for ax, image in zip(flat, images):
        _show_image(ax, image)
    for ax in flat[len(images):]:
        fig.delaxes(ax)
    return fig, axes


def _scatter(ax, points, labels, size=2, label_names=None):
    """Scatter the first two coordinates; colour by numeric label, with a colorbar.

    With ``label_names`` (the name of label 0, 1, ...) a legend names each
    colour instead: a colorbar would suggest an order the classes lack.
    """
    points = np.asarray(points)
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=size, alpha=0.6)
        return
    if label_names is not None:
        for label, name in enumerate(label_names):
            chosen = np.asarray(labels) == label
            ax.scatter(points[chosen, 0], points[chosen, 1], s=size, alpha=0.7,
                       color=f"C{label}", label=name)
        ax.legend(markerscale=4, fontsize=8)
        return
    labels = np.asarray(labels)
    if labels.dtype == bool:
        labels = labels.astype(int)
    n_classes = len(np.unique(labels))
    cmap = "tab10" if n_classes <= 10 else "viridis"
    paths = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=cmap, s=size, alpha=0.7)
    colorbar = ax.figure.colorbar(paths, ax=ax)
    colorbar.set_label("label")


# --- images -------------------------------------------------------------------------------

def plot_images(images, ncols=8, titles=None, suptitle=None, row_titles=None):
    """A grid of images; a 5-D array (rows, columns, H, W, C) keeps its rows and columns.

    ``titles`` holds one title per image, or one per column (shown on the
    first row), e.g. the factors of an attribute vector. ``row_titles`` labels
    the rows on the left (e.g. the epoch of each row).
    """
    images = np.asarray(images)
    if images.ndim == 5:
        ncols = images.shape[1]
        images = images.reshape(-1, *images.shape[2:])
    ncols = min(ncols, len(images))
    nrows = math.ceil(len(images) / ncols)
    fig, axes = _image_grid(images, nrows, ncols)
    if titles is not None:
        for ax, title in zip(axes.ravel(), titles):
            ax.set_title(str(title), fontsize=8)
    if row_titles is not None:
        _label_rows(fig, axes, row_titles)
    if suptitle:
        _title_above(fig, suptitle)
    return fig


def _title_above(fig, title, headroom=0.45):
    """A figure title in a strip of its own (``headroom`` inches), clear of the images."""
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, height + headroom)
    fig.subplots_adjust(top=(height - 0.05) / (height + headroom))
    fig.suptitle(title, y=1 - 0.5 * headroom / (height + headroom), va="center")


def _label_rows(fig, axes, row_titles):
    """Titles left of the rows, in a column of their own so they never cover an image."""
    label_width = 0.075 * max(len(str(title)) for title in row_titles)
    width, height = fig.get_size_inches()
    fig.set_size_inches(width + label_width, height)
    fig.subplots_adjust(left=label_width / (width + label_width), right=0.99, wspace=0.05)
    for ax_row, title in zip(axes, row_titles):
        ax_row[0].set_ylabel(str(title), fontsize=9, rotation=0, ha="right", va="center")


def plot_reconstructions(originals, reconstructions, n=10,
                         row_titles=("original", "reconstruction")):
    """Originals in the first row, their reconstructions below (more rows if given more arrays).

    ``reconstructions`` may be one array or a list of arrays (e.g. AE and
    VAE), each becoming a row, titled by ``row_titles``.
    """
    if isinstance(reconstructions, (list, tuple)):
        rows = [originals, *reconstructions]
    else:
        rows = [originals, reconstructions]
    n = min(n, *(len(row) for row in rows))
    fig, axes = _image_grid([image for row in rows for image in row[:n]], len(rows), n)
    _label_rows(fig, axes, row_titles[:len(rows)])
    return fig


def plot_generated(decoder, z_dim, n=16, seed=0, scale=1.0, ncols=8):
    """Images decoded from random z ~ N(0, scale^2 I): can the Decoder create new images?

    ``decoder`` is a Decoder model or the whole VAE/AE object.
    """
    z = np.random.default_rng(seed).normal(0.0, scale, size=(n, z_dim))
    return plot_images(decode(decoder, z), ncols=ncols,
                       suptitle=f"decoded from random z ~ N(0, {scale:g}²·I)")


# --- the latent space ---------------------------------------------------------------------

def plot_latent_scatter(z, labels, title=None, ax=None):
    """The first two latent coordinates of every point, coloured by label (e.g. digit)."""
    ax = _panel(ax, (6.5, 5.5))
    _scatter(ax, z, labels)
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title or "latent space")
    return ax.figure


def grid_values(n, extent=3.0, spacing="linear"):
    """n coordinates from -extent to extent: evenly spaced, or at evenly spaced N(0,1) quantiles.

    Normal-quantile spacing puts the grid where a VAE's points are dense (near
    0) and thins it out in the tails, where each step covers more probability.
    """
    if spacing == "linear":
        return np.linspace(-extent, extent, n)
    if spacing == "normal":
        from scipy.stats import norm
        return norm.ppf(np.linspace(norm.cdf(-extent), norm.cdf(extent), n))
    raise ValueError(f"spacing={spacing!r}: use 'linear' or 'normal'.")


def plot_latent_grid(decoder, n=15, extent=3.0, spacing="linear", center=None):
    """Decode an n x n grid over the first two latent dimensions and show it as one mosaic.

    The other dimensions stay at ``center`` (default: the origin), so this
    also works for z_dim > 2. Up in the mosaic is +z[1], right is +z[0].
    """
    z_dim = keras_part(decoder, "decoder").input_shape[-1]
    center = np.zeros(z_dim) if center is None else np.asarray(center, dtype="float64")
    values = grid_values(n, extent, spacing)
    z0, z1 = np.meshgrid(values, values[::-1])  # first row = largest z[1]
    z = np.tile(center, (n * n, 1))
    z[:, 0] += z0.ravel()
    z[:, 1] += z1.ravel()
    images = decode(decoder, z)
    height, width, channels = images.shape[1:]
    mosaic = images.reshape(n, n, height, width, channels).swapaxes(1, 2)
    mosaic = mosaic.reshape(n * height, n * width, channels)

    fig, axes = _figure(size_per_panel=(7.0, 7.0))
    ax = axes[0, 0]
    _show_image(ax, mosaic)
    ticks = np.arange(n)
    ax.set_xticks(ticks * width + width / 2, [f"{v:.2f}" for v in center[0] + values],
                  rotation=90, fontsize=7)
    ax.set_yticks(ticks * height + height / 2, [f"{v:.2f}" for v in center[1] + values[::-1]],
                  fontsize=7)
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title(f"decoded latent grid ({spacing} spacing)")
    return fig


def plot_tsne(embedding, labels=None, title=None, ax=None, label_names=None):
    """A 2-D t-SNE embedding (from `latent_stats.tsne_projection`), coloured by label
    (named in a legend when ``label_names`` are given)."""
    ax = _panel(ax, (6.5, 5.5))
    _scatter(ax, embedding, labels, label_names=label_names)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or "t-SNE projection of the latent points")
    return ax.figure


def plot_z_histograms(z, dims=None, bins=50, max_dims=16, ncols=4, name="z"):
    """One histogram per latent dimension with the N(0, 1) density on top.

    ``name`` labels the panels (``name[dim]``), e.g. "mu" for the Encoder's means.

    A VAE with a working KL loss fills each dimension like N(0, 1); an AE (or a
    tiny KL loss) gives narrow, shifted or lumpy histograms.
    """
    z = np.asarray(z)
    dims = list(range(min(z.shape[1], max_dims))) if dims is None else list(dims)[:max_dims]
    ncols = min(ncols, len(dims))
    nrows = math.ceil(len(dims) / ncols)
    fig, axes = _figure(nrows, ncols, size_per_panel=(3.0, 2.4))
    grid = np.linspace(-4, 4, 200)
    normal = np.exp(-0.5 * grid ** 2) / np.sqrt(2 * np.pi)
    flat = axes.ravel()
    for ax, dim in zip(flat, dims):
        ax.hist(z[:, dim], bins=bins, density=True, alpha=0.6)
        ax.plot(grid, normal, color="black", linewidth=1, label="N(0, 1)")
        ax.set_title(f"{name}[{dim}]", fontsize=9)
    for ax in flat[len(dims):]:
        fig.delaxes(ax)
    flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_radius_distributions(radii_by_name, bins=50, density=False, ax=None):
    """Overlaid histograms of the radii |z| of several models (e.g. AE vs tiny-KL VAE vs VAE).

    All histograms share the same bin edges, so their shapes compare directly;
    ``bins`` is a count or the edges themselves (post XIII: 0.5 wide).
    """
    arrays = {name: np.asarray(r) for name, r in radii_by_name.items()}
    edges = np.histogram_bin_edges(np.concatenate(list(arrays.values())), bins=bins)
    ax = _panel(ax, (7.0, 4.5))
    for name, values in arrays.items():
        ax.hist(values, bins=edges, histtype="step", linewidth=1.5, density=density, label=name)
    ax.set_xlabel("radius |z|")
    ax.set_ylabel("density" if density else "number of points")
    ax.legend()
    return ax.figure


# --- training -----------------------------------------------------------------------------

def _as_history_dict(history):
    """A keras History or its ``.history`` dict -> the dict of per-epoch lists."""
    return getattr(history, "history", history)


def _is_single_history(history):
    """True for one History (or dict of lists), False for a {name: history} collection."""
    history = _as_history_dict(history)
    return all(np.ndim(values) == 1 for values in history.values())


def plot_loss_curves(history, title=None, logy=False):
    """Total, reconstruction and KL loss per epoch: one panel for each that was logged.

    ``history`` is a keras History, its ``.history`` dict, or a dict
    {name: history} whose runs are overlaid for comparison. Validation losses
    (``val_...``) are drawn dashed in the same panel; one legend beside the
    panels names the lines.
    """
    runs = {None: history} if _is_single_history(history) else history
    runs = {name: _as_history_dict(h) for name, h in runs.items()}
    panels = [(key, label) for key, label in LOSS_PANELS
              if any(key in h for h in runs.values())]
    if not panels:
        raise ValueError("The history holds none of loss, reco_loss, kl_loss.")
    fig, axes = _figure(1, len(panels), size_per_panel=(4.5, 3.5))
    for ax, (key, label) in zip(axes[0], panels):
        for index, (name, h) in enumerate(runs.items()):
            color = f"C{index}"
            for prefix, style in (("", "-"), ("val_", "--")):
                if prefix + key in h:
                    values = h[prefix + key]
                    run = name or ""
                    legend = f"{run} {'validation' if prefix else 'training'}".strip()
                    ax.plot(np.arange(1, len(values) + 1), values, style, color=color,
                            label=legend)
        ax.set_title(label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if logy:
            ax.set_yscale("log")
    if title:
        fig.suptitle(title)
    _legend_beside(fig, axes[0])
    return fig


def _legend_beside(fig, axes):
    """One legend for all panels, right of the last: inside a panel it would cover curves.

    Panels may show different runs (an AE logs no KL loss): every label is listed once.
    A single line needs no legend.
    """
    entries = {}
    for ax in axes:
        for line in ax.lines:
            entries.setdefault(line.get_label(), line)
    fig.tight_layout()
    if len(entries) > 1:
        fig.legend(list(entries.values()), list(entries), loc="center left", fontsize=8,
                   bbox_to_anchor=(1.0, 0.5), frameon=False)
