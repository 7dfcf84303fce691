"""Clean: find page furniture (counters, ad markers, newsletter boxes...) as removed ranges.

Nothing is deleted from the text: furniture is reported as ``RemovedRange``s so that every offset
still points into the text the user gave, and the later stages skip those ranges.

Furniture is recognized a whole line at a time: a line is removed only when all of it (stripped of
surrounding whitespace) matches one of the patterns below, which were written from what scraped
news carries (../shared/data/unlabeled-news, the Lima Group sample). A sentence of the story that
merely mentions "cookies" or "subscribers" is never a whole-line match, so it is kept; the removed
range covers the line's text, not its newline. Then the language of the kept text is detected:
the models are trained on English, so other languages get a warning.

The text is untrusted, so the patterns run on RE2 (``google-re2``), whose matching time is linear
in the length of the line whatever the pattern: a pattern with nested repetition such as
``(?:facebook\\s*[|,]?\\s*){2,}`` cannot make one line take minutes, as it could with Python's
backtracking ``re``. RE2 has no lookarounds, and its ``\\s``, ``\\d`` and ``\\b`` are ASCII-only, so a
line's runs of (Unicode) whitespace are turned into single spaces before matching.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import re2

from propscan.document import Article, RemovedRange

_NUMBER = r"\d[\d,.]*\s*[kKmM]?"
_SOCIAL = r"(?:facebook|twitter|x|linkedin|whatsapp|reddit|pinterest|telegram|instagram|email|e-mail)"

# (reason, pattern matching a whole stripped line, case-insensitive)
_FURNITURE: list[tuple[str, str]] = [
    # Numbers alone: two or more ("0 2,738": comments and views), a thousands group or a k/M suffix.
    # A lone small number ("2", "3.") is a list or section marker and stays.
    ("view counter", r"\d[\d,.]*(?:\s+\d[\d,.]*)+|\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?\s*[kKmM]"),
    ("view counter", rf"{_NUMBER}\s*(?:views?|reads?|shares?|likes?|comments?|min(?:ute)?s? read)"),
    ("view counter", rf"(?:views?|shares?|comments?)\s*:?\s*{_NUMBER}"),
    ("advertisement", r"[-–—•*|\s]*(?:advertisements?|ad|sponsored(?: content)?|paid content|promoted)[-–—•*|\s]*"),
    ("advertisement", r"(?:advertisement\s*\d*\s*)?story continues below(?: this)?(?: advertisement)?"
                      r"(?:\s*this advertisement has not loaded yet, but your article continues below\.)?"),
    ("advertisement", r"this advertisement has not loaded yet, but your article continues below\."),
    ("advertisement", r"continue reading (?:the (?:main )?story )?below(?: advertisement)?"),
    ("newsletter prompt", r"(?:subscribe|sign up)\b.{0,120}\b(?:newsletters?|inbox|mailing list|updates)\b.{0,60}"),
    ("newsletter prompt", r"(?:subscribe|sign up)(?: (?:now|today|here))?[.!]*"),
    ("newsletter prompt", r"get real[- ]time updates\b.{0,80}"),
    ("newsletter prompt", r"(?:get|join) (?:the|our) .{0,40}newsletter[.!]*"),
    ("newsletter prompt", r"already a subscriber\??.{0,40}"),
    ("share prompt", rf"(?:share|tweet|pin|email|print|post)(?: this)?(?: (?:article|story|post|page))?"
                     rf"(?: (?:on|via|to) {_SOCIAL})?[.!:]*"),
    ("share prompt", rf"(?:share|share on|share via)?\s*(?:{_SOCIAL}\s*[|,/•·]?\s*){{2,}}"),
    ("share prompt", r"share this(?: article| story)?(?: in your social networks?|:.{0,120})"),
    ("share prompt", r"think your friends would be interested\? share this story!"),
    ("share prompt", rf"(?:•\s*)?follow us on {_SOCIAL}\b.{0,100}"),
    ("read more link", r"(?:read more|see more|read the full story|continue reading|more stories)\b[:.…!]*"),
    ("read more link", r"read more\s*:.{0,150}"),
    ("read more link", r"related(?: content| stories| articles| coverage| topics| posts| links)?\s*(?::.{0,150})?"),
    ("read more link", r"visit .{1,60} homepage for more stories\.?"),
    # A credit, or a caption short enough not to be a sentence of the story (annotators of PTC labeled
    # long captions as text).
    ("photo credit", r"\(?(?:file )?(?:photo|photograph|image|picture|video|graphic|illustration)s?(?: credit)?"
                     r"\s*:[^.!?]{0,60}[.)]*"),
    ("photo credit", r"(?:enlarge this image\s*)?toggle caption\b.{0,150}"),
    ("photo credit", r"slideshow\s*\(\s*\d+ images?\s*\)"),
    ("photo credit", r".{0,80}(?:/|\|)\s*(?:getty images|ap photo|reuters|afp|shutterstock)\.?"),
    ("listen prompt", r"(?:new[:!]?\s*)?you can now listen to\b.{0,80}"),
    ("app prompt", r"click here to get the .{0,40} app\.?"),
    ("app prompt", r"download (?:the|our) .{0,40} app\b.{0,80}"),
    ("copyright notice", r"(?:copyright\s*)?(?:©|\(c\))\s*(?:\d{4}|provided by)\b.{0,120}"),
    ("copyright notice", r".{0,120}\bdistributed by .{0,60}"),
    ("copyright notice", r"copyright \d{4}\b.{0,120}"),
    ("copyright notice", r".{0,120}\ball rights reserved\.?"),
    ("loading marker", r"loading(?:\.\.\.|…)"),
    ("comments prompt", r"(?:leave a comment|post a comment|read the comments|most recent comments|"
                        r"comments?(?: \(\d+\))?|show comments)[.!]*"),
]
_PATTERNS = [(reason, re2.compile(f"(?i){pattern}")) for reason, pattern in _FURNITURE]

# A story about tracking cookies is not a cookie notice: a notice speaks to the reader. The line
# must be at most 400 characters and, in its first 300, name cookies and speak to the reader (RE2
# has no lookahead to say "both" in one pattern).
_COOKIE_NOTICE_MAX = 400
_COOKIE_NOTICE_CUES = [
    re2.compile(r"(?i)^.{0,300}\bcookie"),
    re2.compile(r"(?i)^.{0,300}\b(?:we use|(?:this|our) (?:web)?site uses?|accept(?:ing)? (?:all |our )?cookies|"
                r"cookie (?:policy|preferences|settings|notice)|your browser)"),
]


def _whole_line(pattern) -> Callable[[str], bool]:
    return lambda line: pattern.fullmatch(line) is not None


def _cookie_notice(line: str) -> bool:
    return len(line) <= _COOKIE_NOTICE_MAX and all(cue.search(line) for cue in _COOKIE_NOTICE_CUES)


# (reason, test of a whitespace-normalized line), in the order they are tried
FURNITURE_RULES: list[tuple[str, Callable[[str], bool]]] = [
    *((reason, _whole_line(pattern)) for reason, pattern in _PATTERNS), ("cookie notice", _cookie_notice)]
_LINE = re.compile(r"[^\n]+")

# Below this many letters of kept text, language detection is a guess and is not reported.
MIN_LETTERS_FOR_LANGUAGE = 40
LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "es": "Spanish", "fr": "French", "it": "Italian", "ja": "Japanese",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "tr": "Turkish", "uk": "Ukrainian",
    "zh": "Chinese", "ko": "Korean", "sv": "Swedish", "fa": "Persian",
}


@dataclass
class Cleaned:
    removed: list[RemovedRange] = field(default_factory=list)
    language: str | None = None
    warnings: list[str] = field(default_factory=list)


def clean(article: Article) -> Cleaned:
    """The furniture lines of ``article.text`` as removed ranges, and the language of the rest."""
    removed = furniture_ranges(article.text)
    kept = _kept_text(article.text, removed)
    language = detect_language(kept)
    warnings = []
    if language and language != "en":
        name = LANGUAGE_NAMES.get(language, language)
        warnings.append(f"the article seems to be in {name} ({language}), not English: the models are "
                        "trained on English news, so expect unreliable results")
    return Cleaned(removed=removed, language=language, warnings=warnings)


def furniture_reason(line: str) -> str | None:
    """Why a whole line is page furniture, or None when it may be part of the story."""
    normalized = " ".join(line.split())
    if not normalized:
        return None
    for reason, matches in FURNITURE_RULES:
        if matches(normalized):
            return reason
    return None


def furniture_ranges(text: str) -> list[RemovedRange]:
    ranges = []
    for line in _LINE.finditer(text):
        reason = furniture_reason(line.group())
        if reason:
            content = line.group()
            start = line.start() + len(content) - len(content.lstrip())
            end = line.end() - (len(content) - len(content.rstrip()))
            ranges.append(RemovedRange(start=start, end=end, reason=reason))
    return ranges


_WORDS = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language of ``text`` (py3langid), or None when too little to tell."""
    sample = text[:5_000]
    if sum(len(word) for word in _WORDS.findall(sample)) < MIN_LETTERS_FOR_LANGUAGE:
        return None
    language, _ = _language_identifier().classify(sample)
    return language


def load_language_profiles() -> None:
    """Load the language identifier's model now (about a second) rather than on the first article."""
    _language_identifier()


@cache
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def _kept_text(text: str, removed: list[RemovedRange]) -> str:
    pieces, position = [], 0
    for r in removed:
        pieces.append(text[position:r.start])
        position = r.end
    pieces.append(text[position:])
    return "".join(pieces)
