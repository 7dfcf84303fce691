"""The cross-validated evaluation (training.crossval): folds by article, stage markers, resuming, refusals.

One tiny run (1 layer, 1 epoch, one verifier member, one silver article) on the six made-up PTC
articles with K=3, copied where a test changes it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_models import UNLABELED, small_ptc

from propscan.detect.decode import DecodeSettings
from propscan.errors import PropscanError
from propscan.training.crossval import (
    DONE_FILE,
    EVALUATED_FILE,
    EVALUATIONS_DIR,
    FIGURES_FILE,
    FINAL,
    FOLDS_FILE,
    SUMMARY,
    cross_validate,
    make_folds,
)
from propscan.training.propaganda import TrainSettings

SETTINGS = TrainSettings(layers=1, epochs=1, seed=3, verifier=1, verifier_epochs=1, limit_silver=1)
K = 3


class Lines(logging.Handler):
    """The training log's messages, kept (caplog is per test; the run is per module)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def news(root: Path) -> list[Path]:
    """The run's silver articles: the copied unlabeled news (too few for a judged sample to be kept out)."""
    return sorted((root / "unlabeled-news").glob("article*.txt"))


def logged_run(*args, **kwargs) -> tuple[dict | None, list[str]]:
    logger, handler = logging.getLogger("propscan.train"), Lines()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        return cross_validate(*args, **kwargs), handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory) -> tuple[Path, Path, dict, list[str]]:
    tmp = tmp_path_factory.mktemp("cv")
    silver = tmp / "unlabeled-news"
    silver.mkdir()
    for path in sorted(UNLABELED.glob("article*.txt"))[:2]:
        shutil.copy(path, silver)
    ptc = small_ptc(tmp)
    figures, messages = logged_run(ptc, tmp / "run", K, SETTINGS, silver=news(tmp))
    return tmp, tmp / "run", figures, messages


def test_folds_are_a_seeded_partition_of_the_articles_into_near_equal_parts():
    ids = [str(i) for i in range(11)]
    folds = make_folds(ids, 3, seed=5)
    assert sorted(i for fold in folds for i in fold) == sorted(ids)
    assert sorted(len(f) for f in folds) == [3, 4, 4]
    assert folds == make_folds(list(reversed(ids)), 3, seed=5)  # the order read does not matter
    assert folds != make_folds(ids, 3, seed=6)
    with pytest.raises(PropscanError):
        make_folds(ids, 1, seed=5)


def test_the_run_writes_its_folds_each_folds_marker_and_the_out_of_fold_figures(cv_run):
    tmp, run, figures, messages = cv_run
    record = json.loads((run / FOLDS_FILE).read_text())
    article_ids = sorted(p.stem[len("article"):] for p in (tmp / "ptc" / "train-articles").glob("*.txt"))
    assert record["k"] == K and sorted(i for fold in record["folds"] for i in fold) == article_ids
    assert all(len(fold) == 2 for fold in record["folds"])
    for k, fold in enumerate(record["folds"]):
        done = json.loads((run / f"fold-{k}" / DONE_FILE).read_text())
        assert done["held_out"] == fold and done["train_articles"] == 4 and done["silver_articles"] == 1
        assert (run / f"fold-{k}" / "propaganda.safetensors").stat().st_size > 0
        assert f"fold {k}: training on 4 articles" in messages
    assert (run / EVALUATED_FILE).is_file()
    assert json.loads((run / FIGURES_FILE).read_text()) == json.loads(json.dumps(figures))
    assert [f["fold"] for f in figures["per_fold"]] == list(range(K))
    assert all(f["articles"] == 2 for f in figures["per_fold"])
    for name in SUMMARY:
        assert set(figures["summary"][name]) == {"mean", "sd", "folds"}
    for name in ("si_f1", "tc_f1", "flc_f1", "sentence_f1", "article_mae"):
        summary = figures["summary"][name]
        values = [f[SUMMARY[name][0]][SUMMARY[name][1]] if len(SUMMARY[name]) == 2 else f[name]
                  for f in figures["per_fold"]]
        assert summary["folds"] == K and 0.0 <= summary["mean"] <= 1.0 and summary["sd"] >= 0.0
        assert summary["mean"] == pytest.approx(sum(values) / K)
    # Each fold is scored with decoding tuned on the other folds' articles, so the settings may differ.
    assert all("threshold" in f["decode"] for f in figures["per_fold"])
    assert "ece" in figures["calibration"] or "skipped" in figures["calibration"]
    assert sorted(p.name for p in (run / EVALUATIONS_DIR).iterdir()) == [f"fold-{k}.json" for k in range(K)] + [
        "shipped.json"]
    # The shipped decoding is tuned on every article's out-of-fold outputs; the technique counts add up.
    assert DecodeSettings(**figures["decode"]) and "fold final: training on 6 articles" in messages
    for t, counts in figures["technique_counts"].items():
        assert counts["gold"] == sum(f["technique_counts"][t]["gold"] for f in figures["per_fold"])


def test_the_final_folder_is_a_model_as_shipped_trained_on_every_article_with_the_cross_validated_choices(cv_run):
    from propscan import analyze
    from propscan.detect.detector import TrainedDetector

    _, run, figures, _ = cv_run
    final = run / FINAL
    done = json.loads((final / DONE_FILE).read_text())
    assert done["train_articles"] == 6 and done["held_out"] == []
    config = json.loads((final / "propaganda.json").read_text())
    assert config["name"] == "propscan-minilm" and config["decode"] == figures["decode"]
    recorded = json.loads((final / "propaganda-figures.json").read_text())
    assert recorded["summary"] == figures["summary"] and recorded["train_articles"] == 6
    card = (final / "MODEL_CARD.md").read_text()
    si = figures["summary"]["si_f1"]
    assert f"{si['mean']:.3f} ± {si['sd']:.3f}" in card and "out-of-fold" in card
    detector = TrainedDetector.load(final)
    assert detector.settings == DecodeSettings(**figures["decode"])
    result = analyze("Title\n\nThe corrupt traitors lie and lie again to the people.", detector=detector)
    assert result.sentences


def test_training_the_shipped_model_reproduces_the_final_network_and_takes_the_runs_choices(cv_run, tmp_path):
    from propscan.training.propaganda import train_propaganda

    tmp, run, _, _ = cv_run
    tuned = run / FINAL / "propaganda-figures.json"
    figures = train_propaganda(tmp / "ptc", tmp_path / "model", SETTINGS, silver=news(tmp),
                               tuned=tuned)
    # The same recipe, seed and articles: the same weights, byte for byte.
    assert (tmp_path / "model" / "propaganda.safetensors").read_bytes() == (
        run / FINAL / "propaganda.safetensors").read_bytes()
    config, shipped = (json.loads((d / "propaganda.json").read_text()) for d in (tmp_path / "model", run / FINAL))
    assert config == shipped
    assert figures["summary"] == json.loads(tuned.read_text())["summary"]
    assert (tmp_path / "model" / "MODEL_CARD.md").is_file()
    # Another recipe was not cross-validated: refused in one line, nothing written.
    with pytest.raises(PropscanError, match="other training settings \\(epochs\\)"):
        train_propaganda(tmp / "ptc", tmp_path / "other", TrainSettings(**{**SETTINGS.__dict__, "epochs": 2}),
                         tuned=tuned)
    assert not (tmp_path / "other").exists()


def test_runs_side_by_side_share_the_folds_and_a_fold_left_unfinished_is_picked_up(cv_run, tmp_path):
    import fcntl
    import threading
    import time

    tmp, original, _, _ = cv_run
    run = tmp_path / "run"
    shutil.copytree(original, run)
    for k in (1, 2):
        (run / f"fold-{k}" / DONE_FILE).unlink()
    held = open(run / "fold-1.lock", "a")  # another run is training fold 1
    fcntl.flock(held, fcntl.LOCK_EX)
    result: list = []
    thread = threading.Thread(target=lambda: result.append(logged_run(
        tmp / "ptc", run, K, SETTINGS, silver=news(tmp), evaluate=False)))
    thread.start()
    for _ in range(600):  # the run trains fold 2 meanwhile, then waits for fold 1
        if (run / "fold-2" / DONE_FILE).is_file():
            break
        time.sleep(0.5)
    assert not (run / "fold-1" / DONE_FILE).is_file()
    fcntl.flock(held, fcntl.LOCK_UN)  # the other run ended without finishing fold 1
    held.close()
    thread.join(timeout=600)
    (_, messages), = result
    assert "fold 1: being trained by another run, left to it" in messages
    assert messages.index("fold 2: training on 4 articles") < messages.index("fold 1: training on 4 articles")
    assert (run / "fold-1" / DONE_FILE).is_file() and "fold 0: done, skipped" in messages


def test_an_interrupted_evaluation_goes_on_from_the_first_fold_not_scored(cv_run, tmp_path):
    tmp, original, figures, _ = cv_run
    run = tmp_path / "run"
    shutil.copytree(original, run)
    (run / EVALUATED_FILE).unlink()
    (run / FIGURES_FILE).unlink()
    (run / EVALUATIONS_DIR / "fold-2.json").unlink()
    again, messages = logged_run(tmp / "ptc", run, K, SETTINGS, silver=news(tmp))
    assert all(f"fold {k}: done, skipped" in messages for k in range(K))
    assert "evaluate fold 0: done, skipped" in messages and "evaluate fold 1: done, skipped" in messages
    assert "evaluate shipped: done, skipped" in messages
    assert "evaluate fold 2: done, skipped" not in messages
    assert again["per_fold"] == json.loads(json.dumps(figures["per_fold"]))  # the same networks, the same figures
    assert again["summary"] == figures["summary"]
    _, messages = logged_run(tmp / "ptc", run, K, SETTINGS, silver=news(tmp))
    assert "evaluate: done, skipped" in messages


def test_a_rerun_skips_finished_folds_and_redoes_a_fold_without_its_marker(cv_run, tmp_path):
    tmp, original, _, _ = cv_run
    run = tmp_path / "run"
    shutil.copytree(original, run)
    weights = [run / f"fold-{k}" / "propaganda.safetensors" for k in range(K)]
    before = [w.stat().st_mtime_ns for w in weights]
    (run / "fold-1" / DONE_FILE).unlink()
    _, messages = logged_run(tmp / "ptc", run, K, SETTINGS, silver=news(tmp), evaluate=False)
    assert "fold 0: done, skipped" in messages and "fold 2: done, skipped" in messages
    assert "fold 1: training on 4 articles" in messages and "fold 1: done, skipped" not in messages
    after = [w.stat().st_mtime_ns for w in weights]
    assert (after[0], after[2]) == (before[0], before[2]) and after[1] != before[1]
    assert (run / "fold-1" / DONE_FILE).is_file()
    # Figures of the old fold-1 network must not be reused: every fold's tuning read its outputs.
    assert not (run / EVALUATED_FILE).exists() and not (run / EVALUATIONS_DIR).exists()
    _, messages = logged_run(tmp / "ptc", run, K, SETTINGS, silver=news(tmp), evaluate=False)
    assert all(f"fold {k}: done, skipped" in messages for k in range(K))


def test_a_run_folder_of_another_k_or_recipe_is_refused_in_one_line(cv_run):
    tmp, run, _, _ = cv_run
    folds = (run / FOLDS_FILE).read_text()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).parents[1] / "src"),
                                                                   os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-m", "propscan.cli", "train", "--cv", "2", "--seed", "3",
                           "--data", str(tmp), "--out", str(run)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0
    assert done.stderr.startswith("propscan: ") and done.stderr.count("\n") == 1, done.stderr
    assert "K=3" in done.stderr and "K=2" in done.stderr
    with pytest.raises(PropscanError, match="epochs"):
        cross_validate(tmp / "ptc", run, K, TrainSettings(**{**SETTINGS.__dict__, "epochs": 2}),
                       silver=news(tmp))
    assert (run / FOLDS_FILE).read_text() == folds  # nothing was mixed in


def test_the_benchmark_prints_the_cross_validated_figures_against_the_targets(cv_run, tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmark_models",
                                                  Path(__file__).parents[1] / "benchmarks" / "models.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    _, run, figures, _ = cv_run
    assert benchmark.print_cv_figures(run)
    printed = capsys.readouterr().out
    si = figures["summary"]["si_f1"]
    assert f"{si['mean']:.3f} ± {si['sd']:.3f}" in printed and "target >= 0.47" in printed
    assert "Spearman" in printed and "target <= 0.08" in printed
    assert "spans predicted / gold" in printed
    # A model folder the run completed carries the same figures.
    assert benchmark.print_cv_figures(run / FINAL)
    assert f"{si['mean']:.3f} ± {si['sd']:.3f}" in capsys.readouterr().out
    # With a calibration fitted: its ECE and the precision at its default threshold.
    fitted = {**figures, "calibration": {"folds": 5, "ece": 0.042, "default_min_confidence": 0.4, "by_threshold": [
        {"threshold": 0.4, "si_precision": 0.61, "flc_precision": 0.47}]}}
    (tmp_path / "cv-figures.json").write_text(json.dumps(fitted))
    assert benchmark.print_cv_figures(tmp_path)
    printed = capsys.readouterr().out
    assert "ECE 0.042" in printed and "span (SI) precision 0.610, FLC precision 0.470" in printed
    assert not benchmark.print_cv_figures(tmp_path / "missing")
    assert "none in" in capsys.readouterr().out


def test_the_refusal_says_what_differs_from_the_run_in_the_folder(tmp_path):
    from propscan.training.crossval import check_or_write_folds, run_record

    check_or_write_folds(tmp_path, run_record([["a"], ["b"]], SETTINGS, True))
    check_or_write_folds(tmp_path, run_record([["a"], ["b"]], SETTINGS, True))  # the same run goes on
    other_recipe = TrainSettings(**{**SETTINGS.__dict__, "layers": 2})
    for record, what in ((run_record([["a"], ["c"]], SETTINGS, True), "other articles"),
                         (run_record([["a"], ["b"], ["c"]], SETTINGS, True), "K=2, seed 3 over 2 articles, not K=3"),
                         (run_record([["a"], ["b"]], other_recipe, True), "other training settings (layers)"),
                         (run_record([["a"], ["b"]], SETTINGS, False), "other training settings (self-training)")):
        with pytest.raises(PropscanError, match=re.escape(what)):
            check_or_write_folds(tmp_path, record)


def test_two_runs_side_by_side_share_the_evaluation_and_agree_on_its_figures(cv_run, tmp_path):
    import threading

    tmp, original, figures, _ = cv_run
    run = tmp_path / "run"
    shutil.copytree(original, run)
    shutil.rmtree(run / EVALUATIONS_DIR)
    (run / EVALUATED_FILE).unlink()
    (run / FIGURES_FILE).unlink()
    results: list = []
    runs = [threading.Thread(target=lambda: results.append(logged_run(
        tmp / "ptc", run, K, SETTINGS, silver=news(tmp)))) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=600)
    assert len(results) == 2
    (first, messages), (second, _) = results
    assert first["summary"] == second["summary"] == json.loads(json.dumps(figures["summary"]))
    # Each job was done by one of them (both runs' handlers hear the one logger).
    for k in range(K):
        assert sum(m.startswith(f"evaluate fold {k}: 2 articles") for m in messages) == 1
    assert json.loads((run / FIGURES_FILE).read_text())["summary"] == first["summary"]
    assert not list(run.rglob("*.tmp"))


def test_the_shipped_model_is_the_final_network_of_a_five_fold_run_and_carries_its_choices_and_figures():
    from dataclasses import asdict

    from propscan.detect.detector import WEIGHTS_DIR
    from propscan.training.propaganda import RECIPE_EXEMPT

    figures = json.loads((WEIGHTS_DIR / "propaganda-figures.json").read_text())
    config = json.loads((WEIGHTS_DIR / "propaganda.json").read_text())
    assert figures["k"] == 5 and figures["articles"] == figures["train_articles"] == 296
    assert len(figures["per_fold"]) == 5 and sum(f["articles"] for f in figures["per_fold"]) == 296
    assert config["decode"] == figures["decode"] and config["calibration"] == figures["calibration_config"]
    # `propscan train` with its defaults trains the recipe that was cross-validated, so it is accepted.
    default = {k: v for k, v in asdict(TrainSettings(seed=13)).items() if k not in RECIPE_EXEMPT}
    assert {k: figures["train_settings"][k] for k in default} == default
    card = (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    si = figures["summary"]["si_f1"]
    assert f"| SI F1 | {si['mean']:.3f} ± {si['sd']:.3f} |" in card
