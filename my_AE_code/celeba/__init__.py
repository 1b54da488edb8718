"""CelebA for the notebooks: find or stand in, prepare once, then stream.

Typical use in a notebook::

    from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, prepare_celeba

    root, is_standin = find_or_make_celeba()           # warns if it falls back
    report = prepare_celeba(root / "img_align_celeba")  # -> root / "prepared_96"
    data = celeba_datasets(report.out_dir, batch_size=128)

Modules, one job each: `files` (layout, attribute and partition files),
`prepare` (crop and shrink, also a command), `pipeline` (tf.data streams),
`standin` (draws the stand-in), `source` (finds CelebA or the stand-in).

`pipeline` imports TensorFlow, so it is loaded only when one of its names is
used: `prepare`'s worker processes import this package and should start fast.
"""

from my_AE_code.celeba.files import ATTRIBUTE_NAMES, Attributes, prepared_dir, read_attributes
from my_AE_code.celeba.prepare import PrepareReport, prepare_celeba
from my_AE_code.celeba.source import CelebaSource, CelebaStandinWarning, find_or_make_celeba
from my_AE_code.celeba.standin import make_standin

_PIPELINE_NAMES = ("CelebaData", "celeba_datasets", "split_files")

__all__ = [
    "ATTRIBUTE_NAMES",
    "Attributes",
    "CelebaSource",
    "CelebaStandinWarning",
    "PrepareReport",
    "find_or_make_celeba",
    "make_standin",
    "prepare_celeba",
    "prepared_dir",
    "read_attributes",
    *_PIPELINE_NAMES,
]


def __getattr__(name):
    if name in _PIPELINE_NAMES:
        from my_AE_code.celeba import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
