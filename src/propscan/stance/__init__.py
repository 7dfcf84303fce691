"""The headline check: the stance model (``model``), FNC-1 files (``fnc1``) and the loader the pipeline uses.

Inference only: nothing here imports ``propscan.training`` or the pipeline above it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from propscan.detect import ONNX_HINT, REINSTALL_HINT, STANCE_FILES, TORCH_HINT, first_line, require_files, weights_dir
from propscan.errors import PropscanError


def load_headline_checker():
    """The headline (stance) checker, loaded once per process; a PropscanError when it cannot be."""
    return _headline_checker(weights_dir() / "stance")


@cache
def _headline_checker(directory: Path):
    try:
        from propscan.stance.model import StanceModel
        from propscan.stance.reader import StanceReader  # noqa: F401  (torch: the reader needs it)
    except ImportError as e:
        raise PropscanError(f"the headline checker cannot be loaded: {first_line(e)}; {TORCH_HINT}") from None
    try:
        import onnxruntime  # noqa: F401  (the reader runs in it)
    except ImportError as e:
        raise PropscanError(f"the headline checker cannot be loaded: {first_line(e)}; {ONNX_HINT}") from None
    require_files(directory, STANCE_FILES, "no headline checker", hint=REINSTALL_HINT)
    try:
        return StanceModel.load(directory)
    except PropscanError:
        raise
    except Exception as e:  # a corrupt file: numpy's and json's errors mean the same to the user
        raise PropscanError(f"the headline checker in {directory} cannot be loaded ({type(e).__name__}: "
                            f"{first_line(e)})") from None
