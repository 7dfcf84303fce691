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
    # Written from the hand-marked sample of ../shared/data/unlabeled-news (benchmarks/furniture.py).
    ("read more link", r"(?:more|previous|next|also read|read also|see also|also see) ?[|:] ?.{1,400}"
                       r"|(?:à|a) lire aussi.{1,200}"),
    ("read more link", r"> ?(?:view|find out|read|see|watch|click|more)\b.{0,150}"),
    ("read more link", r"explore further\b.{0,200}|view more|(?:see|view) (?:all|more) (?:photos|videos|stories)"),
    ("read more link", r"(?:listen to|watch|complete list of|see|view|read)\b.{1,150}(?:\.\.\.|…)"),
    ("read more link", r"send this (?:page|article|story) to (?:someone|a friend)\b.{0,40}"),
    # "ACKAL: Iberia Sheriff accused ...": a label in capitals, then a headline with no full stop. Not a
    # whole line in capitals: propaganda shouts, and PTC annotators labeled such lines as propaganda.
    ("headline link", r"(?-i:[A-Z][A-Z'’.-]{2,20}(?: [A-Z][A-Z'’.-]+){0,2}): (?-i:[A-Z][a-z]).{8,150}[^.!?\"”’:]"),
    ("read more link", r"more information: .{1,600}|mehr infos? .{1,150}"),
    ("video player", r"this video can ?not be played\b.{0,400}|embed more news videos\b.{0,400}"),
    ("video player", r"(?:something went wrong\.? )?try refreshing your browser\b.{0,300}|back to video"),
    ("video player", r"placeholder while article actions load"),
    # A video's length, its title (twice), its date: "1:49 Charges laid ... – Jul 12, 2017".
    ("video player", r"\d{1,2}:\d{2} .{5,400} [–—-] (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
                     r" \d{1,2}, \d{4}"),
    # A browser or plug-in the page wants: "IE 11 is not supported", "You need to enable JavaScript".
    ("browser notice", r".{0,150}\b(?:you need to enable|please enable|must have|turn on) ?javascript\b.{0,200}"
                       r"|this .{0,40}\brequires? .{0,80}\bjavascript enabled\b.{0,200}"
                       r"|.{0,80}\bjavascript is (?:required|disabled|not enabled)\b.{0,200}"),
    ("browser notice", r"(?:ie|internet explorer) ?\d* is (?:not|no longer) supported\b.{0,150}"),
    ("browser notice", r".{0,80}\byour browser is (?:not supported|out of date|outdated)\b.{0,150}"),
    ("page notice", r"this is an archived article\b.{0,250}"),
    ("page notice", r"thanks? (?:you )?for visiting ?[.!]*|thank you for your support[.!]*"),
    ("page notice", r"(?:this item (?:has been removed|is incompatible|will only be visible)|current visibility:)"
                    r".{0,300}|not enough ratings\b.{0,80}|offline see all \d+ collections\b.{0,300}"),
    ("page notice", r"details: .{0,40}\buploaded\b.{0,200}"),
    ("login prompt", r"(?:log ?in|sign ?in)(?: now| here| to (?:continue|your account))?[.!]*|remember me"
                     r"|(?:username|user name|e-?mail(?: address)?|password)\*? ?:?|forgot (?:your )?password\??"),
    ("login prompt", r"(?:please )?(?:log|sign) ?in to (?:continue|read|view|access|comment|see)\b.{0,100}"
                     r"|(?:already have|don['’]?t have) an? .{0,40}account\?.{0,60}"
                     r"|create (?:an|a free|your) account\b.{0,60}"),
    ("cookie notice", r"(?:accept|reject|allow|refuse|decline)(?: all)?(?: cookies)?"
                      r"|manage (?:settings|preferences|cookies)|(?:cookie|privacy) (?:settings|choices|preferences)"
                      r"|your privacy choices"),
    ("robot check", r"enter the characters you see below\.?|type the characters you see in (?:this|the) image\b.{0,40}"
                    r"|(?:sorry, )?we just need to make sure you'?re not a robot\b.{0,200}"),
    ("reader form", r"in some cases your (?:question|comment|story|photo)s? will be published\b.{0,300}"),
    ("reader form", r"use this form to\b.{0,100}|do you have (?:a|any) questions? about .{1,80}\?"),
    ("reader form", r"got a (?:news )?tip\b.{0,100}"),
    ("share prompt", r"follow .{1,60} on (?:twitter|facebook|instagram)\b.{0,200}"),
    ("share prompt", r"find (?:the reporter|the author|the writer|me|us|him|her) (?:at|on)\b.{0,250}"),
    ("share prompt", r".{0,30}\byou can find (?:me|us)\b.{0,60}"),
    ("share prompt", r"(?:twitter|insta(?:gram)?|twitch|facebook|youtube|tiktok|patreon) ?[–—-] ?"
                     r"where (?:i|we)\b.{0,100}"),
    ("listen prompt", r".{0,200}\blisten to the latest episode\b.{0,200}|we release new episodes\b.{0,60}"),
    ("photo credit", r"(?:fotos?|(?:featured |top |header |lead )?(?:photo|image|picture)s? "
                     r"(?:by|courtesy(?: of)?|via)) ?:? .{1,80}"),
    ("photo credit", r"(?:image source, .{1,60}? )?(?:image|media) caption, .{0,300}|image source, .{1,60}"),
    # A caption: a sentence or two ending in its credit, "(Alex Brandon/AP)", "Credit: University of Sussex".
    ("photo credit", r".{1,700}\((?:(?:ap )?(?:photo|video|image)s?(?: credit)?[:/] ?[^()]{2,80}|[^()/]{2,60}/"
                     r"(?:ap|afp|reuters|getty images|epa|shutterstock|the [^()/]{2,40}))\)\.?"),
    ("photo credit", r".{1,300}[.!?’”] ?(?:photo |image )?credit: [^.!?]{1,80}\.?"),
    ("photo credit", r".{1,300}[.!?’”] ?[^.!?]{1,60}/ ?(?:facebook|twitter|instagram)"),
    ("photo credit", r".{10,300}[.!?] (?-i:(?:[A-Z][\w.&-]* ){1,3})photo\.?"),
    ("copyright notice", r".{0,80}© photos are copyrighted\b.{0,100}"),
]
_PATTERNS = [(reason, re2.compile(f"(?i){pattern}")) for reason, pattern in _FURNITURE]


def _whole_line_set():
    """All of ``_PATTERNS`` in one RE2 set, which tries them in one pass over a line (each alone
    costs a pass and a call). Its automaton is given 64 MiB: with the default 8 MiB, the counted
    repeats (``.{1,700}``) could leave it short of memory, and a set that runs out finds nothing."""
    options = re2.Options()
    options.max_mem = 64 << 20
    whole = re2.Set.FullMatchSet(options)
    for _, pattern in _PATTERNS:
        whole.Add(pattern.pattern)
    whole.Compile()
    return whole


_WHOLE_LINES = _whole_line_set()

# Notices that can only be told from a sentence of the story by two things at once (RE2 has no
# lookahead to say "both" in one pattern): (reason, longest line, cues each found within the first
# 300 characters). A story about tracking cookies is not a cookie notice: a notice speaks to the reader.
_NEAR_START = r"(?i)^.{0,300}\b"
_CUE_RULES: list[tuple[str, int, list[str]]] = [
    ("cookie notice", 1_000, [
        r"(?:cookie|biscotti)",
        r"(?:we use|(?:this|our) (?:web)?site uses?|accept(?:ing)? (?:all |our )?cookies|"
        r"cookie (?:policy|preferences|settings|notice)|your browser|utilizziamo|utilizzeremo|preferenze|"
        r"nous utilisons|wir verwenden|utilizamos|usamos)",
    ]),
    ("comments prompt", 400, [
        r"(?:let us know|comments? below|comment on this (?:article|story|post)|drop (?:us )?a (?:note|line))",
        r"(?:e-?mail us|an e-?mail|in the comments|comments below)",
    ]),
    ("ad-blocker notice", 400, [
        r"(?:ad ?blockers?|blocks? ads|ad-blocking)",
        r"(?:you|your|please|we ask)\b",
    ]),
]
_CUE_PATTERNS = [(reason, longest, [re2.compile(_NEAR_START + cue) for cue in cues])
                 for reason, longest, cues in _CUE_RULES]


def _all_cues(longest: int, cues: list) -> Callable[[str], bool]:
    return lambda line: len(line) <= longest and all(cue.search(line) for cue in cues)


# (reason, test of a whitespace-normalized line), tried after the whole-line patterns, in order
CUE_RULES: list[tuple[str, Callable[[str], bool]]] = [
    (reason, _all_cues(longest, cues)) for reason, longest, cues in _CUE_PATTERNS]
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
    # Why the text is no article at all (a cookie wall, a login page, a video error), or None.
    not_article: str | None = None


# A text with fewer letters than this outside its furniture is no article when the furniture is a
# wall (a cookie wall, a login page, a video error...) or outweighs what is left.
MAX_LETTERS_OF_NO_ARTICLE = 200
_WALLS = {"cookie notice": "a cookie wall", "browser notice": "a browser or JavaScript notice",
          "ad-blocker notice": "an ad-blocker wall", "login prompt": "a login page",
          "robot check": "a robot check", "video player": "a video player's error"}


def clean(article: Article) -> Cleaned:
    """The furniture lines of ``article.text`` as removed ranges, the language of the rest, and
    whether there is an article at all."""
    removed = furniture_ranges(article.text)
    kept = _kept_text(article.text, removed)
    language = detect_language(kept)
    not_article = _why_no_article(article.text, kept, removed)
    warnings = []
    if not_article:
        warnings.append(f"this is no article: {not_article}; it gets no article score")
    elif language and language != "en":
        name = LANGUAGE_NAMES.get(language, language)
        warnings.append(f"the article seems to be in {name} ({language}), not English: the models are "
                        "trained on English news, so expect unreliable results")
    return Cleaned(removed=removed, language=language, warnings=warnings, not_article=not_article)


def _why_no_article(text: str, kept: str, removed: list[RemovedRange]) -> str | None:
    kept_letters = _letters(kept)
    whole_lines = [r for r in removed if _is_whole_line(text, r)]  # glued furniture leaves a story line
    if not whole_lines or kept_letters >= MAX_LETTERS_OF_NO_ARTICLE:
        return None
    walls = [_WALLS[r.reason] for r in whole_lines if r.reason in _WALLS]
    if walls:
        return f"it reads as {walls[0]}, with {kept_letters} letters of other text"
    if sum(_letters(text[r.start:r.end]) for r in whole_lines) > kept_letters:
        return (f"nearly all of it is page furniture ({len(whole_lines)} lines), with {kept_letters} letters "
                "of other text")
    return None


def _is_whole_line(text: str, r: RemovedRange) -> bool:
    line_start = text.rfind("\n", 0, r.start) + 1
    line_end = text.find("\n", r.end)
    after = text[r.end:] if line_end < 0 else text[r.end:line_end]
    return not text[line_start:r.start].strip() and not after.strip()


def _letters(text: str) -> int:
    return sum(len(word) for word in _WORDS.findall(text))


def furniture_reason(line: str) -> str | None:
    """Why a whole line is page furniture, or None when it may be part of the story."""
    normalized = " ".join(line.split())
    if not normalized:
        return None
    if hits := _WHOLE_LINES.Match(normalized):
        return _PATTERNS[min(hits)][0]  # the first pattern in the list that matches
    for reason, matches in CUE_RULES:
        if matches(normalized):
            return reason
    return None


# Reasons that look at a line's shape, like a headline's: the first line is the title, so they skip it.
_HEADLINE_SHAPED = {"headline link"}
# A list of links to other stories closing the page: at least this many short lines in a row at the
# end, each a headline (three words or more, no closing punctuation), with no credit line among them.
MIN_CLOSING_LINKS = 4
_CREDIT_LINE = re2.compile(r"(?i)(?:contributing|reporting|additional reporting|editing|edited|written|compiled|"
                           r"by|with|source|sources)\b")


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# Furniture glued to the story in one line, as the scraper left it: (reason, pattern searched in a
# kept line). Only the match is removed; the rest of the line stays.
_GLUED: list[tuple[str, str]] = [
    # "tap here to see other videos from our team. Try refreshing your browser, or <a video's title>
    # Back to video" in front of a paragraph.
    ("video player", r"^(?:.{0,120}?\b)?try refreshing your browser,? or .{0,300}?\bback to video\b"),
    # "Australia fires: Almost 2,000 homes destroyed ... Published 7 January 2020" after a headline.
    ("dateline", rf"\s(?:published|updated|posted)(?: on)?:? "
                 rf"(?:\d{{1,2}} {_MONTH} \d{{4}}|{_MONTH} \d{{1,2}},? \d{{4}})"
                 r"(?:,? \d{1,2}[:.]\d{2}(?: ?[ap]\.?m\.?)?(?: [a-z]{2,4})?)?$"),
]
# Furniture that runs to the end of its line, glued after the story: (reason, pattern of its start,
# the most characters after that). The first start with no more than that after it begins the match,
# found as a start and a length check: one pattern ending in ".{0,600}$" makes RE2's automaton track
# 600 counts at once, which took most of the cleaning's time.
_GLUED_TAILS: list[tuple[str, str, int]] = [
    ("read more link", r"\s(?-i:More On This Topic)\b", 600),
]
_GLUED_PATTERNS = [(reason, re2.compile(f"(?i){pattern}")) for reason, pattern in _GLUED]
_GLUED_TAIL_PATTERNS = [(reason, re2.compile(f"(?i){pattern}"), longest) for reason, pattern, longest in _GLUED_TAILS]


def _glued_ranges(line: str, offset: int) -> list[RemovedRange]:
    """Furniture inside a kept line: each glued match, without its surrounding whitespace."""
    pieces = [(reason, m.start(), m.end()) for reason, pattern in _GLUED_PATTERNS if (m := pattern.search(line))]
    for reason, pattern, longest in _GLUED_TAIL_PATTERNS:
        first = next((m for m in pattern.finditer(line) if len(line) - m.end() <= longest), None)
        if first is not None:
            pieces.append((reason, first.start(), len(line)))
    found = []
    for reason, a, b in pieces:
        piece = line[a:b]
        start = offset + a + len(piece) - len(piece.lstrip())
        end = offset + b - (len(piece) - len(piece.rstrip()))
        if start < end:
            found.append(RemovedRange(start=start, end=end, reason=reason))
    return found


def furniture_ranges(text: str) -> list[RemovedRange]:
    """Page furniture in ``text``: whole lines, a closing list of links, and furniture glued into a line."""
    ranges = []
    kept_lines = []
    for line in _LINE.finditer(text):
        content = line.group()
        stripped = content.strip()
        if not stripped:
            continue
        start = line.start() + len(content) - len(content.lstrip())
        reason = furniture_reason(content)
        if reason and not (reason in _HEADLINE_SHAPED and not kept_lines and not ranges):
            ranges.append(RemovedRange(start=start, end=start + len(stripped), reason=reason))
        else:
            kept_lines.append((start, stripped))
            ranges += _glued_ranges(stripped, start)
    closing = []
    for start, stripped in reversed(kept_lines[1:]):
        if not _headline_shaped(stripped):
            break
        closing.append(RemovedRange(start=start, end=start + len(stripped), reason="related links"))
    if len(closing) >= MIN_CLOSING_LINKS:
        closed = {(r.start, r.end) for r in closing}
        ranges = [r for r in ranges if not any(s <= r.start and r.end <= e for s, e in closed)] + closing
    return sorted(ranges, key=lambda r: r.start)


def _headline_shaped(line: str) -> bool:
    return (len(line) <= 100 and len(line.split()) >= 3 and line[0].isupper()
            and line[-1] not in ".!?,;:\"'”’)…" and not _CREDIT_LINE.match(line))


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
