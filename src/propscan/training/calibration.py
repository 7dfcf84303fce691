"""Fitting the span calibration (``propscan.detect.calibration``) on held-out articles, and its honest figures.

The calibration is fitted on spans that networks found in articles they never trained on (the
cross-validated run's out-of-fold candidates, ``training.crossval``). Its figures are out-of-fold
again: those articles are split by article into ``FOLDS`` folds, and each fold's spans are scored by a
calibration fitted on the other folds; the reliability table, the expected
calibration error and the precision at each threshold come from those out-of-fold probabilities. The
default threshold of the reports is the lowest on the grid whose out-of-fold span precision (SI,
partial overlap) reaches ``TARGET_SI_PRECISION`` and FLC precision ``TARGET_FLC_PRECISION``; when no
threshold does, the lowest whose SI precision comes within 5% of the best reached while still showing
at least one span per article on average (a default that shows almost nothing would serve no reader).
The shipped calibration is then fitted on all of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from propscan.detect.base import DetectInput
from propscan.detect.calibration import FEATURES, Calibrator, SpanContext, span_features
from propscan.detect.network import normalize
from propscan.metrics import flc_score, merge_spans, si_score

FOLDS = 5
SEED = 0
# Steps of 0.01 (the page's slider has the same): with steps of 0.05 the default went from 0.45 (SI
# precision 0.595, 290 spans in 296 articles) to 0.5 (147 spans), where a threshold between them
# reaches 0.60 with more.
THRESHOLDS = tuple(round(0.2 + 0.01 * i, 2) for i in range(41))
TARGET_SI_PRECISION = 0.6
TARGET_FLC_PRECISION = 0.45
NEAR_BEST = 0.95
REGULARIZATION = 1.0  # inverse strength (scikit-learn's C): a few hundred spans, 23 features


@dataclass
class Candidate:
    article: int
    article_id: str
    start: int
    end: int
    technique: str
    features: list[float]
    credit: float  # the share of the span's characters in gold spans of its technique


def candidates(detector, docs: list[tuple[str, DetectInput]], gold: list[tuple[str, str, int, int]]) -> list[Candidate]:
    """The detector's spans on each document with their calibration features and FLC credit.

    ``detector`` must be uncalibrated (its confidences the raw span scores)."""
    if detector.calibrator is not None:
        raise ValueError("fit the calibration on an uncalibrated detector")
    by_technique: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for article_id, technique, start, end in gold:
        by_technique.setdefault((article_id, technique), []).append((start, end))
    by_technique = {k: merge_spans(v) for k, v in by_technique.items()}
    rows = []
    for i, ((article_id, doc), found) in enumerate(zip(docs, detector.detect([d for _, d in docs]), strict=True)):
        context = SpanContext(doc.text, normalize(doc.text), doc.title,
                              [(r.start, r.end, r.confidence) for r in found.regions], doc.sentences,
                              found.sentence_scores)
        for span in found.spans:
            covered = sum(max(0, min(e, span.end) - max(s, span.start))
                          for s, e in by_technique.get((article_id, span.technique), ()))
            rows.append(Candidate(i, article_id, span.start, span.end, span.technique,
                                  span_features(context, span.start, span.end, span.technique, span.confidence),
                                  covered / (span.end - span.start)))
    return rows


def _fit(rows: list[Candidate]):
    from sklearn.linear_model import LogisticRegression

    x = np.asarray([r.features for r in rows], dtype=np.float64)
    y = np.asarray([r.credit for r in rows], dtype=np.float64)
    # Soft targets: each span is a positive with weight credit and a negative with weight 1 - credit.
    model = LogisticRegression(C=REGULARIZATION, max_iter=5000)
    model.fit(np.vstack([x, x]), np.r_[np.ones(len(y)), np.zeros(len(y))], sample_weight=np.r_[y, 1 - y] + 1e-9)
    return model


def reliability(probabilities: np.ndarray, credits: np.ndarray, bins: int = 10) -> tuple[float, list[dict]]:
    """Expected calibration error and the reliability table (equal-width bins)."""
    table, error = [], 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    for k, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        inside = (probabilities >= low) & ((probabilities < high) if k < bins - 1 else (probabilities <= high))
        if inside.any():
            mean_p, observed = float(probabilities[inside].mean()), float(credits[inside].mean())
            error += inside.sum() / len(probabilities) * abs(mean_p - observed)
            table.append({"bin": f"{low:.1f}-{high:.1f}", "spans": int(inside.sum()), "mean_confidence": mean_p,
                          "observed_precision": observed})
    return float(error), table


def fit_calibration(detector, docs: list[tuple[str, DetectInput]],
                    gold: list[tuple[str, str, int, int]]) -> tuple[Calibrator, dict]:
    """The calibration fitted on all ``docs`` and its out-of-fold figures."""
    return fit_candidates(candidates(detector, docs, gold), len(docs), gold)


def fit_candidates(rows: list[Candidate], n_docs: int,
                   gold: list[tuple[str, str, int, int]]) -> tuple[Calibrator, dict]:
    """The calibration fitted on candidate spans of ``n_docs`` documents (``Candidate.article`` indexes
    them), and its out-of-fold figures. The candidates may come from several detectors, one per
    document, as in the cross-validated evaluation (``training.crossval``)."""
    if len({r.credit > 0 for r in rows}) < 2:
        raise ValueError("too few spans to fit a calibration")
    order = np.random.RandomState(SEED).permutation(n_docs)
    fold_of = np.empty(n_docs, dtype=int)
    fold_of[order] = np.arange(n_docs) % FOLDS
    folds = np.asarray([fold_of[r.article] for r in rows])
    out_of_fold = np.zeros(len(rows))
    for k in range(FOLDS):
        held = folds == k
        model = _fit([r for r, h in zip(rows, held, strict=True) if not h])
        out_of_fold[held] = model.predict_proba(np.asarray([r.features for r in rows])[held])[:, 1]
    credits = np.asarray([r.credit for r in rows])
    ece, table = reliability(out_of_fold, credits)
    by_threshold = []
    for threshold in (0.0, *THRESHOLDS):
        shown = [(r.article_id, r.technique, r.start, r.end) for r, p in zip(rows, out_of_fold, strict=True)
                 if p >= threshold]
        flc, si = flc_score(gold, shown), si_score(gold, shown)
        kept = out_of_fold >= threshold
        by_threshold.append({"threshold": threshold, "spans": len(shown), "si_precision": si.precision,
                             "si_recall": si.recall, "flc_precision": flc.precision, "flc_recall": flc.recall,
                             "flc_f1": flc.f1,
                             "ece": reliability(out_of_fold[kept], credits[kept])[0] if kept.any() else 0.0})
    meeting = [b for b in by_threshold if b["threshold"] > 0 and b["si_precision"] >= TARGET_SI_PRECISION
               and b["flc_precision"] >= TARGET_FLC_PRECISION]
    if meeting:
        default = meeting[0]
    else:
        useful = [b for b in by_threshold if b["threshold"] > 0 and b["spans"] >= n_docs]
        best = max(b["si_precision"] for b in useful)
        default = next(b for b in useful if b["si_precision"] >= NEAR_BEST * best)
    model = _fit(rows)
    calibrator = Calibrator(tuple(float(c) for c in model.coef_[0]), float(model.intercept_[0]),
                            float(default["threshold"]))
    shown = Counter(r.technique for r, p in zip(rows, out_of_fold, strict=True) if p >= default["threshold"])
    shown_counts = {t: shown[t] for t in sorted({r.technique for r in rows})}
    figures = {"articles": n_docs, "spans": len(rows), "folds": FOLDS, "ece": ece, "reliability": table,
               "default_technique_counts": shown_counts,
               "by_threshold": by_threshold, "default_min_confidence": default["threshold"],
               "default_meets_targets": bool(meeting), "features": list(FEATURES)}
    return calibrator, figures
