"""MyAutoencoder: the plain Autoencoder of post II, for comparison with the VAE."""

import keras
from keras import layers

from my_AE_code.models.base import ConvAutoencoderBase
from my_AE_code.models.layers import LayerSeeds, body_weight_count, decoder_body, encoder_body


class MyAutoencoder(ConvAutoencoderBase):
    """Conv Encoder -> z (a plain Dense layer) -> conv Decoder, trained with BCE.

    Same conv stacks and parameters as `MyVariationalAutoencoder`, minus the
    variational part: every image maps to exactly one point z. ``seed``,
    ``dtype_policy`` and ``distribute`` work as for the VAE (z and the images
    stay float32 under a mixed policy).
    """

    def __init__(self, input_dim, encoder_conv_filters, encoder_conv_kernel_size,
                 encoder_conv_strides, decoder_conv_t_filters, decoder_conv_t_kernel_size,
                 decoder_conv_t_strides, z_dim, use_batch_norm=False, use_dropout=False, act=0,
                 enc_dense_units=None, seed=None, dtype_policy=None, distribute=None):
        super().__init__(
            input_dim=input_dim, encoder_conv_filters=encoder_conv_filters,
            encoder_conv_kernel_size=encoder_conv_kernel_size,
            encoder_conv_strides=encoder_conv_strides,
            decoder_conv_t_filters=decoder_conv_t_filters,
            decoder_conv_t_kernel_size=decoder_conv_t_kernel_size,
            decoder_conv_t_strides=decoder_conv_t_strides, z_dim=z_dim,
            use_batch_norm=use_batch_norm, use_dropout=use_dropout, act=act,
            enc_dense_units=enc_dense_units, seed=seed, dtype_policy=dtype_policy,
            distribute=distribute)

    @classmethod
    def weight_count(cls, params):
        body, features = body_weight_count(**params)
        return body + features * params["z_dim"] + params["z_dim"]  # the Dense layer to z

    def _build(self):
        seeds = LayerSeeds(self.seed)
        encoder_input = keras.Input(shape=self.input_dim, name="encoder_input")
        x, self._shape_before_flattening = encoder_body(
            encoder_input, self.encoder_conv_filters, self.encoder_conv_kernel_size,
            self.encoder_conv_strides, self.act, self.use_batch_norm, self.use_dropout,
            self.enc_dense_units, seeds)
        z = layers.Dense(self.z_dim, kernel_initializer=seeds.initializer("glorot_uniform"),
                         dtype="float32", name="encoder_output")(x)
        self.encoder = keras.Model(encoder_input, z, name="encoder")

        decoder_input = keras.Input(shape=(self.z_dim,), name="decoder_input")
        image = decoder_body(decoder_input, self._shape_before_flattening,
                             self.decoder_conv_t_filters, self.decoder_conv_t_kernel_size,
                             self.decoder_conv_t_strides, self.act, self.use_batch_norm,
                             self.use_dropout, seeds)
        self.decoder = keras.Model(decoder_input, image, name="decoder")

        model_input = keras.Input(shape=self.input_dim, name="autoencoder_input")
        self.model = keras.Model(model_input, self.decoder(self.encoder(model_input)),
                                 name="autoencoder")

    def compile_myAE(self, learning_rate=0.0005, jit_compile="auto"):
        """Adam and binary cross-entropy averaged over pixels (post II).

        ``jit_compile`` (XLA: "auto", True or False) as in
        `MyVariationalAutoencoder.compile_myVAE`.
        """
        self._compile(learning_rate, lambda model, optimizer, jit: model.compile(
            optimizer=optimizer, loss=keras.losses.BinaryCrossentropy(), jit_compile=jit),
            jit_compile)

    def train_myAE(self, x_train, batch_size, epochs, initial_epoch=0, callbacks=None,
                   verbose="auto", validation_data=None, shuffle=True, checkpoint_dir=None):
        """Train on images (an array or a batched tf.data.Dataset); returns the History.

        ``checkpoint_dir``: per-epoch checkpoints, resumed from as in train_myVAE.
        """
        return self._fit(self._batches(x_train, batch_size, shuffle), batch_size=batch_size,
                         epochs=epochs, initial_epoch=initial_epoch, callbacks=callbacks,
                         verbose=verbose, validation_data=validation_data,
                         checkpoint_dir=checkpoint_dir)
