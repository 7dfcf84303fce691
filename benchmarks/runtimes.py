"""Benchmark of the runtimes the shipped models could run in: what each changes (not a test).

The propaganda detector runs its encoder in int8 under ONNX Runtime (``detect.runtime``). This prints,
on the 75 PTC dev articles (model loading apart), the full analysis's speed and how many of the
shipped runtime's decoded spans (all of them, and those from the reports' default confidence) come
out again when the same weights run in torch float32 and in torch's own dynamic int8 (the runtime the
detector used before, ``torch.ao``, deprecated). (The headline reader runs in ONNX Runtime float32;
``benchmarks/stance.py`` prints its speed.)

    python benchmarks/runtimes.py [--data ../shared/data/ptc] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from propscan.detect.detector import TrainedDetector
from propscan.pipeline import analyze_many
from propscan.readers import ptc
from propscan.training.propaganda import quantize_int8


def analyses(detector: TrainedDetector, articles: list) -> tuple[list, float]:
    """Every article's analysis and the articles per second (two warm-up articles first)."""
    list(analyze_many(articles[:2], detector=detector))
    started = time.perf_counter()
    out = list(analyze_many(articles, detector=detector))
    return out, len(articles) / (time.perf_counter() - started)


def spans(results: list, floor: float) -> set[tuple]:
    return {(i, s.start, s.end, s.technique) for i, a in enumerate(results) for s in a.spans if s.confidence >= floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ptc"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not (args.data / "dev-articles").is_dir():
        sys.exit(f"no PTC dev articles in {args.data / 'dev-articles'}")
    torch.set_num_threads(args.threads)
    articles = ptc.read_articles(args.data / "dev-articles")
    shipped = TrainedDetector.load()
    default = shipped.default_min_confidence
    float32 = TrainedDetector.load(quantize=False)
    torch_int8 = TrainedDetector.load(quantize=False)
    torch_int8.net = quantize_int8(torch_int8.net)

    base, rate = analyses(shipped, articles)
    print(f"Full analysis of {len(articles)} dev articles, {args.threads} thread(s); spans kept of the shipped "
          f"runtime's {len(spans(base, 0))} decoded and {len(spans(base, default))} from {default}:")
    print(f"  {'ONNX Runtime int8 (shipped)':<28} {rate:5.2f} articles/s")
    for name, detector in (("torch float32", float32), ("torch int8 (torch.ao)", torch_int8)):
        results, rate = analyses(detector, articles)
        kept = [len(spans(base, f) & spans(results, f)) for f in (0, default)]
        print(f"  {name:<28} {rate:5.2f} articles/s   {kept[0]} decoded, {kept[1]} from {default}")


if __name__ == "__main__":
    main()
