"""CelebA for the notebooks: find or stand in, prepare once, then stream.

Typical use in a notebook::

    from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, prepare_celeba

    root, is_standin = find_or_make_celeba()           # warns if it falls back
    report = prepare_celeba(root / "img_align_celeba")  # -> root / "prepared_96"
    data = celeba_datasets(report.out_dir, batch_size=128)

Modules, one job each: `files` (layout, attribute and partition files),
`prepare` (crop and shrink, also a command), `pipeline` (tf.data streams),
`standin` (draws the stand-in), `source` (finds CelebA or the stand-in),
`damaged` (a damaged JPEG named, wherever a dataset is read).

`pipeline` and `prepare` are loaded only when one of their names is used:
`pipeline` imports TensorFlow, and `prepare`'s worker processes import this
package and should start fast. `prepare` also runs as a command
(``python -m my_AE_code.celeba.prepare``), which warns (in every worker) if
the package has imported it already.
"""

from importlib import import_module

from my_AE_code.celeba.files import ATTRIBUTE_NAMES, Attributes, prepared_dir, read_attributes
from my_AE_code.celeba.source import CelebaSource, CelebaStandinWarning, find_or_make_celeba
from my_AE_code.celeba.standin import make_standin

#: Names loaded on first use, and the module that has them.
_LAZY_NAMES = {
    "CelebaData": "pipeline",
    "celeba_datasets": "pipeline",
    "split_files": "pipeline",
    "PrepareReport": "prepare",
    "prepare_celeba": "prepare",
    "verify_prepared": "prepare",
}

__all__ = [
    "ATTRIBUTE_NAMES",
    "Attributes",
    "CelebaSource",
    "CelebaStandinWarning",
    "find_or_make_celeba",
    "make_standin",
    "prepared_dir",
    "read_attributes",
    *_LAZY_NAMES,
]


def __getattr__(name):
    if name in _LAZY_NAMES:
        return getattr(import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
