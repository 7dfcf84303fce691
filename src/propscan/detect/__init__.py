"""Detect: propaganda inference (encoder, network, one ``decode``, the detector), loaded lazily once per process.

``PROPSCAN_MODEL`` chooses the detector: ``trained`` (the default, the model shipped in
``propscan/weights``) or ``lexicon`` (the fast word-list baseline). The word-list detector is used only
when asked for: trained weights that cannot be loaded are an error, never a silent fallback, so a
result always comes from the detector the user expects. ``PROPSCAN_WEIGHTS_DIR`` points both loaders
at another folder laid out like ``propscan/weights`` (the detector's files, and ``stance/``, which
``propscan.stance`` loads).

Inference only: nothing here imports ``propscan.training`` or the pipeline above it.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from propscan.detect.base import Detector
from propscan.errors import PropscanError

DETECTORS = ("trained", "lexicon")
SHIPPED_WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
LEXICON_HINT = "PROPSCAN_MODEL=lexicon selects the word-list detector instead"
REINSTALL_HINT = "reinstall propscan or set PROPSCAN_WEIGHTS_DIR to a model folder"
# Both the trained detector and the headline checker's reader run on torch, so the word-list detector
# is no way around a missing torch.
TORCH_HINT = "torch and transformers are needed (pip install torch==2.13.0, then reinstall propscan)"
# Both networks run in ONNX Runtime too, so the word-list detector is no way around a missing one.
ONNX_HINT = "the networks run in ONNX Runtime (reinstall propscan to install onnxruntime)"
# The trained detector's files, as detect.detector names them (that module imports torch, which
# check_models must not).
_WEIGHTS_FILE, _CONFIG_FILE, _ENCODER_FILE = "propaganda.safetensors", "propaganda.json", "propaganda-encoder.onnx"
_DETECTOR_FILES = (_WEIGHTS_FILE, _CONFIG_FILE, _ENCODER_FILE)
STANCE_FILES = ("stance.json", "stance.npz", "stance-reader.onnx")


def weights_dir() -> Path:
    """The folder the models are loaded from: ``PROPSCAN_WEIGHTS_DIR``, else the shipped weights."""
    return Path(os.environ.get("PROPSCAN_WEIGHTS_DIR") or SHIPPED_WEIGHTS_DIR)


def load_detector(name: str | None = None) -> Detector:
    """The detector named (or chosen by PROPSCAN_MODEL), loaded once per process and shared."""
    name = _detector_name(name)
    if name == "lexicon":
        return _lexicon()
    return _trained(weights_dir())


def check_models(name: str | None = None) -> None:
    """Raise the PropscanError that loading the models would raise for missing files or libraries,
    without loading them: for a process that starts workers which load them (``propscan batch``),
    so the user reads the reason once rather than a worker's crash."""
    from importlib.util import find_spec

    def importable(module: str) -> bool:
        try:
            return find_spec(module) is not None
        except (ImportError, ValueError):  # a module set to None in sys.modules: blocked
            return False

    directory = weights_dir()
    for module in ("torch", "transformers", "safetensors"):
        if not importable(module):
            raise PropscanError(f"the models cannot be loaded: no module named {module!r}; {TORCH_HINT}")
    if not importable("onnxruntime"):
        raise PropscanError(f"the models cannot be loaded: no module named 'onnxruntime'; {ONNX_HINT}")
    if _detector_name(name) == "trained":
        require_files(directory, _DETECTOR_FILES, "no trained model", hint=LEXICON_HINT)
    require_files(directory / "stance", STANCE_FILES, "no headline checker", hint=REINSTALL_HINT)


def _detector_name(name: str | None) -> str:
    name = name or os.environ.get("PROPSCAN_MODEL") or "trained"
    if name not in DETECTORS:
        raise PropscanError(f"unknown model {name!r}; choose one of {', '.join(DETECTORS)}")
    return name


@cache
def _lexicon() -> Detector:
    from propscan.detect.lexicon import LexiconDetector

    return LexiconDetector()


@cache
def _trained(directory: Path) -> Detector:
    try:
        from propscan.detect.detector import TrainedDetector
    except ImportError as e:
        raise PropscanError(f"the trained model cannot be loaded: {first_line(e)}; {TORCH_HINT}") from None
    require_files(directory, _DETECTOR_FILES, "no trained model", hint=LEXICON_HINT)
    try:
        return TrainedDetector.load(directory)
    except ImportError as e:  # its encoder's runtime
        raise PropscanError(f"the trained model cannot be loaded: {first_line(e)}; {ONNX_HINT}") from None
    except PropscanError as e:  # decode settings that are unknown, mistyped or out of range
        raise PropscanError(f"the trained model in {directory} cannot be loaded: {e}; {LEXICON_HINT}") from None
    except Exception as e:  # a corrupt or mismatched file: any reader's error means the same to the user
        raise PropscanError(f"the trained model in {directory} cannot be loaded ({type(e).__name__}: "
                            f"{first_line(e)}); {LEXICON_HINT}") from None


def require_files(directory: Path, names: tuple[str, ...], what: str, *, hint: str) -> None:
    missing = [name for name in names if not (directory / name).is_file()]
    if missing:
        raise PropscanError(f"{what} in {directory} ({' and '.join(missing)} missing); {hint}")


def first_line(error: BaseException) -> str:
    """An error's message cut to its first line, so the CLI's message stays one line."""
    return (str(error).strip().splitlines() or [""])[0]
