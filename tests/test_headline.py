"""Real headlines only: the first-line rule, the one title range, and no check (but a warning) without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from propscan.document import Article, title_range
from propscan.headline import headline_problem
from propscan.pipeline import analyze_many, prepare
from propscan.readers import article_from_text
from propscan.readers.html import article_from_html

FIXTURES = Path(__file__).with_name("fixtures")


def _first_lines() -> list[tuple[str, str]]:
    rows = []
    for line in (FIXTURES / "first_lines.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, text = line.split("\t")
            rows.append((kind, text))
    return rows


@pytest.fixture
def lexicon(monkeypatch):
    """The word-list detector: these tests are about titles and the headline check, not spans."""
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")


def _analyze(text: str):
    return next(analyze_many([article_from_text(text)]))


@pytest.mark.parametrize(("kind", "line"), _first_lines())
def test_the_rule_accepts_headlines_and_rejects_dates_captions_furniture_and_paragraphs(kind, line):
    problem = headline_problem(line)
    if kind == "headline":
        assert problem is None, f"{line!r} rejected as {problem}"
    else:
        assert problem is not None, f"{line!r} ({kind}) accepted as a headline"


def test_the_fixture_covers_every_kind():
    assert {kind for kind, _ in _first_lines()} == {"headline", "date", "caption", "byline", "furniture",
                                                   "paragraph"}


@pytest.mark.parametrize(("line", "reason"), [
    ("January 6, 2020", "a date"),
    ("Fishermen unload their catch at Eastmoor harbour. (Photo: Jane Doe/Gazette)", "caption"),
    ("The council voted on Tuesday to approve the new sea wall after a long and angry debate.", "paragraph"),
    ("Advertisement", "furniture"),
])
def test_the_rule_says_why(line, reason):
    assert reason in headline_problem(line)


def test_leading_blank_lines_keep_the_title_and_its_range(lexicon):
    text = "\n\n  Harbour council approves new sea wall\n\nThe council approved the wall on Tuesday."
    article = article_from_text(text)
    assert article.title == "Harbour council approves new sea wall"
    start, end = article.title_range
    assert text[start:end] == article.title
    _, doc = prepare(article)
    assert doc.title == (start, end)  # the model's in-title feature and the check see the same range
    analysis = _analyze(text)
    assert analysis.headline is not None
    assert not any("headline" in w for w in analysis.warnings)


def test_the_title_range_is_derived_and_never_drifts():
    article = article_from_text("Harbour council approves new sea wall\n\nThe council approved it.")
    assert article.title_range == (0, 37)
    given_apart = article.model_copy(update={"title": "A title the text does not start with"})
    assert given_apart.title_range is None
    assert Article(id="x", title="", text="Mayor resigns\n\nBody.").title_range is None
    assert title_range("\n\nFirst line\nsecond") == (2, 12)  # training's call: any first line


@pytest.mark.parametrize(("first_line", "why"), [
    ("The harbour council voted on Tuesday to approve a new sea wall, ending months of debate over its "
     "cost.", "paragraph"),
    ("January 6, 2020", "a date"),
    ("Fishermen unload their catch at Eastmoor harbour on Monday. (Photo: Jane Doe/Eastmoor Gazette)",
     "caption"),
])
def test_no_headline_means_no_check_a_warning_and_the_first_line_stays_in_the_body(lexicon, first_line, why):
    text = (f"{first_line}\n\nThe new wall will be four metres high, the council said.\n\n"
            "Fishermen said the plan came too late for them.")
    analysis = _analyze(text)
    assert analysis.title == ""
    assert analysis.headline is None
    [warning] = [w for w in analysis.warnings if "headline" in w]
    assert why in warning and "part of the body" in warning
    # The first line is read like any body line, unless it is page furniture (a captioned credit is).
    assert any(s.start == 0 for s in analysis.sentences) != any(r.start == 0 for r in analysis.removed)


def test_a_title_given_apart_from_the_text_gets_no_check_and_says_so(lexicon):
    article = article_from_text("The wall will be four metres high.\n\nFishermen said it came too late.")
    article = article.model_copy(update={"title": "Council approves sea wall"})
    analysis = next(analyze_many([article]))
    assert analysis.headline is None
    assert any("title is not a line of the text" in w for w in analysis.warnings)


def test_a_headline_with_no_body_says_so(lexicon):
    analysis = _analyze("Harbour council approves new sea wall\n\n")
    assert analysis.headline is None
    assert any("no body text after the headline" in w for w in analysis.warnings)


def test_an_html_page_without_a_title_keeps_its_first_paragraph_as_body():
    paragraph = ("The harbour council voted on Tuesday to approve a new sea wall, ending months of debate "
                 "over its cost and its height.")
    html = (f"<html><body><article><p>{paragraph}</p><p>The new wall will be four metres high, the council "
            "said, and work starts in May.</p></article></body></html>")
    article = article_from_html(html)
    assert article.title == "" and article.title_range is None
    assert article.text.startswith(paragraph)


def test_an_html_page_title_is_trusted():
    html = ("<html><head><title>Sea wall approved</title></head><body><article><p>The harbour council voted "
            "on Tuesday to approve a new sea wall, ending months of debate.</p><p>The new wall will be four "
            "metres high.</p></article></body></html>")
    article = article_from_html(html)
    assert article.title == "Sea wall approved"
    assert article.text[slice(*article.title_range)] == "Sea wall approved"
