"""Post IV's repaired recipe: one loss layer after the Decoder, fed all it needs as inputs.

The 2017 recipe (notebook 03) let its loss layer capture ``mu`` and
``log_var`` from the surrounding scope and failed. The repair passes them
in explicitly, next to the input image and the reconstruction. It is kept
here for notebook 04 and the benchmark; the four strategies of
`kl_strategies` are the ones to use.
"""

import keras
from keras import layers

from my_AE_code.models.losses import kl_loss_mean, reco_loss_mean


class LossLayerAfterDecoder(layers.Layer):
    """Adds BCE + KL (mean convention) from explicit inputs; returns the reconstruction.

    The post logged both parts with ``self.add_metric``, which Keras 3 no
    longer has; two ``Mean`` trackers do that job (Keras logs the metrics of
    a model's layers as ``reco_loss`` and ``kl_loss``).
    """

    def __init__(self, fact, **kwargs):
        super().__init__(**kwargs)
        self.fact = fact
        self.reco_loss_tracker = keras.metrics.Mean(name="reco_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    def call(self, inputs):
        mu, log_var, x, x_reco = inputs
        reco_loss = reco_loss_mean(x, x_reco)
        kl_loss = kl_loss_mean(mu, log_var, self.fact)
        self.add_loss(reco_loss + kl_loss)
        self.reco_loss_tracker.update_state(reco_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return x_reco

    def get_config(self):
        return {**super().get_config(), "fact": self.fact}


def build_part_iv_model(encoder, decoder, fact):
    """Encoder -> Decoder -> loss layer; compile with ``loss=None``, fit with ``fit(x, None)``."""
    x = keras.Input(shape=encoder.input_shape[1:], name="vae_input")
    z, mu, log_var = encoder(x)
    x_reco = decoder(z)
    output = LossLayerAfterDecoder(fact, name="vae_loss")([mu, log_var, x, x_reco])
    return keras.Model(x, output, name="vae_part_iv")
