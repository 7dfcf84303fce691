"""How often a span's words recur in its article: exact, and cheap on long articles."""

from __future__ import annotations

import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from propscan.detect.network import normalize, repeat_count, repeat_counts

WORDS = st.sampled_from(["a", "ab", "b", "the", "cat", "The", "x-y", "it's"])


def _reference(fragment: str, text: str) -> int:
    """Left to right over the article's words: count a match, then go on after it."""
    key, words = normalize(fragment).split(), normalize(text).split()
    count, i = 0, 0
    while key and i + len(key) <= len(words):
        if words[i:i + len(key)] == key:
            count, i = count + 1, i + len(key)
        else:
            i += 1
    return count


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=40), st.lists(WORDS, max_size=4), st.booleans())
def test_counts_whole_word_occurrences_that_do_not_overlap(text_words, key_words, punctuate):
    text = " ".join(text_words)
    fragment = ("“" if punctuate else "") + " ".join(key_words) + ("!" if punctuate else "")
    assert repeat_count(fragment, normalize(text)) == _reference(fragment, text)


def test_many_spans_of_a_long_article_cost_time_in_proportion_to_its_length():
    # Words drawn as in prose (Zipf's law: the k-th commonest word is about 1/k as frequent as the
    # first); each span is looked up by its rarest word, which prose nearly always has.
    rng = random.Random(0)
    vocabulary = [f"w{i}" for i in range(50_000)]
    weights = [1 / (k + 1) for k in range(len(vocabulary))]

    def seconds(n_words: int) -> float:
        normalized = normalize(" ".join(rng.choices(vocabulary, weights, k=n_words)))
        words = normalized.split()
        spans = [" ".join(words[i:i + 3]) for i in range(0, n_words - 3, 10)]  # a span per 10 words
        started = time.perf_counter()
        counts = repeat_counts(spans, normalized)  # as the detector asks: all of an article's spans at once
        elapsed = time.perf_counter() - started
        assert counts[:50] == [repeat_count(span, normalized) for span in spans[:50]]
        return elapsed

    seconds(2_000)  # warm up
    small, large = min(seconds(20_000) for _ in range(3)), min(seconds(160_000) for _ in range(3))
    # 8 times the words and 8 times the spans: linear costs about 8 times, a scan per span 64 times.
    assert large / small < 24, f"{large / small:.1f} times the time for 8 times the text"
