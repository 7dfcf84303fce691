"""Cleaning: furniture lines become removed ranges, nothing of the story does; offsets stay true."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propscan.clean import clean, furniture_ranges, furniture_reason
from propscan.detect.base import DetectInput, Detection, TechniqueSpan
from propscan.pipeline import analyze_many
from propscan.readers import article_from_text, read_source

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = Path(__file__).parent / "fixtures"
SCRAPED = FIXTURES / "scraped-article.txt"  # made up, with the furniture of a scraped news page
SAMPLE = SHARED / "samples" / "venezuela-lima-group.txt"
NEWSLETTER_FURNITURE = [
    "- Advertisement -",
    "Subscribe to our newsletter",
    "Sign up here to get the latest news, updates and special offers delivered directly to your inbox.",
    "Get real time updates directly on you device, subscribe now.",
]
FURNITURE = [
    "0 2,738", "12,408 views", "1.2K shares", "- Advertisement -", "ADVERTISEMENT",
    "Story continues below advertisement",
    "Subscribe to our newsletter", "Sign up here to get the latest news delivered directly to your inbox.",
    "Get real time updates directly on you device, subscribe now.", "Share on Facebook", "Share this article",
    "Facebook Twitter WhatsApp Email", "Read more", "READ MORE: Surrey woman facing charges", "Related Stories",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    "Photo: May James/HKFP.", "Image: Reuters.", "NEW You can now listen to Fox News articles!",
    "CLICK HERE TO GET THE FOX NEWS APP", "Copyright 2020 WXIX. All rights reserved.", "loading...",
    "Leave a comment",
]
STORY_LINES = [
    "The council said subscribers to the water service would pay more next year.",
    "Google said third-party cookies would be phased out and users could change their settings.",
    "Photographers were kept behind the barrier.",
    "2",
    "1.",
    "Share prices fell 3% on Monday.",
    "Related reports said the minister had resigned.",
    "Read the full report before you judge, he said.",
    "The advertisement campaign cost 2 million dollars.",
]


@pytest.mark.parametrize(("path", "furniture"), [
    pytest.param(SCRAPED, ["0 1,482", *NEWSLETTER_FURNITURE], id="made-up"),
    pytest.param(SAMPLE, ["0 2,738", *NEWSLETTER_FURNITURE], id="sample", marks=pytest.mark.corpus),
])
def test_a_scraped_article_loses_exactly_its_furniture_lines(path, furniture):
    [article] = read_source(str(path))
    removed = [article.text[r.start:r.end] for r in clean(article).removed]
    assert removed == furniture


def test_common_furniture_lines_are_recognized_and_story_lines_kept():
    assert [line for line in FURNITURE if not furniture_reason(line)] == []
    assert [line for line in STORY_LINES if furniture_reason(line)] == []


@pytest.mark.parametrize(("ptc", "fewest_removed", "most_removed"), [
    pytest.param(FIXTURES / "ptc", 1, 1, id="made-up"),  # one "Advertisement" line between labeled ones
    # 35 of 13,613 non-empty lines when written: "Advertisement", "COPYRIGHT 2018 CREATORS.COM", "Sign up for...".
    pytest.param(SHARED / "data" / "ptc", 1, 40, id="ptc", marks=pytest.mark.corpus),
])
def test_ptc_articles_lose_almost_nothing_and_no_labeled_propaganda(ptc, fewest_removed, most_removed):
    articles = ptc / "train-articles"
    labels = ptc / "train-labels-task1-span-identification"
    removed_lines = 0
    for path in sorted(articles.glob("article*.txt")):
        text = path.read_text(encoding="utf-8")
        gold = [tuple(map(int, line.split()[1:])) for line in
                (labels / f"{path.stem}.task1-SI.labels").read_text().splitlines()]
        for r in furniture_ranges(text):
            removed_lines += 1
            assert not any(s < r.end and r.start < e for s, e in gold), text[r.start:r.end]
    assert fewest_removed <= removed_lines <= most_removed


def test_removed_ranges_cover_the_line_text_not_its_surroundings():
    text = "Title\n\n   - Advertisement -  \nBody line."
    [r] = furniture_ranges(text)
    assert (text[r.start:r.end], r.reason) == ("- Advertisement -", "advertisement")


def test_english_gets_no_warning_and_other_languages_a_clear_one():
    english = clean(read_source(str(SCRAPED))[0])
    assert (english.language, english.warnings) == ("en", [])
    french = clean(article_from_text(
        "Le gouvernement annonce de nouvelles mesures\n\nLe Premier ministre a présenté mardi un plan pour "
        "soutenir les entreprises touchées par la crise, avec des aides directes et des reports de charges."))
    assert french.language == "fr"
    assert len(french.warnings) == 1 and "French (fr), not English" in french.warnings[0]


def test_too_little_text_gets_no_language_guess():
    assert clean(article_from_text("Short title\n\nOK.")).language is None


class EverywhereDetector:
    """Claims every word is propaganda, furniture included: the pipeline must drop what is furniture."""

    name = "everywhere"

    def detect(self, docs: Sequence[DetectInput]) -> list[Detection]:
        import re

        return [Detection(spans=[TechniqueSpan(m.start(), m.end(), "Loaded_Language", 0.9)
                                 for m in re.finditer(r"\S+", doc.text)],
                          sentence_scores=[0.5] * len(doc.sentences)) for doc in docs]

    def classify(self, doc, spans):
        return [[("Loaded_Language", 1.0)] for _ in spans]


# Control characters other than tab are left out: article_from_text refuses NUL and more than a few
# of them, as a file reader does (readers.text.check_text).
line_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r", exclude_categories=("Cs", "Cc"),
                                           include_characters="\t"), min_size=0, max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(story=st.lists(line_text, min_size=1, max_size=8),
       furniture=st.lists(st.sampled_from(FURNITURE), max_size=5),
       positions=st.lists(st.integers(min_value=0, max_value=20), min_size=5, max_size=5),
       separator=st.sampled_from(["\n", "\n\n", "\n \n"]))
def test_offsets_stay_true_and_avoid_furniture(story, furniture, positions, separator):
    lines = ["A headline for the test", *story]
    for line, position in zip(furniture, positions, strict=False):
        lines.insert(1 + position % len(lines), line)
    text = separator.join(lines)
    article = article_from_text(text)
    [analysis] = analyze_many([article], detector=EverywhereDetector())
    removed = [(r.start, r.end) for r in analysis.removed]
    assert analysis.text == text
    for line in furniture:  # every inserted furniture line is removed
        assert any(text[s:e] == line for s, e in removed)
    for span in analysis.spans:
        assert text[span.start:span.end] == span.text
        assert not any(span.start < e and s < span.end for s, e in removed)
    for sentence in analysis.sentences:
        assert not any(sentence.start < e and s < sentence.end for s, e in removed)
