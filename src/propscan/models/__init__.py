"""Detect: the propaganda detector and the headline checker, loaded lazily once per process."""

from __future__ import annotations

from functools import lru_cache

from propscan.models.base import Detector


@lru_cache(maxsize=1)
def load_detector() -> Detector:
    """The shipped detector."""
    from propscan.models.lexicon import LexiconDetector

    return LexiconDetector()


@lru_cache(maxsize=1)
def load_headline_checker():
    """The shipped headline (stance) checker, or None when none is shipped."""
    return None
