"""The posts' original VAE recipes on Keras 2 (package ``tf-keras``), for comparison only.

Keras 3 refuses ``model.add_loss`` on symbolic tensors (notebook 07); Keras 2
still runs it. Notebook 07 and the benchmark use this module to measure
post VII's claim that the ``model.add_loss`` route may reduce performance "by
roughly a factor between 1.3 and 1.5", against a KL layer in the Encoder, both
routes built with the same Keras 2 layers.
``tf-keras`` is the optional extra ``posts``: `import_tf_keras` says how to
install it where it is missing.
"""

#: What a missing ``tf_keras`` is told.
MISSING_TF_KERAS = ("Keras 2 (the package tf-keras) is not installed; the posts' Keras 2 "
                    "recipes need it. Install it with the project's extra: "
                    "pip install -e '.[posts]' (make setup does this).")


def import_tf_keras():
    """The ``tf_keras`` module, or an ImportError that says how to install it."""
    try:
        import tf_keras
    except ImportError as error:
        raise ImportError(MISSING_TF_KERAS, name="tf_keras") from error
    return tf_keras


def build_keras2_vae(arch, fact=1e-3, kl_in="model", learning_rate=0.0005):
    """A compiled Keras 2 VAE (LeakyReLU, mean convention) with the KL loss where asked.

    ``arch`` is an `Architecture` of the posts' plain kind: LeakyReLU, no
    batch norm, dropout or extra Dense layer (the recipes have none).
    ``kl_in="model"``: post VII, ``vae.add_loss(kl(mu, log_var))`` on the
    symbolic tensors after the model is built. ``kl_in="encoder"``: post V, a
    layer after mu/log_var calls ``add_loss``. Train with ``fit(x, x)``.
    """
    import tensorflow as tf

    k2 = import_tf_keras()
    if kl_in not in ("model", "encoder"):
        raise ValueError(f"kl_in={kl_in!r}: use 'model' (model.add_loss) or 'encoder' (KL layer).")
    if (arch.act, arch.use_batch_norm, arch.use_dropout, arch.enc_dense_units) != (
            0, False, False, None):
        raise ValueError(f"The Keras 2 recipes build LeakyReLU layers without batch norm, "
                         f"dropout or an extra Dense layer, not {arch}.")

    def kl_loss(mu, log_var):
        return -fact * tf.reduce_mean(1 + log_var - tf.square(mu) - tf.exp(log_var))

    class KLLayer(k2.layers.Layer):
        def call(self, inputs):
            mu, log_var = inputs
            self.add_loss(kl_loss(mu, log_var))
            return mu, log_var

    def sample(args):
        mu, log_var = args
        eps = tf.clip_by_value(tf.random.normal(tf.shape(mu)), -5.0, 5.0)
        return mu + tf.exp(log_var / 2) * eps

    layers = k2.layers
    x_in = layers.Input(shape=arch.input_dim, name="encoder_input")
    x = x_in
    for i, (n, k, s) in enumerate(zip(arch.encoder_conv_filters, arch.encoder_conv_kernel_size,
                                      arch.encoder_conv_strides)):
        x = layers.LeakyReLU()(layers.Conv2D(n, k, strides=s, padding="same",
                                             name=f"encoder_conv_{i}")(x))
    shape_before_flattening = tuple(x.shape[1:])
    x = layers.Flatten()(x)
    mu = layers.Dense(arch.z_dim, name="mu")(x)
    log_var = layers.Dense(arch.z_dim, name="log_var")(x)
    if kl_in == "encoder":
        mu, log_var = KLLayer(name="kl_loss")([mu, log_var])
    z = layers.Lambda(sample, name="encoder_output")([mu, log_var])

    x = layers.Dense(int(tf.reduce_prod(shape_before_flattening)))(z)
    x = layers.Reshape(shape_before_flattening)(x)
    last = len(arch.decoder_conv_t_filters) - 1
    for i, (n, k, s) in enumerate(zip(arch.decoder_conv_t_filters,
                                      arch.decoder_conv_t_kernel_size,
                                      arch.decoder_conv_t_strides)):
        x = layers.Conv2DTranspose(n, k, strides=s, padding="same",
                                   activation="sigmoid" if i == last else None,
                                   name=f"decoder_conv_t_{i}")(x)
        if i < last:
            x = layers.LeakyReLU()(x)

    vae = k2.Model(x_in, x, name=f"keras2_vae_kl_in_{kl_in}")
    if kl_in == "model":
        vae.add_loss(kl_loss(mu, log_var))
    vae.compile(optimizer=k2.optimizers.Adam(learning_rate=learning_rate),
                loss="binary_crossentropy")
    return vae
