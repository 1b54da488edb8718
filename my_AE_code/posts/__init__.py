"""The posts' historical recipes, kept so the notebooks can run and time them; not for new work.

`part_iv` is post IV's repaired layout (one loss layer after the Decoder,
notebook 04); `keras2` builds the posts' Keras 2 VAEs on ``tf_keras``
(notebook 07). Both serve the notebooks and the benchmark as comparisons:
the models to use are `my_AE_code.models`' four strategies.

``tf_keras`` (Keras 2) is an optional dependency, the extra ``posts``
(``pip install -e '.[posts]'``); ``make setup`` installs it.
"""
