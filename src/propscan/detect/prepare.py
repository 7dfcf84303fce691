"""A document as the network reads it: tokenized once, its sentences as token ranges, and what
decoding asks of it (whole words, blank lines, the sentence that holds a span, the span head's inputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from propscan.detect.base import DetectInput
from propscan.detect.encoder import Encoded, encode_article
from propscan.detect.network import normalize, repeat_counts, span_features


@dataclass
class Prepared:
    """A document tokenized once, with its sentences as token ranges."""

    doc: DetectInput
    enc: Encoded
    sentence_tokens: list[tuple[int, int]]
    normalized: str

    @cached_property
    def words(self) -> Words:
        return Words(self.doc.text)

    @cached_property
    def blank_before(self) -> np.ndarray:
        """blank_before[i]: how many of the tokens before token i follow a blank line or left-out
        text (removed furniture, which the encoder never read); a run never crosses either."""
        text, starts, ends = self.doc.text, self.enc.starts, self.enc.ends
        blank = [False] + ["\n\n" in text[ends[i - 1]:starts[i]] for i in range(1, len(starts))]
        return np.concatenate([[0], np.cumsum(np.asarray(blank, dtype=bool) | self.enc.after_gap)])

    def sentences_of(self, starts: np.ndarray, ends: np.ndarray) -> list[tuple[int, int]]:
        """For each span, the sentence (or title) holding most of it; the span itself if none does.

        Of equal overlaps the first sentence wins, and the title only when it holds strictly more.
        Memory and time grow with spans + sentences, never with their product: the sentences are in
        order and do not overlap, so a span overlaps a run of consecutive ones, of which only the
        first and last can be cut; the longest of those in between comes from a range-maximum table.
        """
        starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        bounds = np.asarray(self.doc.sentences, dtype=np.int64).reshape(-1, 2)
        if len(bounds) > 1 and bool((bounds[1:, 0] < bounds[:-1, 1]).any()):
            raise ValueError("sentences must be in order and must not overlap")
        best_overlap = np.zeros(len(starts), dtype=np.int64)  # <= 0: no sentence holds any of the span
        chosen = np.stack([starts, ends], axis=1)
        if len(bounds):
            first = np.searchsorted(bounds[:, 1], starts, side="right")  # the first sentence ending after start
            stop = np.searchsorted(bounds[:, 0], ends, side="left")  # past the last one starting before end
            last = stop - 1
            best = np.minimum(first, len(bounds) - 1)
            best_overlap = np.where(stop > first, _overlap(bounds[best], starts, ends), 0)
            inner = _RangeMax(bounds[:, 1] - bounds[:, 0])
            has_inner = last - first >= 2
            k = inner.argmax(first + 1, np.maximum(last, first + 2))
            inner_overlap = bounds[k, 1] - bounds[k, 0]
            better = has_inner & (inner_overlap > best_overlap)
            best, best_overlap = np.where(better, k, best), np.where(better, inner_overlap, best_overlap)
            last = np.maximum(last, 0)
            last_overlap = _overlap(bounds[last], starts, ends)
            better = (last > first) & (last_overlap > best_overlap)
            best, best_overlap = np.where(better, last, best), np.where(better, last_overlap, best_overlap)
            found = best_overlap > 0
            chosen[found] = bounds[best[found]]
        if self.doc.title:
            title = np.asarray(self.doc.title, dtype=np.int64).reshape(1, 2)
            title_overlap = _overlap(title, starts, ends)
            better = (title_overlap > best_overlap) & (title_overlap > 0)
            chosen[better] = title[0]
        return [(int(s), int(e)) for s, e in chosen.tolist()]

    def span_inputs(self, spans: Sequence[tuple[int, int]]):
        """The span head's inputs for character spans: token ranges, their sentences' token ranges
        and the spans' features."""
        n = len(self.enc.ids)
        bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        sentences = self.sentences_of(bounds[:, 0], bounds[:, 1])
        sentence_bounds = np.asarray(sentences, dtype=np.int64).reshape(-1, 2)

        def token_ranges(b: np.ndarray) -> list[tuple[int, int]]:
            # As Encoded.tokens_in, for many ranges; a range gets at least one token.
            first = np.minimum(np.searchsorted(self.enc.ends, b[:, 0], side="right"), max(n - 1, 0))
            last = np.maximum(np.searchsorted(self.enc.starts, b[:, 1], side="left"), first + 1)
            return list(zip(first.tolist(), last.tolist(), strict=True))

        counts = repeat_counts([self.doc.text[start:end] for start, end in spans], self.normalized)
        features = [span_features(self.doc.text, start, end, sentence, self.doc.title, self.normalized, count)
                    for (start, end), sentence, count in zip(spans, sentences, counts, strict=True)]
        return (token_ranges(bounds), token_ranges(sentence_bounds),
                np.asarray(features, dtype=np.float32).reshape(len(spans), -1))


def _overlap(bounds: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many characters of each span [starts, ends) lie in its row of ``bounds`` (<= 0: none)."""
    return np.minimum(bounds[:, 1], ends) - np.maximum(bounds[:, 0], starts)


class _RangeMax:
    """The index of the largest value in ``values[a:b]`` (the first of equals), for many ranges at
    once: a sparse table of n log n indices, built once."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        self.levels = [np.arange(len(values))]
        width = 1
        while 2 * width <= len(values):
            below = self.levels[-1]
            left, right = below[:len(below) - width], below[width:]
            self.levels.append(np.where(values[right] > values[left], right, left))
            width *= 2

    def argmax(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For ranges with a < b <= len(values); other ranges get any index."""
        n = len(self.values)
        a = np.clip(a, 0, max(n - 1, 0))
        b = np.clip(b, a + 1, n)
        level = np.floor(np.log2(np.maximum(b - a, 1))).astype(np.int64)
        out = np.zeros(len(a), dtype=np.int64)
        for j in np.unique(level).tolist():
            rows = level == j
            table = self.levels[j]
            left, right = table[a[rows]], table[b[rows] - (1 << j)]
            # On equal values the left block's first maximum comes no later than the right one's.
            out[rows] = np.where(self.values[right] > self.values[left], right, left)
        return out


def prepare(tokenizer, doc: DetectInput, also: Sequence[tuple[int, int]] = ()) -> Prepared:
    """A document as the network reads it: its sentences and title, and the spans in ``also`` (spans
    to classify, which the model reads even where they lie in removed text)."""
    sentences = list(doc.sentences)
    if doc.title and doc.title not in sentences:
        sentences = [doc.title] + sentences
    enc = encode_article(tokenizer, doc.text, sentences, also)
    sentence_tokens = [enc.tokens_in(s, e) for s, e in doc.sentences]
    return Prepared(doc, enc, sentence_tokens, normalize(doc.text))


class Words:
    """Where each character's word starts and ends, found once per text, so that widening a run to
    whole words does not walk the characters again for every run (a run in a hyphenated chain
    thousands of characters long would). A word is letters and digits; a hyphen or apostrophe
    between two of them ("hard-working", "nation's") does not end it."""

    def __init__(self, text: str) -> None:
        n = len(text)
        alnum = np.fromiter((c.isalnum() for c in text), dtype=bool, count=n)
        joiner = np.fromiter((c in "-'’" for c in text), dtype=bool, count=n)
        joiner[[0, -1] if n else []] = False
        joiner[1:-1] &= alnum[:-2] & alnum[2:]
        self.inside = alnum | joiner
        positions = np.arange(n, dtype=np.int64)
        # A word's first character: one past the last character before it that is not in a word;
        # its end: the first character after it that is not in one.
        self.first = np.maximum.accumulate(np.where(self.inside, 0, positions + 1)) if n else positions
        self.end = np.minimum.accumulate(np.where(self.inside, n, positions)[::-1])[::-1] if n else positions

    def widen(self, start: int, end: int) -> tuple[int, int]:
        """[start, end) widened to whole words."""
        if start > 0 and self.inside[start - 1]:
            start = int(self.first[start - 1])
        if end < len(self.inside) and self.inside[end]:
            end = int(self.end[end])
        return start, end

