"""The pipeline: read → clean → detect, readable on one screen.

``analyze_many`` is what the CLI, the web app and the batch runner all call: the batch path
(documents go through the model together), not a loop around the single one. ``analyze`` takes one
article's text (or an ``Article``); ``analyze_file`` and ``analyze_url`` read one first.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate, islice
from pathlib import Path

from propscan.clean import Cleaned, clean
from propscan.detect import load_detector
from propscan.detect.base import DetectInput, Detector
from propscan.document import Analysis, Article, Sentence, Span
from propscan.errors import PropscanError
from propscan.headline import no_headline_reason
from propscan.readers import DEFAULT_MAX_BYTES, STDIN, article_from_text, read_source
from propscan.segment import parts_outside, sentence_ranges
from propscan.stance import load_headline_checker

BATCH_SIZE = 8


def analyze(article: str | os.PathLike[str] | Article, *, detector: Detector | None = None) -> Analysis:
    """Analyze one article: its text (a ``str`` is always the text itself), an ``Article``, or a path
    (``pathlib.Path``, read as ``analyze_file`` reads it).

    A string is never taken for a file name or a URL, so text from a user cannot make this read a file
    or fetch a page; ``analyze_file`` and ``analyze_url`` (or a ``Path``) say so explicitly.
    """
    if isinstance(article, os.PathLike):
        return analyze_file(article, detector=detector)
    if isinstance(article, str):
        article = article_from_text(article)
    elif not isinstance(article, Article):
        raise TypeError(f"analyze takes the text (str), a Path or an Article, not {type(article).__name__}")
    return next(analyze_many([article], detector=detector))


def analyze_file(path: str | os.PathLike[str], *, detector: Detector | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> Analysis:
    """Analyze the article in a file: text, HTML, or a corpus file (.jsonl, .csv) holding one article."""
    path = Path(path)
    if not path.is_file():
        raise PropscanError("no such file" if not path.exists() else "not a file", source=str(path))
    name = str(path)
    # The reader takes "-" for standard input; a file of that name is "./-" to it.
    articles = read_source(f"./{name}" if name == STDIN else name, max_bytes=max_bytes)
    return _analyze_one(articles, name, detector)


def analyze_url(url: str, *, allow_private: bool = False, detector: Detector | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> Analysis:
    """Fetch and analyze the article at an http(s) URL; loopback and private addresses are refused
    unless ``allow_private``."""
    if not url.startswith(("http://", "https://")):
        raise PropscanError("not an http(s) URL", source=url)
    return _analyze_one(read_source(url, allow_private=allow_private, max_bytes=max_bytes), url, detector)


def _analyze_one(articles: list[Article], source: str, detector: Detector | None) -> Analysis:
    if len(articles) != 1:
        raise PropscanError(f"holds {len(articles)} articles; use analyze_many", source=source)
    return next(analyze_many(articles, detector=detector))


def analyze_many(articles: Iterable[Article], *, detector: Detector | None = None,
                 batch_size: int = BATCH_SIZE) -> Iterator[Analysis]:
    """Analyze articles in batches, yielding one ``Analysis`` per article in input order.

    A batch's headline checks run in a second thread while the detector reads the batch: they need
    only the prepared text, and much of the detector's decoding is Python that leaves a core idle."""
    detector = detector or load_detector()
    headline_checker = load_headline_checker()
    it = iter(articles)

    def checks(batch: list[Article], inputs: list[DetectInput]) -> list:
        return [headline_checker.check(a.text, doc.title, doc.sentences) for a, doc in zip(batch, inputs, strict=True)]

    with ThreadPoolExecutor(1, thread_name_prefix="propscan-headline") as pool:
        while batch := list(islice(it, batch_size)):
            prepared = [prepare(a) for a in batch]
            cleaned = [c for c, _ in prepared]
            inputs = [doc for _, doc in prepared]
            headlines = pool.submit(checks, batch, inputs)
            detections = detector.detect(inputs)
            yield from _analyses(batch, cleaned, inputs, detections, headlines.result(), detector)


def _analyses(batch: list[Article], cleaned: list[Cleaned], inputs: list[DetectInput], detections: list,
              headlines: list, detector: Detector) -> Iterator[Analysis]:
    for article, c, doc, found, headline in zip(batch, cleaned, inputs, detections, headlines, strict=True):
        sentences = [Sentence(start=s, end=e, score=p)
                     for (s, e), p in zip(doc.sentences, found.sentence_scores, strict=True)]
        furniture = _Ranges([(r.start, r.end) for r in c.removed])
        spans = [Span.of(article.text, s.start, s.end, s.technique, s.confidence) for s in found.spans
                 if not furniture.overlaps(s.start, s.end)]  # none in furniture
        yield Analysis(
            id=article.id, title=_title_without_furniture(article, doc.title, c), text=article.text,
            source=article.source,
            spans=sorted(spans, key=lambda s: (s.start, s.end, s.technique or "")),
            sentences=sentences, score=None if c.not_article else _article_score(sentences), removed=c.removed,
            language=c.language, warnings=c.warnings, headline=headline, model=detector.name,
            min_confidence=getattr(detector, "default_min_confidence", 0.0),
        )


def prepare(article: Article) -> tuple[Cleaned, DetectInput]:
    """Clean an article and cut it into what a detector takes: text, sentences, the title's range.

    An article without a headline to check (no title, or nothing after it) gets a warning saying why.
    """
    cleaned = clean(article)
    removed = [(r.start, r.end) for r in cleaned.removed]
    sentences = sentence_ranges(article.text, removed)
    title = article.title_range
    if title is None:
        cleaned.warnings.append(no_headline_reason(article.text, article.title))
    elif not any(start >= title[1] for start, _ in sentences):
        cleaned.warnings.append("no headline check: there is no body text after the headline")
    return cleaned, DetectInput(article.text, sentences, title)


def _title_without_furniture(article: Article, title: tuple[int, int] | None, cleaned: Cleaned) -> str:
    """The title, less furniture glued to its line ("... marathon crisis Published 7 January 2020")."""
    if title is None or not any(title[0] < r.end and r.start < title[1] for r in cleaned.removed):
        return article.title
    parts = parts_outside(*title, [(r.start, r.end) for r in cleaned.removed])
    return " ".join(article.text[start:end].strip() for start, end in parts).strip() or article.title


class _Ranges:
    """Character ranges, sorted, for asking whether a span overlaps any in logarithmic time (an article
    may hold thousands of removed lines and thousands of spans)."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self.ranges = sorted(ranges)
        self.starts = [start for start, _ in self.ranges]
        self.reach = list(accumulate((end for _, end in self.ranges), max))  # furthest end so far

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_left(self.starts, end) - 1  # the last range starting before the span ends
        return i >= 0 and self.reach[i] > start


def _article_score(sentences: list[Sentence]) -> float:
    """The expected share of sentences that use a technique."""
    return sum(s.score for s in sentences) / len(sentences) if sentences else 0.0
