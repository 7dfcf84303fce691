"""Bounded memory on long articles, and limits enforced while reading (not trusted from file sizes)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from propscan.detect.base import DetectInput
from propscan.detect.prepare import Prepared
from propscan.errors import PropscanError
from propscan.readers import ReadFailure, iter_sources
from propscan.readers.text import read_bytes


def _doc(rng: random.Random, n_sentences: int, with_title: bool) -> DetectInput:
    """Sentences in order, without overlaps, some touching and some with gaps between them."""
    sentences, at = [], 0
    for _ in range(n_sentences):
        at += rng.choice([0, 0, 1, 2, 5])
        length = rng.randint(1, 40)
        sentences.append((at, at + length))
        at += length
    title = (0, rng.randint(1, 60)) if with_title else None
    return DetectInput("x" * (at + 10), sentences, title)


def _sentences_by_matrix(doc: DetectInput, starts, ends) -> list[tuple[int, int]]:
    """The rule spelled out: the bound with most overlap, the first of equals, the title last."""
    bounds = doc.sentences + ([doc.title] if doc.title else [])
    out = []
    for start, end in zip(starts, ends, strict=True):
        overlaps = [min(e, end) - max(s, start) for s, e in bounds]
        best = max(overlaps, default=0)
        out.append(bounds[overlaps.index(best)] if best > 0 else (start, end))
    return out


@pytest.mark.parametrize("seed", range(30))
def test_sentences_of_picks_the_sentence_with_most_of_the_span(seed):
    rng = random.Random(seed)
    doc = _doc(rng, rng.choice([0, 1, 2, 3, 10, 60]), with_title=seed % 3 != 0)
    prep = Prepared(doc, None, [], "")
    size = len(doc.text)
    starts = [rng.randint(0, size) for _ in range(300)]
    ends = [min(size, s + rng.choice([0, 1, 3, 10, 40, 120, 400])) for s in starts]
    assert prep.sentences_of(np.array(starts), np.array(ends)) == _sentences_by_matrix(doc, starts, ends)


def _peak_bytes(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_of_finding_sentences_grows_linearly_with_the_article():
    """Spans and sentences both grow with an article; memory must not grow with their product."""
    def peak(n_sentences: int) -> int:
        rng = random.Random(7)
        doc = _doc(rng, n_sentences, with_title=True)
        prep = Prepared(doc, None, [], "")
        starts = np.array([rng.randint(0, len(doc.text)) for _ in range(4 * n_sentences)])
        ends = starts + 30
        return _peak_bytes(lambda: prep.sentences_of(starts, ends))

    small, large = peak(2_000), peak(8_000)
    # Four times the sentences and spans: about 4x when linear, 16x for a spans x sentences matrix.
    assert large / small < 7, (small, large)


def test_memory_of_span_inputs_grows_linearly_with_the_article():
    from propscan.detect.encoder import load_tokenizer
    from propscan.detect.prepare import prepare
    from propscan.pipeline import prepare as clean_and_segment
    from propscan.readers import article_from_text

    tokenizer = load_tokenizer()
    paragraph = ("The minister said that the plan would destroy the nation. Critics warned of a shocking "
                 "betrayal. Everyone knows the truth already!\n\n")

    def peak(repeats: int) -> int:
        _, doc = clean_and_segment(article_from_text("A headline\n\n" + paragraph * repeats))
        prep = prepare(tokenizer, doc)
        spans = [(s, min(e, s + 25)) for s, e in doc.sentences] * 3
        prep.span_inputs(spans[:1])  # the normalized text and other cached parts are made once
        return _peak_bytes(lambda: prep.span_inputs(spans))

    small, large = peak(100), peak(400)
    assert large / small < 7, (small, large)


def test_windows_end_where_sentences_end_and_hold_at_most_the_window():
    from propscan.detect.encoder import WINDOW, encode_article, load_tokenizer

    text = " ".join(f"Sentence number {i} is here." for i in range(400)) + " " + "word " * 600
    sentences, at = [], 0
    for i in range(400):
        piece = f"Sentence number {i} is here."
        sentences.append((at, at + len(piece)))
        at += len(piece) + 1
    sentences.append((at, len(text) - 1))
    enc = encode_article(load_tokenizer(), text, sentences)
    cuts = {int(np.searchsorted(enc.starts, s)) for s, _ in sentences} | {len(enc.ids)}
    assert enc.windows[0][0] == 0 and enc.windows[-1][1] == len(enc.ids)
    for (_, end), (next_start, _) in zip(enc.windows, enc.windows[1:], strict=False):
        assert end == next_start
    for a, b in enc.windows:
        assert 0 < b - a <= WINDOW - 2
        fitting = [c for c in cuts if a < c <= a + WINDOW - 2]
        assert b == (max(fitting) if fitting else min(a + WINDOW - 2, len(enc.ids)))


# -- limits while reading -------------------------------------------------------------------------


def _propscan(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI with the lexicon model, its address space capped so that a reader that does not stop
    fails fast instead of filling the machine's memory."""
    import resource

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, 4 * 1024**3))

    env = {**os.environ, "PROPSCAN_MODEL": "lexicon"}
    return subprocess.run([sys.executable, "-m", "propscan.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, preexec_fn=cap_memory)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_file_is_read_only_up_to_the_limit():
    result = _propscan("analyze", "/dev/zero", "--max-bytes", "1000", "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == ("propscan: /dev/zero: too large: over the limit of 1,000 bytes "
                                     "(raise it with --max-bytes)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_read_only_up_to_the_limit(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", "import sys\nwith open(sys.argv[1], 'wb') as f:\n"
                               "    try:\n        f.write(b'word ' * 2_000_000)\n    except BrokenPipeError:\n"
                               "        pass", str(fifo)], stderr=subprocess.DEVNULL)
    try:
        with pytest.raises(PropscanError, match="too large: over the limit of 5,000 bytes"):
            read_bytes(fifo, 5_000)
    finally:
        if writer.poll() is None:
            try:
                writer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                writer.kill()  # never opened by the reader: nothing else would end it


def test_a_sparse_file_over_the_limit_is_refused_without_being_read(tmp_path):
    big = tmp_path / "sparse.txt"
    with big.open("wb") as f:
        f.truncate(3 * 1024**3)
    with pytest.raises(PropscanError, match=r"too large: 3,221,225,472 bytes, over the limit of 5,000"):
        read_bytes(big, 5_000)


def test_a_corpus_line_longer_than_the_limit_fails_alone_and_is_not_read_whole(tmp_path):
    corpus = tmp_path / "c.jsonl"
    with corpus.open("w", encoding="utf-8") as f:
        f.write('{"text": "Headline one\\n\\nA first body sentence."}\n')
        f.write('{"text": "' + "word " * 400_000 + '"}\n')  # 2 MB on one line
        f.write('{"text": "Headline three\\n\\nA third body sentence."}\n')

    def read() -> list:
        return list(iter_sources([str(corpus)], max_bytes=10_000))

    tracemalloc.start()
    try:
        items = read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [type(i).__name__ for i in items] == ["Article", "ReadFailure", "Article"]
    assert items[1] == ReadFailure(f"{corpus}:2", "too large: the line is over 40,000 bytes, 4 times the limit "
                                   "of 10,000 (raise it with --max-bytes)")
    assert peak < 1_000_000, peak  # the 2 MB line was skipped in pieces, never held whole


def _widened_char_by_char(text: str, start: int, end: int) -> tuple[int, int]:
    def inside(i: int) -> bool:
        return 0 <= i < len(text) and (text[i].isalnum() or (
            text[i] in "-'’" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()))

    while start > 0 and inside(start - 1):
        start -= 1
    while end < len(text) and inside(end):
        end += 1
    return start, end


@pytest.mark.parametrize("seed", range(20))
def test_runs_widen_to_the_same_whole_words_as_a_walk_over_the_characters(seed):
    from propscan.detect.prepare import Words

    rng = random.Random(seed)
    text = "".join(rng.choice("ab1é-'’ .\n_") for _ in range(rng.choice([0, 1, 2, 3, 50, 400])))
    words = Words(text)
    for _ in range(200):
        start = rng.randint(0, len(text))
        end = rng.randint(start, len(text))
        assert words.widen(start, end) == _widened_char_by_char(text, start, end)
