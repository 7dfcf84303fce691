"""Sentence segmentation with character offsets.

Lines are hard boundaries (news text, and the PTC layout, keep one paragraph or sentence per
line); within a line, a sentence ends at ., ! or ? (optionally followed by a closing quote or
bracket) when whitespace and an upper-case letter, digit or opening quote follow. Ranges inside
removed page furniture are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_LINE = re.compile(r"[^\n]+")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])")
# Abbreviations after which a full stop does not end a sentence.
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Gen|Col|Lt|Sgt|Rep|Sen|Gov|No|vs|U\.S|U\.K|"
                     r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Inc|Corp|Ltd|Co|[A-Z])\.$")


def _overlaps(start: int, end: int, removed: Sequence[tuple[int, int]]) -> bool:
    return any(start < r_end and r_start < end for r_start, r_end in removed)


def sentence_ranges(text: str, removed: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """(start, end) of every sentence in ``text``, stripped of surrounding whitespace."""
    ranges: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        cuts = [line.start()]
        for m in _BOUNDARY.finditer(text, line.start(), line.end()):
            if not _ABBREV.search(text, max(cuts[-1], m.start() - 12), m.start()):
                cuts.append(m.end())
        cuts.append(line.end())
        for start, end in zip(cuts, cuts[1:], strict=False):
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start < end and not _overlaps(start, end, removed):
                ranges.append((start, end))
    return ranges
