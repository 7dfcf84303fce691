"""Loud failures: weights that cannot be loaded stop the run with one line, never a silent fallback.

The word-list detector runs only when asked for (PROPSCAN_MODEL=lexicon). The loaders are pointed at
other folders with PROPSCAN_WEIGHTS_DIR, and the CLI runs as a user runs it: a real process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_foundation import assert_one_line_error

import propscan
from propscan.detect import SHIPPED_WEIGHTS_DIR

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "harbour-bridge.txt"


def run_cli(*args: str, blocked: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
    """``propscan ARGS`` in a new process; ``blocked`` modules fail to import there, as when not installed."""
    code = "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    program = f"import sys\n{code}from propscan.cli import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


@pytest.fixture
def stance_only(tmp_path) -> Path:
    """A weights folder with the headline checker but no trained detector."""
    folder = tmp_path / "weights"
    shutil.copytree(SHIPPED_WEIGHTS_DIR / "stance", folder / "stance")
    return folder


def test_no_trained_weights_is_one_line_naming_the_files_and_the_lexicon_switch(tmp_path):
    result = run_cli("analyze", str(EXAMPLE), PROPSCAN_WEIGHTS_DIR=str(tmp_path), PROPSCAN_MODEL="")
    assert_one_line_error(result, str(tmp_path), "propaganda.safetensors", "PROPSCAN_MODEL=lexicon")
    assert result.stdout == ""


@pytest.mark.parametrize("corrupt", ["propaganda.safetensors", "propaganda-encoder.onnx"])
def test_corrupt_trained_weights_are_one_line(stance_only, corrupt):
    for name in ("propaganda.json", "propaganda.safetensors", "propaganda-encoder.onnx"):
        shutil.copy(SHIPPED_WEIGHTS_DIR / name, stance_only)
    (stance_only / corrupt).write_bytes(b"not a model file")
    result = run_cli("analyze", str(EXAMPLE), PROPSCAN_WEIGHTS_DIR=str(stance_only), PROPSCAN_MODEL="trained")
    assert_one_line_error(result, "cannot be loaded", "PROPSCAN_MODEL=lexicon")


@pytest.mark.parametrize("model", ["trained", "lexicon"])
def test_onnx_runtime_that_cannot_be_imported_is_one_line(model):
    # The headline checker's reader runs in it too: the word-list detector is no way around it.
    result = run_cli("analyze", str(EXAMPLE), blocked=("onnxruntime",), PROPSCAN_MODEL=model)
    assert_one_line_error(result, "onnxruntime", "cannot be loaded", "reinstall propscan")


def test_torch_that_cannot_be_imported_is_one_line():
    result = run_cli("analyze", str(EXAMPLE), blocked=("torch",), PROPSCAN_MODEL="trained")
    assert_one_line_error(result, "torch", "pip install torch")


def test_the_word_list_detector_still_needs_torch_for_the_headline_checker():
    result = run_cli("analyze", str(EXAMPLE), blocked=("torch",), PROPSCAN_MODEL="lexicon")
    assert_one_line_error(result, "headline checker", "torch", "pip install torch")
    fnc1 = Path(__file__).parent / "fixtures" / "fnc1"
    result = run_cli("stance", str(fnc1 / "stances.csv"), str(fnc1 / "bodies.csv"), blocked=("torch",))
    assert_one_line_error(result, "headline checker", "torch")


def test_no_headline_checker_is_one_line(tmp_path):
    result = run_cli("analyze", str(EXAMPLE), PROPSCAN_WEIGHTS_DIR=str(tmp_path), PROPSCAN_MODEL="lexicon")
    assert_one_line_error(result, "headline checker", "stance.json")


def test_the_word_list_detector_runs_when_asked_for(stance_only):
    result = run_cli("analyze", str(EXAMPLE), "--json", PROPSCAN_WEIGHTS_DIR=str(stance_only),
                     PROPSCAN_MODEL="lexicon")
    assert result.returncode == 0, result.stderr
    assert '"model":"lexicon"' in result.stdout.replace(" ", "")


def test_the_python_api_raises_a_propscan_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PROPSCAN_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.delenv("PROPSCAN_MODEL", raising=False)
    with pytest.raises(propscan.PropscanError, match="PROPSCAN_MODEL=lexicon"):
        propscan.analyze("Some article text that will not be analyzed.")


def test_check_models_says_the_same_without_loading(tmp_path, monkeypatch, stance_only):
    from propscan.detect import check_models
    from propscan.detect.detector import CONFIG_FILE, ENCODER_FILE, WEIGHTS_FILE

    monkeypatch.setenv("PROPSCAN_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(propscan.PropscanError, match=f"{WEIGHTS_FILE} and {CONFIG_FILE} and {ENCODER_FILE} missing"):
        check_models("trained")
    with pytest.raises(propscan.PropscanError, match="no headline checker"):
        check_models("lexicon")
    with pytest.raises(propscan.PropscanError, match="unknown model"):
        check_models("bigger")
    monkeypatch.setenv("PROPSCAN_WEIGHTS_DIR", str(stance_only))
    check_models("lexicon")
    monkeypatch.delenv("PROPSCAN_WEIGHTS_DIR")
    check_models("trained")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    for model in ("trained", "lexicon"):  # the headline checker's reader runs in ONNX Runtime too
        with pytest.raises(propscan.PropscanError, match="'onnxruntime'.*reinstall propscan"):
            check_models(model)
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(propscan.PropscanError, match="'transformers'"):
        check_models("trained")


@pytest.mark.parametrize("command", [["batch", "ARTICLE", "--db", "DB"], ["serve", "--port", "1"]])
def test_batch_and_serve_without_weights_stop_with_one_line(tmp_path, command):
    article = tmp_path / "a.txt"
    article.write_text("Headline\n\nA body sentence.\n")
    args = [str(article) if a == "ARTICLE" else str(tmp_path / "s.db") if a == "DB" else a for a in command]
    empty = tmp_path / "weights"
    empty.mkdir()
    result = subprocess.run([sys.executable, "-m", "propscan.cli", *args], capture_output=True, text=True,
                            env={**os.environ, "PROPSCAN_WEIGHTS_DIR": str(empty)}, timeout=120)
    assert_one_line_error(result, "PROPSCAN_MODEL=lexicon")


def test_a_missing_stance_reader_is_one_line_naming_it(stance_only):
    (stance_only / "stance" / "stance-reader.onnx").unlink()
    result = run_cli("analyze", str(EXAMPLE), PROPSCAN_WEIGHTS_DIR=str(stance_only), PROPSCAN_MODEL="lexicon")
    assert_one_line_error(result, "headline checker", "stance-reader.onnx")


def test_a_corrupt_stance_reader_is_one_line(stance_only):
    (stance_only / "stance" / "stance-reader.onnx").write_bytes(b"not an ONNX graph")
    result = run_cli("analyze", str(EXAMPLE), PROPSCAN_WEIGHTS_DIR=str(stance_only), PROPSCAN_MODEL="lexicon")
    assert_one_line_error(result, "headline checker", "cannot be loaded")
