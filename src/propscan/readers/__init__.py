"""Read: turn files, folders, URLs, corpora, standard input and pasted text into ``Article``s.

- ``read_source`` reads one input strictly: every article in it, or a PropscanError.
- ``iter_sources`` streams many inputs leniently: an ``Article`` for each article read and a
  ``ReadFailure`` for each file, corpus row or URL that could not be, so a folder mixing good and
  bad files is read to the end. The CLI and the batch runner use it.

Inputs: ``.txt`` (``readers.text``), ``.html`` / ``.htm`` (``readers.html``), ``http(s)://`` URLs
(``readers.url``), ``.jsonl`` / ``.csv`` corpora (``readers.corpus``), folders (recursively, by
extension) and ``-`` for standard input (HTML when it looks like HTML, text otherwise). A file given
by name with another extension is read as text, or as HTML when it looks like HTML.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from propscan.document import Article, Source
from propscan.errors import PropscanError
from propscan.readers.failure import ReadFailure
from propscan.readers.text import DEFAULT_MAX_BYTES, check_text, title_of

TEXT_SUFFIXES = {".txt"}
HTML_SUFFIXES = {".html", ".htm"}
CORPUS_SUFFIXES = {".jsonl", ".csv"}
FOLDER_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | CORPUS_SUFFIXES
STDIN = "-"

__all__ = ["DEFAULT_MAX_BYTES", "ReadFailure", "article_from_text", "check_text", "content_id", "iter_sources",
           "read_source"]


def article_from_text(text: str, *, id: str | None = None, title: str | None = None,
                      source: Source | None = None) -> Article:
    """An article from pasted text: the first non-empty line is the title unless one is given.

    The text and title are held to what any file would be (``check_text``): the API, the CLI's
    standard input and corpus rows all come through here or through the same check.
    """
    where = (source and (source.path or source.url)) or None
    if not isinstance(text, str):
        raise PropscanError("the text must be a string", source=where)
    check_text(text, where)
    if title is not None:
        check_text(title, where, field="title")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PropscanError("the article is empty", source=where)
    return Article(id=id or content_id(text), title=title if title is not None else title_of(text),
                   text=text, source=source or Source(format="text"))


def content_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_source(source: str, *, allow_private: bool = False, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Article]:
    """Every article in a file, a folder (recursively), a corpus, at a URL or on stdin (``-``).

    Strict: the first input that cannot be read raises a PropscanError naming it and the reason.
    """
    articles = []
    for item in iter_sources([source], allow_private=allow_private, max_bytes=max_bytes):
        if isinstance(item, ReadFailure):
            raise PropscanError(item.reason, source=item.source)
        articles.append(item)
    return articles


def iter_sources(sources: Iterable[str], *, allow_private: bool = False,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Article | ReadFailure]:
    """Every article of every source, in order, and a ReadFailure for each one that cannot be read."""
    for source in sources:
        if source.startswith(("http://", "https://")):
            yield _attempt(source, lambda s=source: _read_url(s, allow_private, max_bytes))
        elif source == STDIN:
            yield _attempt("<stdin>", lambda: _read_stdin(max_bytes))
        else:
            path = Path(source)
            if path.is_dir():
                yield from _iter_folder(path, allow_private=allow_private, max_bytes=max_bytes)
            elif not path.exists():
                yield ReadFailure(source, "no such file or directory")
            else:
                yield from _iter_file(path, allow_private=allow_private, max_bytes=max_bytes)


def _iter_folder(folder: Path, *, allow_private: bool, max_bytes: int) -> Iterator[Article | ReadFailure]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in FOLDER_SUFFIXES and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not files:
        yield ReadFailure(str(folder), f"no article files ({', '.join(sorted(FOLDER_SUFFIXES))}) in the folder")
    for path in files:
        yield from _iter_file(path, allow_private=allow_private, max_bytes=max_bytes)


def _iter_file(path: Path, *, allow_private: bool, max_bytes: int) -> Iterator[Article | ReadFailure]:
    suffix = path.suffix.lower()
    if suffix in CORPUS_SUFFIXES:
        from propscan.readers.corpus import iter_corpus

        yield from iter_corpus(path, allow_private=allow_private, max_bytes=max_bytes)
    else:
        yield _attempt(str(path), lambda: _read_file(path, max_bytes))


def _read_file(path: Path, max_bytes: int) -> Article:
    from propscan.readers.html import article_from_html, decode_html, looks_like_html, read_html_file
    from propscan.readers.text import article_id_for, decode, read_bytes, read_text_file

    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return read_html_file(path, max_bytes=max_bytes)
    if suffix in TEXT_SUFFIXES:
        return read_text_file(path, max_bytes=max_bytes)
    data = read_bytes(path, max_bytes)
    if looks_like_html(data[:1024].decode("latin-1")):
        return article_from_html(decode_html(data, str(path)), path=str(path), id=path.stem)
    return article_from_text(decode(data, str(path)), id=article_id_for(path),
                             source=Source(path=str(path), format="text"))


def _read_stdin(max_bytes: int) -> Article:
    from propscan.readers.html import article_from_html, decode_html, looks_like_html
    from propscan.readers.text import decode, read_at_most

    data = read_at_most(sys.stdin.buffer, max_bytes + 1)
    if len(data) > max_bytes:
        raise PropscanError(f"too large: over the limit of {max_bytes:,} bytes (raise it with --max-bytes)",
                            source="<stdin>")
    if not data.strip():
        raise PropscanError("the article is empty", source="<stdin>")
    if looks_like_html(data[:1024].decode("latin-1")):
        return article_from_html(decode_html(data, "<stdin>"), path="<stdin>")
    return article_from_text(decode(data, "<stdin>"), source=Source(path="<stdin>", format="text"))


def _read_url(url: str, allow_private: bool, max_bytes: int) -> Article:
    from propscan.readers.url import read_url

    return read_url(url, allow_private=allow_private, max_bytes=max_bytes)


def _attempt(source: str, read) -> Article | ReadFailure:
    try:
        return read()
    except PropscanError as e:
        return ReadFailure.of(source, e)
