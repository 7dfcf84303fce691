"""Benchmark of other runtimes for the shipped models: what ONNX Runtime would change (not a test).

The propaganda detector runs its encoder in torch int8 (dynamic quantization). This prints, on the
75 PTC dev articles (model loading apart), the full analysis's speed and how many of the shipped
runtime's decoded spans (all of them, and those from the reports' default confidence) come out again
when the same weights run in torch float32 and in ONNX Runtime int8 (``quantize_dynamic``, a scale per
output channel, the detector's ``FLOAT_LAYERS`` left in float32). Then the headline reader's time for
one batch of nine evidence-sized pairs in torch and in ONNX Runtime float32, and their largest logit
difference.

Needs ONNX Runtime and onnx, which propscan does not depend on:

    pip install onnxruntime onnx && python benchmarks/runtimes.py [--data ../shared/data/ptc] [--threads 2]
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

from propscan.detect.detector import FLOAT_LAYERS, TrainedDetector
from propscan.pipeline import analyze_many
from propscan.readers import ptc
from propscan.stance import load_headline_checker


class StatesOnly(torch.nn.Module):
    """The encoder as ONNX exports it: token ids in, last hidden states out."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.encoder(input_ids=input_ids).last_hidden_state


class OrtEncoder(torch.nn.Module):
    """An ONNX Runtime session where the detector's network calls its encoder."""

    def __init__(self, session, config) -> None:
        super().__init__()
        self.session, self.config = session, config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None):
        states = torch.from_numpy(self.session.run(None, {"ids": input_ids.numpy()})[0])
        return type("Output", (), {"last_hidden_state": states})()


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
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        sys.exit("this benchmark needs ONNX Runtime and onnx: pip install onnxruntime onnx")
    if not (args.data / "dev-articles").is_dir():
        sys.exit(f"no PTC dev articles in {args.data / 'dev-articles'}")
    torch.set_num_threads(args.threads)
    articles = ptc.read_articles(args.data / "dev-articles")
    shipped = TrainedDetector.load()
    default = shipped.default_min_confidence

    with tempfile.TemporaryDirectory() as tmp:
        plain, int8 = Path(tmp) / "encoder.onnx", Path(tmp) / "encoder-int8.onnx"
        float32 = TrainedDetector.load(quantize=False)
        export(StatesOnly(float32.net.encoder), (torch.randint(1000, 20000, (1, 40)),), ["ids"], plain)
        import onnx

        # ONNX names a node by its module path ("/encoder/encoder/layer.0/output/dense/MatMul").
        keep = [n.name for n in onnx.load(str(plain)).graph.node if n.op_type == "MatMul"
                and any(f".{name}." in n.name.replace("/", ".") for name in FLOAT_LAYERS)]
        assert len(keep) == len(FLOAT_LAYERS), f"float32 layers not found among the exported nodes: {keep}"
        quantize_dynamic(str(plain), str(int8), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep)
        onnx_int8 = TrainedDetector.load(quantize=False)
        onnx_int8.net.encoder = OrtEncoder(session(int8, 1), onnx_int8.net.encoder.config)

        base, rate = analyses(shipped, articles)
        print(f"Full analysis of {len(articles)} dev articles, {args.threads} thread(s); spans kept of the shipped "
              f"runtime's {len(spans(base, 0))} decoded and {len(spans(base, default))} from {default}:")
        print(f"  {'torch int8 (shipped)':<24} {rate:5.2f} articles/s")
        for name, detector in (("torch float32", float32), ("ONNX Runtime int8", onnx_int8)):
            results, rate = analyses(detector, articles)
            kept = [len(spans(base, f) & spans(results, f)) for f in (0, default)]
            print(f"  {name:<24} {rate:5.2f} articles/s   {kept[0]} decoded, {kept[1]} from {default}")

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
