"""Is this line a headline? The rule that decides whether a plain text's first line is its title.

A page says where its headline is (HTML ``<h1>``, ``og:title``), and the HTML reader takes it from
there. Plain text does not, and scraped text often starts with something else: the first paragraph,
a date, a byline, a photo caption or credit, a furniture label. Checking the body against any of
those as if it were the headline gives verdicts nobody can use, so a first line is the title only
when it looks like a headline: short, one line of words that does not read as a paragraph.

``headline_problem(line)`` is the rule: None for a headline, else why the line is not one (a phrase
that completes "the first line is ..."). Every pattern here runs in linear time.
"""

from __future__ import annotations

import re

import re2

from propscan.document import first_line_range

MAX_CHARS = 200
MAX_WORDS = 40
# A headline that ends in a full stop is a short one ("Assange Never Met Manafort."); a longer line
# that ends in one is the first sentence of the story.
MAX_WORDS_WITH_FULL_STOP = 12

_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?"
_TIME = r"\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[a-z]{2,4})?|\d{1,2}\s*[ap]\.?m\.?(?:\s*[a-z]{2,4})?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE_ONLY = re.compile(
    rf"(?:(?:published|updated|posted|last updated|modified)\s*(?:on|at)?\s*:?\s*)?"
    rf"(?:{_WEEKDAY}\s*,?\s*)?"
    rf"(?:{_MONTH}\s+{_DAY}(?:\s*,\s*|\s+)\d{{4}}|{_DAY}\s+{_MONTH}\s*,?\s*\d{{4}}|{_MONTH}\s+\d{{4}}"
    rf"|{_MONTH}\s+{_DAY}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}})"
    rf"(?:\s*(?:,|at|-|–|\|)?\s*(?:{_TIME}))?"
    rf"|(?:published|updated|posted|last updated|modified)(?:\s*:?\s*(?:{_TIME}|\d+\s+\w+\s+ago))?",
    re.IGNORECASE)
# Credits and captions: "Photo by ...", "... / Getty Images", "Credit: ...", "(AP Photo/...)".
_CREDIT = re.compile(
    r"(?:^|[\s(×])(?:photo|photograph|image|picture)s?\s*(?:by|credit|courtesy|:)"
    r"|\bcredits?\s*:"
    r"|(?:/|\|)\s*(?:getty(?: images)?|ap(?: photo)?|reuters|afp|shutterstock|epa|alamy|istock)\b"
    r"|\b(?:ap|afp|reuters|getty|staff|file|ucla|science) (?:photo|photo library|images?)\s*\)?\.?$"
    r"|\bphoto library\b|^× expand\b|^(?:enlarge|expand) (?:this )?image\b",
    re.IGNORECASE)
# A news story's first paragraph opens with its dateline: "WASHINGTON —", "LIMA, Peru –",
# "COVINGTON, Ky. (FOX19) -"; or with its agency: "(Reuters) -", "New York (CNN Business)".
_DATELINE = re.compile(r"[A-Z][A-Z.'’]+(?: [A-Z][A-Z.'’]+){0,3}(?:, [A-Z][\w.]*(?: [A-Z][\w.]*){0,3})?"
                       r"(?: \([\w .]{1,30}\))?(?: ?[—–]| - | -- )")
_AGENCY = re.compile(r"[\w ,.]{0,40}\((?:reuters|ap|afp|cnn[\w ]{0,20}|upi|bloomberg)\)", re.IGNORECASE)
# Labels of a site rather than of a story: "About Us", "Thanks for visiting", a cookie settings box
# in any language, "Placeholder while article actions load".
# On RE2 (linear time): the bounded gaps around 'cookie' would backtrack polynomially in Python's engine.
_SITE_LABEL = re2.compile(
    "(?i)"
    r"about(?: [\w'’&.-]+){1,4}|thanks? (?:you )?for (?:visiting|reading|watching)\b.{0,60}|placeholder\b.{0,60}"
    r"|send (?:this|the) (?:page|article|story)\b.{0,60}|enter the characters you see\b.{0,40}"
    r"|.{0,40}\b(?:javascript|cookies) (?:is|are|must be) (?:required|disabled|enabled|not supported)\b.{0,80}"
    r"|(?:please )?(?:enable|turn on) javascript\b.{0,80}|story highlights\b.{0,200}"
    r"|(?:extra |\W )?(?:text size|font size|tamanho do texto|taille du texte|schriftgröße)\W{0,3}"
    r"|more information\s*:.{0,200}|skip to (?:main )?content"
    r"|.{0,60}\bcookies?\b.{0,60}\b(?:prefer|setting|polic|consent|einstell|paramètre|configura).{0,60}"
    r"|.{0,60}\b(?:prefer|setting|polic|consent|einstell|paramètre|configura)\w*\b.{0,60}\bcookies?\b.{0,60}")
# Within a line, a sentence ends at ., ! or ? followed by a space and a capital, unless the stop
# ends an initial or an abbreviation ("Sen. Al Franken"); an ellipsis is a headline's pause.
_SENTENCE_END = re.compile(r"(?<![.…])[.!?](?!\.)[\"'”’)]*\s+[\"“‘(]?[A-Z]")
_ABBREVIATIONS = frozenset("mr mrs ms dr prof st jr sr vs no co inc corp ltd gov gen sen rep lt col capt sgt "
                           "rev ft mt jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k".split())


def headline_problem(line: str) -> str | None:
    """None when ``line`` looks like a headline, else why it does not (e.g. "a date")."""
    from propscan.clean import furniture_reason

    text = line.strip().lstrip("\ufeff").strip()
    if not text:
        return "empty"
    words = _WORD.findall(text)
    if not words:
        return "not words"
    if _CREDIT.search(text):  # before furniture, which also knows credits: "caption" says more
        return "a photo caption or credit"
    reason = furniture_reason(text)
    if reason:
        return f"page furniture ({reason})"
    if len(text) > MAX_CHARS or len(words) > MAX_WORDS:
        return f"a paragraph ({len(text)} characters), too long for a headline"
    if _DATE_ONLY.fullmatch(text):
        return "a date"
    if _is_byline(words):
        return "a byline"
    if _DATELINE.match(text) or _AGENCY.match(text):
        return "the opening of a news story (it starts with a dateline)"
    if text.endswith(("...", "…")) and not text.endswith(("....", "……")):
        return "a paragraph cut short (it ends in an ellipsis)"
    if _holds_two_sentences(text):
        return "a paragraph (it holds more than one sentence)"
    long_sentence = len(words) > MAX_WORDS_WITH_FULL_STOP
    if (text.endswith(".") and long_sentence) or (
            _sentence_case(words) and (text.endswith((".", "!")) or (text.endswith("?") and long_sentence))):
        return "a paragraph (a sentence that ends in a full stop)"
    if text.endswith((",", ";", ":")):
        return "unfinished (it ends in a comma or colon), like a caption cut short"
    if text.count(" | ") >= 2:
        return "a line of page metadata (parts separated by |)"
    if _SITE_LABEL.fullmatch(text):
        return "a label of the site, not of a story"
    if not (text[0].isupper() or text[0].isdigit() or not text[0].isalpha()):
        return "not a headline (it starts in lower case)"
    # A headline worth checking makes a claim ("Mayor resigns"); a word or two capitalized words
    # ("Others", "Roger Naylor", "Game Updates") name something, usually a label, section or byline.
    if len(words) <= 2 and all(w[0].isupper() or w[0].isdigit() for w in words) and not text.endswith(("!", "?")):
        return "a name or a label, not a headline"
    if len(words) == 1 and not text.endswith(("!", "?")):
        return "a single word, not a headline"
    if text.upper() == text and len(words) <= 4:
        return "a name or label in capitals"
    return None


def _holds_two_sentences(text: str) -> bool:
    for stop in _SENTENCE_END.finditer(text):
        before = text[:stop.start()].rsplit(" ", 1)[-1].lower().lstrip("(\"“‘'")
        if text[stop.start()] == "." and (len(before) <= 1 or before in _ABBREVIATIONS):
            continue
        return True
    return False


def _sentence_case(words: list[str]) -> bool:
    """Most longer words in lower case: a sentence, where a headline ending in a full stop is written
    in title case ("Assange Never Met Manafort.")."""
    longer = [w for w in words if len(w) > 3]
    return bool(longer) and sum(w[0].isupper() for w in longer) * 2 < len(longer)


def _is_byline(words: list[str]) -> bool:
    """ "By Jane Doe", "By Jane Doe and John Roe": the word "by" and then names only."""
    if not words or words[0].lower() != "by" or len(words) > 8:
        return False
    return all(w[0].isupper() or w.lower() == "and" for w in words[1:])


def no_headline_reason(text: str, title: str) -> str:
    """The warning for an article without a headline check because it has no headline."""
    if title:
        return ("no headline check: the title is not a line of the text, so the check could not point "
                "into it")
    line = first_line_range(text)
    if line is None:
        return "no headline check: the text is empty"
    quoted = text[line[0]:line[1]]
    problem = headline_problem(quoted)
    if problem is None:
        return "no headline check: the article has no title"
    if len(quoted) > 60:
        quoted = quoted[:60].rsplit(" ", 1)[0] + "…"
    verdict = problem if problem.startswith("not a headline") else f"{problem}, not a headline"
    return f"no headline check: the first line (“{quoted}”) is {verdict}; it is analyzed as part of the body"
