"""The headline check: does an article's body agree with, dispute, discuss, or ignore its headline?

FNC-1 stance detection (agree / disagree / discuss / unrelated) in two stages:

* each body is prepared once (sentences, tokens, TF-IDF vectors) and shared by all its headlines;
* word features per (headline, body) pair: TF-IDF cosines (whole body, lead, best sentences), word
  and bigram overlap, refuting / hedging / negation cues in the headline and in the sentences most
  like it;
* stage 1, gradient-boosted trees over the features, gives P(related);
* stage 2 gives P(agree | related), P(disagree | related), P(discuss | related): boosted trees over
  the same features (trained on related pairs only), blended geometrically with the reader
  (``reader.py``, a small cross-encoder that reads the headline with the body sentences most like
  it) for every pair stage 1 does not rule out. The product is the four-way distribution.

The decided stance multiplies P(disagree) by a decision weight tuned on training bodies
(``decision_weights``), so that the rare class is not drowned by the common ones; agree is never
boosted, because a false "supported" is the verdict a reader can least afford. One rule (``decide``)
serves FNC-1 files, an article's verdict and the stance of each evidence sentence.

The model files (``stance.npz`` arrays, ``stance.json`` vocabulary and settings, the reader's
``stance-reader.onnx``) are written only by ``propscan.training.stance.train_stance`` through
``StanceModel.save`` and read by ``StanceModel.load``; no pickle.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from propscan.document import Evidence, HeadlineCheck
from propscan.errors import PropscanError
from propscan.segment import sentence_ranges

if TYPE_CHECKING:
    from propscan.stance.reader import StanceReader

STANCES = ("unrelated", "agree", "disagree", "discuss")
RELATED_STANCES = ("agree", "disagree", "discuss")
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights" / "stance"
LEAD_SENTENCES = 2
TOP_SENTENCES = 3
EVIDENCE_SENTENCES = 3
EVIDENCE_CANDIDATES = 12
EXCERPT_SENTENCES = 10  # more than the reader's token budget holds; its tokenizer cuts the rest
# Pairs whose P(related) is below this are not read: P(unrelated) > 0.95 then wins under any decision
# weight up to 19, so reading them could change no decision, and most FNC-1 pairs are unrelated.
READ_FROM = 0.05
RELATIONS = {"agree": "supports", "disagree": "contradicts", "discuss": "discusses"}

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Cue words, chosen from what FNC-1 systems found telling (refuting and hedging vocabularies).
REFUTING = ("fake", "fraud", "hoax", "false", "deny", "denies", "denied", "not", "despite", "nope",
            "doubt", "doubts", "bogus", "debunk", "debunked", "pranks", "prank", "retract", "retracted",
            "rumor", "rumors", "rumour", "untrue", "satire", "satirical", "misleading", "never", "no",
            "refute", "refuted", "refutes", "dismissed", "disputed", "fabricated")
HEDGING = ("reportedly", "allegedly", "alleged", "claims", "claimed", "claim", "according", "report",
           "reports", "reported", "may", "might", "could", "purportedly", "apparently", "appears",
           "unconfirmed", "unverified", "suggest", "suggests", "believed", "possibly", "if", "said", "says")
CONFIRMING = ("confirmed", "confirms", "confirm", "revealed", "announced", "official", "officially",
              "indeed", "actually", "true", "video", "footage", "shows", "photos")
NEGATION = frozenset(("not", "no", "never", "none", "nothing", "neither", "nor", "nobody", "without",
                      "cannot", "can't", "don't", "doesn't", "didn't", "isn't", "wasn't", "aren't",
                      "won't", "hasn't", "haven't"))
# Verbs that turn a claim around ("stop helping" against "help"): counted with negations for polarity.
REVERSING = frozenset(("stop", "stops", "stopped", "halt", "halts", "quit", "cease", "refuse", "refuses",
                       "refused", "reject", "rejects", "rejected", "ban", "bans", "banned", "block",
                       "blocks", "blocked", "against", "fail", "fails", "failed", "deny", "denies", "denied"))
_CUES = tuple(dict.fromkeys(REFUTING + HEDGING + CONFIRMING))
_REFUTING = frozenset(REFUTING)
_HEDGING = frozenset(HEDGING)
_CONFIRMING = frozenset(CONFIRMING)
_CUE_GROUPS = (_REFUTING, _HEDGING, NEGATION, _CONFIRMING)
_DENIAL = NEGATION | _REFUTING | REVERSING
DENIAL_WINDOW = 3
# A sentence "carries" the headline when it holds at least this share of the headline's content words.
MATCHING_COVERAGE = 0.3


@cache
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) - NEGATION


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (apostrophes normalised, possessive 's dropped)."""
    return [w[:-2] if w.endswith("'s") else w for w in _WORD.findall(text.lower().replace("’", "'"))]


def _stem(word: str) -> str:
    """A crude suffix strip so that 'helping' meets 'help' and 'claims' meets 'claim'."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(words: Iterable[str]) -> list[str]:
    """Stemmed words without stop words (negations are kept: they carry stance)."""
    stop = _stop_words()
    return [_stem(w) for w in words if w not in stop and len(w) > 1]


class Vocabulary:
    """TF-IDF over stemmed content words: sublinear term frequency times idf, L2-normalised rows."""

    def __init__(self, terms: Sequence[str], idf: np.ndarray) -> None:
        self.terms = list(terms)
        self.index = {t: i for i, t in enumerate(self.terms)}
        self.idf = np.asarray(idf, dtype=np.float64)

    @classmethod
    def fit(cls, documents: Iterable[list[str]], min_df: int = 2) -> Vocabulary:
        df: dict[str, int] = {}
        n = 0
        for words in documents:
            n += 1
            for w in set(words):
                df[w] = df.get(w, 0) + 1
        terms = sorted(t for t, c in df.items() if c >= min_df)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in terms])
        return cls(terms, idf)

    def vectors(self, documents: Sequence[list[str]]) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for r, words in enumerate(documents):
            counts: dict[int, int] = {}
            for w in words:
                j = self.index.get(w)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))))
            weights *= self.idf[idx]
            weights /= np.linalg.norm(weights)
            rows.extend([r] * len(idx))
            cols.extend(idx.tolist())
            vals.extend(weights.tolist())
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(documents), len(self.terms)))


@dataclass
class PreparedHeadline:
    text: str
    words: list[str]
    content: list[str]
    vector: sparse.csr_matrix


@dataclass
class PreparedBody:
    """A body as the features need it, computed once however many headlines it is paired with."""

    ranges: list[tuple[int, int]]
    texts: list[str]
    sentence_words: list[list[str]]
    content: set[str]
    lead_content: set[str]
    bigrams: set[tuple[str, str]]
    sentence_matrix: sparse.csr_matrix
    body_vector: sparse.csr_matrix
    lead_vector: sparse.csr_matrix
    cue_presence: np.ndarray
    refuting_rate: float
    hedging_rate: float
    n_words: int
    sentence_content: list[set[str]]
    sentence_cues: np.ndarray
    """Per sentence: counts of refuting, hedging, negation and confirming words."""
    term_counts: dict[str, tuple[int, int]]
    """Per content word: how often the body uses it, and how often just after a denial (a negation,
    refuting or reversing word among the three words before it)."""
    shape: np.ndarray
    """Whole-body figures: share of sentences with hedging, with refuting words, with a question
    mark; quote marks per 100 words; log sentence count; refuting and hedging words in the lead."""


def _term_counts(sentence_words: list[list[str]]) -> dict[str, tuple[int, int]]:
    """Per content word (stemmed): its uses, and its uses within DENIAL_WINDOW words after a denial."""
    stop = _stop_words()
    counts: dict[str, list[int]] = {}
    for words in sentence_words:
        for j, w in enumerate(words):
            if w in stop or len(w) <= 1:
                continue
            entry = counts.setdefault(_stem(w), [0, 0])
            entry[0] += 1
            entry[1] += any(x in _DENIAL for x in words[max(0, j - DENIAL_WINDOW):j])
    return {w: (n, d) for w, (n, d) in counts.items()}


def _bigrams(words: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:], strict=False))


FEATURE_NAMES = (
    ["cos_body", "cos_lead", "sent_max", "sent_top_mean", "best_position", "overlap_body", "overlap_lead",
     "jaccard", "bigram_hits", "h_refuting", "h_hedging", "h_negation", "h_question", "h_len",
     "b_len", "b_refuting_rate", "b_hedging_rate", "top_refuting", "top_hedging", "top_confirming",
     "top_negation", "polarity_differs", "h_reversing", "unmatched_headline_idf",
     "unmatched_lead_idf"]
    + [f"body_has_{w}" for w in _CUES]
    + ["coverage_max", "coverage_top_mean", "matching_sentences", "matching_refuting", "matching_hedging",
       "matching_negation", "matching_confirming", "best_refuting", "best_hedging", "best_negation",
       "best_confirming", "denied_terms", "denied_share", "headline_term_hits", "b_hedged_sentences",
       "b_refuting_sentences", "b_questions", "b_quotes", "b_sentences", "lead_refuting", "lead_hedging",
       "h_colon", "h_quote"]
)


class FeatureMaker:
    """Turns headlines and bodies into the pair features both training and inference use."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    def headline(self, text: str) -> PreparedHeadline:
        words = tokens(text)
        content = content_words(words)
        return PreparedHeadline(text, words, content, self.vocabulary.vectors([content]))

    def body(self, text: str, ranges: Sequence[tuple[int, int]] | None = None) -> PreparedBody:
        ranges = list(ranges) if ranges is not None else sentence_ranges(text)
        sentence_words = [tokens(text[s:e]) for s, e in ranges] or [[]]
        sentence_content = [content_words(w) for w in sentence_words]
        all_content = [w for ws in sentence_content for w in ws]
        lead = [w for ws in sentence_content[:LEAD_SENTENCES] for w in ws]
        flat_words = [w for ws in sentence_words for w in ws]
        present = set(flat_words)
        cues = np.array([[sum(w in vocabulary for w in ws) for vocabulary in _CUE_GROUPS] for ws in sentence_words],
                        dtype=np.float64)
        n_words = max(len(flat_words), 1)
        return PreparedBody(
            ranges=ranges,
            texts=[" ".join(text[s:e].split()) for s, e in ranges],
            sentence_words=sentence_words,
            content=set(all_content),
            lead_content=set(lead),
            bigrams={bg for ws in sentence_content for bg in _bigrams(ws)},
            sentence_matrix=self.vocabulary.vectors(sentence_content),
            body_vector=self.vocabulary.vectors([all_content]),
            lead_vector=self.vocabulary.vectors([lead]),
            cue_presence=np.array([w in present for w in _CUES], dtype=np.float64),
            refuting_rate=100.0 * sum(w in _REFUTING for w in flat_words) / n_words,
            hedging_rate=100.0 * sum(w in _HEDGING for w in flat_words) / n_words,
            n_words=len(flat_words),
            sentence_content=[set(c) for c in sentence_content],
            sentence_cues=cues,
            term_counts=_term_counts(sentence_words),
            shape=np.array([
                float((cues[:, 1] > 0).mean()), float((cues[:, 0] > 0).mean()),
                sum("?" in text[s:e] for s, e in ranges) / max(len(ranges), 1),
                100.0 * sum(text.count(q) for q in '"“”') / n_words,
                math.log1p(len(ranges)),
                min(float(cues[:LEAD_SENTENCES, 0].sum()), 3.0), min(float(cues[:LEAD_SENTENCES, 1].sum()), 3.0),
            ]),
        )

    def sentence_similarities(self, h: PreparedHeadline, b: PreparedBody) -> np.ndarray:
        return (b.sentence_matrix @ h.vector.T).toarray().ravel()

    def excerpt(self, h: PreparedHeadline, b: PreparedBody) -> str:
        """What the reader sees of a body: its sentences, most like the headline first (the reader
        cuts the end to its token budget, so the least relevant text goes)."""
        sims = self.sentence_similarities(h, b)
        return " ".join(b.texts[i] for i in np.argsort(-sims, kind="stable")[:EXCERPT_SENTENCES] if b.texts[i])

    def _unmatched_share(self, headline: set[str], body: set[str]) -> float:
        """The idf-weighted share of the headline's words that the body never uses: an agreeing body
        restates the claim, so its rarest words should be there."""
        top_idf = float(self.vocabulary.idf.max()) if len(self.vocabulary.idf) else 1.0
        weight = {w: (self.vocabulary.idf[j] if (j := self.vocabulary.index.get(w)) is not None else top_idf)
                  for w in headline}
        total = sum(weight.values())
        return sum(v for w, v in weight.items() if w not in body) / total if total else 0.0

    def pair(self, h: PreparedHeadline, b: PreparedBody) -> np.ndarray:
        sims = self.sentence_similarities(h, b)
        top = np.argsort(-sims, kind="stable")[:TOP_SENTENCES]
        top_words = [w for i in top for w in b.sentence_words[i]]
        h_content = set(h.content)
        n_h = max(len(h_content), 1)
        h_bigrams = _bigrams(h.content)
        h_negation = sum(w in NEGATION for w in h.words)
        top_negation = sum(w in NEGATION for w in top_words)
        h_polarity = h_negation + sum(w in REVERSING for w in h.words)
        top_polarity = top_negation + sum(w in REVERSING for w in top_words)
        best = int(top[0]) if len(top) else 0
        base = [
            float((h.vector @ b.body_vector.T).toarray()[0, 0]),
            float((h.vector @ b.lead_vector.T).toarray()[0, 0]),
            float(sims.max()) if len(sims) else 0.0,
            float(sims[top].mean()) if len(top) else 0.0,
            best / max(len(sims) - 1, 1),
            len(h_content & b.content) / n_h,
            len(h_content & b.lead_content) / n_h,
            len(h_content & b.content) / max(len(h_content | b.content), 1),
            len(h_bigrams & b.bigrams) / max(len(h_bigrams), 1),
            min(sum(w in _REFUTING for w in h.words), 3),
            min(sum(w in _HEDGING for w in h.words), 3),
            min(h_negation, 3),
            float("?" in h.text),
            math.log1p(len(h.words)),
            math.log1p(b.n_words),
            min(b.refuting_rate, 10.0),
            min(b.hedging_rate, 20.0),
            min(sum(w in _REFUTING for w in top_words), 5),
            min(sum(w in _HEDGING for w in top_words), 5),
            min(sum(w in _CONFIRMING for w in top_words), 5),
            min(top_negation, 5),
            float((h_polarity % 2) != (top_polarity % 2)),
            min(h_polarity - h_negation, 3),
            self._unmatched_share(h_content, b.content),
            self._unmatched_share(h_content, b.lead_content),
        ]
        return np.concatenate([np.array(base), b.cue_presence, self._sentence_stance(h, h_content, b)])

    def _sentence_stance(self, h: PreparedHeadline, h_content: set[str], b: PreparedBody) -> np.ndarray:
        """How the sentences that carry the headline's words speak: hedged, denied, negated or
        confirmed; how often its words come just after a denial; and the body's overall shape."""
        n_h = max(len(h_content), 1)
        coverage = np.array([len(h_content & c) / n_h for c in b.sentence_content])
        order = np.argsort(-coverage, kind="stable")
        matching = coverage >= MATCHING_COVERAGE
        cues_matching = (b.sentence_cues[matching] > 0).mean(axis=0) if matching.any() else np.zeros(4)
        hits = sum(b.term_counts.get(w, (0, 0))[0] for w in h_content)
        denied = sum(b.term_counts.get(w, (0, 0))[1] for w in h_content)
        return np.concatenate([
            [coverage.max(), coverage[order[:TOP_SENTENCES]].mean(), math.log1p(int(matching.sum()))],
            cues_matching, np.minimum(b.sentence_cues[order[0]], 3.0),
            [min(denied, 10), denied / hits if hits else 0.0, math.log1p(hits)],
            b.shape,
            [float(":" in h.text), float(any(q in h.text for q in "\"“‘'"))],
        ])


class TreeEnsemble:
    """Gradient-boosted regression trees read as flat arrays (exported from scikit-learn's
    ``GradientBoostingClassifier``): one logit per class (one only, the positive, for two classes),
    summed over that class's trees, then softmax.

    Node ``i`` of the flat arrays sends a row left when ``x[feature[i]] <= threshold[i]`` (compared
    in float32, as scikit-learn does); a node with ``left[i] == -1`` is a leaf worth ``value[i]``
    (already scaled by the learning rate). ``roots[t]`` is tree t's first node, ``tree_class[t]``
    the logit it adds to.
    """

    FIELDS = ("feature", "threshold", "left", "right", "value", "roots", "tree_class", "bias")

    def __init__(self, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
                 value: np.ndarray, roots: np.ndarray, tree_class: np.ndarray, bias: np.ndarray) -> None:
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.float64)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.tree_class = np.asarray(tree_class, dtype=np.int64)
        self.bias = np.asarray(bias, dtype=np.float64)

    def logits(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x).astype(np.float32)
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        while True:
            inner = self.left[node] >= 0
            if not inner.any():
                break
            go_left = x[rows, np.where(inner, self.feature[node], 0)] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        logits = np.tile(self.bias, (len(x), 1))
        for k in range(len(self.bias)):
            logits[:, k] += self.value[node[:, self.tree_class == k]].sum(axis=1)
        return logits

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        z = self.logits(x)
        if z.shape[1] == 1:  # two classes: the logit of the positive one
            z = np.hstack([np.zeros_like(z), z])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {prefix + name: getattr(self, name) for name in self.FIELDS}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> TreeEnsemble:
        return cls(*(arrays[prefix + name] for name in cls.FIELDS))


@dataclass
class StancePrediction:
    stance: str
    probabilities: dict[str, float]


def blend_stages(trees: np.ndarray, read: np.ndarray, blend: float) -> np.ndarray:
    """P(agree), P(disagree), P(discuss) given related: the trees' rows and the reader's, mixed
    geometrically with weight ``blend`` on the reader, and renormalised."""
    if blend <= 0.0:
        return trees
    z = (1.0 - blend) * np.log(np.clip(trees, 1e-9, None)) + blend * np.log(np.clip(read, 1e-9, None))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def four_way(p_related: np.ndarray, stage: np.ndarray) -> np.ndarray:
    """Rows of P(unrelated), P(agree), P(disagree), P(discuss) from P(related) and P(stance | related)."""
    return np.hstack([1.0 - p_related[:, None], p_related[:, None] * stage])


Pair = tuple[PreparedHeadline, PreparedBody]


class StanceModel:
    """(headline, body) → FNC-1 stance with probabilities; also the per-article headline check.

    Stage 1, boosted trees over the word features, gives P(related). Stage 2 gives P(stance | related):
    the trees' reading of the same features, blended with the reader's (``reader.py``) when the
    model has one, for every pair that stage 1 does not rule out (``READ_FROM``).
    """

    def __init__(self, vocabulary: Vocabulary, related: TreeEnsemble, stance: TreeEnsemble,
                 decision_weights: dict[str, float], info: dict | None = None,
                 reader: StanceReader | None = None, blend: float = 0.0) -> None:
        self.vocabulary = vocabulary
        self.features = FeatureMaker(vocabulary)
        self.related = related
        self.stance = stance
        self.decision_weights = decision_weights
        self.info = info or {}
        self.reader = reader
        self.blend = blend if reader is not None else 0.0

    # -- files -------------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"idf": self.vocabulary.idf, **self.related.arrays("related_"), **self.stance.arrays("stance_")}
        np.savez_compressed(directory / "stance.npz", **arrays)
        settings = {"format": 1, "stances": list(STANCES), "features": FEATURE_NAMES,
                    "decision_weights": self.decision_weights, "info": self.info,
                    "terms": self.vocabulary.terms}
        if self.reader is not None:
            settings["reader"] = {**self.reader.save(directory), "blend": self.blend}
        (directory / "stance.json").write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n",
                                               encoding="utf-8")

    @classmethod
    def load(cls, directory: Path = WEIGHTS_DIR) -> StanceModel:
        try:
            settings = json.loads((directory / "stance.json").read_text(encoding="utf-8"))
            arrays = dict(np.load(directory / "stance.npz", allow_pickle=False))
        except FileNotFoundError as e:
            raise PropscanError(f"no stance model in {directory}; run `propscan train`") from e
        if settings.get("features") != FEATURE_NAMES:
            raise PropscanError(f"the stance model in {directory} was trained with other features; retrain it")
        reader, blend = None, 0.0
        if "reader" in settings:
            from propscan.stance.reader import READER_FILE, StanceReader

            if not (directory / READER_FILE).is_file():
                raise PropscanError(f"no stance model in {directory} ({READER_FILE} missing); run `propscan train`")
            reader, blend = StanceReader.load(directory, settings["reader"]), float(settings["reader"]["blend"])
        return cls(Vocabulary(settings["terms"], arrays["idf"]),
                   TreeEnsemble.from_arrays(arrays, "related_"),
                   TreeEnsemble.from_arrays(arrays, "stance_"),
                   settings["decision_weights"], settings.get("info", {}), reader, blend)

    # -- prediction --------------------------------------------------------------------------
    def tree_probabilities(self, features: np.ndarray) -> np.ndarray:
        """Rows of P(unrelated), P(agree), P(disagree), P(discuss) from the trees alone."""
        features = np.atleast_2d(features)
        return four_way(self.related.predict_proba(features)[:, 1], self.stance.predict_proba(features))

    def probabilities(self, features: np.ndarray, pairs: Sequence[Pair], *, bulk: bool = False) -> np.ndarray:
        """Rows of P(unrelated), P(agree), P(disagree), P(discuss), in ``STANCES`` order, for the
        ``pairs`` whose features are ``features``: the trees' stage 2 blended with the reader's
        (``bulk``: see ``StanceReader.probabilities``)."""
        features = np.atleast_2d(features)
        p_related = self.related.predict_proba(features)[:, 1]
        stage = self.stance.predict_proba(features)
        if self.reader is not None:
            rows = np.flatnonzero(p_related >= READ_FROM)
            read = self.reader.probabilities([pairs[i][0].text for i in rows],
                                             [self.features.excerpt(*pairs[i]) for i in rows], bulk=bulk)
            stage[rows] = blend_stages(stage[rows], read, self.blend)
        return four_way(p_related, stage)

    def decide(self, probabilities: np.ndarray) -> list[str]:
        """The stance of each row: the most probable after the decision weights. One rule for FNC-1
        files, for an article's verdict and for each evidence sentence."""
        weights = np.array([self.decision_weights.get(s, 1.0) for s in STANCES])
        return [STANCES[i] for i in np.argmax(probabilities * weights, axis=1)]

    def predict_pairs(self, headlines: Sequence[str], body_ids: Sequence[str],
                      bodies: dict[str, str]) -> list[StancePrediction]:
        """Stances for many pairs; each body and each distinct headline is prepared once."""
        prepared_bodies = {bid: self.features.body(bodies[bid]) for bid in dict.fromkeys(body_ids)}
        prepared_headlines = {h: self.features.headline(h) for h in dict.fromkeys(headlines)}
        if not headlines:
            return []
        pairs = [(prepared_headlines[h], prepared_bodies[b]) for h, b in zip(headlines, body_ids, strict=True)]
        probs = self.probabilities(np.vstack([self.features.pair(h, b) for h, b in pairs]), pairs, bulk=True)
        return [StancePrediction(s, _as_dict(p)) for s, p in zip(self.decide(probs), probs, strict=True)]

    def check(self, text: str, title: tuple[int, int] | None,
              sentences: list[tuple[int, int]]) -> HeadlineCheck | None:
        """The stance of the body (the sentences after the title) towards the title, with evidence.

        The stance is decided as for FNC-1 files (``decide``); ``supported`` is True only for agree.
        """
        if title is None:
            return None
        body_ranges = [(s, e) for s, e in sentences if s >= title[1]]
        headline_text = text[title[0]:title[1]].strip()
        if not body_ranges or not headline_text:
            return None
        h = self.features.headline(headline_text)
        b = self.features.body(text, body_ranges)
        probs = self.probabilities(self.features.pair(h, b), [(h, b)])
        stance = self.decide(probs)[0]
        return HeadlineCheck(stance=stance, probabilities=_as_dict(probs[0]), supported=stance == "agree",
                             evidence=self._evidence(text, h, b, stance))

    def _evidence(self, text: str, h: PreparedHeadline, b: PreparedBody, stance: str) -> list[Evidence]:
        """The sentences behind the verdict and the strongest ones against it.

        The body sentences most like the headline (TF-IDF) are each judged alone, as a one-sentence
        body, by this model and ``decide``: agree → supports, disagree → contradicts, discuss →
        discusses, unrelated → no evidence. The evidence is the most probable sentences whose own
        stance is the verdict, then the most probable sentence of each other relation.
        """
        if stance == "unrelated":
            return []
        sims = self.features.sentence_similarities(h, b)
        candidates, seen = [], set()
        for i in np.argsort(-sims, kind="stable")[:EVIDENCE_CANDIDATES]:
            start, end = b.ranges[i]
            key = " ".join(text[start:end].lower().split())
            if sims[i] <= 0.0 or key in seen:  # an article that repeats a sentence cites it once
                continue
            seen.add(key)
            candidates.append(b.ranges[i])
        if not candidates:
            return []
        pairs = [(h, self.features.body(text, [r])) for r in candidates]
        probs = self.probabilities(np.vstack([self.features.pair(*pair) for pair in pairs]), pairs)
        judged = [(own, float(p[STANCES.index(own)]), r)
                  for own, p, r in zip(self.decide(probs), probs, candidates, strict=True) if own != "unrelated"]
        driving = sorted((j for j in judged if j[0] == stance), key=lambda j: -j[1])[:EVIDENCE_SENTENCES]
        counter = [max(group, key=lambda j: j[1]) for other in RELATED_STANCES if other != stance
                   if (group := [j for j in judged if j[0] == other])]
        return [Evidence(start=start, end=end, text=text[start:end], relation=RELATIONS[own],
                         score=round(score, 4))
                for own, score, (start, end) in driving + sorted(counter, key=lambda j: -j[1])]


def _as_dict(row: np.ndarray) -> dict[str, float]:
    return {s: round(float(p), 4) for s, p in zip(STANCES, row, strict=True)}


@cache
def load_stance_model() -> StanceModel:
    """The shipped stance model, loaded once per process."""
    return StanceModel.load(WEIGHTS_DIR)
