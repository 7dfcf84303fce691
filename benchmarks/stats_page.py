"""Benchmark of the ``/stats`` page: how long a request takes, and how large the page is, by corpus size.

The corpus is synthetic and needs no model: each stored analysis has 12 sentences, a few technique
spans and one of 20 outlets and 24 months, so the figures measure the page (reading the store, the
outlet profiles, drawing the charts), not detection. Every size starts from an empty store. Each
figure is the median of three requests through the app in-process (no network), with and without
a keyword (``bridge``: a sixth of the articles) and for one outlet over 19 months.

    python benchmarks/stats_page.py [--sizes 500,2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from propscan.document import Analysis, Sentence, Source, Span
from propscan.store import Store
from propscan.taxonomy import TECHNIQUE_IDS

SENTENCE = "The {adjective} council of district {i} met again on Monday to discuss the harbour plan."
ADJECTIVES = ("reckless", "quiet", "shameful", "busy", "corrupt", "local")
TOPICS = ("bridge", "budget", "schools", "rail", "parks", "water")  # one per article: q=bridge finds a sixth


def synthetic(i: int) -> Analysis:
    lines = [SENTENCE.format(adjective=ADJECTIVES[(i + k) % len(ADJECTIVES)], i=i * 100 + k) for k in range(12)]
    lines[0] += f" Topic: {TOPICS[i % len(TOPICS)]}."
    text = "\n".join(lines) + "\n"
    sentences, spans, offset = [], [], 0
    for k, line in enumerate(lines):
        sentences.append(Sentence(start=offset, end=offset + len(line), score=0.5))
        if (i + k) % 4 == 0:
            spans.append(Span.of(text, offset + 4, offset + 20, TECHNIQUE_IDS[(i + k) % len(TECHNIQUE_IDS)], 0.7))
        offset += len(line) + 1
    source = Source(site=f"outlet{i % 20}.example", date=f"{2022 + (i // 12) % 2}-{i % 12 + 1:02d}-15")
    return Analysis(id=f"s{i}", title=lines[0], text=text, source=source, spans=spans, sentences=sentences,
                    score=0.5, model="synthetic")


def median_request(client, params: dict) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(3):
        start = time.perf_counter()
        response = client.get("/stats", params=params)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:200]
        size = len(response.content)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000")
    args = parser.parse_args()
    os.environ.setdefault("PROPSCAN_MODEL", "lexicon")  # the app loads a detector at start-up; it is not used here
    from fastapi.testclient import TestClient

    from propscan.web.app import create_app

    print(f"{'articles':>8}  {'all: s':>7}  {'all: KB':>7}  {'q=bridge: s':>11}  {'outlet: s':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "stats.sqlite3"
            with Store(db) as store:
                for i in range(size):
                    store.add(synthetic(i))
            with TestClient(create_app(db)) as client:
                seconds, page_bytes = median_request(client, {})
                keyword, _ = median_request(client, {"q": "bridge"})
                outlet, _ = median_request(client, {"outlet": "outlet3.example", "from": "2022-06"})
        print(f"{size:>8}  {seconds:>7.2f}  {page_bytes / 1000:>7.0f}  {keyword:>11.2f}  {outlet:>9.2f}")


if __name__ == "__main__":
    main()
