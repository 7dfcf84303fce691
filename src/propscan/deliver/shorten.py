"""Quotes short enough for one line of a report: cut after a whole word and marked with an ellipsis."""

from __future__ import annotations

ELLIPSIS = "…"
# Left at the end of a cut quote these read as if more followed; the ellipsis says so already.
_TRAILING = " ,;:-–—"


def shorten(text: str, limit: int) -> str:
    """``text`` on one line in at most ``limit`` characters; cut, it ends with a whole word and "…".

    Runs of whitespace (line breaks too) become one space, so a quote never breaks a report line.
    A first word longer than the limit (a long URL, a run of text without spaces) is the one thing
    cut inside a word, since there is no boundary before the limit to cut at.
    """
    if limit < 2:
        raise ValueError(f"a quote needs room for a character and the ellipsis, not {limit}")
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    room = flat[:limit - 1]
    if flat[limit - 1] == " ":
        kept = room
    else:
        space = room.rfind(" ")
        kept = room[:space] if space > 0 else room
    return (kept.rstrip(_TRAILING) or kept) + ELLIPSIS
