"""Plain-text articles: PTC layout (``article<ID>.txt``: title, empty line, body) or any text file."""

from __future__ import annotations

import re
from pathlib import Path

from propscan.document import Article, Source
from propscan.errors import PropscanError

_PTC_NAME = re.compile(r"^article(\d+)\.txt$")


def title_of(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line.strip()
    return ""


def decode(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PropscanError("not UTF-8 text", source=source) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def article_id_for(path: Path) -> str:
    m = _PTC_NAME.match(path.name)
    return m.group(1) if m else path.stem


def read_text_file(path: Path) -> Article:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PropscanError(e.strerror or "cannot be read", source=str(path)) from None
    text = decode(data, str(path))
    if not text.strip():
        raise PropscanError("the article is empty", source=str(path))
    return Article(id=article_id_for(path), title=title_of(text), text=text,
                   source=Source(path=str(path), format="text"))
