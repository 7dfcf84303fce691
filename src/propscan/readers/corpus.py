"""Corpora: JSON Lines and CSV files with one article per line or row.

Fields: ``id``, ``title``, one of ``text`` / ``html`` / ``url``, and optional ``source`` (a URL or
a site name) and ``date``. A row with a ``title`` whose ``text`` does not start with it gets the
PTC layout (title, empty line, text), so the headline is analyzed with its body and every offset
points into the ``text`` that the results carry. A bad row is reported and the rest are read.
Files are streamed line by line: a corpus may be far larger than memory; ``max_bytes`` applies to
each article.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from propscan.document import Article, Source
from propscan.errors import PropscanError
from propscan.readers.failure import ReadFailure
from propscan.readers.text import DEFAULT_MAX_BYTES, title_of


def iter_corpus(path: Path, *, allow_private: bool = False,
                max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Article | ReadFailure]:
    """Every article of a .jsonl or .csv corpus, and a ReadFailure for each row that cannot be read."""
    try:
        handle = path.open("rb")
    except OSError as e:
        yield ReadFailure(str(path), f"cannot be read ({e.strerror or e})")
        return
    with handle:
        lines = (_decode_line(raw) for raw in handle)
        rows = _jsonl_rows(lines) if path.suffix.lower() == ".jsonl" else _csv_rows(lines, max_bytes)
        count = 0
        for number, row in rows:
            where = f"{path}:{number}"
            try:
                if isinstance(row, str):
                    raise PropscanError(row)
                yield article_from_record(row, default_id=f"{path.stem}-{number}", where=where,
                                          allow_private=allow_private, max_bytes=max_bytes)
            except PropscanError as e:
                yield ReadFailure(where, str(e))
            count += 1
    if count == 0:
        yield ReadFailure(str(path), "the corpus holds no articles")


def article_from_record(row: dict, *, default_id: str, where: str, allow_private: bool = False,
                        max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """One corpus record (``id``, ``title``, ``text`` / ``html`` / ``url``, ``source``, ``date``)."""
    from propscan.readers.html import article_from_html
    from propscan.readers.text import normalize_newlines
    from propscan.readers.url import read_url

    def field(name: str) -> str:
        value = row.get(name)
        return "" if value is None else str(value)

    article_id = field("id").strip() or default_id
    title, text, html, url = field("title").strip(), field("text"), field("html"), field("url").strip()
    for name, value in (("text", text), ("html", html)):
        if len(value.encode("utf-8")) > max_bytes:
            raise PropscanError(f"too large: the {name} is over the limit of {max_bytes:,} bytes "
                                "(raise it with --max-bytes)")
    origin = field("source").strip()
    date = field("date").strip() or None
    if text.strip():
        text = normalize_newlines(text)
        if title and title_of(text) != title:
            text = f"{title}\n\n{text}"
        article = Article(id=article_id, title=title or title_of(text), text=text,
                          source=Source(format="corpus", date=date))
    elif html.strip():
        page_url = url or (origin if origin.startswith(("http://", "https://")) else "")
        article = article_from_html(html, url=page_url or None, id=article_id, path=where)
    elif url:
        article = read_url(url, allow_private=allow_private, max_bytes=max_bytes).model_copy(
            update={"id": article_id})
    else:
        raise PropscanError("the record has no text, html or url (or they are empty)")
    source = article.source.model_copy()
    source.path = where
    if origin.startswith(("http://", "https://")):
        source.url = source.url or origin
    elif origin:
        source.site = origin
    source.date = source.date or date
    return article.model_copy(update={"source": source})


def _decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:  # spreadsheets often export Windows-1252
        return raw.decode("cp1252", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _jsonl_rows(lines: Iterator[str]) -> Iterator[tuple[int, dict | str]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            yield number, f"not valid JSON ({e.msg} at column {e.colno})"
            continue
        yield number, row if isinstance(row, dict) else "not a JSON object"


def _csv_rows(lines: Iterator[str], max_bytes: int) -> Iterator[tuple[int, dict | str]]:
    csv.field_size_limit(max(max_bytes, csv.field_size_limit()))
    reader = csv.DictReader(lines)
    if not {"text", "html", "url"} & set(reader.fieldnames or ()):
        yield 1, "the CSV header has no text, html or url column"
        return
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as e:
        yield reader.line_num, f"not valid CSV ({e})"
