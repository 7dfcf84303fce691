"""Benchmark of the shipped propaganda model: its cross-validated figures against the targets, and speed.

Prints the out-of-fold figures of the cross-validated run (`propscan train --cv`) the shipped model
comes from: SI, TC and FLC F1, sentence-level F1, the article-score MAE and its rank correlation with
the gold share of technique sentences (mean ± sd across folds), spans predicted per technique
against gold, the span calibration's ECE and what the reports show at their default threshold. They
are read from the shipped propaganda-figures.json, or from a run folder given with --cv. Then the
speed of the full analysis on the 75 unlabeled PTC dev articles (model loading apart; the median of
--rounds), peak memory,
the model's size, the time of one forward pass of a RoBERTa-large-shaped encoder (random weights)
over the same articles as a ratio, and last the spans `propscan analyze` shows by default in the
issue's sample and in the shipped example, for a reader to judge.

    python benchmarks/models.py [--data ../shared/data/ptc] [--roberta-articles 75] [--threads 2] [--rounds 5]
                                [--model DIR] [--sample ../shared/samples/venezuela-lima-group.txt] [--cv runs/cv]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import torch

from propscan import analyze
from propscan.clean import load_language_profiles
from propscan.detect.detector import WEIGHTS_DIR, TrainedDetector
from propscan.pipeline import analyze_many
from propscan.readers import ptc


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The models issue's targets for the cross-validated figures: (name, label, "min" or "max", bound).
CV_TARGETS = (
    ("si_f1", "SI  F1", "min", 0.47), ("si_precision", "  SI precision", None, None),
    ("si_recall", "  SI recall", None, None), ("tc_f1", "TC  micro-F1", "min", 0.62),
    ("flc_f1", "FLC F1", "min", 0.30), ("flc_precision", "  FLC precision", None, None),
    ("flc_recall", "  FLC recall", None, None), ("sentence_f1", "sentence-level F1", "min", 0.65),
    ("article_mae", "article-score MAE", "max", 0.08),
    ("spearman", "article score: Spearman with the gold share", "min", 0.6),
)


def print_cv_figures(run: Path) -> bool:
    """The cross-validated figures in ``run`` (a `propscan train --cv` folder, or a model folder with the
    propaganda-figures.json such a run wrote), or one line saying why there are none; True when printed."""
    path = next((p for p in (run / "cv-figures.json", run / "propaganda-figures.json") if p.is_file()), None)
    figures = json.loads(path.read_text()) if path else {}
    if "summary" not in figures:
        print(f"Cross-validated figures: none in {run} (run `propscan train --cv 5 --out {run}` to the end)")
        return False
    print(f"Cross-validated, out-of-fold: {figures['k']} folds by article over {figures['articles']} articles "
          "(mean ± sd across folds; decoding tuned on the other folds; `predict`'s F1-optimal decoding)")
    for name, label, kind, bound in CV_TARGETS:
        summary = figures["summary"][name]
        if summary["mean"] is None:
            print(f"  {label:<44} undefined")
            continue
        spread = f" ± {summary['sd']:.3f}" if summary["sd"] is not None else ""
        target = f"target {'>=' if kind == 'min' else '<='} {bound:.2f}" if kind else ""
        met = "" if not kind else ("  met" if (summary["mean"] >= bound if kind == "min" else summary["mean"] <= bound)
                                   else "  not met")
        print(f"  {label:<44} {summary['mean']:.3f}{spread:<9} {target}{met}")
    counts = figures.get("technique_counts")
    calibration = figures.get("calibration", {})
    if counts:
        shown = calibration.get("default_technique_counts", {})
        frequent = sorted(counts, key=lambda t: -counts[t]["gold"])[:6]
        print("  per technique, spans predicted / gold (ratio) and shown at the default threshold; the six most "
              "frequent should be 0.67-1.5x gold, and every technique with 20 gold spans predicted:")
        for t in sorted(counts, key=lambda t: -counts[t]["gold"]):
            c = counts[t]
            ratio = c["predicted"] / c["gold"] if c["gold"] else float("nan")
            flag = ""
            if t in frequent:
                flag = "  met" if 0.67 <= ratio <= 1.5 else "  not met"
            elif c["gold"] >= 20:
                flag = "  met" if c["predicted"] > 0 else "  not met (never predicted)"
            print(f"    {t:<36} {c['predicted']:5d} / {c['gold']:5d} ({ratio:.2f})  shown {shown.get(t, 0):4d}{flag}")
    if "ece" in calibration:
        default = next(b for b in calibration["by_threshold"]
                       if b["threshold"] == calibration["default_min_confidence"])
        print(f"  span calibration (pooled out-of-fold candidates, {calibration['folds']}-fold fitting): "
              f"ECE {calibration['ece']:.3f}   target <= 0.05")
        print(f"  at its default threshold {default['threshold']:.2f}: span (SI) precision "
              f"{default['si_precision']:.3f}, FLC precision {default['flc_precision']:.3f}"
              "   targets >= 0.60, >= 0.45")
    else:
        print(f"  span calibration: {calibration.get('skipped', 'not fitted')}")
    if figures.get("training_seconds"):
        print(f"  training the shipped network ({figures.get('train_articles')} articles): "
              f"{figures['training_seconds'] / 60:.0f} min   target <= 120 min on 2 cores")
    return True


def roberta_large_seconds(tokenizer, texts: list[str]) -> float:
    from transformers import RobertaConfig, RobertaModel

    config = RobertaConfig(vocab_size=50265, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                           intermediate_size=4096, max_position_embeddings=514)
    model = RobertaModel(config).eval()
    started = time.time()
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            for k in range(0, max(1, len(ids)), 510):
                piece = torch.tensor([[0] + [min(i, 50000) for i in ids[k:k + 510]] + [2]])
                model(input_ids=piece)
    return time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ptc"))
    parser.add_argument("--roberta-articles", type=int, default=75)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5,
                        help="times the dev articles are analysed for speed (the median is reported: on a shared "
                             "machine one round can run 20%% slower than the next)")
    parser.add_argument("--model", type=Path, default=WEIGHTS_DIR, help="model folder (default: the shipped one)")
    parser.add_argument("--sample", type=Path, default=Path("../shared/samples/venezuela-lima-group.txt"))
    parser.add_argument("--cv", type=Path, default=None,
                        help="a `propscan train --cv` run folder: print its out-of-fold figures first")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print_cv_figures(args.cv or args.model)
    print()
    started = time.time()
    detector = TrainedDetector.load(args.model)
    load_language_profiles()
    load_seconds = time.time() - started
    propaganda = sum(p.stat().st_size for p in args.model.glob("propaganda*")) / 1e6
    stance = sum(p.stat().st_size for p in (args.model / "stance").glob("stance*")) / 1e6
    print(f"Model files: {propaganda + stance:.1f} MB (propaganda {propaganda:.1f}, headline stance {stance:.1f})"
          f"   target <= 60 MB")

    articles = ptc.read_articles(args.data / "dev-articles")
    list(analyze_many(articles[:2], detector=detector))
    rounds = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        analyses = list(analyze_many(articles, detector=detector))
        rounds.append(time.perf_counter() - started)
    elapsed = sorted(rounds)[len(rounds) // 2]
    ours_ms = 1000 * elapsed / len(analyses)
    print(f"\nSpeed, full analysis of {len(analyses)} dev articles on {args.threads} thread(s), the median of "
          f"{len(rounds)} rounds:")
    print(f"  model loading {load_seconds:.2f} s (apart; the detector and the language profiles)")
    print(f"  {len(analyses) / elapsed:.2f} articles/s, {ours_ms:.1f} ms/article          target >= 8 articles/s")
    print("  each round: " + ", ".join(f"{len(analyses) / r:.2f}" for r in rounds) + " articles/s")
    print(f"  peak memory {peak_rss_mb():.0f} MB                          target < 1024 MB")

    if args.roberta_articles:
        sample = [a.text for a in articles[: args.roberta_articles]]
        seconds = roberta_large_seconds(detector.tokenizer, sample)
        roberta_ms = 1000 * seconds / len(sample)
        print(f"\nRoBERTa-large-shaped encoder (random weights, fp32), one forward pass over {len(sample)} of "
              f"the same articles:\n  {len(sample) / seconds:.3f} articles/s, {roberta_ms:.0f} ms/article")
        print(f"  ratio: propscan takes {roberta_ms / ours_ms:.1f}x less time per article    target >= 30x")

    example = Path(__file__).parents[1] / "examples" / "harbour-bridge.txt"
    for path in (args.sample, example):
        if path.is_file():
            found = analyze(path, detector=detector)
            shown = found.shown().spans
            print(f"\n`propscan analyze` on {path.name}: {len(shown)} spans shown from confidence "
                  f"{found.min_confidence:.2f} ({len(found.spans)} decoded); headline {found.title!r}:")
            for span in shown:
                print(f"  {span.technique:<36} {span.text!r} ({span.confidence:.3f})")


if __name__ == "__main__":
    main()
