"""The book (``make book``): its pages say what they were run on, and a real browser reads them.

The browser tests build the book from a smoke run of notebooks 01 (it has
formulas) and 03 (its cells raise on purpose) and open every page in headless
Chromium through Playwright: no console error, no request that leaves the
machine, every image loaded, every internal link resolves, the formulas typeset.

They need Debian's ``chromium``. Where it is missing they are skipped, unless
``VAE_REQUIRE_BROWSER=1`` (``.ci/run`` sets it and installs chromium), which
turns the skip into a failure that says what to install.
"""

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from my_AE_code.book.banner import banner_markdown, run_facts
from my_AE_code.book.build import NoExecutedNotebooks, build, site_size
from my_AE_code.book.start_page import start_page
from my_AE_code.paths import REPO_ROOT
from my_AE_code.run_notebooks import NOTEBOOK_DIR, run_notebook
from my_AE_code.run_record import RUN_RECORD_KEY, run_record

BOOK_NOTEBOOKS = ("01_basics", "03_kl_loss_problems")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def notebook_with(code, printed, record=None, injected=None):
    """An executed notebook as the banner sees it: one code cell that printed ``printed``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# 99 · A title\n\nProse."),
                      nbformat.v4.new_code_cell(code, outputs=[nbformat.v4.new_output(
                          "stream", name="stderr", text=printed)])]
    if record is not None:
        notebook.metadata[RUN_RECORD_KEY] = record
    notebook.metadata["papermill"] = {"parameters": injected or {}}
    return notebook


def test_the_box_names_the_fallback_data_the_budget_and_the_machine():
    record = {"budget": "main", "date": "2026-12-02T01:36:05+00:00", "commit": "0123456789abcdef",
              "modified": True, "gpus": [], "cpu_cores": 2}
    facts = dict(run_facts(notebook_with(
        "mnist = load_mnist(d)\nsource = find_or_make_celeba(d)",
        "MnistFallbackWarning: no network\nCelebaStandinWarning: use_celeba is False\n",
        record, {"QUICK": True, "EPOCHS": 12})))
    assert "offline copy of MNIST" in facts["Data"] and "stand-in" in facts["Data"]
    assert facts["Budget"].startswith("main")
    assert facts["Values injected after the parameters cell"] == "`QUICK = True`, `EPOCHS = 12`"
    assert facts["Machine"] == "CPU only (2 CPU cores, no GPU)"
    assert facts["Run"] == ("2026-12-02 01:36 UTC, commit `0123456789` with uncommitted "
                            "changes to the code or notebooks")


def test_the_box_says_real_data_and_gpu_when_no_loader_warned():
    record = {"budget": "full", "date": "2026-12-02T01:36:05+00:00", "commit": "ab" * 20,
              "modified": False, "gpus": ["/physical_device:GPU:0"], "cpu_cores": 16}
    facts = dict(run_facts(notebook_with("load_mnist(d); find_or_make_celeba(d)", "", record)))
    assert facts["Data"] == "MNIST (Keras's download or a local copy); CelebA"
    assert facts["Budget"].startswith("full")
    assert "Values injected after the parameters cell" not in facts
    assert facts["Machine"] == "GPU (/physical_device:GPU:0), 16 CPU cores"
    assert facts["Run"].endswith("commit `ababababab`")


def test_a_run_from_before_the_record_is_said_to_be_unrecorded():
    notebook = notebook_with("x = 1", "hello\n")
    notebook.cells[1].metadata["execution"] = {"shell.execute_reply": "2026-12-01T23:21:09.5Z"}
    facts = dict(run_facts(notebook))
    assert "Data" not in facts  # it loads neither data set
    assert facts["Budget"].startswith("not recorded; nothing was injected")
    assert facts["Machine"] == "not recorded"
    assert facts["Run"] == "2026-12-01 23:21 UTC, commit not recorded"
    assert banner_markdown(notebook).startswith(":::{admonition} What this page was run on")


def test_the_runner_records_budget_date_commit_and_machine():
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    record = run_record("smoke")
    assert record["budget"] == "smoke" and record["commit"] == head
    when = datetime.fromisoformat(record["date"])
    assert abs((datetime.now(UTC) - when).total_seconds()) < 60
    assert record["cpu_cores"] == os.cpu_count()
    assert isinstance(record["gpus"], list)


def test_the_start_page_maps_and_orders_the_notebooks_in_the_book():
    readme = (REPO_ROOT / "README.md").read_text()
    page = start_page(readme, ["01_basics", "03_kl_loss_problems"])
    assert page.startswith(readme.split("\n", 1)[0])  # the README's title
    assert "| {doc}`01 <01_basics>` |" in page and "| {doc}`03 <03_kl_loss_problems>` |" in page
    assert "| 02 |" not in page  # not in this book
    assert page.index("\n01_basics\n") < page.index("\n03_kl_loss_problems\n")
    assert not re.search(r"\]\((?!https?://|#)", page), "a link to a file the site lacks"
    with_figure = start_page("# T\n\nIntro.\n\n![grid](.github/g.png)\\\n*Its caption.*\n\n"
                             "## The notebooks\n\n| 01 | I | x |\n", ["01_basics"])
    assert "Intro." in with_figure and "grid" not in with_figure and "caption" not in with_figure
    with pytest.raises(ValueError, match="The notebooks"):
        start_page("# Title\n\nNo map here.\n", ["01_basics"])


def test_make_book_without_executed_notebooks_says_to_run_make_run(tmp_path):
    with pytest.raises(NoExecutedNotebooks, match="Run `make run` first"):
        build(tmp_path / "empty", tmp_path / "book")
    cli = subprocess.run([sys.executable, "-m", "my_AE_code.book.build", "--notebooks",
                          str(tmp_path), "--out", str(tmp_path / "book")],
                         check=False, capture_output=True, text=True, cwd=REPO_ROOT)
    assert cli.returncode != 0 and "make run" in cli.stderr
    assert not (tmp_path / "book" / "html").exists()


# --- The built book in a real browser -------------------------------------------------

@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """(executed notebooks, site) of a smoke run of `BOOK_NOTEBOOKS`, built as make book does."""
    root = tmp_path_factory.mktemp("book")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAE_DATA_DIR", str(root / "data"))
        patch.setenv("VAE_RESULTS_DIR", str(root / "results"))
        for name in BOOK_NOTEBOOKS:
            run = run_notebook(NOTEBOOK_DIR / f"{name}.ipynb", root / "notebooks",
                               budget="smoke")
            assert run.ok, run.problems
    start = time.perf_counter()
    html = build(root / "notebooks", root / "book")
    print(f"book of {len(BOOK_NOTEBOOKS)} notebooks built in {time.perf_counter() - start:.1f} s,"
          f" {site_size(html) / 1e6:.1f} MB")
    return root / "notebooks", html


@pytest.fixture(scope="module")
def chromium():
    """Playwright's Chromium driving Debian's chromium binary (no browser download)."""
    missing = [what for what, ok in (("chromium", Path(CHROMIUM).exists()),
                                     ("playwright", _importable("playwright"))) if not ok]
    if missing:
        why = (f"{' and '.join(missing)} missing: apt-get install chromium, and "
               f"pip install -e '.[test]' for playwright")
        if os.environ.get("VAE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"VAE_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def _importable(module):
    import importlib.util
    return importlib.util.find_spec(module) is not None


class Visit:
    """One page opened in the browser, with what went wrong while it loaded."""

    def __init__(self, browser, path):
        self.page = browser.new_page()
        self.problems = []
        self.page.on("console", lambda message: message.type == "error" and
                     self.problems.append(f"console: {message.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda request: self.problems.append(
            f"request failed: {request.url} ({request.failure})"))
        self.page.route(re.compile(r"^(?!file:)"), self._outside)
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _outside(self, route):
        """The book must read offline: any request off the machine is a problem."""
        self.problems.append(f"request off the machine: {route.request.url}")
        route.abort()


def pages(html):
    return sorted(html.glob("*.html"))


@pytest.mark.slow
def test_the_runner_wrote_the_record_the_pages_show(book):
    notebooks, html = book
    for name in BOOK_NOTEBOOKS:
        record = nbformat.read(notebooks / f"{name}.ipynb", as_version=4).metadata[RUN_RECORD_KEY]
        assert record["budget"] == "smoke"
        text = (html / f"{name}.html").read_text()
        assert "What this page was run on" in text and "smoke (the tests" in text
        assert record["commit"][:10] in text


@pytest.mark.slow
def test_every_page_loads_offline_without_errors_and_with_its_images(book, chromium):
    notebooks, html = book
    assert {path.stem for path in pages(html)} >= {"index", *BOOK_NOTEBOOKS}
    for path in pages(html):
        visit = Visit(chromium, path)
        images = visit.page.evaluate(
            "[...document.images].map(i => [i.src, i.complete && i.naturalWidth > 0])")
        assert visit.problems == [], f"{path.name}: {visit.problems}"
        assert [src for src, loaded in images if not loaded] == [], path.name
        if path.stem in BOOK_NOTEBOOKS:
            executed = nbformat.read(notebooks / f"{path.stem}.ipynb", as_version=4)
            figures = sum("image/png" in output.get("data", {}) for cell in executed.cells
                          for output in cell.get("outputs", []))
            shown = [src for src, _ in images if "/_images/" in src]
            assert figures > 0 and len(shown) == figures, path.name
        visit.page.close()


@pytest.mark.slow
def test_every_internal_link_resolves(book, chromium):
    _, html = book
    for path in pages(html):
        visit = Visit(chromium, path)
        hrefs = visit.page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
        visit.page.close()
        for href in hrefs:
            url = urlparse(href)
            if url.scheme != "file":
                continue  # the theme's links to GitHub and the like leave the book on purpose
            target = Path(unquote(url.path))
            assert target.is_file(), f"{path.name} links to a missing {target}"
            if url.fragment and target.suffix == ".html":
                assert f'id="{url.fragment}"' in target.read_text(), f"{path.name}: {href}"


@pytest.mark.slow
def test_navigation_and_the_box_come_first_and_the_formulas_typeset(book, chromium):
    _, html = book
    visit = Visit(chromium, html / "01_basics.html")
    page = visit.page
    assert page.get_attribute("a.right-next", "href").endswith("03_kl_loss_problems.html")
    assert page.get_attribute("a.left-prev", "href").endswith("index.html")
    assert page.locator("nav.bd-links a", has_text="03").count() >= 1  # the table of contents
    box_first = page.evaluate("""() => {
        const box = document.querySelector('.admonition.run-record');
        const code = document.querySelector('.cell');
        return box !== null && code !== null &&
            Boolean(box.compareDocumentPosition(code) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    assert box_first, "the 'run on' box must come before the first cell"
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    typeset = page.evaluate("""async () => {
        await MathJax.startup.promise;
        const formulas = document.querySelectorAll('div.math, span.math');
        const drawn = [...document.querySelectorAll('mjx-container svg')]
            .filter(svg => svg.getBoundingClientRect().width > 0);
        return [formulas.length, drawn.length];
    }""")
    assert typeset[0] > 0 and typeset[1] == typeset[0], typeset
    assert visit.problems == []
    page.close()
