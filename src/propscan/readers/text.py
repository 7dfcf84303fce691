"""Plain-text articles and the decoding of bytes into text.

A ``.txt`` article is PTC layout (``article<ID>.txt``: title, empty line, body) or any text; its
first non-empty line is the title when it looks like a headline (``title_of``). Its ``text`` is
the file's text exactly, decoded and with CRLF / CR newlines turned into ``\\n`` (PTC files use
``\\n`` already, so their offsets stay valid).

Decoding, in order: a byte-order mark (UTF-8, UTF-16, UTF-32) decides; bytes with NULs or a known
binary signature are refused; strict UTF-8; then Windows-1252, which also decodes Latin-1 text
correctly (the two agree on every printable Latin-1 byte); charset-normalizer only for text that is
mostly non-ASCII (Cyrillic, Greek, CJK...), where Windows-1252 would give mojibake. The result must
look like text (almost no control characters) or it is refused.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from propscan.document import Article, Source, first_line_range
from propscan.errors import PropscanError
from propscan.headline import headline_problem

DEFAULT_MAX_BYTES = 5_000_000

_PTC_NAME = re.compile(r"^article(\d+)\.txt$")

# Leading bytes of common binary formats, so that the refusal can say what the file is.
_BINARY_SIGNATURES = {
    b"%PDF-": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (or Word/OpenDocument file)",
    b"\x1f\x8b": "a gzip archive",
    b"\x7fELF": "an executable",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office document",
}
_BOMS = (  # UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters other than tab, newlines, vertical tab and form feed: C0 and DEL, which binary
# data is full of. C1 controls (U+0080-U+009F) are left to the reports, which show them as symbols:
# in scraped text they are Windows-1252 quotes and dashes read as Latin-1 ("\x84Jung\x93" for
# „Jung“), a page's mistake that leaves its text readable.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def title_of(text: str) -> str:
    """The title of a plain text: its first non-empty line when that line looks like a headline
    (``propscan.headline``), else "" (the text has no title; its first line is body)."""
    found = first_line_range(text)
    if found is None:
        return ""
    line = text[found[0]:found[1]]
    return line if headline_problem(line) is None else ""


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode(data: bytes, source: str, *, charset: str | None = None) -> str:
    """Bytes as text with ``\\n`` newlines, or a PropscanError naming ``source`` and the reason.

    ``charset`` is a declared encoding (an HTTP header, an HTML meta tag); it is tried after a
    byte-order mark and before guessing.
    """
    text = _decode(data, source, charset)
    check_text(text, source)
    return normalize_newlines(text)


def check_text(text: str, source: str | None = None, *, field: str | None = None) -> str:
    """``text`` when it is text an article can hold, or a PropscanError saying why it is not.

    Every way in calls it (files and pages through ``decode``, pasted text, corpus fields), so the
    same characters are refused, with the same words, wherever they come from: NUL characters,
    lone surrogates (not Unicode: they cannot be stored or written), and control characters beyond
    a few. ``field`` names the part refused (a corpus row's "title", say).
    """
    what = f"the {field} is" if field else "it is"
    if "\x00" in text:
        raise PropscanError(f"not text: {what} binary data (it contains NUL characters)", source=source)
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise PropscanError(f"not text: {what} not valid Unicode (a lone surrogate, U+{ord(surrogate.group()):04X}, "
                            f"at character {surrogate.start():,})", source=source)
    if len(_CONTROL.findall(text)) > max(2, len(text) // 200):
        holds = f"the {field} holds" if field else "it holds"
        raise PropscanError(f"not text: {holds} control characters (binary data or an unknown encoding)",
                            source=source)
    return text


def _decode(data: bytes, source: str, charset: str | None) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise PropscanError(f"undecodable: it starts with a {encoding.upper().replace('-SIG', '')} "
                                    "byte-order mark but is not valid in that encoding", source=source) from None
    for signature, kind in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise PropscanError(f"binary file ({kind}), not text", source=source)
    if b"\x00" in data:
        raise PropscanError("binary file (it contains NUL bytes), not text", source=source)
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common on the web; fall back to detection
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    non_ascii = sum(1 for b in data if b >= 0x80)
    letters = non_ascii + sum(1 for b in data if 0x61 <= (b | 0x20) <= 0x7A)
    mostly_non_ascii = letters and non_ascii / letters > 0.3
    if not mostly_non_ascii:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.chaos < 0.2:
        return str(best)
    raise PropscanError("undecodable: not UTF-8, UTF-16, Windows-1252 or Latin-1 text, and no other "
                        "encoding fits", source=source)


READ_CHUNK = 1 << 16  # bytes read at a time from a stream of unknown length


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refused when it is missing, unreadable, empty or over ``max_bytes``.

    The limit holds while reading: at most ``max_bytes + 1`` bytes are read, whatever the file
    claims to be (a device, a named pipe or a file still growing has no size to trust).
    """
    try:
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            if stat.S_ISREG(status.st_mode) and status.st_size > max_bytes:  # refused before reading any
                raise PropscanError(f"too large: {status.st_size:,} bytes, over the limit of {max_bytes:,} "
                                    "(raise it with --max-bytes)", source=str(path))
            data = read_at_most(handle, max_bytes + 1)
    except FileNotFoundError:
        raise PropscanError("no such file or directory", source=str(path)) from None
    except IsADirectoryError:
        raise PropscanError("is a directory", source=str(path)) from None
    except OSError as e:
        raise PropscanError(f"cannot be read ({e.strerror or e})", source=str(path)) from None
    if len(data) > max_bytes:
        raise PropscanError(f"too large: over the limit of {max_bytes:,} bytes (raise it with --max-bytes)",
                            source=str(path))
    if not data.strip():
        raise PropscanError("the article is empty", source=str(path))
    return data


def read_at_most(handle: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes of a binary stream, read in pieces so that no more is ever asked for."""
    pieces: list[bytes] = []
    left = limit
    while left > 0:
        piece = handle.read(min(left, READ_CHUNK))
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def article_id_for(path: Path) -> str:
    m = _PTC_NAME.match(path.name)
    return m.group(1) if m else path.stem


def read_text_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    text = decode(read_bytes(path, max_bytes), str(path))
    if not text.strip():
        raise PropscanError("the article is empty", source=str(path))
    return Article(id=article_id_for(path), title=title_of(text), text=text,
                   source=Source(path=str(path), format="text"))
