"""The offset invariant, text[start:end] == span.text, on every path that emits a span.

Hypothesis draws random texts (news-like words, propaganda cue words, punctuation, non-ASCII
letters, blank lines) and random ranges into them; the word-list detector keeps the runs fast, and
the assertions hold whatever detector runs.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from propscan.deliver.semeval import predict_labels
from propscan.detect.lexicon import LexiconDetector
from propscan.document import Analysis, Span
from propscan.pipeline import analyze_many
from propscan.readers import article_from_text
from propscan.readers.ptc import Label, read_labels, write_labels
from propscan.taxonomy import TECHNIQUE_IDS

WORDS = st.sampled_from([
    "the", "minister", "said", "reckless", "puppets", "patriots", "so-called", "outrageous", "our nation",
    "invasion", "Ärzte", "naïve", "日本", "👍", "Dr.", "U.S.", "—", "“quoted”", "thugs", "regime", "worst ever",
])
SEPARATORS = st.sampled_from([" ", " ", ", ", ". ", "! ", "? ", "\n", "\n\n", "\t", "  "])
TEXTS = st.lists(st.tuples(WORDS, SEPARATORS), min_size=1, max_size=60).map(
    lambda parts: "".join(w + s for w, s in parts).strip() or "x")
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DETECTOR = LexiconDetector()


@st.composite
def text_and_ranges(draw):
    text = draw(TEXTS)
    starts_ends = draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, len(text))), max_size=12))
    return text, [(min(a, b), max(a, b)) for a, b in starts_ends if a != b]


@PROPERTY
@given(text_and_ranges(), st.sampled_from((None, *TECHNIQUE_IDS)))
def test_span_of_keeps_the_invariant(case, technique):
    text, ranges = case
    for start, end in ranges:
        span = Span.of(text, start, end, technique)
        assert text[span.start:span.end] == span.text


@PROPERTY
@given(TEXTS, st.integers(0, 200), st.integers(1, 50))
def test_span_of_rejects_ranges_outside_the_text(text, start, length):
    end = start + length
    if end <= len(text):
        assert Span.of(text, start, end).text == text[start:end]
    else:
        with pytest.raises(ValueError):
            Span.of(text, start, end)


@PROPERTY
@given(text_and_ranges())
def test_the_document_model_refuses_drifted_text(case):
    text, ranges = case
    for start, end in ranges:
        good = Span.of(text, start, end)
        Analysis(id="a", title="", text=text, spans=[good])
        drifted = text[start + 1:end + 1] if end < len(text) else None
        if drifted is not None and len(drifted) == end - start and drifted != good.text:
            with pytest.raises(ValidationError):
                Analysis(id="a", title="", text=text, spans=[Span(start=start, end=end, text=drifted)])


@PROPERTY
@given(text_and_ranges(), st.sampled_from((None, "?", *TECHNIQUE_IDS)))
def test_labels_written_and_read_back_point_at_the_same_text(tmp_path_factory, case, technique):
    text, ranges = case
    labels = [Label("42", start, end, technique) for start, end in ranges]
    path = write_labels(labels, tmp_path_factory.mktemp("labels") / "x.labels")
    again = read_labels(path, articles={"42": text})
    assert again == labels
    assert [text[label.start:label.end] for label in again] == [text[s:e] for s, e in ranges]


@PROPERTY
@given(st.lists(TEXTS, min_size=1, max_size=3))
def test_analyze_spans_and_sentences_point_into_the_text(texts):
    articles = [article_from_text(text, id=str(i)) for i, text in enumerate(texts)]
    for article, analysis in zip(articles, analyze_many(articles, detector=DETECTOR), strict=True):
        assert analysis.text == article.text
        for span in analysis.spans:
            assert analysis.text[span.start:span.end] == span.text
        for sentence in analysis.sentences:
            assert 0 <= sentence.start < sentence.end <= len(analysis.text)
        # The JSON contract carries the same offsets and texts.
        data = json.loads(analysis.to_json())
        for span in data["spans"]:
            assert data["text"][span["start"]:span["end"]] == span["text"]


@PROPERTY
@given(st.lists(TEXTS, min_size=1, max_size=3), st.sampled_from(("si", "flc")))
def test_predicted_labels_point_into_the_text(texts, task):
    articles = [article_from_text(text, id=str(i)) for i, text in enumerate(texts)]
    texts_by_id = {a.id: a.text for a in articles}
    for label in predict_labels(articles, task, detector=DETECTOR):
        assert 0 <= label.start < label.end <= len(texts_by_id[label.article_id])
        assert (label.technique is None) == (task == "si")
        assert Span.of(texts_by_id[label.article_id], label.start, label.end, label.technique).text == \
            texts_by_id[label.article_id][label.start:label.end]


@PROPERTY
@given(text_and_ranges())
def test_classified_template_spans_keep_their_offsets(case):
    text, ranges = case
    article = article_from_text(text, id="7")
    template = [Label("7", start, end, "?") for start, end in ranges if end <= len(article.text)]
    out = list(predict_labels([article], "tc", template=template, detector=DETECTOR))
    assert [(label.article_id, label.start, label.end) for label in out] == \
        [(label.article_id, label.start, label.end) for label in template]
    assert all(label.technique in TECHNIQUE_IDS for label in out)
