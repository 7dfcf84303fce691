"""Benchmark of `propscan batch`: articles per second by worker count, and peak memory by corpus size.

The corpus is the PTC dev articles (../shared/data/ptc/dev-articles) repeated to the sizes asked
for, each copy given one extra closing line so that every text (and content hash) differs. Every run
starts from an empty store. Articles per second are over the whole run, worker start-up and model
loading included. Peak memory is the largest sum of the resident set sizes of the parent and all its
worker processes, sampled every 50 ms; it should not grow with the corpus, since only a bounded
number of chunks is in flight.

    PROPSCAN_MODEL=lexicon python benchmarks/batch_throughput.py [--sizes 100,1000] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil

from propscan.batch import run_batch
from propscan.store import Store

DEV_ARTICLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "ptc" / "dev-articles"


def build_corpus(folder: Path, size: int) -> Path:
    """``size`` articles: the dev articles, copy after copy, each copy with its own last line."""
    sources = sorted(DEV_ARTICLES.glob("article*.txt"))
    if not sources:
        raise SystemExit(f"no articles in {DEV_ARTICLES}")
    folder.mkdir(parents=True)
    for i in range(size):
        source = sources[i % len(sources)]
        copy = i // len(sources)
        text = source.read_text(encoding="utf-8")
        if copy:
            text = text.rstrip("\n") + f"\nCopy {copy} of this article.\n"
        (folder / f"article{9000000 + i}.txt").write_text(text, encoding="utf-8")
    return folder


class PeakMemory:
    """The peak of parent + worker RSS while the ``with`` block runs."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass  # a process that ended between listing and reading
            self.peak = max(self.peak, total)
            time.sleep(self.interval)


def run(corpus: Path, db: Path, workers: int) -> tuple[float, float, int]:
    """(articles per second, peak MiB, articles stored) of one batch run into an empty store."""
    with Store(db) as store, PeakMemory() as memory:
        started = time.perf_counter()
        report = run_batch([str(corpus)], store, workers=workers)
        seconds = time.perf_counter() - started
    if report.failed:
        raise SystemExit(f"{report.failed} articles failed: {report.failures[:3]}")
    return report.stored / seconds, memory.peak / 2**20, report.stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000", help="corpus sizes, comma-separated")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    worker_counts = [int(w) for w in args.workers.split(",")]
    print(f"model: {os.environ.get('PROPSCAN_MODEL') or 'trained'}; cores: {os.cpu_count()}; "
          f"articles from {DEV_ARTICLES}")
    print(f"{'articles':>8} {'workers':>7} {'articles/s':>10} {'peak MiB (parent + workers)':>28}")
    with tempfile.TemporaryDirectory(prefix="propscan-bench-") as tmp:
        for size in sizes:
            corpus = build_corpus(Path(tmp) / f"corpus-{size}", size)
            for workers in worker_counts:
                rate, peak, stored = run(corpus, Path(tmp) / f"store-{size}-{workers}.sqlite3", workers)
                assert stored == size, f"stored {stored} of {size}"
                print(f"{size:>8} {workers:>7} {rate:>10.1f} {peak:>28.0f}", flush=True)


if __name__ == "__main__":
    main()
