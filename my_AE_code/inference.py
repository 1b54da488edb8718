"""Running trained models on many images, batch by batch: encode, decode, reconstruct.

Every function takes either the whole `MyVariationalAutoencoder` /
`MyAutoencoder` object or the Keras model it needs (an Encoder, a Decoder);
`keras_part` makes that choice in one place.
"""

import functools
import weakref

import numpy as np
import tensorflow as tf


def keras_part(obj, name):
    """The Keras model ``name`` ("encoder", "decoder", "model") of a VAE/AE object, or obj."""
    return getattr(obj, name, obj)


def image_batches(data, batch_size):
    """Yield numpy image batches from an array or a tf.data.Dataset of batches.

    Dataset elements may be (images, attributes, ...) tuples, as the CelebA
    pipeline yields; only the images are kept.
    """
    if hasattr(data, "as_numpy_iterator"):
        for element in data.as_numpy_iterator():
            yield element[0] if isinstance(element, tuple) else element
    else:
        for start in range(0, len(data), batch_size):
            yield np.asarray(data[start:start + batch_size], dtype="float32")


def encoder_outputs(encoder, images):
    """The Encoder's outputs for one batch of images, as NumPy: (z, mu, log_var) or z.

    The Encoder runs as one TensorFlow function per model, traced once for
    batches of any size. Keras's ``predict_on_batch`` would trace a function
    for each model and again for a batch of a new size, and TensorFlow counts
    the traces of every function with the same code together: several models
    encoding one after another made it warn about "frequent retracing". A
    ``functools.partial`` is counted by itself, one per Encoder; it holds the
    Encoder weakly, so a deleted model is freed. The traced function reads the
    variables at each call, so ``set_enc_to_predict`` takes effect at once.
    """
    if encoder not in _COMPILED:
        spec = tf.TensorSpec((None, *encoder.input_shape[1:]), "float32")
        _COMPILED[encoder] = tf.function(
            functools.partial(_call_encoder, weakref.ref(encoder)), input_signature=[spec])
    outputs = _COMPILED[encoder](tf.constant(np.asarray(images, dtype="float32")))
    if isinstance(outputs, (list, tuple)):
        return tuple(np.asarray(output) for output in outputs)
    return np.asarray(outputs)


def _call_encoder(encoder_ref, images):
    return encoder_ref()(images, training=False)


#: The compiled function of each Encoder used so far.
_COMPILED = weakref.WeakKeyDictionary()


def encode(encoder, data, batch_size=512, progress=False):
    """Encode ``data`` batch by batch: (z, mu, log_var) for a VAE, z for an AE.

    ``data`` is an image array or a tf.data.Dataset that yields image batches
    (or (images, ...) tuples). Only the latent arrays are kept and
    concatenated; the images pass through one batch at a time, so 170,000
    CelebA images never sit in memory together.

    For a VAE, z is sampled around mu unless ``vae.set_enc_to_predict()`` was
    called first.
    """
    encoder = keras_part(encoder, "encoder")
    batches = image_batches(data, batch_size)
    if progress:
        from tqdm.auto import tqdm
        batches = tqdm(batches, desc="encoding", unit="batch")
    parts = []
    for batch in batches:
        out = encoder_outputs(encoder, batch)
        parts.append(out if isinstance(out, (list, tuple)) else [out])
    if not parts:
        raise ValueError("encode() got no images: the array or dataset is empty.")
    arrays = [np.concatenate(column) for column in zip(*parts)]
    return tuple(arrays) if len(arrays) > 1 else arrays[0]


def decode(decoder, z, batch_size=256):
    """Images from latent points, batch by batch."""
    decoder = keras_part(decoder, "decoder")
    z = np.asarray(z, dtype="float32")
    if z.ndim == 1:
        z = z[None]
    return np.concatenate([np.asarray(decoder(z[start:start + batch_size], training=False))
                           for start in range(0, len(z), batch_size)])


def reconstruct(model, images, batch_size=256):
    """Decoder(Encoder(images)) batch by batch, with z = mu for a VAE.

    ``model`` is a `MyVariationalAutoencoder` or `MyAutoencoder`. A VAE's
    sampling is switched off (``set_enc_to_predict``) for the reconstruction
    and its previous setting restored afterwards, so reconstructions show what
    the Encoder learned, not one random draw around it.
    """
    switchable = hasattr(model, "set_enc_to_predict")
    if switchable:
        previous = model.enc_v_eps_factor
        model.set_enc_to_predict()
    try:
        encoded = encode(model, images, batch_size=batch_size)
        z = encoded[0] if isinstance(encoded, tuple) else encoded
        return decode(model, z, batch_size=batch_size)
    finally:
        if switchable:
            model.enc_v_eps_factor = previous
