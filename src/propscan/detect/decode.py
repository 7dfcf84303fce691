"""Decoding: from the network's outputs on one prepared document to SI regions, technique spans (FLC)
and sentence scores, as ``DecodeSettings`` say.

``decode`` is the one function that reads the settings' choices (where technique spans come from,
hysteresis, who votes); the detector and tuning both call it, so the settings tuning chooses decode
exactly as they will in ``propscan analyze``. What depends on only some settings (a document's regions,
each technique's runs, the vote on them) is kept in ``NetworkOutputs.memo``, so tuning, which decodes
the same outputs under thousands of settings, computes each once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from propscan.detect.base import Region, TechniqueSpan
from propscan.detect.calibration import recurs
from propscan.detect.network import PropagandaNet, repeat_count
from propscan.detect.prepare import Prepared
from propscan.errors import PropscanError
from propscan.taxonomy import TECHNIQUE_IDS


class DecodeSettings(BaseModel):
    """How the network's outputs become spans and scores, as tuned and shipped in a model's configuration.

    A setting that does not exist, a value of the wrong type or out of range is refused
    (``from_config``): a typo must not silently decode another way.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    threshold: float = Field(0.5, ge=0.0, le=1.0)
    max_gap: int = Field(1, ge=0)
    min_chars: int = Field(2, ge=0)
    # A second technique for a region when its probability reaches this (above 1: never).
    second_technique: float = Field(0.35, ge=0.0)
    # A span whose words recur at least this often in the article is Repetition, whatever the span
    # head says (the literature's post-processing rule; the count is tuned, 1000 turns it off).
    repetition_count: int = Field(1000, ge=1)
    # Token scores for span decoding: p_token ** (1 - w) * p_sentence ** w, the sentence's calibrated
    # probability lending its context to each token (w = 0: the token head alone).
    sentence_weight: float = Field(0.0, ge=0.0, le=1.0)
    # SI token scores lean on the per-technique token head: (1 - v) * p_token + v * the highest of the
    # token's 14 technique probabilities (v = 0: the SI token head alone). Two heads trained on related
    # targets disagree in different places.
    si_technique_weight: float = Field(0.0, ge=0.0, le=1.0)
    # SI regions the verifier doubts are left out: a region is kept when its mean token score ** (1 - w)
    # times the verifier's probability that it is a span of some technique (one less the product of
    # its 14 complements) ** w reaches si_verifier_threshold (w = 0: every region the threshold finds
    # is kept). The token head sees one token at a time, the verifier the whole stretch: out-of-fold,
    # SI F1 0.404 -> 0.417 on the cross-validated run's networks. Its confidence stays the mean token
    # score. Needs a network with a verifier.
    si_verifier_weight: float = Field(0.0, ge=0.0, lt=1.0)
    si_verifier_threshold: float = Field(0.5, ge=0.0, le=1.0)
    # The sentence head's calibration (Platt scaling): p = sigmoid(sentence_a * logit + sentence_b).
    sentence_a: float = 1.0
    sentence_b: float = 0.0
    # The sentence score also reads the token heads (logistic regression, fitted with sentence_a and
    # sentence_b): + sentence_token_coef * the logit of the highest SI token probability in the sentence
    # + sentence_technique_coef * the logit of its highest technique token probability (0: the
    # sentence head alone). Two heads that find spans say something the sentence head misses.
    sentence_token_coef: float = 0.0
    sentence_technique_coef: float = 0.0
    sentence_threshold: float = Field(0.5, ge=0.0, le=1.0)  # a sentence 'uses a technique' from this score
    # Technique spans (FLC) come either from the SI regions, each classified by the span head
    # ("regions"), or from the per-technique token head, decoded technique by technique ("tokens").
    flc_source: Literal["regions", "tokens"] = "regions"
    flc_threshold: float = Field(0.5, ge=0.0, le=1.0)
    flc_max_gap: int = Field(1, ge=0)
    flc_min_chars: int = Field(2, ge=0)
    # Hysteresis for technique spans: tokens scoring at least flc_extent set a span's extent, and the
    # span is kept when its mean score reaches flc_threshold (None: flc_threshold alone decides).
    flc_extent: float | None = Field(None, ge=0.0, le=1.0)
    # The vote's say in a technique span's score: mean token score ** (1 - w) * the vote's probability
    # of that technique ** w (0: the token scores alone). Needs hysteresis (flc_extent).
    flc_span_weight: float = Field(0.0, ge=0.0, lt=1.0)
    # Who votes: "span", the span head (which technique the run would be, were it a span), or
    # "verifier", the verifier (whether the run is a span of that technique at all).
    flc_vote: Literal["span", "verifier"] = "span"
    # Technique spans from the technique token head leave out what it scores low: the rare techniques
    # above all. With this set, each SI region gets a span of the voter's most probable technique for
    # it when that probability reaches this value and no technique span of that technique overlaps the
    # region (None: regions add nothing). Needs flc_source "tokens".
    flc_region_vote: float | None = Field(None, ge=0.0, le=1.0)
    # Repetition, which the technique token head rarely tags: a technique span or SI region whose words
    # occur at least this often in the article also gets a Repetition span, unless one overlaps it
    # (1000: off). Needs flc_source "tokens".
    flc_repetition_count: int = Field(1000, ge=2)
    # A threshold of its own for some techniques' spans, in place of flc_threshold for their token runs
    # and applied to the spans SI regions add for them too (the F1-optimal single threshold let
    # Loaded_Language out 1.7 times as often as it occurs and Appeal_to_fear half as often). Needs
    # flc_source "tokens" with flc_extent.
    flc_technique_thresholds: dict[str, float] = Field(default_factory=dict)
    # The technique of a given span (task TC): the span head's probabilities ** (1 - w) times the
    # verifier's ** w, renormalised (0: the span head alone).
    tc_verifier_weight: float = Field(0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _vote_needs_hysteresis(self) -> DecodeSettings:
        if self.flc_span_weight > 0 and self.flc_extent is None:
            raise ValueError("flc_span_weight > 0 needs flc_extent (the vote weighs runs found with hysteresis)")
        if self.flc_region_vote is not None and (self.flc_source != "tokens" or self.flc_extent is None):
            raise ValueError("flc_region_vote needs flc_source 'tokens' with flc_extent (regions add to its runs)")
        if self.flc_repetition_count < 1000 and (self.flc_source != "tokens" or self.flc_extent is None):
            raise ValueError("flc_repetition_count needs flc_source 'tokens' with flc_extent")
        if self.flc_technique_thresholds:
            if self.flc_source != "tokens" or self.flc_extent is None:
                raise ValueError("flc_technique_thresholds needs flc_source 'tokens' with flc_extent")
            unknown = sorted(set(self.flc_technique_thresholds) - set(TECHNIQUE_IDS))
            if unknown:
                raise ValueError(f"flc_technique_thresholds: unknown technique(s) {', '.join(unknown)}")
            if any(not 0.0 <= v <= 1.0 for v in self.flc_technique_thresholds.values()):
                raise ValueError("flc_technique_thresholds: each threshold lies in [0, 1]")
        return self

    def flc_threshold_of(self, technique: str) -> float:
        """The threshold a technique's token runs must reach (flc_threshold unless it has its own)."""
        return self.flc_technique_thresholds.get(technique, self.flc_threshold)

    @property
    def lowest_flc_threshold(self) -> float:
        return min([self.flc_threshold, *self.flc_technique_thresholds.values()])

    @classmethod
    def from_config(cls, config: dict) -> DecodeSettings:
        """The settings of a model's configuration (its ``decode`` section); a PropscanError naming
        every setting that is unknown, mistyped or out of range."""
        try:
            return cls.model_validate(config)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(x) for x in err['loc']) or 'settings'}: "
                                 f"{'unknown setting' if err['type'] == 'extra_forbidden' else err['msg']}"
                                 for err in e.errors())
            raise PropscanError(f"invalid decode settings ({problems})") from None


SpanProbs = Callable[[Sequence[tuple[int, int]], str], np.ndarray]


@dataclass(eq=False)
class NetworkOutputs:
    """What the network says about one prepared document, before any decoding."""

    token_probs: np.ndarray  # (n_tokens, 3): O, B, I
    technique_token_probs: np.ndarray | None  # (n_tokens, 14), each technique on its own; None: no such head
    sentence_logits: np.ndarray  # (n_sentences,)
    # (n_sentences, 2): the logits of the highest SI token probability and of the highest technique
    # token probability within each sentence (what ``sentence_probs`` may read beside the sentence head).
    sentence_evidence: np.ndarray
    # (spans, voter) -> (n_spans, 14): the span head's probabilities ("span") or the verifier's ("verifier").
    span_probs: SpanProbs
    # Results that depend on only some settings, by those settings (see ``memoized``).
    memo: dict = field(default_factory=dict)

    @cached_property
    def inside(self) -> np.ndarray:
        """(n_tokens,) the token head's probability that a token is inside a span (B or I)."""
        return self.token_probs[:, 1] + self.token_probs[:, 2]

    def memoized(self, key: Hashable, compute: Callable[[], object]):
        """``compute()``, once per key (the settings the result depends on) for this document."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


def network_outputs(net: PropagandaNet, prep: Prepared, states: torch.Tensor,
                    lock: AbstractContextManager | None = None) -> NetworkOutputs:
    """The network's heads on one document's token ``states`` (held under ``lock`` while they run)."""
    lock = lock or nullcontext()
    with lock, torch.inference_mode():
        token_probs = torch.softmax(net.token_logits(states), -1).numpy()
        technique_token_probs = (torch.sigmoid(net.technique_token_logits(states)).numpy()
                                 if net.technique_token_head is not None else None)
        sentence_logits = net.sentence_logits(states, prep.sentence_tokens).numpy()

    def probs(spans: Sequence[tuple[int, int]], voter: str) -> np.ndarray:
        with lock:
            return span_probs(net, prep, states, spans, voter)

    return NetworkOutputs(token_probs, technique_token_probs, sentence_logits,
                          sentence_evidence(prep, token_probs, technique_token_probs), probs)


EVIDENCE_FLOOR = 1e-4  # probabilities are clipped to [floor, 1 - floor] before their logit


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EVIDENCE_FLOOR, 1 - EVIDENCE_FLOOR)
    return np.log(p / (1 - p))


def sentence_evidence(prep: Prepared, token_probs: np.ndarray, technique_token_probs: np.ndarray | None) -> np.ndarray:
    """(n_sentences, 2): for each sentence, the logit of its highest SI token probability (B or I) and
    of its highest technique token probability (0 where the network has no technique head)."""
    inside = token_probs[:, 1] + token_probs[:, 2]
    techniques = technique_token_probs.max(1) if technique_token_probs is not None else None
    rows = []
    for a, b in prep.sentence_tokens:
        top = float(inside[a:b].max()) if b > a else 0.0
        top_technique = float(techniques[a:b].max()) if techniques is not None and b > a else 0.0
        rows.append((top, top_technique))
    evidence = _logit(np.asarray(rows, dtype=np.float64).reshape(-1, 2))
    if techniques is None:
        evidence[:, 1] = 0.0
    return evidence


@dataclass
class Decoded:
    """One document decoded: SI regions, technique spans with their raw scores (not yet calibrated) and
    each sentence's probability of using a technique."""

    regions: list[Region]
    spans: list[TechniqueSpan]
    sentence_scores: list[float]


def decode(prep: Prepared, outputs: NetworkOutputs, settings: DecodeSettings) -> Decoded:
    """Regions, technique spans (less Repetition that does not recur) and sentence scores."""
    regions = si_regions(prep, outputs, settings)
    spans = only_recurring_repetition(prep, _technique_spans(prep, outputs, regions, settings), outputs.memo)
    scores = [round(float(x), 4) for x in sentence_scores(outputs, settings)]
    return Decoded(regions, spans, scores)


def sentence_scores(outputs: NetworkOutputs, settings: DecodeSettings) -> np.ndarray:
    """``sentence_probs``, computed once per calibration for a document (the SI regions and the
    reported sentence scores both read them)."""
    return outputs.memoized(("sentences", *_sentence_key(settings)), lambda: sentence_probs(outputs, settings))


def _sentence_key(s: DecodeSettings) -> tuple:
    return (s.sentence_a, s.sentence_b, s.sentence_token_coef, s.sentence_technique_coef)


def _run_key(s: DecodeSettings) -> tuple:
    return (s.threshold, s.max_gap, s.min_chars, s.si_technique_weight, s.sentence_weight, *_sentence_key(s))


def _region_key(s: DecodeSettings) -> tuple:
    return (*_run_key(s), s.si_verifier_weight, s.si_verifier_threshold if s.si_verifier_weight > 0 else None)


def si_regions(prep: Prepared, outputs: NetworkOutputs, settings: DecodeSettings) -> list[Region]:
    """The SI regions (task SI): ``decode_regions`` on the token heads' outputs, less those the verifier
    doubts (``si_verifier_weight``)."""
    s = settings
    runs = outputs.memoized(("runs_si", *_run_key(s)), lambda: decode_regions(
        prep, outputs.inside, s, sentence_scores(outputs, s), outputs.technique_token_probs))
    if s.si_verifier_weight <= 0:
        return runs
    belief = outputs.memoized(("si_verifier", *_run_key(s)), lambda: any_technique(
        outputs.span_probs([(r.start, r.end) for r in runs], "verifier")))
    return outputs.memoized(("regions", *_region_key(s)), lambda: verified(runs, belief, s))


def any_technique(probs: np.ndarray) -> np.ndarray:
    """(n_spans,) the probability that each span is a span of at least one technique, from the
    verifier's independent per-technique probabilities (n_spans, 14)."""
    return 1.0 - np.prod(1.0 - np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0), axis=1)


def verified(runs: Sequence[Region], belief: np.ndarray, settings: DecodeSettings) -> list[Region]:
    """The runs whose mean token score, weighed with the verifier's ``belief`` that they are spans,
    reaches si_verifier_threshold."""
    w = settings.si_verifier_weight
    return [r for r, b in zip(runs, belief, strict=True)
            if r.confidence ** (1 - w) * float(b) ** w >= settings.si_verifier_threshold]


def _technique_spans(prep: Prepared, outputs: NetworkOutputs, regions: list[Region],
                     settings: DecodeSettings) -> list[TechniqueSpan]:
    """Technique spans (task FLC), from the per-technique token head (``flc_source`` "tokens", when the
    network has one) or from the SI regions, each classified by the span head."""
    s = settings
    if s.flc_source == "tokens" and outputs.technique_token_probs is not None:
        if s.flc_extent is None:
            return decode_technique_tokens(prep, outputs.technique_token_probs, s)
        # With hysteresis a run's extent does not depend on flc_threshold, only whether it is kept: each
        # technique's runs are found once (at threshold 0) and kept here by their mean score, as
        # decode_runs keeps them.
        key = (s.flc_extent, s.flc_max_gap, s.flc_min_chars)
        runs = outputs.memoized(("runs", *key),
                                lambda: technique_runs(prep, outputs.technique_token_probs, s, 0.0))
        if s.flc_span_weight <= 0:
            spans = [TechniqueSpan(r.start, r.end, TECHNIQUE_IDS[k], round(r.confidence, 4))
                     for k, r in runs if r.confidence >= s.flc_threshold_of(TECHNIQUE_IDS[k])]
        else:
            # The vote is cast on every run once, and the runs that can still reach flc_threshold with
            # it (their mean score from vote_floor on) are weighed.
            probs = outputs.memoized(("vote", s.flc_vote, *key),
                                     lambda: outputs.span_probs([(r.start, r.end) for _, r in runs], s.flc_vote))
            floor = vote_floor(s)
            kept = [j for j, (_, r) in enumerate(runs) if r.confidence >= floor]
            spans = vote([runs[j] for j in kept], probs[kept], s)
        if s.flc_region_vote is not None:
            votes = outputs.memoized(("region_vote", s.flc_vote, *_region_key(s)),
                                     lambda: outputs.span_probs([(r.start, r.end) for r in regions], s.flc_vote))
            spans = spans + region_spans(regions, votes, spans, s)
        if s.flc_repetition_count < 1000:
            spans = spans + repeated_spans(prep, outputs.memo, regions, spans, s.flc_repetition_count)
        return spans
    probs = outputs.memoized(("region_probs", *_region_key(s)),
                             lambda: outputs.span_probs([(r.start, r.end) for r in regions], "span"))
    return spans_from_regions(prep, regions, probs, s)


# The building blocks of decode, each reading only the settings passed to it.

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


def sentence_features(outputs: NetworkOutputs) -> np.ndarray:
    """(n_sentences, 3): what the sentence score reads: the sentence head's logit and the two token
    heads' evidence (``sentence_evidence``)."""
    logits = np.asarray(outputs.sentence_logits, dtype=np.float64).reshape(-1, 1)
    return np.hstack([logits, np.asarray(outputs.sentence_evidence, dtype=np.float64).reshape(-1, 2)])


def sentence_probs_of(features: np.ndarray, settings: DecodeSettings) -> np.ndarray:
    """Calibrated probabilities from ``sentence_features`` rows."""
    x = (features @ np.array([settings.sentence_a, settings.sentence_token_coef, settings.sentence_technique_coef])
         + settings.sentence_b)
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def sentence_probs(outputs: NetworkOutputs, settings: DecodeSettings) -> np.ndarray:
    """Calibrated probability that each sentence uses a technique."""
    return sentence_probs_of(sentence_features(outputs), settings)


def token_scores(prep: Prepared, p_inside: np.ndarray, sentence_scores: np.ndarray,
                 settings: DecodeSettings) -> np.ndarray:
    """Per-token span scores: the token head's probability, blended with its sentence's probability."""
    w = settings.sentence_weight
    if w <= 0 or not len(prep.sentence_tokens):
        return p_inside
    context = p_inside.astype(np.float64).copy()  # tokens outside every sentence keep their own
    for (a, b), q in zip(prep.sentence_tokens, sentence_scores, strict=True):
        context[a:b] = q
    return np.power(p_inside, 1 - w) * np.power(context, w)


def decode_regions(prep: Prepared, p_inside: np.ndarray, settings: DecodeSettings,
                   sentence_scores: np.ndarray | None = None,
                   technique_probs: np.ndarray | None = None) -> list[Region]:
    """SI regions from the token head's probability of being inside a span, leaning on the
    per-technique token head (its highest probability) and on the sentence as the settings say."""
    v = settings.si_technique_weight
    if technique_probs is not None and v > 0:
        p_inside = (1 - v) * p_inside + v * technique_probs.max(1)
    if sentence_scores is not None:
        p_inside = token_scores(prep, p_inside, sentence_scores, settings)
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
    w, threshold = settings.flc_span_weight, settings.lowest_flc_threshold
    return threshold ** (1 / (1 - w)) if w > 0 else threshold


def vote(runs: Sequence[tuple[int, Region]], probs: np.ndarray,
         settings: DecodeSettings) -> list[TechniqueSpan]:
    """Technique spans whose mean token score, weighed with the vote's probability of their technique
    (the span head's or the verifier's), reaches flc_threshold."""
    w = settings.flc_span_weight
    spans = []
    for (k, r), p in zip(runs, probs, strict=True):
        score = r.confidence ** (1 - w) * float(p[k]) ** w
        if score >= settings.flc_threshold_of(TECHNIQUE_IDS[k]):
            spans.append(TechniqueSpan(r.start, r.end, TECHNIQUE_IDS[k], round(score, 4)))
    return spans


def region_spans(regions: Sequence[Region], probs: np.ndarray, spans: Sequence[TechniqueSpan],
                 settings: DecodeSettings) -> list[TechniqueSpan]:
    """A span for each SI region whose most probable technique (by the vote) reaches flc_region_vote
    and has no technique span overlapping the region yet; scored as ``vote`` scores a run."""
    w = settings.flc_span_weight
    added = []
    for region, p in zip(regions, probs, strict=True):
        k = int(np.argmax(p))
        if float(p[k]) < settings.flc_region_vote:
            continue
        technique = TECHNIQUE_IDS[k]
        if any(x.technique == technique and x.start < region.end and region.start < x.end for x in spans):
            continue
        score = region.confidence ** (1 - w) * float(p[k]) ** w
        if technique in settings.flc_technique_thresholds and score < settings.flc_technique_thresholds[technique]:
            continue  # a technique with a threshold of its own keeps only spans that reach it
        added.append(TechniqueSpan(region.start, region.end, technique, round(score, 4)))
    return added


def repeated_spans(prep: Prepared, memo: dict, regions: Sequence[Region], spans: Sequence[TechniqueSpan],
                   count: int) -> list[TechniqueSpan]:
    """Repetition spans over the technique spans and SI regions whose words occur at least ``count``
    times in the article, where no Repetition span overlaps yet; each keeps its source's score."""
    taken = [(x.start, x.end) for x in spans if x.technique == "Repetition"]
    scores = {(r.start, r.end): round(r.confidence, 4) for r in regions}
    scores.update({(x.start, x.end): x.confidence for x in spans})  # a span's own score over its region's
    candidates = sorted(scores.items())
    added = []
    for (start, end), score in candidates:
        key = ("repeats", start, end)
        if key not in memo:
            memo[key] = repeat_count(prep.doc.text[start:end], prep.normalized)
        if memo[key] >= count and not any(a < end and start < b for a, b in taken):
            added.append(TechniqueSpan(start, end, "Repetition", score))
            taken.append((start, end))
    return added


def decode_technique_tokens(prep: Prepared, technique_probs: np.ndarray,
                            settings: DecodeSettings) -> list[TechniqueSpan]:
    """Technique spans from the per-technique token scores alone (no vote of the span head)."""
    return [TechniqueSpan(r.start, r.end, TECHNIQUE_IDS[k], round(r.confidence, 4))
            for k, r in technique_runs(prep, technique_probs, settings)]


REPETITION = TECHNIQUE_IDS.index("Repetition")


def only_recurring_repetition(prep: Prepared, spans: list[TechniqueSpan],
                              memo: dict | None = None) -> list[TechniqueSpan]:
    """Technique spans less those tagged Repetition whose words do not occur again in the article.

    The per-technique token head tags topic words as Repetition whether or not they recur (on the 59
    development articles, 13 of its 34 Repetition spans occurred once); repetition needs a second
    occurrence. Inference and tuning both apply it; ``memo`` (a document's ``NetworkOutputs.memo``)
    keeps each span's answer, as tuning decodes the same spans under many settings.
    """
    memo = {} if memo is None else memo

    def recurring(s: TechniqueSpan) -> bool:
        key = ("recurs", s.start, s.end)
        if key not in memo:
            memo[key] = recurs(prep.doc.text[s.start:s.end], prep.normalized)
        return memo[key]

    return [s for s in spans if s.technique != "Repetition" or recurring(s)]


def tc_probs(span_head: np.ndarray, verifier: np.ndarray | None, settings: DecodeSettings) -> np.ndarray:
    """(n_spans, 14) the technique probabilities of given spans (task TC): the span head's, leaning on
    the verifier's as ``tc_verifier_weight`` says (geometric blend, renormalised)."""
    w = settings.tc_verifier_weight
    if w <= 0 or verifier is None or not len(span_head):
        return span_head
    blend = np.power(np.clip(span_head, 1e-9, 1.0), 1 - w) * np.power(np.clip(verifier, 1e-9, 1.0), w)
    return blend / blend.sum(1, keepdims=True)


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


SPAN_CHUNK = 8192  # spans whose probabilities are computed at once


def span_probs(net: PropagandaNet, prep: Prepared, states: torch.Tensor, spans: Sequence[tuple[int, int]],
               voter: str = "span") -> np.ndarray:
    """(n_spans, 14) probabilities for character spans: the span head's (which technique, given that
    it is a span; they sum to 1) or, with ``voter`` "verifier" and a network that has one, the
    verifier's (whether it is a span of each technique, independently)."""
    if not spans:
        return np.zeros((0, len(TECHNIQUE_IDS)), dtype=np.float32)
    if not len(prep.enc.ids):  # nothing to read (only empty spans in an article with no content)
        return np.full((len(spans), len(TECHNIQUE_IDS)), 1 / len(TECHNIQUE_IDS), dtype=np.float32)
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
