"""Precision-first reports: spans under the model's threshold are kept but not shown, unless asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from propscan.document import Analysis, Sentence, Span
from propscan.store import Store
from propscan.web.app import create_app

EXAMPLE = Path(__file__).parents[1] / "examples" / "harbour-bridge.txt"
SAMPLE = Path(__file__).parents[2] / "shared" / "samples" / "venezuela-lima-group.txt"
TEXT = "Thugs and crooks\n\nThe thugs met the crooks on Monday."


def _analysis(min_confidence: float = 0.5) -> Analysis:
    sure, unsure = TEXT.index("thugs"), TEXT.index("crooks on")
    return Analysis(id="a", title="Thugs and crooks", text=TEXT, min_confidence=min_confidence,
                    spans=[Span.of(TEXT, sure, sure + 5, "Name_Calling,Labeling", 0.8),
                           Span.of(TEXT, unsure, unsure + 6, "Name_Calling,Labeling", 0.3)],
                    sentences=[Sentence(start=18, end=len(TEXT), score=0.7)], score=0.7, model="test")


def test_shown_keeps_the_spans_from_the_threshold_and_says_which_it_used():
    analysis = _analysis()
    assert [s.text for s in analysis.shown().spans] == ["thugs"]
    lower = analysis.shown(0.2)
    assert [s.text for s in lower.spans] == ["thugs", "crooks"] and lower.min_confidence == 0.2
    assert len(analysis.spans) == 2, "shown() is a copy"


def test_the_store_keeps_every_span_and_counts_what_reports_show(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    stored_id, _, _ = store.add_or_get(_analysis())
    assert len(store.get(stored_id).spans) == 2
    assert store.search(None, 10, 0)[0].n_spans == 1
    assert [len(a.spans) for _, a in store.iter_analyses()] == [1]


def test_the_api_shows_the_default_and_goes_lower_when_asked(tmp_path):
    db = tmp_path / "web.sqlite3"
    stored_id, _, _ = Store(db).add_or_get(_analysis())
    with TestClient(create_app(db)) as client:
        default = client.get(f"/api/analyses/{stored_id}").json()
        everything = client.get(f"/api/analyses/{stored_id}", params={"min_confidence": 0}).json()
        refused = client.get(f"/api/analyses/{stored_id}", params={"min_confidence": 2})
        page = client.get(f"/analyses/{stored_id}").text
    assert [s["text"] for s in default["spans"]] == ["thugs"] and default["min_confidence"] == 0.5
    assert [s["text"] for s in everything["spans"]] == ["thugs", "crooks"]
    assert refused.status_code == 422
    # The page carries every span and starts its slider at the threshold, so a reader can go lower.
    assert 'value="0.50"' in page and '"confidence": 0.3' in page


def _cli_spans(*args: str, article: Path = EXAMPLE) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PROPSCAN_MODEL"}
    result = subprocess.run([sys.executable, "-m", "propscan.cli", "analyze", "--json", *args, str(article)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("lower", [0.0])
def test_the_shipped_model_reports_precision_first_and_shows_more_when_asked(lower):
    default = _cli_spans()
    everything = _cli_spans("--min-confidence", str(lower))
    assert 0 < default["min_confidence"] < 1
    assert all(s["confidence"] >= default["min_confidence"] for s in default["spans"])
    assert len(everything["spans"]) > len(default["spans"]) > 0
    # The factual sentences (the vote count, the engineering report, the costs) carry no flag.
    text = default["text"]
    for fact in ("By five votes to four", "The council's engineering report", "A new crossing would cost"):
        start = text.index(fact)
        end = text.index("\n", start)
        assert not [s for s in everything["spans"] if start <= s["start"] < end], fact


@pytest.mark.skipif(not SAMPLE.exists(), reason="needs ../shared/samples")
def test_the_samples_headline_name_calling_is_shown_at_the_default():
    # The scraped sample's headline calls governments "US puppets"; the default report shows it.
    default = _cli_spans(article=SAMPLE)
    title_end = default["text"].index("\n")
    shown = [(s["text"], s["technique"]) for s in default["spans"] if s["start"] < title_end]
    assert any("puppets" in text and technique == "Name_Calling,Labeling" for text, technique in shown), shown


def test_the_help_names_the_shipped_models_own_threshold():
    import re

    from propscan.detect.detector import CONFIG_FILE, WEIGHTS_DIR

    shipped = json.loads((WEIGHTS_DIR / CONFIG_FILE).read_text())["calibration"]["default_min_confidence"]
    shown = subprocess.run([sys.executable, "-m", "propscan.cli", "analyze", "--help"], capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}, check=True).stdout
    stated = re.findall(r"precision-first threshold[ ,(]+(\d\.\d\d)", " ".join(shown.split()))
    assert stated and all(float(x) == pytest.approx(shipped) for x in stated), stated
