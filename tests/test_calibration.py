"""Span confidence as a calibrated probability, the Repetition rule, and the calibration's fitting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from propscan.detect.base import DetectInput, Detection, Region, TechniqueSpan
from propscan.detect.calibration import FEATURES, Calibrator, SpanContext, span_features
from propscan.detect.decode import only_recurring_repetition
from propscan.detect.detector import WEIGHTS_DIR
from propscan.detect.network import normalize
from propscan.segment import sentence_ranges
from propscan.training.calibration import fit_calibration, reliability


def _context(text: str) -> SpanContext:
    sentences = sentence_ranges(text)
    return SpanContext(text, normalize(text), sentences[0], [], sentences, [0.5] * len(sentences))


def test_a_calibrator_round_trips_and_rises_with_the_raw_score():
    text = "Rotten deal\n\nThe council signed a rotten deal. A rotten deal it was."
    coef = [1.0] + [0.0] * (len(FEATURES) - 1)
    calibrator = Calibrator.from_config(Calibrator(tuple(coef), -0.5, 0.35).to_config())
    ctx = _context(text)
    start = text.index("rotten deal.")
    low, high = (calibrator.probability(span_features(ctx, start, start + 11, "Loaded_Language", raw))
                 for raw in (0.2, 0.8))
    assert 0.0 < low < high < 1.0
    assert calibrator.default_min_confidence == 0.35


def test_a_calibration_fitted_on_other_features_is_refused():
    config = Calibrator(tuple([0.0] * len(FEATURES)), 0.0, 0.3).to_config()
    config["features"] = config["features"][:-1]
    with pytest.raises(ValueError, match="other features"):
        Calibrator.from_config(config)


def test_repetition_is_kept_only_where_the_words_occur_again():
    text = "Talks\n\nThe cloud is safe. Remediation began. Remediation is slow."
    from propscan.detect.prepare import Prepared

    class _Prep:  # only the text and its normalized words are read
        doc = DetectInput(text, sentence_ranges(text))
        normalized = normalize(text)

    prep: Prepared = _Prep()  # type: ignore[assignment]
    cloud = text.index("cloud is")
    remediation = text.index("Remediation")
    spans = [TechniqueSpan(cloud, cloud + 5, "Repetition", 0.5),
             TechniqueSpan(remediation, remediation + 11, "Repetition", 0.5),
             TechniqueSpan(cloud, cloud + 5, "Loaded_Language", 0.5)]
    kept = only_recurring_repetition(prep, spans)
    assert [(text[s.start:s.end], s.technique) for s in kept] == [
        ("Remediation", "Repetition"), ("cloud", "Loaded_Language")]


def test_reliability_bins_and_error_by_hand():
    probabilities = np.asarray([0.05, 0.05, 0.95, 0.95])
    credits = np.asarray([0.0, 0.2, 1.0, 0.8])
    error, table = reliability(probabilities, credits)
    assert [row["spans"] for row in table] == [2, 2]
    assert table[0]["observed_precision"] == pytest.approx(0.1)
    assert error == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)


class _ScriptedDetector:
    """Decoded spans chosen by hand: in each article one right span scored high, one wrong span scored low."""

    calibrator = None

    def detect(self, docs):
        found = []
        for doc in docs:
            right, wrong = doc.text.index("traitors"), doc.text.index("budget")
            found.append(Detection(regions=[Region(right, right + 8, 0.7)],
                                   spans=[TechniqueSpan(right, right + 8, "Name_Calling,Labeling", 0.8),
                                          TechniqueSpan(wrong, wrong + 6, "Name_Calling,Labeling", 0.3)],
                                   sentence_scores=[0.5] * len(doc.sentences)))
        return found


def test_fitting_learns_that_high_raw_scores_are_right_and_reports_out_of_fold_figures():
    docs, gold = [], []
    for i in range(20):
        text = f"Vote {i}\n\nThe traitors passed the budget on day {i}. Nothing else happened."
        docs.append((str(i), DetectInput(text, sentence_ranges(text))))
        start = text.index("traitors")
        gold.append((str(i), "Name_Calling,Labeling", start, start + 8))
    calibrator, figures = fit_calibration(_ScriptedDetector(), docs, gold)
    assert figures["spans"] == 40 and figures["folds"] == 5
    ctx = _context(docs[0][1].text)
    start = docs[0][1].text.index("traitors")
    budget = docs[0][1].text.index("budget")
    right = calibrator.probability(span_features(ctx, start, start + 8, "Name_Calling,Labeling", 0.8))
    wrong = calibrator.probability(span_features(ctx, budget, budget + 6, "Name_Calling,Labeling", 0.3))
    assert right > 0.5 > wrong
    shown = next(b for b in figures["by_threshold"] if b["threshold"] == figures["default_min_confidence"])
    assert figures["default_meets_targets"] and shown["si_precision"] >= 0.6 and shown["spans"] == 20
    assert figures["ece"] < 0.2


def test_the_shipped_model_carries_a_calibration_and_its_out_of_fold_figures():
    config = json.loads((WEIGHTS_DIR / "propaganda.json").read_text())
    figures = json.loads((WEIGHTS_DIR / "propaganda-figures.json").read_text())["calibration"]
    calibrator = Calibrator.from_config(config["calibration"])
    assert calibrator.default_min_confidence == figures["default_min_confidence"]
    assert 0.0 < calibrator.default_min_confidence < 1.0
    assert sum(row["spans"] for row in figures["reliability"]) == figures["spans"]
    card = (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    assert f"Expected calibration error (10 bins, all decoded spans): {figures['ece']:.3f}" in card


@pytest.mark.parametrize("overlapping", [False, True])
def test_the_best_score_overlapping_a_span_is_found_as_a_scan_would(overlapping):
    import random

    from propscan.detect.calibration import _ScoredRanges

    rng = random.Random(0)
    for _ in range(2000):
        ranges, position = [], 0
        for _ in range(rng.randint(0, 8)):
            position += rng.randint(0, 5)
            end = position + rng.randint(1, 6)
            ranges.append((position, end, rng.random()))
            position = position + 1 if overlapping else end
        start = rng.randint(0, position + 3)
        end = start + rng.randint(1, 8)
        expected = max((v for a, b, v in ranges if a < end and start < b), default=0.0)
        assert _ScoredRanges(ranges).overlapping_max(start, end) == expected
