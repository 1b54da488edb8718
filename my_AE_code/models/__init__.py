"""The AE and the VAE of the series (``from my_AE_code.models import MyVariationalAutoencoder``)."""

from my_AE_code.models.autoencoder import MyAutoencoder
from my_AE_code.models.vae import MyVariationalAutoencoder

__all__ = ["MyAutoencoder", "MyVariationalAutoencoder"]
