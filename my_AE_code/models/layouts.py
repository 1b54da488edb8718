"""The posts' two architectures, for code that needs them as data (tests, benchmarks, demo).

The notebooks spell the constructor call out instead: that call is what a
reader of the posts edits.
"""

#: Post VI's MNIST layout (parts II-VIII).
MNIST_LAYOUT = dict(
    input_dim=(28, 28, 1),
    encoder_conv_filters=[32, 64, 128], encoder_conv_kernel_size=[3, 3, 3],
    encoder_conv_strides=[1, 2, 2],
    decoder_conv_t_filters=[64, 32, 1], decoder_conv_t_kernel_size=[3, 3, 3],
    decoder_conv_t_strides=[2, 2, 1],
    z_dim=2,
)

#: The CelebA layout of parts X-XIV: 96x96x3, conv 32/64/128/256, z_dim 256.
CELEBA_LAYOUT = dict(
    input_dim=(96, 96, 3),
    encoder_conv_filters=[32, 64, 128, 256], encoder_conv_kernel_size=[3, 3, 3, 3],
    encoder_conv_strides=[2, 2, 2, 2],
    decoder_conv_t_filters=[128, 64, 32, 3], decoder_conv_t_kernel_size=[3, 3, 3, 3],
    decoder_conv_t_strides=[2, 2, 2, 2],
    z_dim=256,
)

#: A tiny two-channel layout for fast tests of what the models compute: 8x8x2
#: images, two conv layers each way, z_dim 3. Two channels keep the "pixel"
#: of the loss conventions (height x width, channels averaged) apart from a value.
TINY_LAYOUT = dict(
    input_dim=(8, 8, 2),
    encoder_conv_filters=[4, 8], encoder_conv_kernel_size=[3, 3],
    encoder_conv_strides=[2, 2],
    decoder_conv_t_filters=[4, 2], decoder_conv_t_kernel_size=[3, 3],
    decoder_conv_t_strides=[2, 2],
    z_dim=3,
)
