"""The CelebA VAE of the posts: notebook 10 trains and saves it, notebooks 11-14 load it.

Any notebook can be opened first: without notebook 10's saved model,
`load_or_train` trains one on the spot and says so.
"""

from pathlib import Path

from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.layouts import CELEBA_LAYOUT
from my_AE_code.models.saving import PARAMS_FILE

#: Where notebook 10 saves its model, inside the results folder.
NOTEBOOK_10_MODEL = "10_celeba_vae"
LEARNING_RATE = 0.0005


def posts_celeba_vae(seed=None, dtype_policy=None, distribute=None):
    """Post X's VAE: conv 32/64/128/256 (kernel 3, stride 2), z_dim 256, batch norm,
    solution_type 3 with fact 5; ``dtype_policy`` and ``distribute`` as the
    notebooks' MIXED_PRECISION and DISTRIBUTE switches choose them."""
    return MyVariationalAutoencoder(**CELEBA_LAYOUT, use_batch_norm=True, solution_type=3,
                                    fact=5.0, seed=seed, dtype_policy=dtype_policy,
                                    distribute=distribute)


def load_or_train(results_dir, train, epochs, seed=None, verbose=2, dtype_policy=None,
                  distribute=None):
    """Notebook 10's saved VAE if ``results_dir`` holds one (under ``distribute``; its
    saved policy), else `posts_celeba_vae` trained on ``train`` (batches of faces) for
    ``epochs``."""
    folder = Path(results_dir) / NOTEBOOK_10_MODEL
    if (folder / PARAMS_FILE).exists():
        print(f"loaded notebook 10's model from {folder}")
        return MyVariationalAutoencoder.load(folder, distribute=distribute)
    print(f"no model from notebook 10 in {folder}: training the post's VAE here for {epochs} "
          f"epochs (run notebook 10 to keep one for notebooks 11-14)")
    vae = posts_celeba_vae(seed, dtype_policy, distribute)
    vae.compile_myVAE(LEARNING_RATE)
    vae.train_myVAE(train, batch_size=None, epochs=epochs, verbose=verbose)
    return vae
