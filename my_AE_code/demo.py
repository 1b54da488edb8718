"""The main job until the notebooks exist: train each KL strategy briefly, plot reconstructions.

Run with ``make run`` (quick mode) or ``python -m my_AE_code.demo``; writes
``results/demo_reconstructions.png`` and prints each strategy's losses.
"""

import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from my_AE_code.notebook_setup import setup_notebook  # noqa: E402



def main():
    setup = setup_notebook(seed=42)
    from my_AE_code.mnist import load_mnist
    from my_AE_code.models import MyVariationalAutoencoder
    from my_AE_code.models.layouts import MNIST_LAYOUT
    from my_AE_code.models.losses import equivalent_fact

    mnist = load_mnist(setup.data_dir)
    n_train = setup.pick(full=len(mnist.x_train), quick=2000)
    epochs = setup.pick(full=5, quick=1)
    x_train, x_test = mnist.x_train[:n_train], mnist.x_test[:8]
    print(f"MNIST from {mnist.source}: training on {n_train} images for {epochs} epoch(s)")

    rows = [("original", x_test)]
    for solution_type in range(4):
        fact = 1e-3 if solution_type < 3 else equivalent_fact(1e-3, n_pixels=784, z_dim=2)
        vae = MyVariationalAutoencoder(**MNIST_LAYOUT, solution_type=solution_type, fact=fact)
        vae.compile_myVAE(learning_rate=0.0005)
        start = time.perf_counter()
        history = vae.train_myVAE(x_train, batch_size=128, epochs=epochs, verbose=0).history
        seconds = time.perf_counter() - start
        losses = ", ".join(f"{k} {v[-1]:.4g}" for k, v in sorted(history.items()))
        print(f"solution_type {solution_type}: {seconds:.1f} s; {losses}")
        vae.set_enc_to_predict()
        z, _, _ = vae.encoder.predict(x_test, verbose=0)
        rows.append((f"solution_type {solution_type}", vae.decoder.predict(z, verbose=0)))

    fig, axes = plt.subplots(len(rows), len(x_test), figsize=(len(x_test), len(rows) * 1.1))
    for (title, images), row in zip(rows, axes):
        row[0].set_title(title, loc="left", fontsize=9)
        for image, ax in zip(images, row):
            ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
            ax.axis("off")
    fig.tight_layout()
    out = setup.results_dir / "demo_reconstructions.png"
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
