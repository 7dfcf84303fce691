"""HTML pages: the main article (text, title, author, date, site) extracted with trafilatura.

The article's ``text`` is in PTC layout: the title on the first line, an empty line, then one body
paragraph per line with an empty line between paragraphs (as in the PTC articles and the sample).
The title is the one the page declares (``<title>``, ``og:title``, ``<h1>``, as trafilatura finds
it); a page that declares none gets its first paragraph as title only when that paragraph looks
like a headline (``propscan.headline``), and otherwise has no title.
Block elements inside a paragraph (an embedded tweet's text and its attribution, list items, line
breaks) become paragraphs of their own. Menus, share buttons, related links, comment forms,
newsletter boxes, cookie banners and footers are left out by trafilatura; the furniture lines it
keeps are marked later by ``propscan.clean``.
"""

from __future__ import annotations

import re
from pathlib import Path

from propscan.document import Article, Source
from propscan.errors import PropscanError
from propscan.headline import headline_problem
from propscan.readers.text import DEFAULT_MAX_BYTES, decode, read_bytes

# Elements of trafilatura's output tree that start a new paragraph.
_BLOCKS = {"p", "head", "quote", "list", "item", "row", "cell", "lb", "table", "code", "div"}
_SPACES = re.compile(r"\s+")
# [^<>], not [^>]: each try stops at the next tag, so a run of unclosed "<meta" is not quadratic.
_META_CHARSET = re.compile(rb"""<meta[^<>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def article_from_html(html: str, *, url: str | None = None, id: str | None = None,
                      path: str | None = None) -> Article:
    """The main article of an HTML page, or a PropscanError when the page holds none."""
    import trafilatura

    where = url or path or "the HTML page"
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                      include_images=False, favor_precision=True)
    paragraphs = _paragraphs(doc.body) if doc is not None and doc.body is not None else []
    title = _clean_line(doc.title or "") if doc is not None else ""
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    if not paragraphs:
        raise PropscanError("no article text found in the HTML page", source=where)
    if not title and headline_problem(paragraphs[0]) is None and len(paragraphs) > 1:
        title, paragraphs = paragraphs[0], paragraphs[1:]
    text = "\n\n".join([title, *paragraphs] if title else paragraphs)
    from propscan.readers import content_id

    return Article(
        id=id or content_id(text), title=title, text=text,
        source=Source(path=path, url=url or doc.url, site=doc.sitename or doc.hostname, author=doc.author,
                      date=doc.date, format="html"),
    )


def read_html_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    data = read_bytes(path, max_bytes)
    return article_from_html(decode_html(data, str(path)), path=str(path), id=path.stem)


def decode_html(data: bytes, source: str, *, charset: str | None = None) -> str:
    """HTML bytes as text, using the declared charset (header, then meta tag) before guessing."""
    if charset is None:
        m = _META_CHARSET.search(data[:4096])
        charset = m.group(1).decode("ascii") if m else None
    return decode(data, source, charset=charset)


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:1024].lower()
    return head.startswith(("<!doctype html", "<html")) or ("<body" in head and "<" == head[:1])


def _paragraphs(body) -> list[str]:
    """One string per paragraph of trafilatura's output tree, whitespace collapsed."""
    pieces: list[str] = []

    def walk(element) -> None:
        if not isinstance(element.tag, str):  # an XML comment or processing instruction
            pieces.append(element.tail or "")
            return
        if element.tag in _BLOCKS:
            pieces.append("\n")
        if element.text:
            pieces.append(element.text)
        for child in element:
            walk(child)
        if element.tag in _BLOCKS:
            pieces.append("\n")
        if element.tail:
            pieces.append(element.tail)

    for child in body:
        walk(child)
    lines = (_clean_line(line) for line in "".join(pieces).split("\n"))
    return [line for line in lines if line]


def _clean_line(line: str) -> str:
    return _SPACES.sub(" ", line).strip()
