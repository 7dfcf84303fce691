"""The trained detector: the fine-tuned network, its decoding of spans, and calibrated scores.

Weights are the fine-tuned encoder layers and heads (float16 safetensors, ``propscan/weights``);
the embeddings and tokenizer come unchanged from the pretrained package. At load time the linear
layers are quantized to int8 for speed on CPU.
"""

from __future__ import annotations

import ctypes
import json
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from propscan.models.base import DetectInput, Detection, Region, TechniqueSpan
from propscan.models.calibration import Calibrator, SpanContext, recurs, span_repeats
from propscan.models.calibration import span_features as calibration_features
from propscan.models.encoder import Encoded, encode_article, load_base_encoder, load_tokenizer
from propscan.models.network import PropagandaNet, _normalize, repeat_count, repeat_counts, span_features
from propscan.taxonomy import TECHNIQUE_IDS

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
WEIGHTS_FILE = "propaganda.safetensors"
CONFIG_FILE = "propaganda.json"


def shipped_model_exists(directory: Path = WEIGHTS_DIR) -> bool:
    return (directory / WEIGHTS_FILE).exists() and (directory / CONFIG_FILE).exists()


@dataclass
class Prepared:
    """A document tokenized once, with its sentences as token ranges."""

    doc: DetectInput
    enc: Encoded
    sentence_tokens: list[tuple[int, int]]
    normalized: str

    @cached_property
    def words(self) -> _Words:
        return _Words(self.doc.text)

    @cached_property
    def blank_before(self) -> np.ndarray:
        """blank_before[i]: how many of the tokens before token i follow a blank line or left-out
        text (removed furniture, which the encoder never read); a run never crosses either."""
        text, starts, ends = self.doc.text, self.enc.starts, self.enc.ends
        blank = [False] + ["\n\n" in text[ends[i - 1]:starts[i]] for i in range(1, len(starts))]
        return np.concatenate([[0], np.cumsum(np.asarray(blank, dtype=bool) | self.enc.after_gap)])

    def sentences_of(self, starts: np.ndarray, ends: np.ndarray) -> list[tuple[int, int]]:
        """For each span, the sentence (or title) holding most of it; the span itself if none does.

        Of equal overlaps the first sentence wins, and the title only when it holds strictly more.
        Memory and time grow with spans + sentences, never with their product: the sentences are in
        order and do not overlap, so a span overlaps a run of consecutive ones, of which only the
        first and last can be cut; the longest of those in between comes from a range-maximum table.
        """
        starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        bounds = np.asarray(self.doc.sentences, dtype=np.int64).reshape(-1, 2)
        if len(bounds) > 1 and bool((bounds[1:, 0] < bounds[:-1, 1]).any()):
            raise ValueError("sentences must be in order and must not overlap")
        best_overlap = np.zeros(len(starts), dtype=np.int64)  # <= 0: no sentence holds any of the span
        chosen = np.stack([starts, ends], axis=1)
        if len(bounds):
            first = np.searchsorted(bounds[:, 1], starts, side="right")  # the first sentence ending after start
            stop = np.searchsorted(bounds[:, 0], ends, side="left")  # past the last one starting before end
            last = stop - 1
            best = np.minimum(first, len(bounds) - 1)
            best_overlap = np.where(stop > first, _overlap(bounds[best], starts, ends), 0)
            inner = _RangeMax(bounds[:, 1] - bounds[:, 0])
            has_inner = last - first >= 2
            k = inner.argmax(first + 1, np.maximum(last, first + 2))
            inner_overlap = bounds[k, 1] - bounds[k, 0]
            better = has_inner & (inner_overlap > best_overlap)
            best, best_overlap = np.where(better, k, best), np.where(better, inner_overlap, best_overlap)
            last = np.maximum(last, 0)
            last_overlap = _overlap(bounds[last], starts, ends)
            better = (last > first) & (last_overlap > best_overlap)
            best, best_overlap = np.where(better, last, best), np.where(better, last_overlap, best_overlap)
            found = best_overlap > 0
            chosen[found] = bounds[best[found]]
        if self.doc.title:
            title = np.asarray(self.doc.title, dtype=np.int64).reshape(1, 2)
            title_overlap = _overlap(title, starts, ends)
            better = (title_overlap > best_overlap) & (title_overlap > 0)
            chosen[better] = title[0]
        return [(int(s), int(e)) for s, e in chosen.tolist()]

    def span_inputs(self, spans: Sequence[tuple[int, int]]):
        """The span head's inputs for character spans: token ranges, their sentences' token ranges
        and the spans' features."""
        n = len(self.enc.ids)
        bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        sentences = self.sentences_of(bounds[:, 0], bounds[:, 1])
        sentence_bounds = np.asarray(sentences, dtype=np.int64).reshape(-1, 2)

        def token_ranges(b: np.ndarray) -> list[tuple[int, int]]:
            # As Encoded.tokens_in, for many ranges; a range gets at least one token.
            first = np.minimum(np.searchsorted(self.enc.ends, b[:, 0], side="right"), max(n - 1, 0))
            last = np.maximum(np.searchsorted(self.enc.starts, b[:, 1], side="left"), first + 1)
            return list(zip(first.tolist(), last.tolist(), strict=True))

        counts = repeat_counts([self.doc.text[start:end] for start, end in spans], self.normalized)
        features = [span_features(self.doc.text, start, end, sentence, self.doc.title, self.normalized, count)
                    for (start, end), sentence, count in zip(spans, sentences, counts, strict=True)]
        return (token_ranges(bounds), token_ranges(sentence_bounds),
                np.asarray(features, dtype=np.float32).reshape(len(spans), -1))


def _overlap(bounds: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many characters of each span [starts, ends) lie in its row of ``bounds`` (<= 0: none)."""
    return np.minimum(bounds[:, 1], ends) - np.maximum(bounds[:, 0], starts)


class _RangeMax:
    """The index of the largest value in ``values[a:b]`` (the first of equals), for many ranges at
    once: a sparse table of n log n indices, built once."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        self.levels = [np.arange(len(values))]
        width = 1
        while 2 * width <= len(values):
            below = self.levels[-1]
            left, right = below[:len(below) - width], below[width:]
            self.levels.append(np.where(values[right] > values[left], right, left))
            width *= 2

    def argmax(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For ranges with a < b <= len(values); other ranges get any index."""
        n = len(self.values)
        a = np.clip(a, 0, max(n - 1, 0))
        b = np.clip(b, a + 1, n)
        level = np.floor(np.log2(np.maximum(b - a, 1))).astype(np.int64)
        out = np.zeros(len(a), dtype=np.int64)
        for j in np.unique(level).tolist():
            rows = level == j
            table = self.levels[j]
            left, right = table[a[rows]], table[b[rows] - (1 << j)]
            # On equal values the left block's first maximum comes no later than the right one's.
            out[rows] = np.where(self.values[right] > self.values[left], right, left)
        return out


def prepare(tokenizer, doc: DetectInput, also: Sequence[tuple[int, int]] = ()) -> Prepared:
    """A document as the network reads it: its sentences and title, and the spans in ``also`` (spans
    to classify, which the model reads even where they lie in removed text)."""
    sentences = list(doc.sentences)
    if doc.title and doc.title not in sentences:
        sentences = [doc.title] + sentences
    enc = encode_article(tokenizer, doc.text, sentences, also)
    sentence_tokens = [enc.tokens_in(s, e) for s, e in doc.sentences]
    return Prepared(doc, enc, sentence_tokens, _normalize(doc.text))


@dataclass
class DecodeSettings:
    threshold: float = 0.5
    max_gap: int = 1
    min_chars: int = 2
    second_technique: float = 0.35
    # A span whose words recur at least this often in the article is Repetition, whatever the span
    # head says (the literature's post-processing rule; the count is tuned, 1000 turns it off).
    repetition_count: int = 1000
    # Token scores for span decoding: p_token ** (1 - w) * p_sentence ** w, the sentence's calibrated
    # probability lending its context to each token (w = 0: the token head alone).
    sentence_weight: float = 0.0
    # SI token scores lean on the per-technique token head: (1 - v) * p_token + v * the highest of the
    # token's 14 technique probabilities (v = 0: the SI token head alone). Two heads trained on related
    # targets disagree in different places.
    si_technique_weight: float = 0.0
    sentence_a: float = 1.0
    sentence_b: float = 0.0
    sentence_threshold: float = 0.5  # a sentence 'uses a technique' when its score reaches this
    # Technique spans (FLC) come either from the SI regions, each classified by the span head
    # ("regions"), or from the per-technique token head, decoded technique by technique ("tokens").
    flc_source: str = "regions"
    flc_threshold: float = 0.5
    flc_max_gap: int = 1
    flc_min_chars: int = 2
    # Hysteresis for technique spans: tokens scoring at least flc_extent set a span's extent, and the
    # span is kept when its mean score reaches flc_threshold (None: flc_threshold alone decides).
    flc_extent: float | None = None
    # The vote's say in a technique span's score: mean token score ** (1 - w) * the vote's probability
    # of that technique ** w (0: the token scores alone). Needs hysteresis (flc_extent).
    flc_span_weight: float = 0.0
    # Who votes: "span", the span head (which technique the run would be, were it a span), or
    # "verifier", the verifier (whether the run is a span of that technique at all).
    flc_vote: str = "span"


class _Words:
    """Where each character's word starts and ends, found once per text, so that widening a run to
    whole words does not walk the characters again for every run (a run in a hyphenated chain
    thousands of characters long would). A word is letters and digits; a hyphen or apostrophe
    between two of them ("hard-working", "nation's") does not end it."""

    def __init__(self, text: str) -> None:
        n = len(text)
        alnum = np.fromiter((c.isalnum() for c in text), dtype=bool, count=n)
        joiner = np.fromiter((c in "-'’" for c in text), dtype=bool, count=n)
        joiner[[0, -1] if n else []] = False
        joiner[1:-1] &= alnum[:-2] & alnum[2:]
        self.inside = alnum | joiner
        positions = np.arange(n, dtype=np.int64)
        # A word's first character: one past the last character before it that is not in a word;
        # its end: the first character after it that is not in one.
        self.first = np.maximum.accumulate(np.where(self.inside, 0, positions + 1)) if n else positions
        self.end = np.minimum.accumulate(np.where(self.inside, n, positions)[::-1])[::-1] if n else positions

    def widen(self, start: int, end: int) -> tuple[int, int]:
        """[start, end) widened to whole words."""
        if start > 0 and self.inside[start - 1]:
            start = int(self.first[start - 1])
        if end < len(self.inside) and self.inside[end]:
            end = int(self.end[end])
        return start, end


# Words a technique span does not end on: of the corpus's 5,075 technique spans, 32 end on one of them
# ("the" alone starts 511), while the model's runs often trail one ("patriots of", "embarrassment to").
# Trimming them moved FLC F1 from 0.264 to 0.265 (cross-fit 0.253 to 0.254); for SI regions it did not
# help (0.464 against 0.466), so they keep their edges.
TRAILING = frozenset({"a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "from", "with", "and", "or",
                      "as"})


def _last_word(prep: Prepared, start: int, end: int) -> str:
    """The lower-cased word holding the token at [start, end) (punctuation: the token itself)."""
    start, end = prep.words.widen(start, end)
    return prep.doc.text[start:end].lower()


def decode_runs(prep: Prepared, p_inside: np.ndarray, threshold: float, max_gap: int,
                min_chars: int, extent: float | None = None, trim: bool = False) -> list[Region]:
    """Runs of tokens likely inside a span, bridged over short gaps, widened to whole words.

    The encoder keeps only tokens of sentences (and the title), so nothing is found in removed
    furniture. With an ``extent`` below the threshold, runs are made of tokens scoring at least ``extent`` and kept
    when their mean score reaches the threshold: a span's edges may be less sure than its core.
    A run never crosses a blank line (none of the corpus's 5,075 technique spans does). With
    ``trim``, a run does not end on a function word (``TRAILING``).
    """
    enc = prep.enc
    hot = np.flatnonzero(p_inside >= (threshold if extent is None else extent))
    if not len(hot):
        return []
    # Consecutive hot tokens join one run when the gap between them is short and no blank line or
    # left-out text lies between them (a prefix count makes that check one lookup).
    previous, following = hot[:-1], hot[1:]
    joins = ((following - previous - 1 <= max_gap)
             & (prep.blank_before[following + 1] == prep.blank_before[previous + 1]))
    firsts = np.concatenate([[0], np.flatnonzero(~joins) + 1])
    lasts = np.concatenate([firsts[1:] - 1, [len(hot) - 1]])
    # Running sums give each run's mean at once; runs clearly under the threshold are skipped before
    # the exact mean (numpy's own, so a confidence does not depend on the run's neighbours).
    sums = np.concatenate([[0.0], np.cumsum(p_inside, dtype=np.float64)])
    regions = []
    for a, b in zip(hot[firsts].tolist(), (hot[lasts] + 1).tolist(), strict=True):
        while trim and b - a > 1 and _last_word(prep, int(enc.starts[b - 1]), int(enc.ends[b - 1])) in TRAILING:
            b -= 1
        if extent is not None and (sums[b] - sums[a]) / (b - a) < threshold - 1e-6:
            continue
        confidence = float(p_inside[a:b].mean())
        if extent is not None and confidence < threshold:
            continue
        start, end = prep.words.widen(int(enc.starts[a]), int(enc.ends[b - 1]))
        if end - start >= min_chars:
            regions.append(Region(start, end, confidence))
    return regions


def sentence_probs(sentence_logits: np.ndarray, settings: DecodeSettings) -> np.ndarray:
    """Calibrated probability that each sentence uses a technique."""
    x = settings.sentence_a * np.asarray(sentence_logits, dtype=np.float64) + settings.sentence_b
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def token_scores(prep: Prepared, p_inside: np.ndarray, sentence_logits: np.ndarray,
                 settings: DecodeSettings) -> np.ndarray:
    """Per-token span scores: the token head's probability, blended with its sentence's probability."""
    w = settings.sentence_weight
    if w <= 0 or not len(prep.sentence_tokens):
        return p_inside
    context = p_inside.astype(np.float64).copy()  # tokens outside every sentence keep their own
    for (a, b), q in zip(prep.sentence_tokens, sentence_probs(sentence_logits, settings), strict=True):
        context[a:b] = q
    return np.power(p_inside, 1 - w) * np.power(context, w)


def decode_regions(prep: Prepared, p_inside: np.ndarray, settings: DecodeSettings,
                   sentence_logits: np.ndarray | None = None,
                   technique_probs: np.ndarray | None = None) -> list[Region]:
    """SI regions from the token head's probability of being inside a span, leaning on the
    per-technique token head (its highest probability) and on the sentence as the settings say."""
    v = settings.si_technique_weight
    if technique_probs is not None and v > 0:
        p_inside = (1 - v) * p_inside + v * technique_probs.max(1)
    if sentence_logits is not None:
        p_inside = token_scores(prep, p_inside, sentence_logits, settings)
    return decode_runs(prep, p_inside, settings.threshold, settings.max_gap, settings.min_chars)


def technique_runs(prep: Prepared, technique_probs: np.ndarray, settings: DecodeSettings,
                   threshold: float | None = None) -> list[tuple[int, Region]]:
    """(technique index, run) of each technique's token scores, decoded technique by technique."""
    threshold = settings.flc_threshold if threshold is None else threshold
    return [(k, r) for k in range(len(TECHNIQUE_IDS))
            for r in decode_runs(prep, technique_probs[:, k], threshold, settings.flc_max_gap,
                                 settings.flc_min_chars, settings.flc_extent, trim=True)]


def vote_floor(settings: DecodeSettings) -> float:
    """The least mean token score that can still reach flc_threshold once the vote is cast
    (its probability is at most 1)."""
    w = settings.flc_span_weight
    return settings.flc_threshold ** (1 / (1 - w)) if w > 0 else settings.flc_threshold


def vote(runs: Sequence[tuple[int, Region]], probs: np.ndarray,
         settings: DecodeSettings) -> list[TechniqueSpan]:
    """Technique spans whose mean token score, weighed with the vote's probability of their technique
    (the span head's or the verifier's), reaches flc_threshold."""
    w = settings.flc_span_weight
    spans = []
    for (k, r), p in zip(runs, probs, strict=True):
        score = r.confidence ** (1 - w) * float(p[k]) ** w
        if score >= settings.flc_threshold:
            spans.append(TechniqueSpan(r.start, r.end, TECHNIQUE_IDS[k], round(score, 4)))
    return spans


def decode_technique_tokens(prep: Prepared, technique_probs: np.ndarray,
                            settings: DecodeSettings) -> list[TechniqueSpan]:
    """Technique spans from the per-technique token scores alone (no vote of the span head)."""
    return [TechniqueSpan(r.start, r.end, TECHNIQUE_IDS[k], round(r.confidence, 4))
            for k, r in technique_runs(prep, technique_probs, settings)]


REPETITION = TECHNIQUE_IDS.index("Repetition")


def only_recurring_repetition(prep: Prepared, spans: list[TechniqueSpan]) -> list[TechniqueSpan]:
    """Technique spans less those tagged Repetition whose words do not occur again in the article.

    The per-technique token head tags topic words as Repetition whether or not they recur (on the 59
    development articles, 13 of its 34 Repetition spans occurred once); repetition needs a second
    occurrence. Inference and tuning both apply it.
    """
    return [s for s in spans
            if s.technique != "Repetition" or recurs(prep.doc.text[s.start:s.end], prep.normalized)]


def rank_techniques(p: np.ndarray, count: int, settings: DecodeSettings) -> list[int]:
    """Technique indices, most probable first, with Repetition first for a span repeated often enough."""
    ranked = [int(k) for k in np.argsort(-p, kind="stable")]
    if count >= settings.repetition_count:
        ranked.remove(REPETITION)
        ranked.insert(0, REPETITION)
    return ranked


def spans_from_regions(prep: Prepared, regions: list[Region], technique_probs: np.ndarray,
                       settings: DecodeSettings) -> list[TechniqueSpan]:
    spans = []
    for region, p in zip(regions, technique_probs, strict=True):
        ranked = rank_techniques(p, repeat_count(prep.doc.text[region.start:region.end], prep.normalized), settings)
        spans.append(TechniqueSpan(region.start, region.end, TECHNIQUE_IDS[ranked[0]],
                                   round(float(region.confidence * p[ranked[0]]), 4)))
        if p[ranked[1]] >= settings.second_technique:
            spans.append(TechniqueSpan(region.start, region.end, TECHNIQUE_IDS[ranked[1]],
                                       round(float(region.confidence * p[ranked[1]]), 4)))
    return spans


# The first layer's feed-forward output reads activations whose largest value is about 150 times
# their mean, the widest range in the encoder; with one int8 scale per batch they lose most of their
# precision, so that layer stays in float32 (on the development split: FLC F1 0.244 rather than
# 0.233, at no measurable cost in speed).
FLOAT_LAYERS = frozenset({"encoder.layer.0.output.dense"})  # names within the BertModel


def quantize_int8(net: PropagandaNet) -> PropagandaNet:
    """The encoder's linear layers in int8 (dynamic quantization, a scale per output channel).

    About 1.5 times faster on CPU than float32. A scale per output channel, rather than one per
    weight matrix, keeps the development figures close to float32's; the heads are small and stay in
    float32, as do the ``FLOAT_LAYERS``.
    """
    from torch.ao.quantization import per_channel_dynamic_qconfig

    layers = {f"encoder.{name}": per_channel_dynamic_qconfig for name, module in net.encoder.named_modules()
              if isinstance(module, torch.nn.Linear) and name not in FLOAT_LAYERS}
    with warnings.catch_warnings():
        # torch marks eager-mode quantization as deprecated in favour of torchao; it still works
        # and needs no extra dependency.
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(net, layers, dtype=torch.qint8)


SPAN_CHUNK = 8192  # spans whose probabilities are computed at once


def span_probs(net: PropagandaNet, prep: Prepared, states: torch.Tensor, spans: Sequence[tuple[int, int]],
               voter: str = "span") -> np.ndarray:
    """(n_spans, 14) probabilities for character spans: the span head's (which technique, given that
    it is a span; they sum to 1) or, with ``voter`` "verifier" and a network that has one, the
    verifier's (whether it is a span of each technique, independently)."""
    if not spans:
        return np.zeros((0, len(TECHNIQUE_IDS)), dtype=np.float32)
    if len(spans) > SPAN_CHUNK:
        # Each span's inputs take about 6 kB: a long article's many spans go through in chunks, so
        # memory stays flat however many there are.
        return np.concatenate([span_probs(net, prep, states, spans[i:i + SPAN_CHUNK], voter)
                               for i in range(0, len(spans), SPAN_CHUNK)])
    with torch.inference_mode():
        rows = net.span_rows(states, *prep.span_inputs(spans))
        if voter == "verifier" and net.verifiers is not None:
            return net.verify_probs(rows).numpy()
        return torch.softmax(net.span_head(rows), -1).numpy()


# Each window's activations are freed once its states are joined, but the C allocator keeps the
# freed pages in the encoding threads' heaps: after a million-character article's encoding the
# process held 650 MB more than before it, for 325 MB of states. Past this many windows (about
# 75,000 characters) the freed pages are handed back, so the span head's work starts from the states.
TRIM_AFTER_WINDOWS = 64


def release_freed_memory() -> None:
    """Hand memory freed by the C allocator back to the system (glibc's malloc_trim; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return
    trim(0)


class TrainedDetector:
    name = "propscan-minilm"

    def __init__(self, net: PropagandaNet, tokenizer, settings: DecodeSettings, name: str | None = None,
                 calibrator: Calibrator | None = None) -> None:
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.settings = settings
        # Without a calibrator, confidences are the decoder's raw span scores (used to fit one).
        self.calibrator = calibrator
        if name:
            self.name = name
        self._lock = threading.Lock()

    @classmethod
    def load(cls, directory: Path = WEIGHTS_DIR, quantize: bool = True) -> TrainedDetector:
        from safetensors.torch import load_file

        config = json.loads((directory / CONFIG_FILE).read_text())
        net = PropagandaNet(load_base_encoder(config["layers"]),
                            token_techniques=config.get("token_techniques", False),
                            verifier=int(config.get("verifier", 0)))
        state = {k: v.float() for k, v in load_file(str(directory / WEIGHTS_FILE)).items()}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("encoder.embeddings") for k in missing):
            raise RuntimeError(f"model files do not match the network: {unexpected or missing}")
        net.eval()
        if quantize:
            net = quantize_int8(net)
        calibrator = Calibrator.from_config(config["calibration"]) if "calibration" in config else None
        return cls(net, load_tokenizer(), DecodeSettings(**config["decode"]), config.get("name"), calibrator)

    @property
    def default_min_confidence(self) -> float:
        """The confidence from which reports show spans (chosen for precision when fitting the calibration)."""
        return self.calibrator.default_min_confidence if self.calibrator else 0.0

    def _encode(self, docs: Sequence[DetectInput],
                also: Sequence[tuple[int, int]] = ()) -> tuple[list[Prepared], list[torch.Tensor]]:
        preps = [prepare(self.tokenizer, d, also) for d in docs]
        with self._lock, torch.inference_mode():
            states = self.net.encode_windows([p.enc for p in preps])
        if sum(len(p.enc.windows) for p in preps) > TRIM_AFTER_WINDOWS:
            release_freed_memory()
        return preps, states

    def _run(self, docs: Sequence[DetectInput]):
        preps, states = self._encode(docs)
        with self._lock, torch.inference_mode():
            token_probs = [torch.softmax(self.net.token_logits(s), -1).numpy() for s in states]
            technique_token_probs = [torch.sigmoid(self.net.technique_token_logits(s)).numpy()
                                     if self.net.technique_token_head is not None else None for s in states]
            sentence_logits = [self.net.sentence_logits(s, p.sentence_tokens).numpy()
                               for s, p in zip(states, preps, strict=True)]
        return preps, states, token_probs, technique_token_probs, sentence_logits

    def _technique_probs(self, prep: Prepared, states: torch.Tensor, spans: Sequence[tuple[int, int]]) -> np.ndarray:
        if spans and not len(prep.enc.ids):  # nothing to read (only empty spans in an article with no content)
            return np.full((len(spans), len(TECHNIQUE_IDS)), 1 / len(TECHNIQUE_IDS), dtype=np.float32)
        with self._lock:
            return span_probs(self.net, prep, states, spans)

    def _vote_probs(self, prep: Prepared, states: torch.Tensor, spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """The vote on technique runs: the verifier's probabilities, or the span head's (settings.flc_vote)."""
        with self._lock:
            return span_probs(self.net, prep, states, spans, self.settings.flc_vote)

    def detect(self, docs: Sequence[DetectInput]) -> list[Detection]:
        s = self.settings
        results = []
        for prep, states, probs, technique_token_probs, sent_logits in zip(*self._run(docs), strict=True):
            regions = decode_regions(prep, probs[:, 1] + probs[:, 2], s, sent_logits, technique_token_probs)
            if s.flc_source == "tokens" and technique_token_probs is not None:
                if s.flc_span_weight > 0:
                    runs = technique_runs(prep, technique_token_probs, s, vote_floor(s))
                    spans = vote(runs, self._vote_probs(prep, states, [(r.start, r.end) for _, r in runs]), s)
                else:
                    spans = decode_technique_tokens(prep, technique_token_probs, s)
            else:
                technique_probs = self._technique_probs(prep, states, [(r.start, r.end) for r in regions])
                spans = spans_from_regions(prep, regions, technique_probs, s)
            scores = [round(float(x), 4) for x in sentence_probs(sent_logits, s)]
            spans = self.calibrated(prep, only_recurring_repetition(prep, spans), regions, scores)
            results.append(Detection(regions=regions, spans=spans, sentence_scores=scores))
        return results

    def calibrated(self, prep: Prepared, spans: list[TechniqueSpan], regions: list[Region],
                   sentence_scores: list[float]) -> list[TechniqueSpan]:
        """The spans with their confidence as the calibrated probability of being right (if calibrated)."""
        if self.calibrator is None or not spans:
            return spans
        context = SpanContext(prep.doc.text, prep.normalized, prep.doc.title,
                              [(r.start, r.end, r.confidence) for r in regions], prep.doc.sentences, sentence_scores)
        repeats = span_repeats(context, [(x.start, x.end) for x in spans])
        return [TechniqueSpan(x.start, x.end, x.technique, round(self.calibrator.probability(
                    calibration_features(context, x.start, x.end, x.technique, x.confidence, n)), 4))
                for x, n in zip(spans, repeats, strict=True)]

    def classify(self, doc: DetectInput, spans: Sequence[tuple[int, int]]) -> list[list[tuple[str, float]]]:
        (prep,), (states,) = self._encode([doc], spans)
        ranked = []
        for (start, end), p in zip(spans, self._technique_probs(prep, states, spans), strict=True):
            order = rank_techniques(p, repeat_count(doc.text[start:end], prep.normalized), self.settings)
            ranked.append([(TECHNIQUE_IDS[k], float(p[k])) for k in order])
        return ranked
