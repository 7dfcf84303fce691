"""Sentence segmentation with character offsets.

Lines are hard boundaries (news text, and the PTC layout, keep one paragraph or sentence per
line); within a line, a sentence ends at ., ! or ? (optionally followed by a closing quote or
bracket) when whitespace and an upper-case letter, digit or opening quote follow. Removed page
furniture is cut out: a sentence is what is left of it outside the removed ranges (furniture glued
into a line, such as a dateline after the headline, leaves the rest of the line as a sentence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_LINE = re.compile(r"[^\n]+")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])")
# Abbreviations after which a full stop does not end a sentence.
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Gen|Col|Lt|Sgt|Rep|Sen|Gov|No|vs|U\.S|U\.K|"
                     r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Inc|Corp|Ltd|Co|[A-Z])\.$")


def parts_outside(start: int, end: int, removed: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``start``-``end`` that no removed range covers."""
    pieces = [(start, end)]
    for r_start, r_end in removed:
        if r_start < end and start < r_end:
            pieces = [part for p_start, p_end in pieces
                      for part in ((p_start, min(p_end, r_start)), (max(p_start, r_end), p_end)) if part[0] < part[1]]
    return pieces


def sentence_ranges(text: str, removed: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """(start, end) of every sentence in ``text`` outside ``removed``, stripped of surrounding whitespace."""
    ranges: list[tuple[int, int]] = []
    removed = sorted(removed)
    first = 0  # the removed ranges before this one end before the line (they do not overlap)
    for line in _LINE.finditer(text):
        while first < len(removed) and removed[first][1] <= line.start():
            first += 1
        in_line, after = [], first
        while after < len(removed) and removed[after][0] < line.end():
            in_line.append(removed[after])
            after += 1
        cuts = [line.start()]
        for m in _BOUNDARY.finditer(text, line.start(), line.end()):
            if not _ABBREV.search(text, max(cuts[-1], m.start() - 12), m.start()):
                cuts.append(m.end())
        cuts.append(line.end())
        for cut_start, cut_end in zip(cuts, cuts[1:], strict=False):
            for start, end in parts_outside(cut_start, cut_end, in_line):
                while start < end and text[start].isspace():
                    start += 1
                while end > start and text[end - 1].isspace():
                    end -= 1
                if start < end:
                    ranges.append((start, end))
    return ranges
