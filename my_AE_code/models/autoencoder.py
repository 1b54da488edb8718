"""MyAutoencoder: the plain Autoencoder of post II, for comparison with the VAE."""

import keras
from keras import layers

from my_AE_code.models.architecture import Architecture
from my_AE_code.models.base import ConvAutoencoderBase
from my_AE_code.models.layers import LayerSeeds, decoder_body, encoder_body


class MyAutoencoder(ConvAutoencoderBase):
    """Conv Encoder -> z (a plain Dense layer) -> conv Decoder, trained with BCE.

    Same conv stacks and parameters as `MyVariationalAutoencoder`, minus the
    variational part: every image maps to exactly one point z; the layers'
    parameters are kept as ``ae.architecture``. ``seed``,
    ``dtype_policy`` and ``distribute`` work as for the VAE (z and the images
    stay float32 under a mixed policy).
    """

    def __init__(self, input_dim, encoder_conv_filters, encoder_conv_kernel_size,
                 encoder_conv_strides, decoder_conv_t_filters, decoder_conv_t_kernel_size,
                 decoder_conv_t_strides, z_dim, use_batch_norm=False, use_dropout=False, act=0,
                 enc_dense_units=None, seed=None, dtype_policy=None, distribute=None):
        architecture = Architecture(
            input_dim, encoder_conv_filters, encoder_conv_kernel_size, encoder_conv_strides,
            decoder_conv_t_filters, decoder_conv_t_kernel_size, decoder_conv_t_strides, z_dim,
            use_batch_norm, use_dropout, act, enc_dense_units)
        super().__init__(architecture, seed=seed, dtype_policy=dtype_policy,
                         distribute=distribute)

    @classmethod
    def weight_count(cls, params):
        architecture = Architecture.from_params(params)
        body, features = architecture.weight_count()
        return body + features * architecture.z_dim + architecture.z_dim  # the Dense layer to z

    def _build(self):
        seeds = LayerSeeds(self.seed)
        input_dim, z_dim = self.architecture.input_dim, self.architecture.z_dim
        encoder_input = keras.Input(shape=input_dim, name="encoder_input")
        x = encoder_body(encoder_input, self.architecture, seeds)
        z = layers.Dense(z_dim, kernel_initializer=seeds.initializer("glorot_uniform"),
                         dtype="float32", name="encoder_output")(x)
        self.encoder = keras.Model(encoder_input, z, name="encoder")

        decoder_input = keras.Input(shape=(z_dim,), name="decoder_input")
        image = decoder_body(decoder_input, self.architecture, seeds)
        self.decoder = keras.Model(decoder_input, image, name="decoder")

        model_input = keras.Input(shape=input_dim, name="autoencoder_input")
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
