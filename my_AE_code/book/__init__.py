"""The series as a book: a static site of the executed notebooks (``make book``).

`build` stages the main job's executed copies with a "run on" box each
(`banner`) and a start page from the README (`start_page`), and has Sphinx
with MyST-NB render them (configuration in ``conf.py``); nothing is executed.
"""
