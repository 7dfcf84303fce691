"""The detector interface that every propaganda model implements.

A detector takes a batch of prepared documents (text, sentence ranges, the headline's range) and
returns, for each, the technique-agnostic propaganda regions (task SI), the technique spans (task
FLC) and a calibrated probability per sentence. ``classify`` labels given spans (task TC).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class DetectInput:
    text: str
    sentences: list[tuple[int, int]]
    title: tuple[int, int] | None = None


@dataclass
class Region:
    start: int
    end: int
    confidence: float


@dataclass
class TechniqueSpan:
    start: int
    end: int
    technique: str
    confidence: float


@dataclass
class Detection:
    regions: list[Region] = field(default_factory=list)
    spans: list[TechniqueSpan] = field(default_factory=list)
    sentence_scores: list[float] = field(default_factory=list)


class Detector(Protocol):
    name: str
    # Reports show spans from this confidence on (the output keeps every decoded span).
    default_min_confidence: float

    def detect(self, docs: Sequence[DetectInput]) -> list[Detection]:
        """Regions, technique spans and sentence scores for each document."""
        ...

    def classify(self, doc: DetectInput, spans: Sequence[tuple[int, int]]) -> list[list[tuple[str, float]]]:
        """For each span, the techniques ranked from most to least likely, with probabilities."""
        ...


def release_freed_memory() -> None:
    """Hand memory freed by the C allocator back to the system (glibc's malloc_trim; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return
    trim(0)
