"""One decode: tuning decodes the network's outputs exactly as the detector does, and decode settings
that do not exist or do not fit are refused when a model loads, never silently decoded another way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from propscan.detect.decode import DecodeSettings
from propscan.detect.detector import (
    CONFIG_FILE,
    ENCODER_FILE,
    WEIGHTS_DIR,
    WEIGHTS_FILE,
    TrainedDetector,
    shipped_model_exists,
)
from propscan.errors import PropscanError

PTC = Path(__file__).parent / "fixtures" / "ptc"  # six short made-up articles with their labels

needs_weights = pytest.mark.skipif(not shipped_model_exists(), reason="no shipped weights")


@pytest.fixture(scope="module")
def shipped() -> TrainedDetector:
    return TrainedDetector.load(WEIGHTS_DIR)


@pytest.fixture(scope="module")
def dev(shipped):
    """The fixture articles as tuning reads them, and tuning's outputs of the shipped network on them."""
    from propscan.training.propaganda import attach_labels, load_corpus
    from propscan.training.tuning import DevOutputs

    corpus = load_corpus(PTC)
    for article in corpus:
        attach_labels(shipped.tokenizer, article)
    return corpus, DevOutputs(shipped.net, corpus)


def _settings_to_compare(shipped: TrainedDetector) -> dict[str, DecodeSettings]:
    s = shipped.settings
    return {
        "shipped": s,
        "span head votes": s.model_copy(update={"flc_vote": "span"}),
        "hysteresis, no vote": s.model_copy(update={"flc_span_weight": 0.0}),
        "technique tokens alone": s.model_copy(update={"flc_extent": None, "flc_span_weight": 0.0}),
        "regions": s.model_copy(update={"flc_source": "regions", "second_technique": 0.2}),
        "regions add to the runs": s.model_copy(update={"flc_region_vote": 0.2}),
        "regions add to unvoted runs": s.model_copy(update={"flc_region_vote": 0.3, "flc_span_weight": 0.0}),
        "recurring words add repetition": s.model_copy(update={"flc_region_vote": 0.3, "flc_repetition_count": 2}),
        "a threshold per technique": s.model_copy(update={"flc_technique_thresholds": {
            "Loaded_Language": 0.6, "Appeal_to_fear-prejudice": 0.2, "Name_Calling,Labeling": 0.25}}),
        "the verifier drops doubtful regions": s.model_copy(update={
            "threshold": 0.3, "si_verifier_weight": 0.5, "si_verifier_threshold": 0.4, "flc_region_vote": 0.3}),
        "sentences read the token heads": s.model_copy(update={"sentence_token_coef": 0.4,
                                                               "sentence_technique_coef": -0.2,
                                                               "sentence_weight": 0.35}),
    }


@needs_weights
@pytest.mark.parametrize("case", ["shipped", "span head votes", "hysteresis, no vote", "technique tokens alone",
                                  "regions", "regions add to the runs", "regions add to unvoted runs",
                                  "recurring words add repetition", "a threshold per technique",
                                  "the verifier drops doubtful regions", "sentences read the token heads"])
def test_tuning_predicts_what_the_detector_outputs(shipped, dev, case):
    from propscan.training.tuning import flc_labels

    corpus, outputs = dev
    settings = _settings_to_compare(shipped)[case]
    everything = range(len(corpus))
    # Tuning decodes the same outputs under many settings first; what it kept for them must not leak.
    flc_labels(outputs, everything, settings.model_copy(update={"flc_threshold": 0.2, "threshold": 0.3}))
    uncalibrated = TrainedDetector(shipped.net, shipped.tokenizer, settings)
    detections = uncalibrated.detect([article.doc for article in corpus])

    for i, found in enumerate(detections):
        assert outputs.regions(i, settings) == found.regions
        decoded = outputs.decoded(i, settings)
        assert decoded.spans == found.spans  # offsets, techniques and raw scores
        assert decoded.sentence_scores == found.sentence_scores
    _, predicted = flc_labels(outputs, everything, settings)
    assert predicted == [(article.id, span.technique, span.start, span.end)
                         for article, found in zip(corpus, detections, strict=True) for span in found.spans]
    assert predicted, "the fixture articles should give technique spans to compare"


@needs_weights
def test_a_techniques_own_threshold_decides_only_its_own_spans(shipped, dev):
    from collections import Counter

    from propscan.training.tuning import flc_labels

    corpus, outputs = dev
    # Repetition spans from recurring words (flc_repetition_count) may cover any technique's span: off here.
    base = shipped.settings.model_copy(update={"flc_threshold": 0.3, "flc_repetition_count": 1000})
    _, before = flc_labels(outputs, range(len(corpus)), base)
    stricter = base.model_copy(update={"flc_technique_thresholds": {**base.flc_technique_thresholds,
                                                                    "Loaded_Language": 0.99}})
    _, after = flc_labels(outputs, range(len(corpus)), stricter)
    assert Counter(x[1] for x in before)["Loaded_Language"] > 0
    assert [x for x in before if x[1] != "Loaded_Language"] == [x for x in after if x[1] != "Loaded_Language"]
    assert not [x for x in after if x[1] == "Loaded_Language"]


@needs_weights
def test_the_verifier_keeps_only_regions_it_believes_in(shipped, dev):
    from propscan.detect.decode import any_technique

    corpus, outputs = dev
    runs = shipped.settings.model_copy(update={"threshold": 0.3, "si_verifier_weight": 0.0})
    loose, strict = (runs.model_copy(update={"si_verifier_weight": 0.5, "si_verifier_threshold": t})
                     for t in (0.0, 0.6))
    dropped = 0
    for i in range(len(corpus)):
        found = outputs.regions(i, runs)
        assert outputs.regions(i, loose) == found  # a region's score is never below 0: nothing dropped
        kept = outputs.regions(i, strict)
        belief = any_technique(outputs.outputs[i].span_probs([(r.start, r.end) for r in found], "verifier"))
        assert kept == [r for r, b in zip(found, belief, strict=True) if r.confidence ** 0.5 * b ** 0.5 >= 0.6]
        dropped += len(found) - len(kept)
    assert dropped, "the fixture articles should hold a region the verifier doubts"


def test_the_verifier_belief_is_that_of_some_technique():
    import numpy as np

    from propscan.detect.decode import any_technique

    probs = np.zeros((3, 14))
    probs[1, 4] = 0.5
    probs[2, [0, 1]] = 0.5
    assert any_technique(probs).tolist() == [0.0, 0.5, 0.75]
    assert any_technique(np.zeros((0, 14))).shape == (0,)


@needs_weights
def test_tuning_classifies_given_spans_as_the_detector_does_with_the_verifier_blended_in(shipped, dev):
    from propscan.training.tuning import tc_predictions

    corpus, outputs = dev
    for weight in (0.0, 0.4):
        settings = shipped.settings.model_copy(update={"tc_verifier_weight": weight})
        detector = TrainedDetector(shipped.net, shipped.tokenizer, settings)
        _, predicted = tc_predictions(outputs, range(len(corpus)), settings)
        classified = []
        for article in corpus:
            spans = [(s, e) for s, e, _ in article.tc]
            ranked = detector.classify(article.doc, spans) if spans else []
            seen: dict = {}
            for (s, e), order in zip(spans, ranked, strict=True):
                rank = seen.get((s, e), 0)
                seen[(s, e)] = rank + 1
                classified.append((article.id, order[rank % len(order)][0], s, e))
        assert predicted == classified


@needs_weights
def test_the_calibrated_detector_keeps_the_spans_tuning_predicts(shipped, dev):
    from propscan.training.tuning import flc_labels

    corpus, outputs = dev
    detections = shipped.detect([article.doc for article in corpus])
    _, predicted = flc_labels(outputs, range(len(corpus)), shipped.settings)
    assert predicted == [(article.id, span.technique, span.start, span.end)
                         for article, found in zip(corpus, detections, strict=True) for span in found.spans]


@pytest.mark.parametrize(("setting", "message"), [
    ({"flc_sorce": "tokens"}, "flc_sorce: unknown setting"),
    ({"flc_source": "token"}, "flc_source"),
    ({"flc_vote": "verfier"}, "flc_vote"),
    ({"threshold": "0.5"}, "threshold"),
    ({"threshold": 1.5}, "threshold"),
    ({"max_gap": -1}, "max_gap"),
    ({"flc_span_weight": 0.3, "flc_extent": None}, "needs flc_extent"),
    ({"flc_region_vote": 0.5, "flc_source": "regions"}, "flc_region_vote needs"),
    ({"flc_repetition_count": 3, "flc_extent": None, "flc_source": "tokens"}, "flc_repetition_count needs"),
    ({"flc_technique_thresholds": {"Loaded_Language": 0.4}}, "flc_technique_thresholds needs"),
    ({"flc_technique_thresholds": {"Loaded_Langauge": 0.4}, "flc_source": "tokens", "flc_extent": 0.2},
     "unknown technique(s) Loaded_Langauge"),
    ({"flc_technique_thresholds": {"Doubt": 1.4}, "flc_source": "tokens", "flc_extent": 0.2}, "lies in [0, 1]"),
    ({"tc_verifier_weight": 2.0}, "tc_verifier_weight"),
])
def test_decode_settings_that_do_not_exist_or_do_not_fit_are_refused(setting, message):
    config = {**DecodeSettings().model_dump(), **setting}
    with pytest.raises(PropscanError, match="invalid decode settings") as refused:
        DecodeSettings.from_config(config)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_shipped_settings_load_as_written():
    config = json.loads((WEIGHTS_DIR / CONFIG_FILE).read_text())["decode"]
    loaded = DecodeSettings.from_config(config).model_dump()
    assert {k: loaded[k] for k in config} == config  # settings added later take their defaults


def _model_with_decode(tmp_path: Path, **decode) -> Path:
    """A model folder whose configuration is the shipped one with ``decode`` changed; settings are
    checked before the weights are read, so an empty weights file is enough."""
    config = json.loads((WEIGHTS_DIR / CONFIG_FILE).read_text())
    config["decode"].update(decode)
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    (tmp_path / WEIGHTS_FILE).write_bytes(b"")
    (tmp_path / ENCODER_FILE).write_bytes(b"")
    return tmp_path


def test_a_model_with_an_unknown_decode_setting_does_not_load(tmp_path, monkeypatch):
    from propscan.detect import load_detector

    monkeypatch.setenv("PROPSCAN_WEIGHTS_DIR", str(_model_with_decode(tmp_path, flc_treshold=0.4)))
    with pytest.raises(PropscanError, match="flc_treshold: unknown setting"):
        load_detector("trained")


def test_a_model_whose_settings_lean_on_a_verifier_it_lacks_does_not_load(tmp_path, monkeypatch):
    from propscan.detect import load_detector

    model = _model_with_decode(tmp_path, si_verifier_weight=0.5)
    config = json.loads((model / CONFIG_FILE).read_text())
    config["verifier"] = 0
    (model / CONFIG_FILE).write_text(json.dumps(config))
    monkeypatch.setenv("PROPSCAN_WEIGHTS_DIR", str(model))
    with pytest.raises(PropscanError, match="si_verifier_weight: the network has no verifier"):
        load_detector("trained")


def test_the_cli_names_the_unknown_setting_in_one_line(tmp_path):
    (tmp_path / "model").mkdir()
    model = _model_with_decode(tmp_path / "model", flc_vote="everyone")
    article = tmp_path / "article.txt"
    article.write_text("A headline\n\nThe council met on Tuesday and approved the budget.\n")
    env = {**os.environ, "PROPSCAN_WEIGHTS_DIR": str(model), "PROPSCAN_MODEL": "trained"}
    done = subprocess.run([sys.executable, "-m", "propscan.cli", "analyze", str(article)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert done.stderr.startswith("propscan: ") and done.stderr.count("\n") == 1, done.stderr
    assert "flc_vote" in done.stderr and "Traceback" not in done.stderr
