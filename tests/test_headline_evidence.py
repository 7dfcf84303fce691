"""Evidence that explains the verdict, and one decision rule for the check and `propscan stance`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from propscan.document import Evidence
from propscan.pipeline import analyze_many
from propscan.readers import article_from_text
from propscan.segment import sentence_ranges
from propscan.stance.model import STANCES, load_stance_model

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "harbour-bridge.txt"
SAMPLE = ROOT.parent / "shared" / "samples" / "venezuela-lima-group.txt"


@pytest.fixture(autouse=True)
def lexicon(monkeypatch):
    """The word-list detector: the headline check does not depend on the propaganda model."""
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")


def _analyze(text: str):
    return next(analyze_many([article_from_text(text)]))


def _assert_well_formed(analysis) -> None:
    evidence = analysis.headline.evidence
    sentences = {(s.start, s.end) for s in analysis.sentences}
    title_end = analysis.text.index("\n")
    for e in evidence:
        assert (e.start, e.end) in sentences, f"not a whole sentence of the analysis: {e.text!r}"
        assert e.start > title_end and e.relation in ("supports", "contradicts", "discusses")
        assert not any(e.start < r.end and r.start < e.end for r in analysis.removed)
    assert len({(e.start, e.end) for e in evidence}) == len(evidence)
    assert len({" ".join(e.text.lower().split()) for e in evidence}) == len(evidence)


def test_the_engineering_report_is_not_cited_as_support_for_a_crumbling_bridge():
    analysis = _analyze(EXAMPLE.read_text(encoding="utf-8"))
    assert analysis.headline is not None
    _assert_well_formed(analysis)
    report = [e for e in analysis.headline.evidence if "rated the bridge's deck" in e.text]
    assert all(e.relation != "supports" for e in report)
    assert analysis.headline.evidence


def test_the_verdict_comes_first_then_the_strongest_counter_evidence():
    analysis = _analyze(EXAMPLE.read_text(encoding="utf-8"))
    check = analysis.headline
    relation = {"agree": "supports", "disagree": "contradicts", "discuss": "discusses"}[check.stance]
    relations = [e.relation for e in check.evidence]
    driving = [r for r in relations if r == relation]
    assert relations[:len(driving)] == driving  # the sentences behind the verdict lead
    others = relations[len(driving):]
    assert len(others) == len(set(others)) and relation not in others  # the best one of each other relation


def test_a_repeated_sentence_is_cited_once_and_furniture_never():
    text = ("Mayor of Eastmoor resigns after budget scandal\n\n"
            "Read more: Mayor of Eastmoor resigns after budget scandal\n\n"
            "The mayor of Eastmoor resigned on Monday after the budget scandal, officials confirmed.\n\n"
            "The mayor of Eastmoor resigned on Monday after the budget scandal, officials confirmed.\n\n"
            "A new mayor will be chosen in March.")
    analysis = _analyze(text)
    assert analysis.removed  # the "Read more" line is furniture
    assert analysis.headline is not None
    _assert_well_formed(analysis)
    assert not any(e.text.startswith("Read more") for e in analysis.headline.evidence)


def test_one_decision_rule_for_the_check_and_for_fnc1_pairs():
    model = load_stance_model()
    pairs = [
        ("Mayor of Eastmoor resigns after budget scandal",
         "The mayor of Eastmoor resigned on Monday after the budget scandal, officials confirmed. "
         "A new mayor will be chosen in March."),
        ("Mayor of Eastmoor resigns after budget scandal",
         "Reports that the mayor of Eastmoor resigned are a hoax. Officials denied that the mayor resigned "
         "and said the claim was fake."),
        ("Reckless council bureaucrats gamble our town's future on a crumbling bridge",
         EXAMPLE.read_text(encoding="utf-8").split("\n", 2)[2].strip()),
    ]
    for headline, body in pairs:
        text = f"{headline}\n\n{body}"
        check = model.check(text, (0, len(headline)), sentence_ranges(text))
        [prediction] = model.predict_pairs([headline], ["b"], {"b": body})
        assert check.stance == prediction.stance
        probabilities = np.array([[prediction.probabilities[s] for s in STANCES]])
        assert model.decide(probabilities) == [check.stance]
        assert check.supported == (check.stance == "agree")


def test_the_decision_rule_never_boosts_agree():
    weights = load_stance_model().decision_weights
    assert weights["agree"] == weights["unrelated"] == weights["discuss"] == 1.0


def test_an_excerpt_ends_on_a_whole_word_with_an_ellipsis():
    sentence = "The council's engineering report, released in March, rated the bridge's deck as fair."
    evidence = Evidence(start=0, end=len(sentence), text=sentence, relation="discusses", score=0.8)
    assert evidence.excerpt(200) == sentence
    short = evidence.excerpt(40)
    assert short.endswith("…") and len(short) <= 40
    assert sentence.startswith(short[:-1]) and not sentence[len(short) - 1].isalnum()  # no word cut


@pytest.mark.corpus
@pytest.mark.skipif(not SAMPLE.exists(), reason="needs ../shared/samples")
def test_the_sample_is_not_supported_and_cites_the_lima_group_sentence():
    analysis = next(analyze_many([article_from_text(SAMPLE.read_text(encoding="utf-8"))]))
    check = analysis.headline
    assert check is not None and check.supported is False and check.stance != "agree"
    _assert_well_formed(analysis)
    lima = [e for e in check.evidence if "Lima Group will discuss how Russia can help" in e.text]
    assert lima and lima[0].relation in ("contradicts", "discusses")


def test_pairs_that_stage_one_rules_out_are_not_read_and_no_decision_changes(monkeypatch):
    import propscan.stance.model as stance_model

    model = load_stance_model()
    headlines = ["Mayor of Eastmoor resigns after budget scandal", "Bakery wins bread prize",
                 "Reckless council bureaucrats gamble our town's future on a crumbling bridge"]
    body = EXAMPLE.read_text(encoding="utf-8").split("\n", 2)[2].strip()
    bodies = {"mayor": "The mayor of Eastmoor resigned on Monday after the budget scandal. Officials denied it.",
              "bridge": body}
    pairs = [(h, b) for h in headlines for b in bodies]
    read = []
    original = model.reader.probabilities
    monkeypatch.setattr(model.reader, "probabilities", lambda h, e, **kw: read.append(len(h)) or original(h, e, **kw))
    shown = model.predict_pairs([h for h, _ in pairs], [b for _, b in pairs], bodies)
    assert 0 < read[0] < len(pairs)  # the unrelated pairs are not read
    monkeypatch.setattr(stance_model, "READ_FROM", 0.0)
    every = model.predict_pairs([h for h, _ in pairs], [b for _, b in pairs], bodies)
    assert read[1] == len(pairs)
    assert [p.stance for p in shown] == [p.stance for p in every]
