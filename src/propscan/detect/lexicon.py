"""A transparent word-list detector: the first detector behind the contract, and a fast fallback.

It knows a few dozen cue words per technique and nothing about context, so it is far less
accurate than the trained model; it exists so that every command works without model files, and
as a baseline for the benchmark.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from propscan.detect.base import DetectInput, Detection, Region, TechniqueSpan

_CUES: dict[str, tuple[str, ...]] = {
    "Name_Calling,Labeling": (
        "puppets?", "thugs?", "traitors?", "globalists?", "libtards?", "snowflakes?", "terrorists?",
        "radicals?", "extremists?", "lunatics?", "crooks?", "regime", "propagandists?", "fascists?",
        "communists?", "jihadis?", "zealots?", "cronies", "stooges?", "shills?", "idiots?", "morons?",
    ),
    "Loaded_Language": (
        "outrageous", "disgusting", "shameful", "horrific", "evil", "vile", "sinister", "brutal",
        "ruthless", "reckless", "devastating", "slaughter(?:ed)?", "destroy(?:ed|ing)?", "radical",
        "hysteria", "hysterical", "insane", "corrupt", "disgrace(?:ful)?", "monstrous", "barbaric",
        "beg(?:s|ged|ging)?", "smear(?:s|ed)?", "witch ?hunt", "hoax", "scam", "hatred", "treason",
    ),
    "Appeal_to_fear-prejudice": (
        "invasion", "threat to our", "will destroy", "catastroph(?:e|ic)", "under attack",
    ),
    "Flag-Waving": ("patriots?", "our nation", "our country", "our great", "american people"),
    "Doubt": ("so-called", "allegedly", "supposedly", "questionable"),
    "Exaggeration,Minimisation": ("worst ever", "greatest", "never before", "unprecedented", "mere"),
}
_PATTERNS = [(technique, re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE))
             for technique, words in _CUES.items()]
CONFIDENCE = 0.6


class LexiconDetector:
    name = "lexicon"
    default_min_confidence = 0.0  # its confidences are fixed cue weights, not probabilities to threshold

    def _spans(self, doc: DetectInput) -> list[TechniqueSpan]:
        found = []
        for start, end in doc.sentences + ([doc.title] if doc.title else []):
            for technique, pattern in _PATTERNS:
                for m in pattern.finditer(doc.text, start, end):
                    found.append(TechniqueSpan(m.start(), m.end(), technique, CONFIDENCE))
        unique = {(s.start, s.end, s.technique): s for s in found}
        return sorted(unique.values(), key=lambda s: (s.start, s.end, s.technique))

    def detect(self, docs: Sequence[DetectInput]) -> list[Detection]:
        results = []
        for doc in docs:
            spans = self._spans(doc)
            regions = [Region(s.start, s.end, s.confidence) for s in spans]
            scores = []
            for start, end in doc.sentences:
                inside = [s for s in spans if start <= s.start and s.end <= end]
                miss = 1.0
                for s in inside:
                    miss *= 1.0 - s.confidence
                scores.append(round(1.0 - miss, 4) if inside else 0.1)
            results.append(Detection(regions=regions, spans=spans, sentence_scores=scores))
        return results

    def classify(self, doc: DetectInput, spans: Sequence[tuple[int, int]]) -> list[list[tuple[str, float]]]:
        ranked = []
        for start, end in spans:
            fragment = doc.text[start:end]
            hits = [t for t, p in _PATTERNS if p.search(fragment)]
            order = hits + [t for t in ("Loaded_Language", "Name_Calling,Labeling") if t not in hits]
            ranked.append([(t, CONFIDENCE if t in hits else 0.3) for t in order])
        return ranked
