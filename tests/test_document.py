"""The document model: offsets are the source of truth and the validators keep them honest."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from propscan.document import Analysis, Evidence, HeadlineCheck, RemovedRange, Sentence, Span

TEXT = "Traitors win again\n\nThe reckless puppets of the regime cheered."


def test_span_of_takes_its_text_from_the_article():
    start = TEXT.index("reckless")
    span = Span.of(TEXT, start, start + len("reckless"), "Loaded_Language", 0.7)
    assert span.text == "reckless" and span.confidence == 0.7 and span.technique == "Loaded_Language"


@pytest.mark.parametrize(("start", "end", "technique", "reason"), [
    (5, 5, None, "not after its start"),
    (6, 2, None, "not after its start"),
    (0, 4, "Propaganda", "unknown technique"),
])
def test_span_rejects_bad_ranges_and_unknown_techniques(start, end, technique, reason):
    with pytest.raises(ValidationError, match=reason):
        Span(start=start, end=end, technique=technique, text=TEXT[start:end] or "x")


def test_span_rejects_text_of_the_wrong_length_and_ranges_past_the_text():
    with pytest.raises(ValidationError, match="does not match its offsets"):
        Span(start=0, end=4, text="Traitors")
    with pytest.raises(ValueError, match="runs past the end"):
        Span.of(TEXT, 10, len(TEXT) + 1)
    with pytest.raises(ValidationError):
        Span(start=-1, end=3, text="abcd")
    with pytest.raises(ValidationError):
        Span(start=0, end=3, text="abc", confidence=1.5)


def test_analysis_checks_every_range_against_its_text():
    good = Span.of(TEXT, 0, 8, "Name_Calling,Labeling")
    analysis = Analysis(id="1", title="Traitors win again", text=TEXT, spans=[good],
                        sentences=[Sentence(start=0, end=18, score=0.9)])
    assert analysis.technique_counts() == {"Name_Calling,Labeling": 1}
    with pytest.raises(ValidationError, match="text does not match"):
        Analysis(id="1", title="", text=TEXT, spans=[Span(start=0, end=8, text="Traitorz")])
    with pytest.raises(ValidationError, match="outside the text"):
        Analysis(id="1", title="", text=TEXT, sentences=[Sentence(start=0, end=len(TEXT) + 1)])
    with pytest.raises(ValidationError, match="outside the text"):
        Analysis(id="1", title="", text=TEXT, removed=[RemovedRange(start=5, end=5, reason="ad")])
    evidence = Evidence(start=0, end=8, text="Traitorz", relation="contradicts", score=0.5)
    headline = HeadlineCheck(stance="disagree", probabilities={"disagree": 1.0}, supported=False,
                             evidence=[evidence])
    with pytest.raises(ValidationError, match="evidence 0-8"):
        Analysis(id="1", title="", text=TEXT, headline=headline)


def test_the_json_contract_round_trips():
    start = TEXT.index("puppets")
    analysis = Analysis(id="1", title="Traitors win again", text=TEXT, score=0.4,
                        spans=[Span.of(TEXT, start, start + 7, "Name_Calling,Labeling", 0.6)],
                        sentences=[Sentence(start=0, end=18, score=0.2)])
    data = json.loads(analysis.to_json())
    assert {"id", "title", "text", "spans", "sentences", "score"} <= set(data)
    assert set(data["spans"][0]) >= {"start", "end", "technique", "confidence", "text"}
    assert data["spans"][0]["text"] == "puppets"
    assert Analysis.model_validate_json(analysis.to_json()) == analysis
