"""SemEval-2020 Task 11 submissions: predicted labels for articles, and their evaluation.

``predict_labels`` runs the detector over articles and returns PTC labels for one task: ``si``
(propaganda regions), ``flc`` (technique spans) or ``tc`` (a technique for every span of a
template). ``evaluate_files`` scores a prediction file against gold labels with ``propscan.metrics``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Literal

from propscan.detect import load_detector
from propscan.detect.base import Detector
from propscan.document import Article, Span
from propscan.errors import PropscanError
from propscan.metrics import TaskScore, flc_score, si_score, tc_score
from propscan.pipeline import BATCH_SIZE, prepare
from propscan.readers.ptc import Label, read_labels

Task = Literal["si", "tc", "flc"]
TASKS: tuple[str, ...] = ("si", "tc", "flc")


def predict_labels(articles: Iterable[Article], task: Task, *, template: Sequence[Label] | None = None,
                   detector: Detector | None = None, batch_size: int = BATCH_SIZE) -> Iterator[Label]:
    """Predicted labels for ``task``; for ``tc``, one per template line, in the template's order."""
    detector = detector or load_detector()
    if task == "tc":
        if template is None:
            raise PropscanError("task tc needs the spans to classify (--spans TEMPLATE)")
        yield from _classify_template(list(articles), template, detector)
    elif task in ("si", "flc"):
        yield from _detect(articles, task, detector, batch_size)
    else:
        raise PropscanError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")


def _detect(articles: Iterable[Article], task: Task, detector: Detector, batch_size: int) -> Iterator[Label]:
    it = iter(articles)
    while batch := list(islice(it, batch_size)):
        inputs = [prepare(article)[1] for article in batch]
        for article, found in zip(batch, detector.detect(inputs), strict=True):
            if task == "si":
                ranges = sorted((r.start, r.end, None) for r in found.regions)
            else:
                ranges = sorted((s.start, s.end, s.technique) for s in found.spans)
            for start, end, technique in ranges:
                # Span.of checks the offsets against the text, so a detector bug cannot leak out.
                span = Span.of(article.text, start, end, technique)
                yield Label(article.id, span.start, span.end, span.technique)


def _classify_template(articles: list[Article], template: Sequence[Label], detector: Detector) -> Iterator[Label]:
    by_id = {article.id: article for article in articles}
    spans_of: dict[str, list[tuple[int, int]]] = {}
    for label in template:
        if label.article_id not in by_id:
            raise PropscanError(f"the template has a span of article {label.article_id}, which is not "
                                "among the articles given")
        text = by_id[label.article_id].text
        if not 0 <= label.start <= label.end <= len(text):
            raise PropscanError(f"the template span {label.start}-{label.end} is outside article "
                                f"{label.article_id} ({len(text)} characters)")
        spans = spans_of.setdefault(label.article_id, [])
        if (label.start, label.end) not in spans:
            spans.append((label.start, label.end))
    ranked: dict[tuple[str, int, int], list[str]] = {}
    for article_id, spans in spans_of.items():
        article = by_id[article_id]
        for (start, end), choices in zip(spans, detector.classify(prepare(article)[1], spans), strict=True):
            ranked[(article_id, start, end)] = [technique for technique, _ in choices]
    # The TC metric matches the labels of identical spans as multisets, so the k-th copy of a span
    # in the template gets the k-th most likely technique.
    copies: Counter[tuple[str, int, int]] = Counter()
    for label in template:
        key = (label.article_id, label.start, label.end)
        choices = ranked[key]
        yield Label(label.article_id, label.start, label.end, choices[min(copies[key], len(choices) - 1)])
        copies[key] += 1


def evaluate_files(task: Task, gold: str | Path, pred: str | Path) -> TaskScore:
    """Score the prediction file ``pred`` against ``gold`` (a label file or a directory of ``*.labels``)."""
    if task not in TASKS:
        raise PropscanError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    needs_technique = task != "si"
    gold_labels = read_labels(gold, require_technique=needs_technique)
    pred_labels = read_labels(pred, require_technique=needs_technique)
    score = {"si": si_score, "tc": tc_score, "flc": flc_score}[task]
    return score(gold_labels, pred_labels)
