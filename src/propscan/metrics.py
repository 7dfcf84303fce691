"""Evaluation metrics: the FNC-1 stance score and the SemEval-2020 Task 11 SI, TC and FLC scores.

Everything here is written from the published definitions (Pomerleau and Rao, 2017, for FNC-1;
Da San Martino et al., 2020, for SemEval-2020 Task 11) and takes plain Python values, so the
metrics can be used without the rest of propscan.
"""

from __future__ import annotations

from collections.abc import Sequence

from propscan.errors import PropscanError

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


def _stance(label: str) -> str:
    stance = label.strip().lower()
    if stance not in STANCES:
        raise PropscanError(f"unknown stance {label!r} (expected one of {', '.join(STANCES)})")
    return stance


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
