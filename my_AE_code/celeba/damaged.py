"""A damaged JPEG named, with how to repair it, instead of TensorFlow's bare decoding error.

Only the CelebA pipeline decodes JPEGs, so the advice (`verify_prepared`,
then prepare again) is about its folders. The error surfaces wherever its
datasets are read: when a cache is filled (`pipeline`), when the models peek
at the first batch, and mid-epoch inside ``fit`` (`my_AE_code.models`).
"""

from contextlib import contextmanager

import tensorflow as tf


@contextmanager
def naming_damaged_images():
    """Turn TensorFlow's bare "jpeg::Uncompress failed" into a ValueError with advice.

    A damaged JPEG surfaces as an InvalidArgumentError of the pipeline, deep
    inside ``fit`` and mid-epoch. The pipeline names the file where it can (a
    truncated or foreign file); either way this says how to find and repair
    the damaged images.
    """
    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        # The message starts "Graph execution error:"; the line that says what failed is inside.
        lines = [line.strip() for line in error.message.splitlines()]
        detail = next((line for line in lines if "jpeg" in line.lower()), None)
        if detail is None:
            raise
        # "assertion failed: [Not a complete JPEG file:] [path]" -> "Not a complete ...: path"
        detail = detail.removeprefix("assertion failed: ").replace("] [", " ").strip("[]")
        raise ValueError(
            f"An image of the training data could not be decoded: {detail}\nFor prepared "
            f"CelebA images, my_AE_code.celeba.verify_prepared(folder) lists every damaged "
            f"file; delete them and run the preparation again, which redoes only what is "
            f"missing.") from error
