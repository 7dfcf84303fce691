"""The pipeline: read → clean → detect, readable on one screen.

``analyze`` is what the CLI, the web app and the batch runner all call; ``analyze_many`` is the
batch path (documents go through the model together), not a loop around the single one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from propscan.clean import Cleaned, clean
from propscan.document import Analysis, Article, Sentence, Span
from propscan.models import load_detector, load_headline_checker
from propscan.models.base import DetectInput, Detector
from propscan.readers import article_from_text, read_source
from propscan.segment import parts_outside, sentence_ranges

BATCH_SIZE = 8


def analyze(source: str | Path | Article, *, detector: Detector | None = None) -> Analysis:
    """Analyze one article: an ``Article``, a path or URL, or the text itself."""
    if isinstance(source, Article):
        article = source
    elif isinstance(source, Path) or _looks_like_location(source):
        articles = read_source(str(source))
        if len(articles) != 1:
            raise ValueError(f"{source} holds {len(articles)} articles; use analyze_many")
        article = articles[0]
    else:
        article = article_from_text(source)
    return next(analyze_many([article], detector=detector))


def analyze_many(articles: Iterable[Article], *, detector: Detector | None = None,
                 batch_size: int = BATCH_SIZE) -> Iterator[Analysis]:
    """Analyze articles in batches, yielding one ``Analysis`` per article in input order."""
    detector = detector or load_detector()
    headline_checker = load_headline_checker()
    it = iter(articles)
    while batch := list(islice(it, batch_size)):
        prepared = [prepare(a) for a in batch]
        cleaned = [c for c, _ in prepared]
        inputs = [doc for _, doc in prepared]
        for article, c, doc, found in zip(batch, cleaned, inputs, detector.detect(inputs), strict=True):
            sentences = [Sentence(start=s, end=e, score=p)
                         for (s, e), p in zip(doc.sentences, found.sentence_scores, strict=True)]
            spans = [Span.of(article.text, s.start, s.end, s.technique, s.confidence) for s in found.spans
                     if not any(s.start < r.end and r.start < s.end for r in c.removed)]  # none in furniture
            headline = headline_checker.check(article.text, doc.title, doc.sentences) if headline_checker else None
            yield Analysis(
                id=article.id, title=_title_without_furniture(article, doc.title, c), text=article.text,
                source=article.source,
                spans=sorted(spans, key=lambda s: (s.start, s.end, s.technique or "")),
                sentences=sentences, score=None if c.not_article else _article_score(sentences), removed=c.removed,
                language=c.language, warnings=c.warnings, headline=headline, model=detector.name,
            )


def prepare(article: Article) -> tuple[Cleaned, DetectInput]:
    """Clean an article and cut it into what a detector takes: text, sentences, the title's range."""
    cleaned = clean(article)
    removed = [(r.start, r.end) for r in cleaned.removed]
    title = title_range(article.text, article.title)
    return cleaned, DetectInput(article.text, sentence_ranges(article.text, removed), title)


def _title_without_furniture(article: Article, title: tuple[int, int] | None, cleaned: Cleaned) -> str:
    """The title, less furniture glued to its line ("... marathon crisis Published 7 January 2020")."""
    if title is None or not any(title[0] < r.end and r.start < title[1] for r in cleaned.removed):
        return article.title
    parts = parts_outside(*title, [(r.start, r.end) for r in cleaned.removed])
    return " ".join(article.text[start:end].strip() for start, end in parts).strip() or article.title


def _article_score(sentences: list[Sentence]) -> float:
    """The expected share of sentences that use a technique."""
    return sum(s.score for s in sentences) / len(sentences) if sentences else 0.0


def title_range(text: str, title: str | None = None) -> tuple[int, int] | None:
    """Where the title sits in the text: the first line, when it is the title (any title if None)."""
    first_line = text.split("\n", 1)[0]
    stripped = first_line.strip()
    if not stripped or (title and stripped != title.strip()):
        return None
    start = first_line.index(stripped)
    return (start, start + len(stripped))


def _looks_like_location(source: str) -> bool:
    if source.startswith(("http://", "https://")) or source == "-":
        return True
    return "\n" not in source and len(source) < 4096 and Path(source).exists()
