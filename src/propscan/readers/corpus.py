"""Corpora: JSON Lines and CSV files with one article per line or row.

Fields: ``id``, ``title``, one of ``text`` / ``html`` / ``url``, and optional ``source`` (a URL or
a site name) and ``date``. A row with a ``title`` whose ``text`` does not start with it gets the
PTC layout (title, empty line, text), so the headline is analyzed with its body and every offset
points into the ``text`` that the results carry.

A bad row is reported, named ``file:line``, and the rest are read: a row that is not valid JSON or
CSV, nested too deeply, with a field that is not a string (``id`` and ``date`` may be numbers),
with text that is not text (``readers.text.check_text``: NUL characters, lone surrogates), or too
large. Files are streamed line by line, so a corpus may be far larger than memory: ``max_bytes``
applies to each article's text and HTML, and a line or row is read only up to ``ROW_LIMIT``
times ``max_bytes`` (room for its other fields and for escapes); past that it is skipped
without being held. A CSV quote left open fails its row, named by the line the row starts on,
and reading goes on from the line after it.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from propscan.document import Article, Source
from propscan.errors import PropscanError
from propscan.readers.failure import ReadFailure
from propscan.readers.text import DEFAULT_MAX_BYTES, READ_CHUNK, check_text, title_of

ROW_LIMIT = 4  # a line or row may be this many times max_bytes


def iter_corpus(path: Path, *, allow_private: bool = False,
                max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Article | ReadFailure]:
    """Every article of a .jsonl or .csv corpus, and a ReadFailure for each row that cannot be read."""
    try:
        handle = path.open("rb")
    except OSError as e:
        yield ReadFailure(str(path), f"cannot be read ({e.strerror or e})")
        return
    with handle:
        limit = ROW_LIMIT * max_bytes
        rows = _jsonl_rows(handle, limit, max_bytes) if path.suffix.lower() == ".jsonl" else \
            _csv_rows(handle, limit, max_bytes)
        count = 0
        for number, row in rows:
            where = f"{path}:{number}"
            try:
                if isinstance(row, str):
                    raise PropscanError(row)
                yield article_from_record(row, default_id=f"{path.stem}-{number}", where=where,
                                          allow_private=allow_private, max_bytes=max_bytes)
            except PropscanError as e:
                yield ReadFailure.within(where, e)
            count += 1
    if count == 0:
        yield ReadFailure(str(path), "the corpus holds no articles")


def article_from_record(row: dict, *, default_id: str, where: str, allow_private: bool = False,
                        max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """One corpus record (``id``, ``title``, ``text`` / ``html`` / ``url``, ``source``, ``date``)."""
    from propscan.readers.html import article_from_html
    from propscan.readers.text import normalize_newlines
    from propscan.readers.url import read_url

    def field(name: str, numbers: bool = False) -> str:
        value = row.get(name)
        if value is None:
            return ""
        if isinstance(value, str):
            return check_text(value, field=name)
        if numbers and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise PropscanError(f"{name} must be a string" + (" or a number" if numbers else "")
                            + f", not {_json_kind(value)}")

    article_id = field("id", numbers=True).strip() or default_id
    title, text, html, url = field("title").strip(), field("text"), field("html"), field("url").strip()
    for name, value in (("text", text), ("html", html)):
        if len(value.encode("utf-8")) > max_bytes:
            raise PropscanError(f"too large: the {name} is over the limit of {max_bytes:,} bytes "
                                "(raise it with --max-bytes)")
    origin = field("source").strip()
    date = field("date", numbers=True).strip() or None
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


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:  # spreadsheets often export Windows-1252
        return raw.decode("cp1252", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _too_large(what: str, limit: int, max_bytes: int) -> str:
    return (f"too large: the {what} is over {limit:,} bytes, {ROW_LIMIT} times the limit of {max_bytes:,} "
            "(raise it with --max-bytes)")


def _read_line(handle: BinaryIO, limit: int, state: _CsvState | None = None) -> tuple[bytes | None, bool] | None:
    """The next line of ``handle`` (None at the end) as (its bytes, or None when it is longer than
    ``limit``; whether it was read whole). A longer line is read on in pieces and dropped, so
    memory stays bounded; ``state``, when given, follows the CSV quoting through every byte."""
    line = handle.readline(limit + 1)
    if not line:
        return None
    if state is not None:
        state.feed(line)
    if len(line) <= limit:
        return line, True
    while not line.endswith(b"\n"):
        line = handle.readline(READ_CHUNK)
        if not line:
            break
        if state is not None:
            state.feed(line)
    return None, False


def _jsonl_rows(handle: BinaryIO, limit: int, max_bytes: int) -> Iterator[tuple[int, dict | str]]:
    number = 0
    while (read := _read_line(handle, limit)) is not None:
        number += 1
        raw, _ = read
        if raw is None:
            yield number, _too_large("line", limit, max_bytes)
            continue
        line = _decode_line(raw)
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            yield number, f"not valid JSON ({e.msg} at column {e.colno})"
            continue
        except RecursionError:
            yield number, "not valid JSON here: it is nested too deeply"
            continue
        yield number, row if isinstance(row, dict) else "not a JSON object"


class _CsvState:
    """Where a CSV reader is (excel dialect, as ``csv`` reads by default), followed over the bytes of
    a stream without keeping them: whether a record goes on to the next line (a quoted field is
    open), even through a row too long to hold."""

    START, UNQUOTED, QUOTED, QUOTE = range(4)  # QUOTE: a quote inside a quoted field, closing or doubled
    _STOP = re.compile(rb"[,\n]")

    def __init__(self) -> None:
        self.mode = self.START

    @property
    def in_quotes(self) -> bool:
        return self.mode == self.QUOTED

    def feed(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n:
            if self.mode == self.QUOTED:
                j = data.find(b'"', i)
                if j < 0:
                    return
                self.mode, i = self.QUOTE, j + 1
            elif self.mode == self.QUOTE:
                if data[i] == 0x22:  # a doubled quote stands for one
                    self.mode, i = self.QUOTED, i + 1
                else:
                    self.mode = self.UNQUOTED
            elif self.mode == self.START and data[i] == 0x22:
                self.mode, i = self.QUOTED, i + 1
            else:
                stop = self._STOP.search(data, i)
                if stop is None:
                    self.mode = self.UNQUOTED
                    return
                self.mode, i = self.START, stop.end()


def _csv_records(handle: BinaryIO, limit: int, max_bytes: int) -> Iterator[tuple[int, list[str] | str]]:
    """Each record (a row; a quoted field may carry it over several lines) as its lines, numbered by
    its last line as ``csv`` counts them; or, numbered the same, why it cannot be read. A quote left
    open to the end of the file fails the row it opens in, named by its first line, and reading
    goes on from the line after that one (a file that cannot seek ends there)."""
    seekable = handle.seekable()
    number = 0
    while True:
        state, lines, size, first, after_first = _CsvState(), [], 0, number + 1, None
        while (read := _read_line(handle, limit, state)) is not None:
            number += 1
            raw, _ = read
            if after_first is None and seekable:
                after_first = handle.tell()
            if raw is None or lines is None or size + len(raw) > limit:
                lines = None
            else:
                lines.append(raw)
                size += len(raw)
            if not state.in_quotes:
                break
        if number < first:
            return
        if state.in_quotes:
            yield first, (f"not valid CSV: the quote opened in the row on line {first:,} is never closed "
                          "(it runs to the end of the file)")
            if after_first is None or number == first:
                return
            handle.seek(after_first)
            number = first
        elif lines is None:
            yield number, _too_large("row", limit, max_bytes)
        else:
            yield number, [_decode_line(raw) for raw in lines]


def _csv_rows(handle: BinaryIO, limit: int, max_bytes: int) -> Iterator[tuple[int, dict | str]]:
    csv.field_size_limit(max(limit, csv.field_size_limit()))
    records = _csv_records(handle, limit, max_bytes)
    fields: list[str] | None = None
    for number, record in records:
        if isinstance(record, str):
            if fields is None:  # the header itself cannot be read: nothing else can be
                yield number, record
                return
            yield number, record
            continue
        try:
            # strict: a quote closed and then followed by more text is an error, not glued on (it is
            # what a quote left open does to the rows after it)
            parsed = list(csv.reader(record, strict=True))
        except csv.Error as e:
            first = number - len(record) + 1
            parsed = [f"not valid CSV ({e})" if first == number else
                      f"not valid CSV in the row on lines {first:,}-{number:,} ({e}; is a quote left open "
                      f"on line {first:,}?)"]
        if len(parsed) > 1:
            parsed = ["not valid CSV (a line break where a row cannot have one)"]
        values = parsed[0] if parsed else []
        if isinstance(values, str):
            yield number, values
            if fields is None:
                return
            continue
        if not values:  # a blank line, which csv.DictReader skips too
            continue
        if fields is None:
            fields = values
            if not {"text", "html", "url"} & set(fields):
                yield 1, "the CSV header has no text, html or url column"
                return
            continue
        row = dict(zip(fields, values, strict=False))
        row.update({name: None for name in fields[len(values):]})
        yield number, row
