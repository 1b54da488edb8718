"""`Architecture`: the twelve parameters that decide the AE's and the VAE's layers.

The posts pass them one by one to each constructor, and those signatures stay
as the posts wrote them. Behind them the values live here, in one frozen
object (as pythae keeps a model's config): validated once when it is made,
turned into the ``params.json`` dict and back, and counted without building
a model. An editor following ``architecture.z_dim`` finds it declared below.
"""

import dataclasses
import math
from dataclasses import dataclass

from my_AE_code.models.checks import check_architecture
from my_AE_code.models.layers import encoder_output_shape

#: The fields that hold one entry per layer (or per image axis): stored as tuples.
_SEQUENCES = ("input_dim", "encoder_conv_filters", "encoder_conv_kernel_size",
              "encoder_conv_strides", "decoder_conv_t_filters", "decoder_conv_t_kernel_size",
              "decoder_conv_t_strides")


@dataclass(frozen=True)
class Architecture:
    """The shapes and layer choices shared by `MyAutoencoder` and `MyVariationalAutoencoder`.

    Lists may be given as lists or tuples (the posts use lists, ``input_dim``
    a tuple) and numbers as numpy numbers: they are stored as tuples of plain
    ints, so two architectures are equal, and hash alike, whenever they build
    the same layers. A bad value raises the error `check_architecture`
    describes, before any layer is built.
    """

    input_dim: tuple[int, int, int]
    encoder_conv_filters: tuple[int, ...]
    encoder_conv_kernel_size: tuple[int, ...]
    encoder_conv_strides: tuple[int, ...]
    decoder_conv_t_filters: tuple[int, ...]
    decoder_conv_t_kernel_size: tuple[int, ...]
    decoder_conv_t_strides: tuple[int, ...]
    z_dim: int
    use_batch_norm: bool = False
    use_dropout: bool = False
    #: The activation's code in `my_AE_code.models.layers.ACTIVATIONS` (0: LeakyReLU).
    act: int = 0
    #: Units of post XII's extra Dense layer after Flatten; None: no such layer.
    enc_dense_units: int | None = None

    def __post_init__(self):
        check_architecture(self)
        # Frozen: the plain values are written with object.__setattr__, once, here.
        for name in _SEQUENCES:
            object.__setattr__(self, name, tuple(int(value) for value in getattr(self, name)))
        object.__setattr__(self, "z_dim", int(self.z_dim))
        object.__setattr__(self, "act", int(self.act))
        object.__setattr__(self, "use_batch_norm", bool(self.use_batch_norm))
        object.__setattr__(self, "use_dropout", bool(self.use_dropout))
        if self.enc_dense_units is not None:
            object.__setattr__(self, "enc_dense_units", int(self.enc_dense_units))

    @classmethod
    def from_params(cls, params):
        """The architecture in ``params`` (e.g. params.json's, which holds more).

        An optional field missing from ``params`` (a save older than it) takes
        its default.
        """
        return cls(**{field.name: params[field.name] for field in dataclasses.fields(cls)
                      if field.name in params})

    def as_params(self):
        """The fields as a JSON-ready dict, lists for tuples (as params.json holds them)."""
        return {name: list(value) if isinstance(value, tuple) else value
                for name, value in dataclasses.asdict(self).items()}

    def weight_count(self):
        """(weights of `encoder_body` and `decoder_body`, width of the encoder's output).

        Counted from the fields alone, without building a model, so that a
        saved folder's parameters can be checked against its weights file
        before a model of absurd size is built. Batch norm keeps four numbers
        per channel.
        """
        def conv(kernels, channels_in, filters, normalised):
            count = 0
            for i, (kernel, n_filters) in enumerate(zip(kernels, filters)):
                count += kernel * kernel * channels_in * n_filters + n_filters
                count += 4 * n_filters if self.use_batch_norm and normalised(i) else 0
                channels_in = n_filters
            return count

        flat = math.prod(self.encoder_output_shape())
        count = conv(self.encoder_conv_kernel_size, self.input_dim[2],
                     self.encoder_conv_filters, lambda i: True)
        features = flat
        if self.enc_dense_units:
            count += flat * self.enc_dense_units + self.enc_dense_units
            features = self.enc_dense_units
        count += self.z_dim * flat + flat  # the decoder's Dense layer
        last = len(self.decoder_conv_t_filters) - 1
        count += conv(self.decoder_conv_t_kernel_size, self.encoder_conv_filters[-1],
                      self.decoder_conv_t_filters, lambda i: i < last)
        return count, features

    def encoder_output_shape(self):
        """Shape of the encoder's last feature map, where the decoder starts from."""
        return encoder_output_shape(self.input_dim, self.encoder_conv_filters,
                                    self.encoder_conv_strides)
