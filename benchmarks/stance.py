"""Benchmark of the shipped stance model on its FNC-1 development split (not a test).

Prints the relative FNC-1 score, accuracy, per-class F1 and macro-F1 on the dev bodies (the split
``train_stance`` held out, from the seed recorded in the model), the choices made on the tuning bodies
and the trees alone on dev for comparison, then the speed of ``predict_pairs``
from cold (bodies prepared once) on the dev pairs and on the first 8,000 pairs of the data, then the
headline check (verdict and evidence) of the shared sample and of the README's example.

    python benchmarks/stance.py [--data ../shared/data/fnc1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from propscan.metrics import fnc1_score
from propscan.pipeline import prepare
from propscan.readers import article_from_text
from propscan.stance.model import STANCES, WEIGHTS_DIR, StanceModel
from propscan.training.stance import load_pairs, split_by_body


def timed_predictions(model: StanceModel, rows: list[dict[str, str]], bodies: dict[str, str]):
    started = time.perf_counter()
    predictions = model.predict_pairs([r["Headline"] for r in rows], [r["Body ID"] for r in rows], bodies)
    return predictions, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/fnc1")
    args = parser.parse_args()

    model = StanceModel.load(WEIGHTS_DIR)
    seed = int(model.info.get("seed", 0))
    rows, bodies = load_pairs(args.data)
    _, dev_ids = split_by_body([r["Body ID"] for r in rows], seed)
    dev_rows = [r for r in rows if r["Body ID"] in dev_ids]

    predictions, seconds = timed_predictions(model, dev_rows, bodies)
    figures = fnc1_score([r["Stance"] for r in dev_rows], [p.stance for p in predictions])
    print(f"dev split: {len(dev_rows)} pairs, {len(dev_ids)} bodies (seed {seed})")
    print(f"relative FNC-1 score  {figures['relative_score']:.4f}  ({figures['score']:.2f} of "
          f"{figures['max_score']:.2f})")
    print(f"accuracy              {figures['accuracy']:.4f}")
    print(f"macro-F1              {figures['macro_f1']:.4f}")
    for stance in STANCES:
        print(f"  F1 {stance:<10}       {figures['per_class_f1'][stance]:.4f}")
    print("confusion (gold → predicted): " + "; ".join(
        f"{g}: " + " ".join(f"{p}={figures['confusion'][g][p]}" for p in STANCES) for g in STANCES))
    print(f"dev speed             {len(dev_rows) / seconds:.0f} pairs/s ({seconds:.1f} s)")
    info = model.info
    if model.reader is not None:
        print(f"reader                {model.reader.layers} layers, {model.reader.max_tokens} tokens; blend "
              f"{model.blend} and P(disagree) weight {model.decision_weights['disagree']} chosen on "
              f"{info.get('tuning_split', 'the tuning bodies')}")
        for row in info.get("tuning_grid", []):
            print(f"  tuning bodies, blend {row['blend']:<4}  relative {row['relative_score']:.4f}  "
                  f"macro-F1 {row['macro_f1']:.4f}  (disagree weight {row['disagree_weight']})")
    if "trees_alone_dev_relative_score" in info:
        print(f"trees alone, dev      relative {info['trees_alone_dev_relative_score']:.4f}  "
              f"macro-F1 {info['trees_alone_dev_macro_f1']:.4f}")

    first = rows[:8000]
    _, seconds = timed_predictions(StanceModel.load(WEIGHTS_DIR), first, bodies)
    n_bodies = len({r["Body ID"] for r in first})
    print(f"8,000 pairs           {seconds:.1f} s ({len(first) / seconds:.0f} pairs/s, {n_bodies} bodies, cold)")

    root = Path(__file__).resolve().parents[1]
    for path in (root.parent / "shared/samples/venezuela-lima-group.txt", root / "examples/harbour-bridge.txt"):
        if path.exists():
            print_check(model, path)


def print_check(model: StanceModel, path: Path) -> None:
    """The headline check of one article as ``analyze`` makes it: verdict, then each evidence sentence."""
    article = article_from_text(path.read_text(encoding="utf-8"))
    cleaned, doc = prepare(article)
    check = model.check(article.text, doc.title, doc.sentences)
    print(f"\n{path.name}: {article.title!r}")
    if check is None:
        print("  no headline check: " + "; ".join(cleaned.warnings))
        return
    verdict = "supported" if check.supported else "not supported"
    print(f"  {verdict} (stance {check.stance}; " + ", ".join(f"{s} {p:.2f}" for s, p in check.probabilities.items())
          + ")")
    for e in check.evidence:
        print(f"  {e.relation:<11} {e.score:.2f}  {e.excerpt(110)}")


if __name__ == "__main__":
    main()
