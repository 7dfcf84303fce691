"""The document model: one article text and character ranges into it.

Offsets are the single source of truth. Every range (span, sentence, removed furniture, headline
evidence) is ``(start, end)`` into ``Analysis.text`` with ``end`` exclusive, and a range that carries
its text keeps ``text == article_text[start:end]``; the validators below enforce it, so no stage can
emit a range that has drifted from the text it points into.

These pydantic models are also the JSON contract of ``propscan analyze --json`` and of the web API.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from propscan.taxonomy import BY_ID


class Source(BaseModel):
    """Where an article came from, as far as the reader could tell."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    url: str | None = None
    site: str | None = None
    author: str | None = None
    date: str | None = None
    format: str | None = None


def first_line_range(text: str) -> tuple[int, int] | None:
    """The (start, end) of the first non-empty line of ``text``, without surrounding whitespace."""
    position = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = position + line.index(stripped)
            return (start, start + len(stripped))
        position += len(line) + 1
    return None


def title_range(text: str, title: str | None = None) -> tuple[int, int] | None:
    """Where a title sits in ``text``: the first non-empty line, when that line is ``title`` (any
    first line when ``title`` is None); None when the title is not there."""
    found = first_line_range(text)
    if found is None or (title is not None and text[found[0]:found[1]] != title.strip()):
        return None
    return found


class Article(BaseModel):
    """An article as read: its text (PTC layout: the title, an empty line, the body) and its source.

    ``title`` is the headline, as the page gave it (HTML, a corpus record, PTC's first line) or as
    the plain text's first line when that line looks like one (``propscan.headline``); it is ""
    when there is none, and the first line is then part of the body.
    """

    id: str
    title: str = ""
    text: str
    source: Source = Field(default_factory=Source)

    @property
    def title_range(self) -> tuple[int, int] | None:
        """Where the title sits in the text (its first non-empty line), or None: no title, or a title
        given apart from a text that does not start with it. Derived, so it cannot drift from
        ``title`` or ``text``; the headline check and the model's in-title feature both use it."""
        return title_range(self.text, self.title) if self.title.strip() else None


class Span(BaseModel):
    """A fragment of the text that uses a propaganda technique (technique None: not yet classified)."""

    start: int = Field(ge=0)
    end: int
    technique: str | None = None
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    text: str

    @model_validator(mode="after")
    def _check(self) -> Span:
        if self.end <= self.start:
            raise ValueError(f"span end {self.end} is not after its start {self.start}")
        if self.technique is not None and self.technique not in BY_ID:
            raise ValueError(f"unknown technique {self.technique!r}")
        if len(self.text) != self.end - self.start:
            raise ValueError("span text does not match its offsets")
        return self

    @classmethod
    def of(cls, article_text: str, start: int, end: int, technique: str | None = None,
           confidence: float = 1.0) -> Span:
        if end > len(article_text):
            raise ValueError(f"span {start}-{end} runs past the end of the text ({len(article_text)})")
        return cls(start=start, end=end, technique=technique, confidence=confidence,
                   text=article_text[start:end])


class Sentence(BaseModel):
    """A sentence as a range of the text, with the probability that it uses some technique."""

    start: int = Field(ge=0)
    end: int
    score: float = Field(default=0.0, ge=0.0, le=1.0)


class RemovedRange(BaseModel):
    """Page furniture (a counter, an ad marker, a newsletter box...) excluded from the analysis."""

    start: int = Field(ge=0)
    end: int
    reason: str


Stance = Literal["agree", "disagree", "discuss", "unrelated"]


class Evidence(BaseModel):
    """A whole body sentence that bears on the headline, with the stance the model gives that sentence
    alone towards it (agree: supports, disagree: contradicts, discuss: discusses) and that stance's
    probability as ``score``."""

    start: int = Field(ge=0)
    end: int
    text: str
    relation: Literal["supports", "contradicts", "discusses"]
    score: float

    def excerpt(self, limit: int = 120) -> str:
        """The sentence, shortened at a word boundary with an ellipsis when over ``limit`` characters."""
        if len(self.text) <= limit:
            return self.text
        cut = self.text[:limit - 1]
        if " " in cut:
            cut = cut.rsplit(" ", 1)[0]
        return cut.rstrip(" ,;:–—-") + "…"


class HeadlineCheck(BaseModel):
    """Whether the body supports the headline (FNC-1 stance of the body towards the headline).

    ``evidence``: the sentences that drive the verdict (their own stance is the verdict's), then the
    strongest sentence of each other relation (the counter-evidence); each sentence once.
    """

    stance: Stance
    probabilities: dict[str, float]
    supported: bool
    evidence: list[Evidence] = Field(default_factory=list)


class Analysis(BaseModel):
    """Everything propscan found in one article; the object behind ``analyze --json``."""

    id: str
    title: str
    text: str
    source: Source = Field(default_factory=Source)
    spans: list[Span] = Field(default_factory=list)
    sentences: list[Sentence] = Field(default_factory=list)
    # None when the text is no article at all (a cookie wall, a login page...): see the warnings.
    score: float | None = Field(default=0.0, ge=0.0, le=1.0)
    removed: list[RemovedRange] = Field(default_factory=list)
    language: str | None = None
    warnings: list[str] = Field(default_factory=list)
    headline: HeadlineCheck | None = None
    model: str | None = None
    # Spans below this confidence are not shown by default (the model's precision-first threshold);
    # ``shown`` applies it, or another.
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _offsets_point_into_text(self) -> Analysis:
        n = len(self.text)
        for kind, ranges in (("span", self.spans), ("sentence", self.sentences),
                             ("removed range", self.removed)):
            for r in ranges:
                if not 0 <= r.start < r.end <= n:
                    raise ValueError(f"{kind} {r.start}-{r.end} is outside the text (length {n})")
        for s in self.spans:
            if self.text[s.start:s.end] != s.text:
                raise ValueError(f"span {s.start}-{s.end} text does not match the article text")
        if self.headline:
            for e in self.headline.evidence:
                if self.text[e.start:e.end] != e.text:
                    raise ValueError(f"evidence {e.start}-{e.end} does not match the article text")
        return self

    def shown(self, min_confidence: float | None = None) -> Analysis:
        """This analysis with only the spans of at least ``min_confidence`` (default: its own threshold)."""
        threshold = self.min_confidence if min_confidence is None else min_confidence
        return self.model_copy(update={"spans": [s for s in self.spans if s.confidence >= threshold],
                                       "min_confidence": threshold})

    def to_json(self, **kwargs) -> str:
        return self.model_dump_json(**kwargs)

    def technique_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.spans:
            if s.technique:
                counts[s.technique] = counts.get(s.technique, 0) + 1
        return counts
