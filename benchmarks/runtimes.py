"""Benchmark of the runtimes the shipped models could run in: what each changes (not a test).

The propaganda detector runs its encoder in int8 under ONNX Runtime (``detect.runtime``). This prints,
on the 75 PTC dev articles (model loading apart), the full analysis's speed and how many of the
shipped runtime's decoded spans (all of them, and those from the reports' default confidence) come
out again when the same weights run in torch float32 and in torch's own dynamic int8 (the runtime the
detector used before, ``torch.ao``, deprecated). Then the headline reader's time for one batch of
nine evidence-sized pairs in torch and in ONNX Runtime float32, and their largest logit difference.

    python benchmarks/runtimes.py [--data ../shared/data/ptc] [--threads 2]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from propscan.detect.detector import TrainedDetector
from propscan.pipeline import analyze_many
from propscan.readers import ptc
from propscan.stance import load_headline_checker
from propscan.training.propaganda import quantize_int8


def export(module: torch.nn.Module, example: tuple, names: list[str], path: Path) -> None:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), example, buffer, dynamo=False, input_names=names,
                          output_names=["out"], dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names},
                          opset_version=17)
    path.write_bytes(buffer.getvalue())


def session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


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

    with tempfile.TemporaryDirectory() as tmp:
        reader = load_headline_checker().reader
        batch = reader.batch(["Governments beg Russia to stop helping Venezuela"] * 9,
                             ["The Lima Group will discuss how Russia can help resolve the crisis, they said."] * 9)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        export(reader.net, tuple(batch[n] for n in names), names, Path(tmp) / "reader.onnx")
        ort_reader = session(Path(tmp) / "reader.onnx", args.threads)
        feed = {n: batch[n].numpy() for n in names}
        with torch.inference_mode():
            timings = {}
            for name, run in (("torch", lambda: reader.logits(batch).numpy()),
                              ("ONNX Runtime", lambda: ort_reader.run(None, feed)[0])):
                for _ in range(3):
                    run()
                started = time.perf_counter()
                for _ in range(50):
                    out = run()
                timings[name] = (1000 * (time.perf_counter() - started) / 50, out)
        gap = float(np.abs(timings["torch"][1] - timings["ONNX Runtime"][1]).max())
        print(f"\nHeadline reader, float32, one batch of 9 pairs of {batch['input_ids'].shape[1]} tokens: "
              f"torch {timings['torch'][0]:.1f} ms, ONNX Runtime {timings['ONNX Runtime'][0]:.1f} ms "
              f"(largest logit difference {gap:.1e})")


if __name__ == "__main__":
    main()
