"""Detect: the propaganda detector and the headline checker, loaded lazily once per process.

``PROPSCAN_MODEL`` chooses the detector (``lexicon`` for the fast word-list baseline); by default
the trained model shipped in ``propscan/weights`` is used when present.
"""

from __future__ import annotations

import os
from functools import cache, lru_cache

from propscan.errors import PropscanError
from propscan.models.base import Detector

DETECTORS = ("trained", "lexicon")


def load_detector(name: str | None = None) -> Detector:
    """The detector named (or chosen by PROPSCAN_MODEL), loaded once per process and shared."""
    name = name or os.environ.get("PROPSCAN_MODEL") or "trained"
    if name not in DETECTORS:
        raise PropscanError(f"unknown model {name!r}; choose one of {', '.join(DETECTORS)}")
    return _load(name)


@cache
def _load(name: str) -> Detector:
    from propscan.models.lexicon import LexiconDetector

    if name == "trained":
        try:
            from propscan.models.trained import TrainedDetector, shipped_model_exists
        except ImportError:
            return LexiconDetector()
        if shipped_model_exists():
            return TrainedDetector.load()
    return LexiconDetector()


@lru_cache(maxsize=1)
def load_headline_checker():
    """The shipped headline (stance) checker, or None when none is shipped."""
    from propscan.models.stance import WEIGHTS_DIR, load_stance_model

    if not (WEIGHTS_DIR / "stance.json").exists():
        return None
    return load_stance_model()
