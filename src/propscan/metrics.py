"""Evaluation metrics: the FNC-1 stance score and the SemEval-2020 Task 11 SI, TC and FLC scores.

Everything here is written from the published definitions (Pomerleau and Rao, 2017, for FNC-1;
Da San Martino et al., 2020, for SemEval-2020 Task 11) and takes plain Python values, so the
metrics can be used without the rest of propscan.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from propscan.errors import PropscanError
from propscan.taxonomy import TECHNIQUE_IDS

STANCES: tuple[str, ...] = ("agree", "disagree", "discuss", "unrelated")
RELATED: frozenset[str] = frozenset({"agree", "disagree", "discuss"})


def fnc1_score(gold: Sequence[str], pred: Sequence[str]) -> dict:
    """The FNC-1 weighted score with accuracy, per-class F1, macro F1 and the confusion matrix.

    Each pair earns 0.25 when related-vs-unrelated is right (related = agree, disagree, discuss),
    and 0.75 more when its gold stance is related and the exact stance is right; ``relative_score``
    divides by the best score possible for the gold labels.
    """
    if len(gold) != len(pred):
        raise PropscanError(f"{len(gold)} gold stances but {len(pred)} predicted ones")
    gold = [_stance(s) for s in gold]
    pred = [_stance(s) for s in pred]
    score = max_score = 0.0
    confusion = {g: {p: 0 for p in STANCES} for g in STANCES}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
        max_score += 1.0 if g in RELATED else 0.25
        if (g in RELATED) == (p in RELATED):
            score += 0.25
            if g in RELATED and g == p:
                score += 0.75
    per_class_f1 = {}
    for label in STANCES:
        true_pos = confusion[label][label]
        predicted = sum(confusion[g][label] for g in STANCES)
        actual = sum(confusion[label].values())
        per_class_f1[label] = _f1(_ratio(true_pos, predicted), _ratio(true_pos, actual))
    correct = sum(confusion[s][s] for s in STANCES)
    return {
        "score": score,
        "max_score": max_score,
        "relative_score": _ratio(score, max_score),
        "accuracy": _ratio(correct, len(gold)),
        "per_class_f1": per_class_f1,
        "macro_f1": sum(per_class_f1.values()) / len(STANCES),
        "confusion": confusion,
    }


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class TaskScore(Score):
    """A SemEval-2020 Task 11 score; ``per_technique`` is empty for SI."""

    per_technique: dict[str, Score] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The ``evaluate --json`` object: overall precision, recall, F1 and the F1 of each technique."""
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "per_technique": {name: score.f1 for name, score in self.per_technique.items()}}


def si_score(gold: Iterable, pred: Iterable) -> TaskScore:
    """Span identification: overlap of the propaganda regions, whatever their technique.

    Labels are ``(article_id, start, end)`` or ``(article_id, technique, start, end)`` tuples or
    objects with ``article_id``, ``start`` and ``end`` attributes (``readers.ptc.Label``). A span is
    the set of character positions ``range(start, end)``; overlapping spans of one article are
    merged, gold and predicted separately, and empty spans are left out. Precision is the sum over
    predicted p and gold g of |p∩g|/|p| divided by the number of predicted spans; recall the sum of
    |p∩g|/|g| divided by the number of gold spans.
    """
    return _overlap_score(_by_article(gold, with_technique=False), _by_article(pred, with_technique=False))


def flc_score(gold: Iterable, pred: Iterable) -> TaskScore:
    """Fragment-level classification (end to end): SI where p and g must share the technique.

    Spans are merged per article and technique; ``per_technique`` gives precision, recall and F1
    for each of the 14 techniques on its own.
    """
    gold_groups = _by_article(gold, with_technique=True)
    pred_groups = _by_article(pred, with_technique=True)
    overall = _overlap_score(gold_groups, pred_groups)
    per_technique = {}
    for technique in TECHNIQUE_IDS:
        only = _overlap_score({k: v for k, v in gold_groups.items() if k[1] == technique},
                              {k: v for k, v in pred_groups.items() if k[1] == technique})
        per_technique[technique] = Score(only.precision, only.recall, only.f1)
    return TaskScore(overall.precision, overall.recall, overall.f1, per_technique)


def tc_score(gold: Iterable, pred: Iterable) -> TaskScore:
    """Technique classification: micro-F1 over the gold spans.

    The predicted techniques of each identical (article, start, end) are matched with that span's
    gold techniques as multisets, so a span annotated twice with different techniques needs both.
    When the predictions cover exactly the gold spans, precision = recall = F1 (= accuracy).
    """
    gold_labels = _technique_multisets(gold)
    pred_labels = _technique_multisets(pred)
    correct: Counter[str] = Counter()
    for span, techniques in gold_labels.items():
        correct.update(techniques & pred_labels.get(span, Counter()))
    gold_counts = sum(gold_labels.values(), Counter())
    pred_counts = sum(pred_labels.values(), Counter())
    per_technique = {}
    for technique in TECHNIQUE_IDS:
        precision = _ratio(correct[technique], pred_counts[technique])
        recall = _ratio(correct[technique], gold_counts[technique])
        per_technique[technique] = Score(precision, recall, _f1(precision, recall))
    precision = _ratio(correct.total(), pred_counts.total())
    recall = _ratio(correct.total(), gold_counts.total())
    return TaskScore(precision, recall, _f1(precision, recall), per_technique)


def _fields(label: Any) -> tuple[str, str | None, int, int]:
    if hasattr(label, "article_id"):
        return str(label.article_id), label.technique, int(label.start), int(label.end)
    if len(label) == 3:
        article_id, start, end = label
        return str(article_id), None, int(start), int(end)
    article_id, technique, start, end = label
    return str(article_id), technique, int(start), int(end)


def _by_article(labels: Iterable, *, with_technique: bool) -> dict[tuple, list[tuple[int, int]]]:
    """Merged spans per article (and technique): sorted, disjoint (start, end) pairs."""
    groups: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    for label in labels:
        article_id, technique, start, end = _fields(label)
        if end > start:
            groups[(article_id, technique) if with_technique else (article_id,)].append((start, end))
    return {key: merge_spans(spans) for key, spans in groups.items()}


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of spans that share at least one character; spans that only touch stay apart."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlap_sums(gold: dict[tuple, list[tuple[int, int]]],
                  pred: dict[tuple, list[tuple[int, int]]]) -> tuple[float, int, float, int]:
    """The scorer's sums: (precision credit, predicted spans, recall credit, gold spans)."""
    precision_sum = recall_sum = 0.0
    for key, pred_spans in pred.items():
        for g_start, g_end in gold.get(key, ()):
            for p_start, p_end in pred_spans:
                shared = min(g_end, p_end) - max(g_start, p_start)
                if shared > 0:
                    precision_sum += shared / (p_end - p_start)
                    recall_sum += shared / (g_end - g_start)
    return (precision_sum, sum(len(spans) for spans in pred.values()), recall_sum,
            sum(len(spans) for spans in gold.values()))


def _overlap_score(gold: dict[tuple, list[tuple[int, int]]],
                   pred: dict[tuple, list[tuple[int, int]]]) -> TaskScore:
    precision_sum, n_pred, recall_sum, n_gold = _overlap_sums(gold, pred)
    precision, recall = _ratio(precision_sum, n_pred), _ratio(recall_sum, n_gold)
    return TaskScore(precision, recall, _f1(precision, recall))


def flc_sums(gold: Iterable, pred: Iterable) -> dict[str, tuple[float, int, float, int]]:
    """Per technique, the FLC scorer's sums (precision credit, merged predicted spans, recall credit,
    merged gold spans). They add up across techniques to the overall score's, so a choice made
    technique by technique (its own threshold each) can be scored without decoding again."""
    gold_groups = _by_article(gold, with_technique=True)
    pred_groups = _by_article(pred, with_technique=True)
    return {t: _overlap_sums({k: v for k, v in gold_groups.items() if k[1] == t},
                             {k: v for k, v in pred_groups.items() if k[1] == t}) for t in TECHNIQUE_IDS}


def f1_of_sums(sums: Iterable[tuple[float, int, float, int]]) -> float:
    """FLC F1 from per-technique ``flc_sums`` (any subset of techniques, each with its own choice)."""
    totals = [sum(x) for x in zip(*sums, strict=True)] or [0.0, 0, 0.0, 0]
    precision, recall = _ratio(totals[0], totals[1]), _ratio(totals[2], totals[3])
    return _f1(precision, recall)


def _technique_multisets(labels: Iterable) -> dict[tuple[str, int, int], Counter[str]]:
    spans: dict[tuple[str, int, int], Counter[str]] = defaultdict(Counter)
    for label in labels:
        article_id, technique, start, end = _fields(label)
        spans[(article_id, start, end)][technique or ""] += 1
    return spans


def _stance(label: str) -> str:
    stance = label.strip().lower()
    if stance not in STANCES:
        raise PropscanError(f"unknown stance {label!r} (expected one of {', '.join(STANCES)})")
    return stance


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
