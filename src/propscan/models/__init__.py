"""Detect: the propaganda detector and the headline checker, loaded lazily once per process.

``PROPSCAN_MODEL`` chooses the detector: ``trained`` (the default, the model shipped in
``propscan/weights``) or ``lexicon`` (the fast word-list baseline). The word-list detector is used only
when asked for: trained weights that cannot be loaded are an error, never a silent fallback, so a
result always comes from the detector the user expects. ``PROPSCAN_WEIGHTS_DIR`` points both loaders
at another folder laid out like ``propscan/weights`` (the detector's files, and ``stance/``).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from propscan.errors import PropscanError
from propscan.models.base import Detector

DETECTORS = ("trained", "lexicon")
SHIPPED_WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
LEXICON_HINT = "PROPSCAN_MODEL=lexicon selects the word-list detector instead"


def weights_dir() -> Path:
    """The folder the models are loaded from: ``PROPSCAN_WEIGHTS_DIR``, else the shipped weights."""
    return Path(os.environ.get("PROPSCAN_WEIGHTS_DIR") or SHIPPED_WEIGHTS_DIR)


def load_detector(name: str | None = None) -> Detector:
    """The detector named (or chosen by PROPSCAN_MODEL), loaded once per process and shared."""
    name = name or os.environ.get("PROPSCAN_MODEL") or "trained"
    if name not in DETECTORS:
        raise PropscanError(f"unknown model {name!r}; choose one of {', '.join(DETECTORS)}")
    if name == "lexicon":
        return _lexicon()
    return _trained(weights_dir())


@cache
def _lexicon() -> Detector:
    from propscan.models.lexicon import LexiconDetector

    return LexiconDetector()


@cache
def _trained(directory: Path) -> Detector:
    try:
        from propscan.models.trained import CONFIG_FILE, WEIGHTS_FILE, TrainedDetector
    except ImportError as e:
        raise PropscanError(f"the trained model cannot be loaded: {_first_line(e)} (torch and transformers "
                            f"are needed); {LEXICON_HINT}") from None
    missing = [name for name in (WEIGHTS_FILE, CONFIG_FILE) if not (directory / name).is_file()]
    if missing:
        raise PropscanError(f"no trained model in {directory} ({' and '.join(missing)} missing); {LEXICON_HINT}")
    try:
        return TrainedDetector.load(directory)
    except Exception as e:  # a corrupt or mismatched file: any reader's error means the same to the user
        raise PropscanError(f"the trained model in {directory} cannot be loaded ({type(e).__name__}: "
                            f"{_first_line(e)}); {LEXICON_HINT}") from None


def load_headline_checker():
    """The headline (stance) checker, loaded once per process; a PropscanError when it cannot be."""
    return _headline_checker(weights_dir() / "stance")


@cache
def _headline_checker(directory: Path):
    try:
        from propscan.models.stance import StanceModel
    except ImportError as e:
        raise PropscanError(f"the headline checker cannot be loaded: {_first_line(e)}") from None
    missing = [name for name in ("stance.json", "stance.npz") if not (directory / name).is_file()]
    if missing:
        raise PropscanError(f"no headline checker in {directory} ({' and '.join(missing)} missing); "
                            "reinstall propscan or set PROPSCAN_WEIGHTS_DIR to a model folder")
    try:
        return StanceModel.load(directory)
    except PropscanError:
        raise
    except Exception as e:  # a corrupt file: numpy's and json's errors mean the same to the user
        raise PropscanError(f"the headline checker in {directory} cannot be loaded ({type(e).__name__}: "
                            f"{_first_line(e)})") from None


def _first_line(error: BaseException) -> str:
    """An error's message cut to its first line, so the CLI's message stays one line."""
    return (str(error).strip().splitlines() or [""])[0]
