"""Sphinx's configuration for the book (`my_AE_code.book.build` passes this folder as -c).

MyST-NB renders the executed notebooks as they are (execution off); the theme is
sphinx-book-theme, Jupyter Book's. MathJax comes from a copy that a PyPI package
ships (sphinx-mathjax-offline), so the site needs no CDN: it builds and reads
offline. Its single-file SVG build needs no font files and loads nothing else.
"""

import importlib.util
from pathlib import Path

_MATHJAX = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent
_MATHJAX_FILE = _MATHJAX / "static" / "mathjax" / "tex-svg-full.js"

project = "Variational Autoencoders with TensorFlow 2 and Keras 3"
html_title = project
extensions = ["myst_nb"]
nb_execution_mode = "off"  # the book shows a run; it never runs anything itself
nb_output_stderr = "show"  # the data loaders' warnings belong on the page
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
suppress_warnings = [
    "mystnb.unknown_mime_type",  # show_key_numbers' machine-readable copy of its table
    "misc.highlighting_failure",  # a traceback with backticks: Pygments retries, relaxed
]
exclude_patterns = ["_build"]

html_theme = "sphinx_book_theme"
html_theme_options = {"home_page_in_toc": True, "show_toc_level": 2,
                      "use_download_button": True}
html_context = {"default_mode": "light"}  # the figures have white backgrounds
html_static_path = [str(_MATHJAX_FILE), str(Path(__file__).parent / "static")]
html_css_files = ["book.css"]
mathjax_path = _MATHJAX_FILE.name
