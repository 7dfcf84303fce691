"""The terminal report: spans marked in plain text when piped, colour on a terminal, short quotes.

The CLI runs in a subprocess with the word-list detector (PROPSCAN_MODEL=lexicon), on an article
written for these tests whose cue words give nested, crossing and identical spans; a pseudo-terminal
stands in for a real one where colour is the point.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
from rich.console import Console

from propscan.deliver.report import SPAN_QUOTE, TAGS, number_spans, plain_report, print_report
from propscan.deliver.shorten import ELLIPSIS, shorten
from propscan.document import Analysis, Evidence, HeadlineCheck, RemovedRange, Span
from propscan.taxonomy import BY_ID, TECHNIQUE_IDS

# "Radical" is name calling and loaded language at once; "will destroy" (fear) holds "destroy"
# (loaded language); "threat to our" (fear) and "our nation" (flag-waving) cross.
ARTICLE = """Radical globalists will destroy the Harbour market

0 2,738

The plan is a threat to our nation and its people, critics said on Monday.

- Advertisement -

Reckless bureaucrats allegedly signed the deal behind closed doors, a shameful move that the so-called experts defended.

Subscribe to our newsletter
"""

ANSI = re.compile(r"\x1b\[[0-9;]*m")
MARKER = re.compile(r"\[(\d+):([A-Z]+) |\](\d+)|\{F(\d+): ([a-z ]+)\}")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE")}
    env.update(PROPSCAN_MODEL="lexicon", TERM="xterm-256color", COLUMNS="200", **extra)
    return env


def _propscan(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "propscan.cli", *args], capture_output=True, text=True,
                          env=_env(**env), timeout=300)


def _propscan_on_terminal(*args: str, **env: str) -> str:
    """What ``propscan ARGS`` writes to a terminal (a pseudo-terminal here)."""
    pty = pytest.importorskip("pty", reason="pseudo-terminals are POSIX only")
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "propscan.cli", *args], stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=subprocess.DEVNULL, env=_env(**env))
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: every writer to the terminal has gone
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=300) == 0
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def unmark(body: str, furniture_texts: dict[int, str]) -> tuple[str, dict[int, tuple[str, int, int]], dict]:
    """The article behind a marked-up body, each span's (tag, start, end) in it, and furniture reasons.

    Replaced furniture is put back from ``furniture_texts`` so offsets match the article's own.
    """
    out, position, last = [], 0, 0
    opened: dict[int, tuple[str, int]] = {}
    spans: dict[int, tuple[str, int, int]] = {}
    reasons: dict[int, str] = {}
    for m in MARKER.finditer(body):
        out.append(body[last:m.start()])
        position += m.start() - last
        last = m.end()
        if m.group(1):
            assert int(m.group(1)) not in opened and int(m.group(1)) not in spans, "a span opened twice"
            opened[int(m.group(1))] = (m.group(2), position)
        elif m.group(3):
            tag, start = opened.pop(int(m.group(3)))
            spans[int(m.group(3))] = (tag, start, position)
        else:
            number = int(m.group(4))
            reasons[number] = m.group(5)
            out.append(furniture_texts[number])
            position += len(furniture_texts[number])
    out.append(body[last:])
    assert not opened, f"spans opened and never closed: {opened}"
    return "".join(out), spans, reasons


def _body(report: str) -> str:
    """The marked-up article: after the header's blank line, up to the legend."""
    after_header = report.split("\n\n", 1)[1]
    return re.split(r"\n\n(?:Spans \(|No propaganda techniques found\.)", after_header, maxsplit=1)[0]


def _check_marked_report(report: str, analysis: Analysis) -> None:
    """Every span opens and closes around exactly its text with its tag; the legend lists each."""
    numbered = number_spans(analysis.spans)
    furniture_texts = {k: analysis.text[r.start:r.end] for k, r in enumerate(analysis.removed, 1)}
    text, spans, reasons = unmark(_body(report), furniture_texts)
    assert text == analysis.text.rstrip()
    assert spans == {m.number: (m.tag, m.span.start, m.span.end) for m in numbered}
    assert reasons == {k: r.reason for k, r in enumerate(analysis.removed, 1) if k in reasons}
    for m in numbered:
        quote = re.escape(shorten(m.span.text, SPAN_QUOTE))
        line = rf"^ *{m.number}  {m.tag} +{re.escape(m.name)} +{m.span.confidence:.2f}  “{quote}”$"
        assert re.search(line, report, re.MULTILINE), f"legend line of span {m.number} missing"


@pytest.fixture(scope="module")
def article_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "market.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def analysis(article_file) -> Analysis:
    result = _propscan("analyze", str(article_file), "--json")
    assert result.returncode == 0, result.stderr
    return Analysis.model_validate(json.loads(result.stdout))


@pytest.fixture(scope="module")
def piped(article_file) -> str:
    result = _propscan("analyze", str(article_file))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_fixture_article_has_nested_crossing_and_identical_spans(analysis):
    extents = [(s.start, s.end) for s in analysis.spans]
    nested = [(a, b) for a in extents for b in extents if a != b and a[0] <= b[0] and b[1] <= a[1]]
    crossing = [(a, b) for a in extents for b in extents if a[0] < b[0] < a[1] < b[1]]
    assert nested and crossing and len(set(extents)) < len(extents)


def test_piped_report_marks_every_span_in_plain_text(piped, analysis):
    assert not ANSI.search(piped) and "\x1b" not in piped
    _check_marked_report(piped, analysis)
    assert "[1:LL [2:NC Radical]2]1" in piped
    assert "[4:FEAR will [5:LL destroy]5]4" in piped
    assert "[6:FEAR threat to [7:FLAG our]6 nation]7" in piped


def test_piped_report_lists_the_furniture_with_reason_and_text(piped, analysis):
    assert "Page furniture ignored (3 ranges, not analyzed):" in piped
    for number, (reason, text) in enumerate([("view counter", "0 2,738"), ("advertisement", "- Advertisement -"),
                                             ("newsletter prompt", "Subscribe to our newsletter")], 1):
        assert re.search(rf"^  F{number}  {reason} +“{re.escape(text)}”$", piped, re.MULTILINE)
        assert f"{{F{number}: {reason}}}" in _body(piped)
    assert "Article score: " in piped and "Headline: " in piped


def test_terminal_gets_colour_and_the_same_markers(article_file):
    shown = _propscan_on_terminal("analyze", str(article_file))
    assert ANSI.search(shown)
    plain = ANSI.sub("", shown)
    for marker in ("[4:FEAR ", "[5:LL ", "]5", "]4", "[6:FEAR ", "[7:FLAG ", "]6", "]7"):
        assert marker in plain


@pytest.mark.parametrize("how", ["--no-color", "NO_COLOR"])
def test_no_color_on_a_terminal_writes_the_plain_report(article_file, analysis, how):
    if how == "--no-color":
        shown = _propscan_on_terminal("analyze", str(article_file), "--no-color")
    else:
        shown = _propscan_on_terminal("analyze", str(article_file), NO_COLOR="1")
    assert "\x1b" not in shown
    _check_marked_report(shown, analysis)


def test_help_shows_an_example_and_the_output_options():
    result = _propscan("analyze", "--help")
    assert result.returncode == 0
    for words in ("--json", "--no-color", "NO_COLOR", "[1:NC Reckless council bureaucrats]1 gamble",
                  "[1:LL [2:NC ...]2 gamble]1", "[n:TAG", "[default: 5000000]"):
        assert words in result.stdout


# The report of a hand-built analysis, rendered in this process.

TEXT = ("Reckless council bureaucrats gamble our town's future on a crumbling bridge\n\n"
        "Subscribe to get every update on the Harbour Bridge, the council, the vote and the repair contract "
        "straight to your inbox each morning\n\n"
        "The council approved a two-year repair plan for the 1962 bridge instead of the new crossing that "
        "residents asked for in last spring's survey, by five votes to four after a meeting of three hours.\n")


def _hand_built() -> Analysis:
    evidence_start = TEXT.index("The council approved")
    evidence_end = len(TEXT) - 1
    box_start = TEXT.index("Subscribe")
    box_end = TEXT.index("\n", box_start)
    return Analysis(
        id="hand", title="Reckless council bureaucrats gamble our town's future on a crumbling bridge", text=TEXT,
        spans=[Span.of(TEXT, 0, 28, "Name_Calling,Labeling", 0.7),
               Span.of(TEXT, 0, 35, "Loaded_Language", 0.55),
               Span.of(TEXT, 29, TEXT.index(" future"), "Exaggeration,Minimisation", 0.4),
               Span.of(TEXT, evidence_start, evidence_end, "Causal_Oversimplification", 0.36),
               Span.of(TEXT, TEXT.index("crumbling"), TEXT.index(" bridge"), None, 0.5)],
        removed=[RemovedRange(start=box_start, end=box_end, reason="newsletter prompt")],
        warnings=["the article seems short"],
        headline=HeadlineCheck(stance="agree", probabilities={"agree": 0.6}, supported=True, evidence=[
            Evidence(start=evidence_start, end=evidence_end, text=TEXT[evidence_start:evidence_end],
                     relation="supports", score=0.8)]),
        score=0.5, model="hand")


def test_crossing_nested_and_unclassified_spans_in_the_plain_report():
    analysis = _hand_built()
    report = plain_report(analysis)
    _check_marked_report(report, analysis)
    body = _body(report)
    assert body.startswith("[1:LL [2:NC Reckless council bureaucrats]2 [3:EXAG gamble]1 our town's]3 future")
    assert "[4:SPAN crumbling]4" in report
    assert "Warning: the article seems short" in report


def test_long_quotes_end_with_a_whole_word_and_an_ellipsis():
    analysis = _hand_built()
    report = plain_report(analysis)
    flat_text = " ".join(TEXT.split())
    cut = re.findall(r"“([^”]*)…”", report)
    assert len(cut) >= 3  # the legend's and the table's long span, the evidence, the newsletter box
    for quote in cut:
        assert flat_text.startswith(quote) or quote in flat_text
        after = flat_text[flat_text.index(quote) + len(quote)]
        assert not after.isalnum(), f"“{quote}…” is cut inside a word"
    assert "  supports: “The council approved" in report
    assert re.search(r"^  F1  newsletter prompt  “Subscribe to get every update.*…”$", report, re.MULTILINE)


@pytest.mark.parametrize("text, limit", [
    ("The Harbour Bridge vote on Tuesday was nothing short of a betrayal of every hard-working family", 40),
    ("residents asked for in last spring's survey, by five votes to four", 45),
    ("a  b\n\nc   dddddddd eeeeeeeeeeeeeeeeeeeeeeee", 20),
    ("word, another; third: fourth", 15),
])
def test_shorten_cuts_after_a_whole_word(text, limit):
    short = shorten(text, limit)
    flat = " ".join(text.split())
    assert len(short) <= limit and short.endswith(ELLIPSIS)
    kept = short[:-1]
    assert flat.startswith(kept) and not flat[len(kept)].isalnum()
    assert kept[-1].isalnum()


def test_shorten_keeps_short_text_and_flattens_it():
    assert shorten("two\nlines", 20) == "two lines"
    assert shorten("x" * 30, 10) == "x" * 9 + ELLIPSIS  # one word longer than the limit: nowhere else to cut


def test_no_article_score_and_no_headline_are_reported_as_such():
    analysis = _hand_built().model_copy(update={"score": None, "headline": None})
    report = plain_report(analysis)
    assert "Article score: none, no article score for this text (see the warnings above)" in report
    assert "Headline: not checked" in report
    shown = io.StringIO()
    print_report(analysis, Console(file=shown, force_terminal=True, width=120), colour=True)
    assert "no article score" in ANSI.sub("", shown.getvalue())


def test_colour_report_shows_both_overlapping_spans():
    analysis = _hand_built()
    shown = io.StringIO()
    print_report(analysis, Console(file=shown, force_terminal=True, color_system="truecolor", width=200))
    out = shown.getvalue()
    plain = ANSI.sub("", out)
    assert "[1:LL [2:NC Reckless council bureaucrats]2 [3:EXAG gamble]1" in plain
    # Inside two spans: underlined, on the colour of the shorter (inner) one.
    inner = re.search(r"\x1b\[([0-9;]*)mReckless council bureaucrats\x1b", out)
    assert inner and inner.group(1).startswith("4;") and "48;2;148;103;189" in inner.group(1)  # name calling
    crossed = re.search(r"\x1b\[([0-9;]*)mgamble\x1b", out)
    assert crossed and crossed.group(1).startswith("4;") and "48;2;255;127;14" in crossed.group(1)  # exaggeration
    alone = re.search(r"\x1b\[([0-9;]*)m our town's\x1b", out)
    assert alone and not alone.group(1).startswith("4;")


def test_piped_console_gets_plain_text():
    shown = io.StringIO()
    print_report(_hand_built(), Console(file=shown))
    assert "\x1b" not in shown.getvalue() and "[2:NC Reckless council bureaucrats]2" in shown.getvalue()


def test_every_technique_has_its_own_tag():
    assert set(TAGS) == set(TECHNIQUE_IDS) == set(BY_ID)
    assert len(set(TAGS.values())) == len(TAGS)
    assert all(re.fullmatch(r"[A-Z]+", tag) for tag in TAGS.values())


def test_furniture_that_a_span_touches_stays_in_the_text():
    text = "Shameful deal\n\n- Advertisement - shameful\n\nSubscribe now\n"
    ad = text.index("- Advertisement")
    box = text.index("Subscribe")
    analysis = Analysis(id="a", title="Shameful deal", text=text,
                        spans=[Span.of(text, 0, 8, "Loaded_Language"),
                               Span.of(text, ad + 18, ad + 26, "Loaded_Language")],
                        removed=[RemovedRange(start=ad, end=ad + 26, reason="advertisement"),
                                 RemovedRange(start=box, end=box + 13, reason="newsletter prompt")])
    report = plain_report(analysis)
    _check_marked_report(report, analysis)
    assert "- Advertisement - [2:LL shameful]2" in report and "{F2: newsletter prompt}" in report
    assert "  F1  advertisement      “- Advertisement - shameful”" in report


def test_control_characters_in_the_article_never_reach_the_terminal():
    text = "Evil plan\x1b]0;owned\x07\n\nThe \x1b[2Jevil plan\x9b31m goes on.\n"
    analysis = Analysis(id="x", title="Evil plan\x1b]0;owned\x07", text=text,
                        spans=[Span.of(text, text.index("evil"), text.index(" plan\x9b"), "Loaded_Language")],
                        warnings=["odd \x1b[5m text"])
    report = plain_report(analysis)
    assert "\x1b" not in report and "\x9b" not in report and "\x07" not in report
    assert "The ␛[2J[1:LL evil]1 plan\ufffd31m goes on." in report
    shown = io.StringIO()
    print_report(analysis, Console(file=shown, force_terminal=True, color_system="truecolor", width=200))
    assert "\x1b[2J" not in shown.getvalue() and "\x1b]0;" not in shown.getvalue() and "\x9b" not in shown.getvalue()
    assert "␛[2J" in shown.getvalue()


def test_spans_under_the_threshold_are_counted_not_shown(tmp_path):
    from propscan.deliver.report import plain_report
    from propscan.document import Analysis, Span

    text = "Thugs and crooks\n\nThe thugs met the crooks on Monday."
    sure, unsure = text.index("thugs"), text.index("crooks on")
    analysis = Analysis(id="a", title="Thugs and crooks", text=text, min_confidence=0.5,
                        spans=[Span.of(text, sure, sure + 5, "Name_Calling,Labeling", 0.8),
                               Span.of(text, unsure, unsure + 6, "Name_Calling,Labeling", 0.3)])
    shown = analysis.shown()
    report = plain_report(shown, hidden=len(analysis.spans) - len(shown.spans))
    assert "[1:NC thugs]1" in report and "crooks]" not in report
    assert "1 less sure span not shown (confidence under 0.50" in report
    assert "less sure" not in plain_report(analysis.shown(0.0))
