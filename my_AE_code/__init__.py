"""Shared code for the VAE notebook series.

Importing the package is cheap: TensorFlow is imported only by the modules
that need it, so `my_AE_code.notebook_setup` can set TensorFlow's log level
before TensorFlow is loaded.
"""

__version__ = "0.1.0"
