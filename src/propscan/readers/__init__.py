"""Read: turn files, folders, URLs and pasted text into ``Article``s.

``read_source`` is the one entry point the pipeline, the CLI and the batch runner use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from propscan.document import Article, Source
from propscan.errors import PropscanError
from propscan.readers.text import read_text_file, title_of

TEXT_SUFFIXES = {".txt"}


def article_from_text(text: str, *, id: str | None = None, title: str | None = None,
                      source: Source | None = None) -> Article:
    """An article from pasted text: the first non-empty line is the title unless one is given."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PropscanError("the article is empty")
    return Article(id=id or content_id(text), title=title if title is not None else title_of(text),
                   text=text, source=source or Source(format="text"))


def content_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_source(source: str) -> list[Article]:
    """Every article in a file, a folder (recursively) or at a URL."""
    path = Path(source)
    if not path.exists():
        raise PropscanError("no such file or directory", source=source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        return [read_text_file(p) for p in files]
    return [read_text_file(path)]
