"""The book's start page, made from the README so the two never tell different stories.

It takes the README's introduction (everything before its first ``##``
heading) and its notebook map (the section "## The notebooks"), links each
row of the map to its page, and lists the pages in the posts' order for
Sphinx's navigation.
"""

from __future__ import annotations

import re

MAP_HEADING = "## The notebooks"
_ROW = re.compile(r"^\| (\d\d) \|", re.MULTILINE)
_RELATIVE_IMAGE = re.compile(r"!\[[^\]]*\]\((?!https?://)[^)]+\)")
_RELATIVE_LINK = re.compile(r"\[([^\]]+)\]\((?!https?://|#)[^)]+\)")


def start_page(readme, pages):
    """index.md for the pages ``pages`` (notebook names without suffix, in order)."""
    intro = readme.split("\n## ", 1)[0].rstrip()
    by_number = {page[:2]: page for page in pages}
    map_lines = [_linked_row(line, by_number) for line in _section(readme, MAP_HEADING)]
    notebook_map = "\n".join(line for line in map_lines if line is not None)
    toctree = "\n".join(["```{toctree}", ":hidden:", ":maxdepth: 1", "", *pages, "```"])
    return "\n\n".join([
        _plain_links(intro),
        ("Each page of this book is one notebook as a run executed it, with its outputs and "
         "figures; the box at the top of the page says what that run used."),
        MAP_HEADING,
        _plain_links(notebook_map),
        toctree,
    ]) + "\n"


def _section(readme, heading):
    """The lines of the README's section ``heading``, without the heading itself."""
    lines = readme.splitlines()
    if heading not in lines:
        raise ValueError(f"README.md has no line {heading!r}: the start page takes the "
                         "notebook map from that section.")
    body = lines[lines.index(heading) + 1:]
    end = next((i for i, line in enumerate(body) if line.startswith("## ")), len(body))
    return body[:end]


def _linked_row(line, by_number):
    """A map row with its number linked to the page; None for a notebook not in the book."""
    match = _ROW.match(line)
    if not match:
        return line
    number = match.group(1)
    if number not in by_number:
        return None
    return line.replace(f"| {number} |", f"| {{doc}}`{number} <{by_number[number]}>` |", 1)


def _plain_links(markdown):
    """Links to the repository's own files become plain text, and a paragraph with one of its
    images (the README's figure and its caption) goes: the site does not hold them."""
    paragraphs = [text for text in markdown.split("\n\n") if not _RELATIVE_IMAGE.search(text)]
    return _RELATIVE_LINK.sub(r"\1", "\n\n".join(paragraphs))
