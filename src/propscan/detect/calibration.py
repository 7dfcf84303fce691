"""Span confidence as a calibrated probability that the span is a correct technique span.

The decoder's raw span score (the technique tokens' mean score weighed with the verifier's vote) ranks
spans, but it is not a probability: on the held-out development articles, spans scored 0.5 to 0.6 were
right about 30% of the time. A small logistic model maps each decoded span's raw score and a few facts
about it (its length, whether it recurs, whether it is in the headline, how sure the span-finding head
and its sentence are, how much of it is capitalised names, its technique) to the probability that it
is a correct span of its technique, fitted on held-out articles (``propscan.training.calibration``).

"Correct" is measured as SemEval's FLC scorer gives credit: the share of the span's characters that a
gold span of the same technique covers. So, among spans given 0.6, about 60% of their characters lie
in gold spans of their technique, and precision at a threshold is the mean calibrated confidence above it.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from propscan.detect.network import repeat_count, repeat_counts
from propscan.taxonomy import TECHNIQUE_IDS

FEATURES = ("raw_logit", "log_length", "repeats", "in_title", "region_confidence", "sentence_score",
            "capitalised_share", "words", "quoted", *(f"technique={t}" for t in TECHNIQUE_IDS))
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


class _ScoredRanges:
    """Character ranges with a score each, for the highest score among those overlapping a span; in
    logarithmic time when they are disjoint, as sentences and decoded regions are (an article may have
    thousands of sentences and decoded spans)."""

    def __init__(self, ranges: Sequence[tuple[int, int, float]]) -> None:
        ordered = sorted(ranges)
        self.starts = [s for s, _, _ in ordered]
        self.ends = [e for _, e, _ in ordered]
        self.scores = [v for _, _, v in ordered]
        self.disjoint = all(a <= b for a, b in zip(self.ends, self.starts[1:], strict=False))

    def overlapping_max(self, start: int, end: int) -> float:
        stop = bisect_left(self.starts, end)  # ranges from here on start at or after the span's end
        if self.disjoint:  # then the ranges overlapping [start, end) are one run of them
            return max(self.scores[bisect_right(self.ends, start):stop], default=0.0)
        return max((v for e, v in zip(self.ends[:stop], self.scores[:stop], strict=True) if e > start),
                   default=0.0)


@dataclass(frozen=True)
class SpanContext:
    """What the calibration reads about one decoded span's surroundings."""

    text: str
    normalized: str
    title: tuple[int, int] | None
    regions: Sequence[tuple[int, int, float]]
    sentences: Sequence[tuple[int, int]]
    sentence_scores: Sequence[float]

    @cached_property
    def scored_regions(self) -> _ScoredRanges:
        return _ScoredRanges(self.regions)

    @cached_property
    def scored_sentences(self) -> _ScoredRanges:
        return _ScoredRanges([(s, e, p) for (s, e), p in zip(self.sentences, self.sentence_scores, strict=True)])


def span_features(ctx: SpanContext, start: int, end: int, technique: str, raw: float,
                  repeats: int | None = None) -> list[float]:
    """The calibration's features of one decoded span (``repeats``: its ``repeat_count``, when known)."""
    fragment = ctx.text[start:end]
    if repeats is None:
        repeats = repeat_count(fragment, ctx.normalized)
    raw = min(max(raw, 1e-4), 1 - 1e-4)
    words = _WORD.findall(fragment)
    around = ctx.text[max(0, start - 1):end + 1]
    return [
        math.log(raw / (1 - raw)),
        math.log(max(1, end - start)),
        float(min(repeats, 5)),
        float(ctx.title is not None and start < ctx.title[1] and ctx.title[0] < end),
        ctx.scored_regions.overlapping_max(start, end),
        ctx.scored_sentences.overlapping_max(start, end),
        sum(w[0].isupper() for w in words) / len(words) if words else 0.0,
        float(len(words)),
        float(any(q in around for q in "\"“”")),
        *(float(technique == t) for t in TECHNIQUE_IDS),
    ]


@dataclass(frozen=True)
class Calibrator:
    """A logistic model over ``FEATURES``; ``default_min_confidence`` is where reports start."""

    coef: tuple[float, ...]
    intercept: float
    default_min_confidence: float

    @classmethod
    def from_config(cls, config: dict) -> Calibrator:
        if list(config["features"]) != list(FEATURES):
            raise ValueError("the calibration was fitted on other features than this code computes")
        return cls(tuple(float(c) for c in config["coef"]), float(config["intercept"]),
                   float(config["default_min_confidence"]))

    def to_config(self) -> dict:
        return {"features": list(FEATURES), "coef": list(self.coef), "intercept": self.intercept,
                "default_min_confidence": self.default_min_confidence}

    def probability(self, features: Sequence[float]) -> float:
        z = self.intercept + sum(c * x for c, x in zip(self.coef, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def span_repeats(ctx: SpanContext, spans: Sequence[tuple[int, int]]) -> list[int]:
    """``repeat_count`` of many spans of one article, at once (linear in its length)."""
    return repeat_counts([ctx.text[start:end] for start, end in spans], ctx.normalized)


def recurs(fragment: str, normalized_text: str) -> bool:
    """Whether the fragment's words occur at least twice in the article: Repetition needs that."""
    return repeat_count(fragment, normalized_text) >= 2
