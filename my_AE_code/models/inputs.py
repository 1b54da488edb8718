"""Training data as ``fit`` wants it: batches of (x, y) from an array or a tf.data stream."""

import tensorflow as tf

from my_AE_code.models.checks import check_dataset, check_images

#: Options for pipelines over arrays already in memory. Slicing batches needs no
#: parallelism, and tf.data's autotuning threads otherwise compete with the
#: training step: on a 2-core machine every other epoch ran at one-core speed
#: (measured: 2.5 s instead of 1.3 s per epoch for 2,000 MNIST images).
QUIET_PIPELINE = tf.data.Options()
QUIET_PIPELINE.autotune.enabled = False
QUIET_PIPELINE.threading.private_threadpool_size = 1


def array_batches(arrays, batch_size, shuffle=True, seed=None):
    """Batches of in-memory arrays as float32, reshuffled every epoch if asked.

    ``arrays`` is one array or a nested structure of arrays with the same first
    axis (e.g. post VI's ``(x, {"reco": x, "mu": t_mu, "log_var": t_logvar})``).
    """
    tensors = tf.nest.map_structure(lambda a: tf.convert_to_tensor(a, dtype="float32"), arrays)
    batches = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        n = len(tf.nest.flatten(arrays)[0])
        batches = batches.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return batches.batch(batch_size).with_options(QUIET_PIPELINE)


def training_batches(x, batch_size, input_dim, targets, *, shuffle=True, seed=None,
                     name="x_train"):
    """(x, y) batches for ``fit``, from an image array or a tf.data.Dataset of batches.

    ``targets(batch)`` gives the ``y`` of a batch (None: the model needs no
    targets). A dataset must already yield batches of images, or tuples
    whose first entry is the image batch (as the CelebA pipeline's (image,
    attributes) pairs); it is used as it is, without another shuffle.
    """
    if isinstance(x, tf.data.Dataset):
        check_dataset(x, input_dim, name)
        images = x.map(lambda *element: element[0])
    else:
        check_images(x, input_dim, name)
        images = array_batches(x, batch_size, shuffle, seed)

    def pair(batch):
        y = targets(batch)
        return batch if y is None else (batch, y)

    return images.map(pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
