"""What several test modules need, written once: paths, tiny models, images, source folders.

Plain functions and constants. TensorFlow and Keras (and the models, which import
them) are imported inside the functions only: the test modules that mutation
testing runs must not run TensorFlow when they are imported
(tests/test_mutation_setup.py), and the tests of preparing images need neither.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

#: The repository's root: the working directory of the commands the tests run.
ROOT = Path(__file__).resolve().parents[1]

#: The input shape of ``TINY_LAYOUT`` (my_AE_code/models/layouts.py), spelled out so that
#: this module imports no model code; ``tiny_vae`` checks that the two agree.
TINY_SHAPE = (8, 8, 2)


#: MNIST's images and z_dim with a fraction of post VI's filters (8/16 instead of
#: 32/64/128) and two stride-2 convolutions each way: what a test of training, saving or
#: resuming needs of the MNIST layout (its shapes) at a tenth of its cost. The posts' own
#: layout is built and counted in test_models_structure.py and trained by the notebooks.
SMALL_MNIST_LAYOUT = dict(
    input_dim=(28, 28, 1),
    encoder_conv_filters=[8, 16], encoder_conv_kernel_size=[3, 3], encoder_conv_strides=[2, 2],
    decoder_conv_t_filters=[8, 1], decoder_conv_t_kernel_size=[3, 3],
    decoder_conv_t_strides=[2, 2],
    z_dim=2,
)


def images(n=8, shape=TINY_SHAPE, seed=0):
    """``n`` images of ``shape`` with uniform values in [0, 1): the same for the same seed."""
    return np.random.default_rng(seed).uniform(size=(n, *shape)).astype("float32")


def tiny_vae(seed=0, learning_rate=0.01, solution_type=3, **changes):
    """A VAE in ``TINY_LAYOUT`` (with ``changes``), compiled unless ``learning_rate`` is None."""
    from my_AE_code.models import MyVariationalAutoencoder
    from my_AE_code.models.layouts import TINY_LAYOUT

    assert tuple(TINY_LAYOUT["input_dim"]) == TINY_SHAPE
    vae = MyVariationalAutoencoder(**{**TINY_LAYOUT, **changes}, solution_type=solution_type,
                                   seed=seed)
    if learning_rate is not None:
        vae.compile_myVAE(learning_rate=learning_rate)
    return vae


def compiled_vae(solution_type=3, seed=0):
    """The same MNIST-shaped VAE every time: the global seed fixes weights and sampling."""
    import keras

    from my_AE_code.models import MyVariationalAutoencoder

    keras.utils.set_random_seed(seed)
    vae = MyVariationalAutoencoder(**SMALL_MNIST_LAYOUT, solution_type=solution_type)
    vae.compile_myVAE(learning_rate=0.001)
    return vae


def default_facts():
    """Each strategy's ``fact`` when none is given, as the package defines it."""
    from my_AE_code.models.kl_strategies import STRATEGIES

    return {solution_type: strategy.default_fact for solution_type, strategy in STRATEGIES.items()}


def prepare_cli(*args, timeout=300):
    """``python -m my_AE_code.celeba.prepare ARGS`` from the repository's root, output captured."""
    return subprocess.run([sys.executable, "-m", "my_AE_code.celeba.prepare", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def write_jpegs(folder, colours, size=(178, 218), first=1, **save):
    """One flat-coloured JPEG per colour, named 000001.jpg, ... (from ``first``), in ``folder``.

    ``size`` is (width, height): CelebA's aligned photographs by default. ``save`` goes to
    PIL's save (quality, ...). Returns the folder, made if missing.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for index, colour in enumerate(colours):
        Image.new("RGB", size, tuple(colour)).save(folder / f"{first + index:06d}.jpg", **save)
    return folder


#: The error that names a damaged prepared JPEG, and where to look for others.
DAMAGED_JPEG_NAMED = r"Not a complete JPEG file:.*000007.jpg(.|\n)*verify_prepared\(folder\) lists"


def truncate(path, keep=200):
    """Cut a file to its first ``keep`` bytes, as an interrupted copy leaves it."""
    path.write_bytes(path.read_bytes()[:keep])


def flip_bytes(path, start_fraction=0.5, n=64):
    """Invert ``n`` bytes from ``start_fraction`` into the file: damage a checksum notices."""
    data = bytearray(path.read_bytes())
    start = int(len(data) * start_fraction)
    data[start:start + n] = bytes(b ^ 0xFF for b in data[start:start + n])
    path.write_bytes(bytes(data))


def weights_file(folder):
    """The weights file that a saved folder's params.json names."""
    from my_AE_code.models import saving

    return Path(folder) / saving.read_params(folder)["weights_file"]


#: The errors each notebook's raises-exception cells demonstrate, in order:
#: (error type, a phrase its message must contain).
EXPECTED_ERRORS = {
    "03_kl_loss_problems": [
        ("ValueError", "`add_loss()` can only be called from inside `build()` or `call()`, "
                       "on a tensor input"),
        ("TypeError", "You are passing KerasTensor"),
    ],
    "04_rules_and_remedy": [("NotImplementedError", "`add_metric()` method is deprecated")],
    # Keras 3's Functional.add_loss is a bare ``raise NotImplementedError`` under the comment
    # "# Symbolic only. TODO" (keras/src/models/functional.py): the message is empty, and
    # "" below asks for exactly that (tests/test_keras_facts.py checks the Keras source).
    "07_model_add_loss": [("NotImplementedError", "")],
}
