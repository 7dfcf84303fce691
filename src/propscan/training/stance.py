"""Training the headline (stance) model on FNC-1: the one way the shipped stance files are made.

``train_stance(data_dir, out_dir, seed)`` splits the pairs by Body ID (a fifth of the bodies for
development), fits the TF-IDF vocabulary and both stages on the training bodies only, tunes the
decision weights on out-of-fold predictions over training folds (grouped by body), writes the model
with ``StanceModel.save`` and returns the figures measured on the development split.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from propscan.errors import PropscanError
from propscan.metrics import fnc1_score
from propscan.stance.fnc1 import read_fnc1
from propscan.stance.model import (
    RELATED_STANCES,
    STANCES,
    FeatureMaker,
    StanceModel,
    TreeEnsemble,
    Vocabulary,
    content_words,
    tokens,
)

DEV_FRACTION = 0.2
FOLDS = 3
TREES = 150
TREE_DEPTH = 3
LEARNING_RATE = 0.1
_WEIGHT_GRID = (0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)


def split_by_body(body_ids: Sequence[str], seed: int = 0,
                  dev_fraction: float = DEV_FRACTION) -> tuple[set[str], set[str]]:
    """(train, dev) Body IDs: a seeded shuffle of the distinct IDs, ``dev_fraction`` of them for dev."""
    distinct = sorted(set(body_ids), key=lambda b: (len(b), b))
    order = np.random.default_rng(seed).permutation(len(distinct))
    n_dev = max(1, round(dev_fraction * len(distinct))) if len(distinct) > 1 else 0
    dev = {distinct[i] for i in order[:n_dev]}
    return set(distinct) - dev, dev


def load_pairs(data_dir: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    stances_csv, bodies_csv = data_dir / "stances.csv", data_dir / "bodies.csv"
    rows, bodies = read_fnc1(stances_csv, bodies_csv)
    for line, row in enumerate(rows, start=2):
        stance = (row.get("Stance") or "").strip().lower()
        if stance not in STANCES:
            raise PropscanError(f"{stances_csv}: row {line} has no FNC-1 stance (got {row.get('Stance')!r})")
        row["Stance"] = stance
        row["Body ID"] = row["Body ID"].strip()
    return rows, bodies


def _fit_trees(x: np.ndarray, labels: np.ndarray, seed: int) -> TreeEnsemble:
    """Boosted trees on ``x``, exported to a ``TreeEnsemble`` and checked against scikit-learn."""
    from sklearn.ensemble import GradientBoostingClassifier

    booster = GradientBoostingClassifier(n_estimators=TREES, max_depth=TREE_DEPTH, learning_rate=LEARNING_RATE,
                                         random_state=seed)
    booster.fit(x, labels)
    feature, threshold, left, right, value, roots, tree_class = [], [], [], [], [], [], []
    offset = 0
    for stage in booster.estimators_:
        for k, regressor in enumerate(stage):
            tree = regressor.tree_
            leaf = tree.children_left < 0
            roots.append(offset)
            tree_class.append(k)
            feature.append(np.where(leaf, 0, tree.feature))
            threshold.append(tree.threshold)
            left.append(np.where(leaf, -1, tree.children_left + offset))
            right.append(np.where(leaf, -1, tree.children_right + offset))
            value.append(np.where(leaf, booster.learning_rate * tree.value[:, 0, 0], 0.0))
            offset += tree.node_count
    trees = TreeEnsemble(np.concatenate(feature), np.concatenate(threshold), np.concatenate(left),
                         np.concatenate(right), np.concatenate(value), np.array(roots), np.array(tree_class),
                         np.zeros(len(booster.estimators_[0])))
    # The constant start (the class priors' log-odds) is what the trees' sum leaves unexplained.
    sample = x[:50]
    sklearn_logits = booster.decision_function(sample).reshape(len(sample), -1)
    trees.bias = (sklearn_logits - trees.logits(sample)).mean(axis=0)
    if not np.allclose(trees.predict_proba(x[:500]), booster.predict_proba(x[:500]), atol=1e-6):
        raise RuntimeError("the exported stance trees disagree with scikit-learn's")
    return trees


def _fit_model(vocabulary: Vocabulary, x: np.ndarray, gold: Sequence[str], seed: int,
               decision_weights: dict[str, float] | None = None) -> StanceModel:
    gold = np.asarray(gold)
    related_mask = gold != "unrelated"
    related = _fit_trees(x, related_mask.astype(int), seed)
    stage2_labels = np.array([RELATED_STANCES.index(g) for g in gold[related_mask]])
    if len(set(stage2_labels)) < len(RELATED_STANCES):
        raise PropscanError("the stance training data needs agree, disagree and discuss pairs")
    stance = _fit_trees(x[related_mask], stage2_labels, seed)
    return StanceModel(vocabulary, related, stance, decision_weights or {s: 1.0 for s in STANCES})


def _objective(gold: Sequence[str], pred: Sequence[str]) -> float:
    figures = fnc1_score(gold, pred)
    return figures["relative_score"] + figures["macro_f1"]


def tune_decision_weights(probabilities: np.ndarray, gold: Sequence[str]) -> dict[str, float]:
    """The multiplier on P(disagree) that maximises relative FNC-1 score + macro-F1; the other
    stances keep 1.0 (boosting agree would buy corpus macro-F1 with false "supported" verdicts)."""
    best, best_weight = -1.0, 1.0
    for disagree in _WEIGHT_GRID:
        weights = np.array([1.0, 1.0, disagree, 1.0])
        pred = [STANCES[i] for i in np.argmax(probabilities * weights, axis=1)]
        value = _objective(gold, pred)
        if value > best + 1e-9:
            best, best_weight = value, disagree
    return {"unrelated": 1.0, "agree": 1.0, "disagree": best_weight, "discuss": 1.0}


def featurize(maker: FeatureMaker, rows: Sequence[dict[str, str]], bodies: dict[str, str]) -> np.ndarray:
    prepared_bodies = {bid: maker.body(bodies[bid]) for bid in dict.fromkeys(r["Body ID"] for r in rows)}
    prepared_headlines = {h: maker.headline(h) for h in dict.fromkeys(r["Headline"] for r in rows)}
    return np.vstack([maker.pair(prepared_headlines[r["Headline"]], prepared_bodies[r["Body ID"]])
                      for r in rows])


def calibration_error(probabilities: np.ndarray, gold: Sequence[str], bins: int = 10) -> float:
    """Expected calibration error of the top probability (the usual 10-bin estimate)."""
    top = probabilities.max(axis=1)
    correct = np.array([STANCES[i] == g for i, g in zip(probabilities.argmax(axis=1), gold, strict=True)])
    error = 0.0
    for lo in np.linspace(0, 1, bins, endpoint=False):
        in_bin = (top > lo) & (top <= lo + 1.0 / bins)
        if in_bin.any():
            error += in_bin.mean() * abs(top[in_bin].mean() - correct[in_bin].mean())
    return float(error)


def train_stance(data_dir: Path, out_dir: Path, seed: int = 0) -> dict:
    """Train the stance model from FNC-1 files in ``data_dir``, save it in ``out_dir``.

    Returns the development-split figures (``fnc1_score``'s keys plus calibration and sizes).
    """
    from sklearn.model_selection import GroupKFold

    started = time.perf_counter()
    rows, bodies = load_pairs(Path(data_dir))
    train_ids, dev_ids = split_by_body([r["Body ID"] for r in rows], seed)
    train_rows = [r for r in rows if r["Body ID"] in train_ids]
    dev_rows = [r for r in rows if r["Body ID"] in dev_ids]
    if not train_rows or not dev_rows:
        raise PropscanError(f"{data_dir}: too few bodies to split into training and development")

    documents = [content_words(tokens(bodies[b])) for b in sorted(train_ids)]
    documents += [content_words(tokens(h)) for h in sorted({r["Headline"] for r in train_rows})]
    vocabulary = Vocabulary.fit(documents)
    maker = FeatureMaker(vocabulary)
    x_train = featurize(maker, train_rows, bodies)
    gold_train = [r["Stance"] for r in train_rows]

    groups = [r["Body ID"] for r in train_rows]
    n_folds = min(FOLDS, len(train_ids))
    out_of_fold = np.zeros((len(train_rows), len(STANCES)))
    for fit_idx, held_idx in GroupKFold(n_splits=n_folds).split(x_train, groups=groups):
        fold_model = _fit_model(vocabulary, x_train[fit_idx], [gold_train[i] for i in fit_idx], seed)
        out_of_fold[held_idx] = fold_model.probabilities(x_train[held_idx])
    weights = tune_decision_weights(out_of_fold, gold_train)

    model = _fit_model(vocabulary, x_train, gold_train, seed, weights)
    gold_dev = [r["Stance"] for r in dev_rows]
    dev_probabilities = model.probabilities(featurize(maker, dev_rows, bodies))
    figures = fnc1_score(gold_dev, model.decide(dev_probabilities))
    figures.update({
        "calibration_error": calibration_error(dev_probabilities, gold_dev),
        "decision_weights": weights,
        "train_pairs": len(train_rows), "dev_pairs": len(dev_rows),
        "train_bodies": len(train_ids), "dev_bodies": len(dev_ids),
        "seed": seed, "training_seconds": round(time.perf_counter() - started, 1),
    })
    model.info = {"seed": seed, "dev_split": f"{DEV_FRACTION:.0%} of Body IDs, seed {seed}",
                  "dev_relative_score": round(figures["relative_score"], 4),
                  "dev_macro_f1": round(figures["macro_f1"], 4)}
    model.save(Path(out_dir))
    return figures
