"""Every regular expression that runs on untrusted text takes time linear in the text's length.

An article, a corpus row or a fetched page can hold anything, so one pattern that backtracks
(nested or adjacent repetition) lets a tiny input hold a worker, and the server, for minutes: a
118-byte article took 110 s in the share-prompt furniture pattern (issue 15). These tests grow
adversarial inputs and compare times measured within the same test; they assert ratios, never a
wall-clock limit. Every compiled pattern at module level in propscan (alone or in a list of
rules) is found and tried, so a pattern added later is checked without being listed here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
from collections.abc import Callable

import pytest

import propscan
from propscan.clean import furniture_ranges, furniture_reason
from propscan.segment import sentence_ranges

# (prefix, repeated unit, suffix): runs of whitespace after a keyword, words split by runs, share
# separators, numbers, punctuation and quotes around sentence ends, unclosed tags. The suffix
# makes a whole-line match fail at the very end, after every way of splitting the run was tried.
ADVERSARIAL = [
    ("Headline\n\nA fine body sentence.\n", "x    ", "!"),  # the reproducer of issue 15
    ("share ", "facebook | ", "!"),
    ("", "twitter  ,  ", "x"),
    ("views", " ", "x"),
    ("1", " ", "x"),
    ("advertisement", " ", "story"),
    ("", "1 ", "x"),
    ("", "1,", "x"),
    ("", "- ", "x"),
    ("photo", " ", "."),
    ("", "a", "!"),
    ("", "/ ", "x"),
    ("", ".'", "a"),
    ("", "Ab. ", "a"),
    ("", "cookie ", "x"),
    ("", "<meta ", ""),
]
SMALL_REPEATS = [1, 2, 4, 8, 16, 32, 64, 128]
LARGE_REPEATS = 1024
# Linear time grows 2x per doubling and 8x from 128 to 1,024 repeats; allow 3x that for noise and
# per-call overheads. Backtracking grows 4x or more per doubling, 64x or more over the 8x step.
SLACK = 3
# Below this much CPU time a call is mostly overhead and cache, and a loaded machine can make one
# take ten times another at one or two repeats; backtracking shows at the larger sizes, far above it.
NOISE_FLOOR = 50e-6


def _cpu_seconds(work: Callable[[str], object], text: str) -> float:
    """CPU time of one call, the least of five runs of at least 0.2 ms (CPU time: the machine is shared;
    the least of five: with three, the check once missed a backtracking pattern in a full suite run
    beside a training run, on a fresh clone)."""
    best = float("inf")
    for _ in range(5):
        calls, started = 0, time.thread_time()
        while True:  # at least one call: the thread's clock can jump past 0.2 ms before the first
            work(text)
            calls += 1
            if (elapsed := time.thread_time() - started) >= 0.0002:
                break
        best = min(best, elapsed / calls)
    return best


def growth_problem(work: Callable[[str], object], prefix: str, unit: str, suffix: str) -> str | None:
    """How time grows faster than the input, or None when it grows linearly.

    Doubling first, so that an exponential pattern is caught at a few dozen repeats instead of
    running for hours at the large size; a second measurement confirms before blaming the pattern.
    """
    times: dict[int, float] = {}

    def seconds(repeats: int, again: bool = False) -> float:
        if again or repeats not in times:
            times[repeats] = _cpu_seconds(work, prefix + unit * repeats + suffix)
        return times[repeats]

    sizes = [*SMALL_REPEATS, LARGE_REPEATS]
    for small, large in zip(sizes, sizes[1:], strict=False):
        if seconds(large) < NOISE_FLOOR:
            continue
        ratio = seconds(large) / seconds(small)
        if ratio > SLACK * large / small:
            ratio = seconds(large, again=True) / seconds(small, again=True)
            if ratio > SLACK * large / small:
                return f"{small} -> {large} repeats of {unit!r}: {ratio:.0f}x the time"
    return None


def _is_pattern(value: object) -> bool:
    """A compiled pattern of Python's re or of RE2 (google-re2). (An RE2 set of patterns is tried
    through the function that runs it, ``furniture_ranges``.)"""
    return isinstance(value, re.Pattern) or (type(value).__module__.startswith("re2") and hasattr(value, "pattern"))


def _patterns_in(value: object, name: str) -> list[tuple[str, object]]:
    """The compiled patterns in a value: itself, or inside its lists and tuples (rules)."""
    if _is_pattern(value):
        return [(name, value)]
    if isinstance(value, list | tuple):
        return [found for i, item in enumerate(value) for found in _patterns_in(item, f"{name}[{i}]")]
    return []


def _module_patterns() -> list[tuple[str, object]]:
    """(module.name[index...], pattern) for each compiled pattern at module level, alone or in rules."""
    found = []
    for info in pkgutil.walk_packages(propscan.__path__, "propscan."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            found += _patterns_in(value, f"{info.name}.{name}")
    return found


def _all_matches(pattern) -> Callable[[str], object]:
    """Every match in the text: a try from every start, the most work a pattern can be asked for."""
    if isinstance(pattern.pattern, bytes):
        return lambda text: list(pattern.finditer(text.encode("utf-8")))
    return lambda text: list(pattern.finditer(text))


PATTERNS = _module_patterns()


def test_the_patterns_are_found():
    names = {name.split("[")[0] for name, _ in PATTERNS}
    assert {"propscan.clean._PATTERNS", "propscan.clean._CUE_PATTERNS", "propscan.segment._BOUNDARY",
            "propscan.segment._ABBREV", "propscan.detect.lexicon._PATTERNS",
            "propscan.readers.html._META_CHARSET"} <= names
    assert sum(name.startswith("propscan.clean._PATTERNS[") for name, _ in PATTERNS) >= 30


def _first_problem(work: Callable[[str], object]) -> str | None:
    """The first adversarial input on which ``work`` grows too fast (one is enough, and each costs time)."""
    return next((problem for prefix, unit, suffix in ADVERSARIAL
                 if (problem := growth_problem(work, prefix, unit, suffix))), None)


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_every_pattern_takes_linear_time(name, pattern):
    problem = _first_problem(_all_matches(pattern))
    assert problem is None, f"{name} ({pattern.pattern!r}) backtracks: {problem}"


@pytest.mark.parametrize("work", [furniture_ranges, sentence_ranges], ids=["furniture_ranges", "sentence_ranges"])
def test_cleaning_and_segmenting_take_linear_time(work):
    assert _first_problem(work) is None


def test_the_check_catches_backtracking_patterns():
    # The share-prompt pattern as it was, on Python's backtracking re: exponential in the words.
    social = r"(?:facebook|twitter|x|email)"
    old_share = re.compile(rf"(?:share|share on)?\s*(?:{social}\s*[|,/]?\s*){{2,}}", re.IGNORECASE)
    assert growth_problem(old_share.fullmatch, "", "x    ", "!") is not None
    # Two whitespace runs that can share one run of spaces between them: quadratic.
    old_views = re.compile(r"(?:views?|shares?)\s*:?\s*\d[\d,.]*", re.IGNORECASE)
    assert growth_problem(old_views.fullmatch, "views", " ", "x") is not None


def test_the_issue_reproducer_is_a_story_line():
    # 13 words took 110 s before the furniture patterns moved to RE2.
    assert furniture_reason("    ".join(["x"] * 13) + "!") is None
