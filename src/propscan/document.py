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


class Article(BaseModel):
    """An article as read: its text (title on the first line, PTC layout) and where it came from."""

    id: str
    title: str = ""
    text: str
    source: Source = Field(default_factory=Source)


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
    """A body sentence that bears on the headline."""

    start: int = Field(ge=0)
    end: int
    text: str
    relation: Literal["supports", "contradicts"]
    score: float


class HeadlineCheck(BaseModel):
    """Whether the body supports the headline (FNC-1 stance of the body towards the headline)."""

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

    def to_json(self, **kwargs) -> str:
        return self.model_dump_json(**kwargs)

    def technique_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.spans:
            if s.technique:
                counts[s.technique] = counts.get(s.technique, 0) + 1
        return counts
