"""Benchmark of long articles: peak memory and time of one analysis at 50k, 200k and 1M characters.

Each size runs in a child process of its own, so that one size's peak does not hide the next one's:
the child reads the text, loads the detector, analyzes the article once and prints its peak resident
memory (RSS, model included) and the analysis time (model loading apart). The text is realistic:
PTC articles (then the unlabeled news) joined with blank lines until the size is reached; without
``../shared`` a generated text of news-like sentences stands in.

    python benchmarks/long_articles.py [--sizes 50000 200000 1000000] [--model trained|lexicon]
                                       [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def realistic_text(size: int, data: Path) -> str:
    """``size`` characters of articles from the shared corpora, or generated text without them."""
    folders = [data / "ptc" / "train-articles", data / "ptc" / "dev-articles", data / "unlabeled-news"]
    files = [p for folder in folders if folder.is_dir() for p in sorted(folder.glob("*.txt"))]
    pieces: list[str] = []
    length = 0
    for path in files:
        if length >= size:
            break
        piece = path.read_text(encoding="utf-8", errors="replace").strip()
        pieces.append(piece)
        length += len(piece) + 2
    if length < size:
        pieces.append(generated_text(size - length))
    return "\n\n".join(pieces)[:size]


def generated_text(size: int) -> str:
    """News-like paragraphs of short sentences, the same for every run (a fixed seed)."""
    rng = random.Random(11)
    subjects = ["The minister", "Officials", "The opposition", "Our brave soldiers", "Critics", "The company",
                "Protesters", "The president", "Experts", "Local residents"]
    verbs = ["said", "warned", "denied", "claimed", "insisted", "announced", "feared", "admitted"]
    rests = ["that the plan would destroy the nation", "a shocking betrayal of every patriot",
             "the talks had failed again", "nothing would change before the election",
             "the evil regime must be stopped at all costs", "the figures were exaggerated",
             "prices rose by 4 per cent last year", "everyone knows the truth already"]
    out: list[str] = []
    length = 0
    while length < size:
        paragraph = " ".join(f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(rests)}."
                             for _ in range(rng.randint(2, 5)))
        out.append(paragraph)
        length += len(paragraph) + 2
    return "\n\n".join(out)[:size]


def child(size: int, model: str, data: Path) -> None:
    """One measurement, printed as a JSON line."""
    os.environ["PROPSCAN_MODEL"] = model
    from propscan.detect import load_detector
    from propscan.pipeline import analyze_many
    from propscan.readers import article_from_text

    article = article_from_text(realistic_text(size, data))
    detector = load_detector()
    loaded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    analysis = next(analyze_many([article], detector=detector))
    seconds = time.perf_counter() - began
    print(json.dumps({"chars": len(article.text), "seconds": round(seconds, 1),
                      "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "loaded_mb": round(loaded_mb), "sentences": len(analysis.sentences),
                      "spans": len(analysis.spans), "model": analysis.model}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000, 1_000_000])
    parser.add_argument("--model", default="trained", choices=["trained", "lexicon"])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.model, args.data)
        return
    source = "shared corpora" if args.data.is_dir() else "generated text (no shared corpora)"
    print(f"model {args.model}, text from {source}; each size in a child process")
    print(f"{'characters':>12} {'seconds':>8} {'peak MB':>8} {'loaded MB':>10} {'sentences':>10} {'spans':>7}")
    for size in args.sizes:
        run = subprocess.run([sys.executable, __file__, "--child", str(size), "--model", args.model,
                              "--data", str(args.data)], capture_output=True, text=True)
        if run.returncode != 0:
            reason = (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[-1]
            print(f"{size:>12,} failed: {reason}")
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"{r['chars']:>12,} {r['seconds']:>8.1f} {r['peak_mb']:>8,} {r['loaded_mb']:>10,} "
              f"{r['sentences']:>10,} {r['spans']:>7,}")


if __name__ == "__main__":
    main()
