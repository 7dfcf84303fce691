"""Benchmark of the shipped propaganda model: accuracy on the development split, and speed.

Prints SI, TC and FLC F1, sentence-level F1, the article-score MAE and its rank correlation with the
gold share of technique sentences on the development split recorded by `propscan train`
(propscan/weights/propaganda-figures.json; the network never trained on it, but the decoding was tuned
on it), the span calibration's out-of-fold figures and what the reports show at their default
threshold (precision, spans per technique against gold), then the speed of the full
analysis on the 75 unlabeled PTC dev articles (model loading apart), peak memory, and the time of one
forward pass of a RoBERTa-large-shaped encoder (random weights) over the same articles, as a ratio.
Last, the technique spans it finds in the issue's sample article, for a reader to judge.

With ``--cv OUT``, it first prints the cross-validated figures of a `propscan train --cv` run folder
(OUT/cv-figures.json: mean and standard deviation across folds, every figure out-of-fold) against the
models issue's targets.

    python benchmarks/models.py [--data ../shared/data/ptc] [--roberta-articles 75] [--threads 2] [--model DIR]
                                [--sample ../shared/samples/venezuela-lima-group.txt] [--cv runs/cv]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from propscan import analyze
from propscan.clean import load_language_profiles
from propscan.detect.detector import WEIGHTS_DIR, TrainedDetector
from propscan.metrics import flc_score, si_score, tc_score
from propscan.pipeline import analyze_many, prepare
from propscan.readers import ptc


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def accuracy(detector: TrainedDetector, data: Path, dev_ids: list[str]) -> dict:
    every = ptc.read_articles(data / "train-articles")
    texts = {a.id: a.text for a in every}
    articles = {a.id: a for a in every if a.id in set(dev_ids)}
    si_gold = [x for x in ptc.read_labels(data / "train-labels-task1-span-identification", articles=texts)
               if x.article_id in articles]
    tc_gold = [x for x in ptc.read_labels(data / "train-labels-task2-technique-classification", articles=texts,
                                          require_technique=True) if x.article_id in articles]
    si_pred, flc_pred, tc_pred = [], [], []
    sentence_pred, sentence_gold, errors = [], [], []
    threshold = detector.settings.sentence_threshold
    analyses = {a.id: a for a in analyze_many(list(articles.values()), detector=detector)}
    for article_id, article in articles.items():
        _, doc = prepare(article)
        found = detector.detect([doc])[0]
        si_pred += [(article_id, r.start, r.end) for r in found.regions]
        flc_pred += [(article_id, s.technique, s.start, s.end, s.confidence) for s in found.spans]
        gold_here = [x for x in tc_gold if x.article_id == article_id]
        ranked = detector.classify(doc, [(x.start, x.end) for x in gold_here])
        seen: Counter = Counter()
        for label, options in zip(gold_here, ranked, strict=True):
            k = seen[(label.start, label.end)]
            seen[(label.start, label.end)] += 1
            tc_pred.append((article_id, options[k % len(options)][0], label.start, label.end))
        gold_spans = [(x.start, x.end) for x in si_gold if x.article_id == article_id]
        analysis = analyses[article_id]
        labels = np.asarray([any(s.start < e and b < s.end for b, e in gold_spans) for s in analysis.sentences])
        scores = np.asarray([s.score for s in analysis.sentences])
        sentence_pred.append(scores >= threshold)
        sentence_gold.append(labels)
        if len(labels):
            errors.append(abs(analysis.score - labels.mean()))
    pred, gold = np.concatenate(sentence_pred), np.concatenate(sentence_gold)
    tp = float((pred & gold).sum())
    from scipy.stats import spearmanr

    article_scores = [analyses[i].score for i in articles]
    gold_shares = [float(np.mean([any(s.start < e and b < s.end for b, e in
                                      [(x.start, x.end) for x in si_gold if x.article_id == i])
                                  for s in analyses[i].sentences])) if analyses[i].sentences else 0.0
                   for i in articles]
    default = detector.default_min_confidence
    shown = [x for x in flc_pred if x[4] >= default]
    return {
        "spearman": float(spearmanr(article_scores, gold_shares)[0]),
        "default": default, "shown_si": si_score(si_gold, [(i, s, e) for i, _, s, e, _ in shown]),
        "shown_flc": flc_score(tc_gold, [x[:4] for x in shown]),
        "shown_counts": Counter(x[1] for x in shown), "all_counts": Counter(x[1] for x in flc_pred),
        "gold_counts": Counter(x.technique for x in tc_gold),
        "articles": len(articles),
        "si": si_score(si_gold, si_pred), "tc": tc_score(tc_gold, tc_pred),
        "flc": flc_score(tc_gold, [x[:4] for x in flc_pred]),
        "sentence_f1": 2 * tp / (pred.sum() + gold.sum()), "article_mae": float(np.mean(errors)),
    }


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
    """The cross-validated figures in ``run`` (a `propscan train --cv` folder), or one line saying why
    there are none; True when printed."""
    path = run / "cv-figures.json"
    if not path.is_file():
        print(f"Cross-validated figures: none in {run} (run `propscan train --cv 5 --out {run}` to the end)")
        return False
    figures = json.loads(path.read_text())
    print(f"Cross-validated, out-of-fold: {figures['k']} folds by article over {figures['articles']} articles "
          "(mean ± sd across folds; decoding tuned on the other folds)")
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
    calibration = figures.get("calibration", {})
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
    parser.add_argument("--model", type=Path, default=WEIGHTS_DIR, help="model folder (default: the shipped one)")
    parser.add_argument("--sample", type=Path, default=Path("../shared/samples/venezuela-lima-group.txt"))
    parser.add_argument("--cv", type=Path, default=None,
                        help="a `propscan train --cv` run folder: print its out-of-fold figures first")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.cv is not None:
        print_cv_figures(args.cv)
        print()

    started = time.time()
    detector = TrainedDetector.load(args.model)
    load_language_profiles()
    load_seconds = time.time() - started
    dev_ids = json.loads((args.model / "propaganda-figures.json").read_text())["dev_articles"]
    acc = accuracy(detector, args.data, dev_ids)
    print(f"Development split: {acc['articles']} articles (ids in propaganda-figures.json; the models issue's "
          "targets are for out-of-fold figures over all 296)")
    print(f"  SI  F1 {acc['si'].f1:.3f}  (P {acc['si'].precision:.3f}, R {acc['si'].recall:.3f})   target >= 0.47")
    print(f"  TC  micro-F1 {acc['tc'].f1:.3f}                        target >= 0.62")
    print(f"  FLC F1 {acc['flc'].f1:.3f}  (P {acc['flc'].precision:.3f}, R {acc['flc'].recall:.3f})  target >= 0.30")
    print(f"  sentence-level F1 {acc['sentence_f1']:.3f}                   target >= 0.65")
    print(f"  article-score MAE {acc['article_mae']:.3f}                   target <= 0.08")
    print(f"  article score: Spearman {acc['spearman']:.3f} with the gold share of technique sentences"
          "   target >= 0.6")
    calibration = json.loads((args.model / "propaganda-figures.json").read_text()).get("calibration")
    if calibration:
        print(f"Span confidence calibration, out-of-fold ({calibration['folds']} folds by article over the "
              f"{calibration['articles']} development articles): ECE {calibration['ece']:.3f}   target <= 0.05")
    print(f"  at the reports' default threshold {acc['default']:.2f}: span (SI) precision "
          f"{acc['shown_si'].precision:.3f}, FLC precision {acc['shown_flc'].precision:.3f} (in-sample: the "
          "calibration was fitted on these articles; the out-of-fold figures are in the model card)"
          "   targets >= 0.60, >= 0.45")
    print("  per technique: TC F1 / FLC F1 / spans decoded (shown by default) / gold spans:")
    for name, score in acc["tc"].per_technique.items():
        print(f"    {name:<36} {score.f1:.3f} / {acc['flc'].per_technique[name].f1:.3f} / "
              f"{acc['all_counts'][name]:4d} ({acc['shown_counts'][name]:3d}) / {acc['gold_counts'][name]:4d}")

    articles = ptc.read_articles(args.data / "dev-articles")
    list(analyze_many(articles[:2], detector=detector))
    started = time.time()
    analyses = list(analyze_many(articles, detector=detector))
    elapsed = time.time() - started
    ours_ms = 1000 * elapsed / len(analyses)
    print(f"\nSpeed, full analysis of {len(analyses)} dev articles on {args.threads} thread(s):")
    print(f"  model loading {load_seconds:.2f} s (apart; the detector and the language profiles)")
    print(f"  {len(analyses) / elapsed:.2f} articles/s, {ours_ms:.1f} ms/article          target >= 8 articles/s")
    print(f"  peak memory {peak_rss_mb():.0f} MB                          target < 1024 MB")

    if args.roberta_articles:
        sample = [a.text for a in articles[: args.roberta_articles]]
        seconds = roberta_large_seconds(detector.tokenizer, sample)
        roberta_ms = 1000 * seconds / len(sample)
        print(f"\nRoBERTa-large-shaped encoder (random weights, fp32), one forward pass over {len(sample)} of "
              f"the same articles:\n  {len(sample) / seconds:.3f} articles/s, {roberta_ms:.0f} ms/article")
        print(f"  ratio: propscan takes {roberta_ms / ours_ms:.1f}x less time per article    target >= 30x")

    if args.sample.is_file():
        found = analyze(args.sample, detector=detector)
        print(f"\nTechnique spans in {args.sample.name} (headline: {found.title!r}):")
        for span in found.spans:
            print(f"  {span.technique:<36} {span.text!r} ({span.confidence:.3f})")


if __name__ == "__main__":
    main()
