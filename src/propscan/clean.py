"""Clean: find page furniture (counters, ad markers, newsletter boxes...) as removed ranges.

Nothing is deleted from the text: furniture is reported as ``RemovedRange``s so that every offset
still points into the text the user gave, and the later stages skip those ranges.

Furniture is recognized a whole line at a time: a line is removed only when all of it (stripped of
surrounding whitespace) matches one of the patterns below, which were written from what scraped
news carries (../shared/data/unlabeled-news, the Lima Group sample). A sentence of the story that
merely mentions "cookies" or "subscribers" is never a whole-line match, so it is kept; the removed
range covers the line's text, not its newline. Then the language of the kept text is detected:
the models are trained on English, so other languages get a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

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
    # A story about tracking cookies is not a cookie notice: a notice speaks to the reader.
    ("cookie notice", r"(?=.{0,300}\bcookie)(?=.{0,300}\b(?:we use|(?:this|our) (?:web)?site uses?|accept(?:ing)? "
                      r"(?:all |our )?cookies|cookie (?:policy|preferences|settings|notice)|your browser)).{1,400}"),
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
_PATTERNS = [(reason, re.compile(pattern, re.IGNORECASE)) for reason, pattern in _FURNITURE]
_LINE = re.compile(r"[^\n]+")

# Below this many letters of kept text, language detection is a guess and is not reported.
MIN_LETTERS_FOR_LANGUAGE = 40
LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "es": "Spanish", "fr": "French", "it": "Italian", "ja": "Japanese",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "tr": "Turkish", "uk": "Ukrainian",
    "zh-cn": "Chinese", "zh-tw": "Chinese", "ko": "Korean", "sv": "Swedish", "fa": "Persian",
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
    stripped = line.strip()
    if not stripped:
        return None
    for reason, pattern in _PATTERNS:
        if pattern.fullmatch(stripped):
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


# The commonest English function words: in English prose they make up a third or more of the
# words; in other languages (even ones that borrow English terms) far less.
_ENGLISH_FUNCTION_WORDS = frozenset(
    "the of and to a in is that for it on was with as by be are this at from have has not but an "
    "they he she his her its which or were been will would said who their we".split())
_WORDS = re.compile(r"[^\W\d_]+")


def _clearly_english(text: str) -> bool:
    words = _WORDS.findall(text[:3000].lower())
    return len(words) >= 20 and sum(w in _ENGLISH_FUNCTION_WORDS for w in words) >= 0.25 * len(words)


def detect_language(text: str) -> str | None:
    """The language code of ``text`` (langdetect, fixed seed), or None when too little to tell.

    Text that is plainly English by its function words skips langdetect, which is slow.
    """
    if sum(len(word) for word in _WORDS.findall(text[:5_000])) < MIN_LETTERS_FOR_LANGUAGE:
        return None
    if _clearly_english(text):
        return "en"
    from langdetect.lang_detect_exception import LangDetectException

    detector = _language_factory().create()
    detector.append(text[:5_000])
    try:
        return detector.detect()
    except LangDetectException:
        return None


def load_language_profiles() -> None:
    """Load langdetect's profiles now (about 0.7 s) rather than on the first article that needs them."""
    _language_factory()


@cache
def _language_factory():
    """langdetect's profiles, loaded once; our own factory with a fixed seed, not the global one."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


def _kept_text(text: str, removed: list[RemovedRange]) -> str:
    pieces, position = [], 0
    for r in removed:
        pieces.append(text[position:r.start])
        position = r.end
    pieces.append(text[position:])
    return "".join(pieces)
