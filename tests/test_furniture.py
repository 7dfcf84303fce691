"""Furniture on scraped text: new kinds of furniture lines, link lists, and texts that are no article."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from propscan.clean import clean, furniture_ranges, furniture_reason
from propscan.detect.base import DetectInput, Detection
from propscan.pipeline import analyze_many
from propscan.readers import article_from_text, read_source

FIXTURES = Path(__file__).parent / "fixtures"
BENCHMARK = Path(__file__).parents[1] / "benchmarks" / "furniture.py"
UNLABELED = Path(__file__).parents[2] / "shared" / "data" / "unlabeled-news"

FURNITURE = [
    "This video can not be played To play this video you need to enable JavaScript in your browser.",
    "Something went wrong. Try refreshing your browser, or watch it later", "Back to video",
    "IE 11 is not supported. For an optimal experience visit our site on another browser.",
    "Please enable JavaScript.", "Placeholder while article actions load",
    "2:15 Council votes on the harbour bridge Council votes on the harbour bridge – Mar 3, 2020",
    "EMBED More News Videos The council met on Tuesday.", "View More", "Explore further Bridge costs rise",
    "MORE | Council delays bridge | Ferry fares go up", "Also read: Ferry fares go up again",
    "> Find out more about the harbour", "HARBOUR: Council delays the bridge again",
    "Photo by Jane Doe", "Featured image courtesy of Example Agency.", "Foto: Example Agency",
    "Image source, Example Agency Image caption, The old bridge at dusk",
    "The old bridge at dusk. (Jane Doe/AP)", "The old bridge at dusk. Credit: Harbour Trust",
    "The old bridge at dusk.Harbour Friends - Bridge group/Facebook",
    "What do you think of the bridge? Let us know in the comments below!",
    "Follow Jane Doe on Twitter @janedoe", "This is an archived article and the information may be outdated.",
    "The use of software that blocks ads hinders our ability to serve you. Please turn off your ad blocker.",
    "Accept all", "Manage settings", "Sign in", "Forgot your password?", "Sign in to continue reading.",
    "Enter the characters you see below",
]
STORY_LINES = [
    "Why did this happen?",
    "Ad blockers cost publishers billions last year, a study found.",
    "THIS BAR IS A SAFE SPACE FOR EVERYONE!",
    "FULL: https://t.co/abc pic.twitter.com/xyz — Jane Doe (@janedoe) November 1, 2018",
    "UPDATE: The council has now approved the bridge.",
    "Listen to the people, the mayor said.",
    "The minister said the password had been leaked.",
    "Twitter said on Monday it would change its rules.",
    "The attack requires JavaScript in the victim's browser, the researchers said.",
    "Next, the council will vote on the ferry fares.",
]


def test_new_furniture_lines_are_recognized_and_story_lines_kept():
    assert [line for line in FURNITURE if not furniture_reason(line)] == []
    assert [line for line in STORY_LINES if furniture_reason(line)] == []


def test_a_list_of_links_closing_the_page_is_removed_but_not_a_signature():
    links = ["Council delays the harbour bridge again", "Ferry fares to rise in the spring",
             "How the harbour trust spends its money", "Five bridges that changed the city"]
    text = "Bridge delayed\n\nThe council voted on Tuesday to delay the bridge.\n\n" + "\n\n".join(links) + "\n"
    assert [text[r.start:r.end] for r in furniture_ranges(text)] == links
    signed = "A letter\n\nThank you for your support this year.\n\nJane Doe\n\nChair of the Board,\n\nHARBOUR TRUST\n"
    assert furniture_ranges(signed) == []
    credited = text.replace("\n\nCouncil delays", "\n\nContributing: Jane Doe and John Roe\n\nCouncil delays")
    assert "Contributing" not in [credited[r.start:r.start + 12] for r in furniture_ranges(credited)]


def test_a_capitalized_label_line_is_kept_as_the_title():
    text = "HARBOUR: Council delays the bridge again\n\nThe council voted on Tuesday to delay the bridge."
    assert furniture_ranges(text) == []


class ConstantDetector:
    name = "constant"

    def detect(self, docs: Sequence[DetectInput]) -> list[Detection]:
        return [Detection(spans=[], sentence_scores=[0.4] * len(doc.sentences)) for doc in docs]


@pytest.mark.parametrize(("fixture", "kind"), [("cookie-wall.txt", "cookie wall"), ("login-page.txt", "login page")])
def test_a_wall_is_no_article_and_gets_a_warning_and_no_score(fixture, kind):
    [article] = read_source(str(FIXTURES / fixture))
    cleaned = clean(article)
    assert cleaned.not_article and kind in cleaned.not_article
    [analysis] = analyze_many([article], detector=ConstantDetector())
    assert analysis.score is None
    assert any("no article" in w and kind in w for w in analysis.warnings)
    assert '"score":null' in analysis.to_json()


def test_an_article_with_a_cookie_line_is_still_an_article():
    story = ("The council voted on Tuesday to delay the new harbour bridge by a year, saying costs had risen "
             "sharply since the plan was approved. ") * 3
    text = f"Bridge delayed\n\nWe use cookies to improve your experience. Accept all\n\n{story}\n"
    [analysis] = analyze_many([article_from_text(text)], detector=ConstantDetector())
    assert analysis.score == pytest.approx(0.4)
    assert not any("no article" in w for w in analysis.warnings)


def _benchmark():
    spec = importlib.util.spec_from_file_location("furniture_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.corpus
@pytest.mark.skipif(not UNLABELED.is_dir(), reason=f"needs the unlabeled news in {UNLABELED}")
def test_the_hand_marked_sample_loses_its_furniture_and_no_story_line():
    result = _benchmark().score(UNLABELED)
    assert result.story_removed == []
    assert result.recall >= 0.9


def test_furniture_glued_into_a_line_is_cut_out_and_the_rest_kept():
    text = ("Council delays the harbour bridge Published 7 January 2020\n\n"
            "tap here to see other videos from our team. Try refreshing your browser, or Council votes on "
            "the bridge Back to video The council voted on Tuesday to delay the bridge.\n")
    removed = [(text[r.start:r.end], r.reason) for r in furniture_ranges(text)]
    assert removed == [("Published 7 January 2020", "dateline"),
                       ("tap here to see other videos from our team. Try refreshing your browser, or Council votes "
                        "on the bridge Back to video", "video player")]
    [analysis] = analyze_many([article_from_text(text)], detector=ConstantDetector())
    assert analysis.title == "Council delays the harbour bridge"
    assert [text[s.start:s.end] for s in analysis.sentences] == [
        "Council delays the harbour bridge", "The council voted on Tuesday to delay the bridge."]
    assert analysis.score == pytest.approx(0.4)


def test_a_closing_list_of_links_glued_to_the_last_paragraph_is_cut_from_its_start():
    links = "Harbour fees rise Ferry timetable changes Bridge tolls explained"
    line = f"The council will vote again in March. More On This Topic {links}"
    text = f"Council delays the bridge\n\n{line}\n"
    removed = [(text[r.start:r.end], r.reason) for r in furniture_ranges(text)]
    assert removed == [(f"More On This Topic {links}", "read more link")]
    # Story after the marker is not a list of links: past 600 characters, the line is kept whole,
    # unless the marker comes again near its end.
    story = " The vote was close." * 40
    long = f"The council will vote again. More On This Topic{story}"
    assert furniture_ranges(f"Title\n\n{long}\n") == []
    again = f"{long} More On This Topic {links}"
    removed = [(r.reason, f"Title\n\n{again}\n"[r.start:r.end]) for r in furniture_ranges(f"Title\n\n{again}\n")]
    assert removed == [("read more link", f"More On This Topic {links}")]
