"""The propaganda network: one encoder pass per article feeds three small heads.

- a token head tags every token O / B / I of a propaganda span (task SI), and a second token head
  says, technique by technique, whether the token lies in a span of that technique (task FLC:
  techniques have spans of their own extent, often nested in each other);
- a sentence head gives the probability that a sentence uses some technique;
- a span head classifies a span into the 14 techniques (task TC) from the span's boundary tokens,
  its mean, the mean of its sentence, and features the literature found strong: span length, how
  often the span's words recur in the article (Repetition), whether it sits in the headline, how much
  of its sentence it covers, and its punctuation;
- a verifier (a few small heads, their probabilities averaged) reads the same span inputs and says,
  technique by technique, whether a candidate span is a span of that technique at all. The span
  head never sees anything but gold spans, so it can only say which technique a span would be; the
  verifier is trained on candidates that are not spans too (see ``propscan.training.propaganda.fit_verifier``), and its
  probability is the vote on technique spans.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from propscan.detect.encoder import Encoded
from propscan.taxonomy import TECHNIQUE_IDS

TAGS = ("O", "B", "I")
N_SPAN_FEATURES = 11
_WORD = re.compile(r"\w+")


def normalize(fragment: str) -> str:
    """The fragment's words, lower-cased and joined by single spaces: the form repeat counts compare."""
    return " ".join(_WORD.findall(fragment.lower()))


def repeat_count(fragment: str, normalized_text: str) -> int:
    """How often the fragment's words occur, in order, in the (normalized) article.

    Occurrences are whole words and do not overlap (counted left to right, the earliest first).
    """
    return repeat_counts([fragment], normalized_text)[0]


_HASH_BASE = 1_000_003
_MASK = (1 << 64) - 1


def repeat_counts(fragments: Sequence[str], normalized_text: str) -> list[int]:
    """``repeat_count`` of many fragments of one article at once, in time linear in the article's length
    for each distinct fragment length (in words): the article's word sequences of that length are hashed
    in one vectorised pass (a rolling hash, wrapping at 2**64), and each hit is checked word by word. A
    search of the whole text per fragment made a long article's thousands of spans quadratic."""
    ids, prefix = _word_hashes(normalized_text)
    vocabulary = _vocabulary(normalized_text)
    counts = [0] * len(fragments)
    by_length: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
    for k, fragment in enumerate(fragments):
        words = normalize(fragment).split()
        key = tuple(vocabulary.get(w, -1) for w in words)
        if key and -1 not in key and len(key) <= len(ids):
            by_length.setdefault(len(key), []).append((k, key))
    with np.errstate(over="ignore"):
        for length, members in by_length.items():
            windows = prefix[length:] - prefix[:-length] * np.uint64(pow(_HASH_BASE, length, 1 << 64))
            wanted: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
            for k, key in members:
                h = 0
                for word_id in key:
                    h = (h * _HASH_BASE + word_id + 1) & _MASK
                wanted.setdefault(h, []).append((k, key))
            hits = np.flatnonzero(np.isin(windows, np.asarray(list(wanted), dtype=np.uint64)))
            places: dict[int, list[int]] = {}
            for position in hits.tolist():
                places.setdefault(int(windows[position]), []).append(position)
            for h, group in wanted.items():
                for k, key in group:
                    free_from = 0
                    for position in places.get(h, ()):
                        if position >= free_from and tuple(ids[position:position + length].tolist()) == key:
                            counts[k] += 1
                            free_from = position + length
    return counts


@lru_cache(maxsize=4)
def _vocabulary(normalized_text: str) -> dict[str, int]:
    vocabulary: dict[str, int] = {}
    for word in normalized_text.split():
        vocabulary.setdefault(word, len(vocabulary))
    return vocabulary


@lru_cache(maxsize=4)
def _word_hashes(normalized_text: str) -> tuple[np.ndarray, np.ndarray]:
    """The article's word ids and the prefix hashes of its word sequence (cached per text)."""
    vocabulary = _vocabulary(normalized_text)
    ids = np.asarray([vocabulary[w] for w in normalized_text.split()], dtype=np.int64)
    hashes, h = [0], 0
    for word_id in ids.tolist():
        h = (h * _HASH_BASE + word_id + 1) & _MASK
        hashes.append(h)
    return ids, np.asarray(hashes, dtype=np.uint64)


def span_features(text: str, start: int, end: int, sentence: tuple[int, int],
                  title: tuple[int, int] | None, normalized_text: str | None = None,
                  count: int | None = None) -> list[float]:
    """The span head's features of one span; ``count`` is its ``repeat_count`` when already known."""
    fragment = text[start:end]
    if count is None:
        count = repeat_count(fragment, normalized_text if normalized_text is not None else normalize(text))
    words = len(_WORD.findall(fragment))
    s_start, s_end = sentence
    coverage = (min(end, s_end) - max(start, s_start)) / max(1, s_end - s_start)
    in_title = float(title is not None and start < title[1] and title[0] < end)
    return [
        math.log1p(len(fragment)) / 6.0,
        math.log1p(words) / 4.0,
        math.log1p(count),
        float(count >= 2),
        float(count >= 3),
        in_title,
        max(0.0, min(1.0, coverage)),
        float("?" in fragment),
        float("!" in fragment),
        float(any(q in fragment for q in "\"“”")),
        float(fragment[:1].isupper()),
    ]


def verifier_head(hidden: int, dropout: float = 0.1) -> nn.Module:
    """One member of the verifier: a span's ``span_rows`` to 14 logits, one per technique."""
    return nn.Sequential(
        nn.Dropout(dropout), nn.Linear(4 * hidden + N_SPAN_FEATURES, 256), nn.GELU(), nn.Dropout(dropout),
        nn.Linear(256, len(TECHNIQUE_IDS)),
    )


class PropagandaNet(nn.Module):
    def __init__(self, encoder: nn.Module, dropout: float = 0.1, token_techniques: bool = True,
                 verifier: int = 0) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.token_head = nn.Linear(hidden, len(TAGS))
        self.technique_token_head = nn.Linear(hidden, len(TECHNIQUE_IDS)) if token_techniques else None
        self.sentence_head = nn.Linear(2 * hidden, 1)
        self.span_head = nn.Sequential(
            nn.Linear(4 * hidden + N_SPAN_FEATURES, 256), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(256, len(TECHNIQUE_IDS)),
        )
        # The verifier's members (``verifier`` of them), or None for a network without one.
        self.verifiers = nn.ModuleList([verifier_head(hidden, dropout) for _ in range(verifier)]) if verifier else None
        self.cls_id = 101
        self.sep_id = 102

    @staticmethod
    def _window_jobs(articles: Sequence[Encoded]) -> list[tuple[int, int, int]]:
        """(article index, first token, end token) of every window of every article."""
        return [(i, a, b) for i, enc in enumerate(articles) for a, b in enc.windows]

    def _by_article(self, articles: Sequence[Encoded], jobs: list[tuple[int, int, int]],
                    states: Sequence[torch.Tensor], device=None) -> list[torch.Tensor]:
        """Window states joined back into one (n_tokens, hidden) tensor per article."""
        per_article: list[list[torch.Tensor]] = [[] for _ in articles]
        for (i, _, _), state in zip(jobs, states, strict=True):
            per_article[i].append(state)
        hidden = self.encoder.config.hidden_size
        return [torch.cat(parts) if parts else torch.zeros((0, hidden), device=device) for parts in per_article]

    def encode_many(self, articles: Sequence[Encoded], max_batch: int = 16) -> list[torch.Tensor]:
        """Token states (n_tokens, hidden) of each article; windows of all articles batched by length."""
        jobs = self._window_jobs(articles)
        order = sorted(range(len(jobs)), key=lambda j: jobs[j][2] - jobs[j][1])
        outputs: dict[int, torch.Tensor] = {}
        device = next(self.parameters()).device
        for k in range(0, len(order), max_batch):
            chunk = order[k:k + max_batch]
            longest = max(jobs[j][2] - jobs[j][1] for j in chunk) + 2
            ids = torch.zeros((len(chunk), longest), dtype=torch.long)
            mask = torch.zeros((len(chunk), longest), dtype=torch.long)
            for row, j in enumerate(chunk):
                i, a, b = jobs[j]
                piece = torch.from_numpy(articles[i].ids[a:b])
                ids[row, 0] = self.cls_id
                ids[row, 1:1 + len(piece)] = piece
                ids[row, 1 + len(piece)] = self.sep_id
                mask[row, :len(piece) + 2] = 1
            # Without padding no mask is needed, and attention takes its faster path.
            attention_mask = None if bool(mask.all()) else mask.to(device)
            states = self.encoder(input_ids=ids.to(device), attention_mask=attention_mask).last_hidden_state
            for row, j in enumerate(chunk):
                _, a, b = jobs[j]
                outputs[j] = states[row, 1:1 + b - a]
        return self._by_article(articles, jobs, [outputs[j] for j in range(len(jobs))], device)

    def encode_windows(self, articles: Sequence[Encoded], workers: int | None = None) -> list[torch.Tensor]:
        """Token states of each article for inference, every window encoded on its own.

        With int8 dynamic quantization, activations are scaled by the range of the whole batch; with
        one window a batch, the scale depends on the window's own tokens alone, never on padding or
        on other articles. Windows are spread over ``workers`` threads (default: torch's thread
        count), each running torch on one thread: small matrices keep two threads of one product
        busier than they keep each other, and a window's result is the same whichever thread runs it.
        """
        jobs = self._window_jobs(articles)
        threads = torch.get_num_threads()
        workers = min(workers or threads, len(jobs))

        def encode(job: tuple[int, int, int]) -> torch.Tensor:
            i, a, b = job
            torch.set_num_threads(1)
            ids = torch.empty((1, b - a + 2), dtype=torch.long)
            ids[0, 0], ids[0, -1] = self.cls_id, self.sep_id
            ids[0, 1:-1] = torch.from_numpy(articles[i].ids[a:b])
            with torch.inference_mode():
                return self.encoder(input_ids=ids).last_hidden_state[0, 1:-1]

        try:
            if workers > 1:
                with ThreadPoolExecutor(workers) as pool:
                    states = list(pool.map(encode, jobs))
            else:
                states = [encode(job) for job in jobs]
        finally:
            torch.set_num_threads(threads)
        return self._by_article(articles, jobs, states)

    def token_logits(self, states: torch.Tensor) -> torch.Tensor:
        return self.token_head(self.dropout(states))

    def technique_token_logits(self, states: torch.Tensor) -> torch.Tensor:
        """(n_tokens, 14) logits: is the token inside a span of each technique (independently)?"""
        return self.technique_token_head(self.dropout(states))

    def sentence_logits(self, states: torch.Tensor, ranges: Sequence[tuple[int, int]]) -> torch.Tensor:
        pooled = [torch.cat([states[a:b].mean(0), states[a:b].max(0).values]) if b > a
                  else states.new_zeros(2 * states.shape[1]) for a, b in ranges]
        if not pooled:
            return states.new_zeros((0,))
        return self.sentence_head(self.dropout(torch.stack(pooled))).squeeze(-1)

    def span_rows(self, states: torch.Tensor, spans: Sequence[tuple[int, int]],
                  contexts: Sequence[tuple[int, int]], features: np.ndarray) -> torch.Tensor:
        """(n_spans, 4 * hidden + N_SPAN_FEATURES): what the span head and the verifier read of each
        span: its first and last token, its mean, its sentence's mean, and its features."""
        if not spans:
            return states.new_zeros((0, 4 * states.shape[1] + N_SPAN_FEATURES))
        zero = states.new_zeros((1, states.shape[1]))
        cumulative = torch.cat([zero, states.cumsum(0)])
        a, b = torch.tensor(spans, dtype=torch.long, device=states.device).reshape(-1, 2).unbind(1)
        ca, cb = torch.tensor(contexts, dtype=torch.long, device=states.device).reshape(-1, 2).unbind(1)
        b, cb = torch.maximum(b, a + 1), torch.maximum(cb, ca + 1)
        last = len(states) - 1
        rows = torch.cat([
            states[a.clamp(max=last)], states[(b - 1).clamp(max=last)],
            (cumulative[b] - cumulative[a]) / (b - a).unsqueeze(1).to(states.dtype),
            (cumulative[cb] - cumulative[ca]) / (cb - ca).unsqueeze(1).to(states.dtype),
        ], dim=1)
        pooled = self.dropout(rows)
        extra = torch.as_tensor(features, dtype=pooled.dtype, device=pooled.device)
        return torch.cat([pooled, extra], dim=1)

    def span_logits(self, states: torch.Tensor, spans: Sequence[tuple[int, int]],
                    contexts: Sequence[tuple[int, int]], features: np.ndarray) -> torch.Tensor:
        """(n_spans, 14) logits of the span's technique, given that it is a span."""
        if not spans:
            return states.new_zeros((0, len(TECHNIQUE_IDS)))
        return self.span_head(self.span_rows(states, spans, contexts, features))

    def verify_probs(self, rows: torch.Tensor) -> torch.Tensor:
        """(n_spans, 14) probabilities, independently: is the span (its ``span_rows``) a span of each
        technique? The mean of the verifier's members."""
        return torch.stack([torch.sigmoid(head(rows)) for head in self.verifiers]).mean(0)
