"""What the result page shows, computed from an ``Analysis``: text segments, highlight styles, bars.

The article text is split at every span and removed-range boundary, so each segment is covered by
one fixed set of spans; a segment under two techniques lists both and is drawn with both colours.
``static/app.js`` redraws the same styles when the threshold slider hides weaker spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from propscan.document import Analysis
from propscan.taxonomy import BY_ID, TECHNIQUES

UNCLASSIFIED = {"name": "Propaganda (technique not classified)", "colour": "#888888",
                "definition": "A fragment the detector marks as propaganda without naming a technique.",
                "example": ""}


@dataclass
class Segment:
    start: int
    end: int
    text: str
    spans: list[int] = field(default_factory=list)  # indices into Analysis.spans
    removed: str | None = None  # the reason, when the segment is page furniture
    style: str = ""  # the highlight of its spans, all shown


def technique_info(technique: str | None) -> dict[str, str]:
    if technique is None or technique not in BY_ID:
        return UNCLASSIFIED
    t = BY_ID[technique]
    return {"name": t.name, "colour": t.colour, "definition": t.definition, "example": t.example}


def segments(analysis: Analysis) -> list[Segment]:
    """The text cut at every span and removed-range boundary, each piece with the spans over it."""
    text = analysis.text
    bounds = {0, len(text)}
    for r in [*analysis.spans, *analysis.removed]:
        bounds.update((r.start, r.end))
    cuts = sorted(bounds)
    result = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        covering = [i for i, s in enumerate(analysis.spans) if s.start <= start and end <= s.end]
        removed = next((r.reason for r in analysis.removed if r.start <= start and end <= r.end), None)
        style = highlight_style([technique_info(analysis.spans[i].technique)["colour"] for i in covering])
        result.append(Segment(start, end, text[start:end], covering, removed, style))
    return result


def highlight_style(colours: list[str]) -> str:
    """A tint of the first colour and one stacked underline per technique (same rule as app.js)."""
    if not colours:
        return ""
    shadows = ", ".join(f"inset 0 -{3 * (i + 1)}px 0 {c}" for i, c in enumerate(colours))
    return f"background-color: {colours[0]}33; box-shadow: {shadows}; padding-bottom: {3 * len(colours) - 3}px"


def page_data(analysis: Analysis) -> dict:
    """What app.js needs: every span and every technique's description (inserted as escaped JSON)."""
    used = {s.technique for s in analysis.spans}
    techniques = {t.id: technique_info(t.id) for t in TECHNIQUES}
    if None in used:
        techniques[""] = UNCLASSIFIED
    return {
        "spans": [{"start": s.start, "end": s.end, "technique": s.technique or "", "confidence": s.confidence,
                   "text": s.text} for s in analysis.spans],
        "techniques": techniques,
    }


def technique_counts(analysis: Analysis) -> list[dict]:
    """One row per technique found, most frequent first, for the bar chart."""
    counts: dict[str, int] = {}
    for s in analysis.spans:
        counts[s.technique or ""] = counts.get(s.technique or "", 0) + 1
    top = max(counts.values(), default=1)
    rows = [{"technique": t, "count": n, "share": n / top, **technique_info(t or None)} for t, n in counts.items()]
    return sorted(rows, key=lambda r: (-r["count"], r["name"]))


def sentence_bars(analysis: Analysis) -> list[dict]:
    return [{"index": i + 1, "score": s.score, "text": analysis.text[s.start:s.end]}
            for i, s in enumerate(analysis.sentences)]


def removed_pieces(analysis: Analysis) -> list[dict]:
    return [{"reason": r.reason, "text": analysis.text[r.start:r.end].strip()} for r in analysis.removed]
