"""``make book``: a static site from the main job's executed notebooks.

``python -m my_AE_code.book.build [--notebooks DIR] [--out DIR]`` reads the
executed copies in ``results/notebooks/`` (what ``make run`` writes), stages
them with a "run on" box at the top of each (`banner`) and a start page made
from the README (`start_page`), and has Sphinx render the site into
``results/book/html/``. It never executes a notebook: a book of outputs nobody
ran would not be worth reading, so without executed copies it says what to run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from my_AE_code.book.banner import banner_markdown
from my_AE_code.book.start_page import start_page
from my_AE_code.paths import REPO_ROOT, results_dir

CONF_DIR = Path(__file__).parent
README = REPO_ROOT / "README.md"


class NoExecutedNotebooks(SystemExit):
    """There is nothing to make a book of yet."""


def executed_notebooks(folder):
    """The executed ``NN_name.ipynb`` copies in ``folder``, in the posts' order."""
    paths = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise NoExecutedNotebooks(
            f"No executed notebooks in {folder}. Run `make run` first (about 45 minutes on "
            "a 2-core CPU): it executes every notebook into results/notebooks/, and the "
            "book shows those copies. `.venv/bin/python -m my_AE_code.run_notebooks 01 03` "
            "runs only a few.")
    return paths


def stage(notebooks, src, readme=README):
    """Write the book's sources into ``src``: each notebook with its box, and index.md."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        _insert_banner(notebook, banner_markdown(notebook))
        nbformat.write(notebook, src / path.name)
    (src / "index.md").write_text(start_page(Path(readme).read_text(),
                                             [path.stem for path in notebooks]))


def _insert_banner(notebook, banner):
    """Put the box right under the page's title, the first line of its first markdown cell."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            title, _, rest = cell.source.partition("\n")
            cell.source = f"{title}\n\n{banner}\n\n{rest.lstrip()}"
            return
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(banner))


def build(notebook_dir, out_dir, readme=README):
    """Stage and render the book; the folder of its HTML (open index.html)."""
    notebooks = executed_notebooks(notebook_dir)
    out_dir = Path(out_dir)
    stage(notebooks, out_dir / "src", readme)
    html = out_dir / "html"
    if html.exists():
        shutil.rmtree(html)  # no page of a notebook that is gone
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(CONF_DIR),
                    "-d", str(out_dir / "doctrees"), str(out_dir / "src"), str(html)],
                   check=True)
    return html


def site_size(html):
    """Bytes of every file of the site, as a web server would hand them out."""
    return sum(path.stat().st_size for path in Path(html).rglob("*") if path.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=results_dir() / "notebooks",
                        help="folder of executed notebooks (default: results/notebooks)")
    parser.add_argument("--out", type=Path, default=results_dir() / "book",
                        help="where the sources and the site go (default: results/book)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    html = build(args.notebooks, args.out)
    executed = {path.stem for path in executed_notebooks(args.notebooks)}
    missing = sorted(twin.stem for twin in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.py")
                     if twin.stem not in executed)
    if missing:
        print(f"Not in the book, as {args.notebooks} has no executed copy: "
              f"{', '.join(missing)} (`make run` executes them all).")
    print(f"The book: {html / 'index.html'} ({len(executed)} "
          f"notebooks, {site_size(html) / 1e6:.1f} MB, built in "
          f"{time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
