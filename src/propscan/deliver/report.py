"""The terminal report of one analysis, for people at a terminal and for pipes.

Every span is numbered in reading order and marked inline: ``[3:LL `` opens span 3 (loaded
language) and ``]3`` closes it. Numbered closers keep nested and crossing spans unambiguous, and a
legend under the article lists each span's technique, confidence and text. On a terminal the
marked text is also coloured: the background is the innermost span's technique colour, and text
inside more than one span is underlined. Anywhere else (a file, ``less``, an email), or with
``--no-color`` or ``NO_COLOR``, the same report is written as plain text with no escape codes, and
page furniture in the article is replaced by ``{F2: view counter}`` where it was.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from rich.color import Color, ColorSystem
from rich.console import Console
from rich.style import Style
from rich.text import Text

from propscan.deliver.shorten import shorten
from propscan.document import Analysis, RemovedRange, Span
from propscan.taxonomy import BY_ID

# Short tags for the inline markers; the legend under the article spells each one out.
TAGS: dict[str, str] = {
    "Appeal_to_Authority": "AUTH",
    "Appeal_to_fear-prejudice": "FEAR",
    "Bandwagon,Reductio_ad_hitlerum": "BAND",
    "Black-and-White_Fallacy": "BW",
    "Causal_Oversimplification": "CAUSE",
    "Doubt": "DOUBT",
    "Exaggeration,Minimisation": "EXAG",
    "Flag-Waving": "FLAG",
    "Loaded_Language": "LL",
    "Name_Calling,Labeling": "NC",
    "Repetition": "REP",
    "Slogans": "SLOGAN",
    "Thought-terminating_Cliches": "CLICHE",
    "Whataboutism,Straw_Men,Red_Herring": "WHAT",
}
UNCLASSIFIED_TAG = "SPAN"
UNCLASSIFIED_COLOUR = "#bbbbbb"

# Quote lengths in characters: a legend or furniture line, a table example, an evidence sentence.
SPAN_QUOTE = 72
EXAMPLE_QUOTE = 48
EVIDENCE_QUOTE = 120
FURNITURE_QUOTE = 72
EXAMPLES_PER_TECHNIQUE = 3

# An article may carry control characters (an escape sequence in scraped text can recolour or
# retitle a terminal): each is shown as its visible symbol, one character for one, so nothing the
# article holds reaches the terminal as a command. Line ends and tabs stay; Rich drops carriage returns.
_VISIBLE_CONTROLS = {c: chr(0x2400 + c) for c in range(32) if c not in (9, 10, 13)}
_VISIBLE_CONTROLS |= {127: "\u2421", **{c: "\ufffd" for c in range(128, 160)}}

_COLOUR_SYSTEMS = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT,
                   "truecolor": ColorSystem.TRUECOLOR, "windows": ColorSystem.WINDOWS}


@dataclass(frozen=True)
class NumberedSpan:
    """A span with its number in the report (1 is the first to open in the text)."""

    number: int
    span: Span

    @property
    def tag(self) -> str:
        return TAGS[self.span.technique] if self.span.technique else UNCLASSIFIED_TAG

    @property
    def name(self) -> str:
        return BY_ID[self.span.technique].name if self.span.technique else "unclassified span"

    @property
    def colour(self) -> str:
        return BY_ID[self.span.technique].colour if self.span.technique else UNCLASSIFIED_COLOUR

    @property
    def opener(self) -> str:
        return f"[{self.number}:{self.tag} "

    @property
    def closer(self) -> str:
        return f"]{self.number}"


def number_spans(spans: Sequence[Span]) -> list[NumberedSpan]:
    """Spans numbered by where they open; of two opening together the longer (outer) one is first."""
    ordered = sorted(spans, key=lambda s: (s.start, -s.end, s.technique or ""))
    return [NumberedSpan(number, span) for number, span in enumerate(ordered, 1)]


@dataclass(frozen=True)
class Piece:
    """One piece of the marked-up article: a marker, a stretch of text, or replaced furniture."""

    kind: str  # "open", "close", "text" or "furniture"
    start: int = 0
    end: int = 0
    marked: NumberedSpan | None = None
    inside: tuple[NumberedSpan, ...] = ()
    furniture: int = 0


def pieces(text: str, numbered: Sequence[NumberedSpan], removed: Sequence[RemovedRange]) -> Iterator[Piece]:
    """The text cut at every span edge, with each span's opener and closer where it starts and ends.

    Where several spans close at one place the one opened last closes first, so nested spans read
    as nested. Furniture that no span touches becomes one piece standing for the whole range.
    """
    opening: dict[int, list[NumberedSpan]] = defaultdict(list)
    closing: dict[int, list[NumberedSpan]] = defaultdict(list)
    for m in numbered:
        opening[m.span.start].append(m)
        closing[m.span.end].append(m)
    spanned = _union(m.span for m in numbered)
    span_starts = [start for start, _ in spanned]
    standing_in: dict[int, tuple[int, RemovedRange]] = {}
    covered_to = -1
    for number, r in sorted(enumerate(removed, 1), key=lambda item: item[1].start):
        i = bisect_left(span_starts, r.end) - 1  # the last stretch of spans starting before r ends
        touches_span = i >= 0 and spanned[i][1] > r.start
        if not touches_span and r.start >= covered_to:
            standing_in[r.start] = (number, r)
            covered_to = r.end
    edges = sorted({0, len(text), *opening, *closing, *standing_in,
                    *(r.end for _, r in standing_in.values())})
    active: list[NumberedSpan] = []
    position = 0
    for i, edge in enumerate(edges):
        if edge < position:
            continue
        for m in sorted(closing.get(edge, ()), key=lambda m: -m.number):
            active.remove(m)
            yield Piece("close", edge, edge, marked=m)
        for m in opening.get(edge, ()):
            active.append(m)
            yield Piece("open", edge, edge, marked=m)
        if edge in standing_in:
            number, r = standing_in[edge]
            yield Piece("furniture", r.start, r.end, furniture=number)
            position = r.end
        elif i + 1 < len(edges):
            yield Piece("text", edge, edges[i + 1], inside=tuple(active))
            position = edges[i + 1]


def _visible(text: str) -> str:
    return text.translate(_VISIBLE_CONTROLS)


def _union(spans: Iterable[Span]) -> list[tuple[int, int]]:
    """The stretches of text inside some span, in order and apart."""
    stretches: list[tuple[int, int]] = []
    for span in sorted(spans, key=lambda s: s.start):
        if stretches and span.start <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], max(stretches[-1][1], span.end))
        else:
            stretches.append((span.start, span.end))
    return stretches


def _readable_on(colour: str, colour_system: str | None) -> str:
    """Black or white, whichever reads better on a background of ``colour`` as the terminal shows it.

    A terminal of 8 or 256 colours shows the nearest colour it has, which can be far lighter or
    darker than the technique's own, so the choice is made on that one.
    """
    shown = Color.parse(colour)
    if colour_system in _COLOUR_SYSTEMS:
        shown = shown.downgrade(_COLOUR_SYSTEMS[colour_system])
    red, green, blue = shown.get_truecolor()
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else "white"


def marked_text(analysis: Analysis, numbered: Sequence[NumberedSpan], *, colour: bool,
                colour_system: str | None = None) -> Text:
    """The article with every span's opener and closer inline, styled when ``colour`` (for a
    terminal of ``colour_system``, Rich's name for it, when known)."""
    text = _visible(analysis.text)
    reasons = {number: r for number, r in enumerate(analysis.removed, 1)}
    out = Text()
    for piece in pieces(text, numbered, analysis.removed):
        if piece.kind == "open":
            out.append(piece.marked.opener, Style(color=piece.marked.colour, bold=True) if colour else None)
        elif piece.kind == "close":
            out.append(piece.marked.closer, Style(color=piece.marked.colour, bold=True) if colour else None)
        elif piece.kind == "furniture" and colour:
            out.append(f"{{F{piece.furniture}}}", "dim")
            out.append(text[piece.start:piece.end], "dim strike")
        elif piece.kind == "furniture":
            out.append(f"{{F{piece.furniture}: {reasons[piece.furniture].reason}}}")
        elif colour and piece.inside:
            innermost = min(piece.inside, key=lambda m: (m.span.end - m.span.start, -m.number))
            out.append(text[piece.start:piece.end],
                       Style(bgcolor=innermost.colour, color=_readable_on(innermost.colour, colour_system),
                             underline=len(piece.inside) > 1))
        else:
            out.append(text[piece.start:piece.end])
    out.rstrip()
    return out


def _columns(rows: Sequence[Sequence[Text | str]], right: Sequence[int] = ()) -> list[Text]:
    """Rows padded into aligned columns, two spaces apart and indented by two."""
    cells = [[c if isinstance(c, Text) else Text(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))] if cells else []
    lines = []
    for row in cells:
        line = Text("  ")
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - len(cell))
            if i == len(row) - 1:
                line.append_text(Text(pad) + cell if i in right else cell)
            else:
                line.append_text(Text(pad) + cell if i in right else cell + Text(pad))
                line.append("  ")
        lines.append(line)
    return lines


def _quote(text: str, limit: int) -> str:
    return f"“{_visible(shorten(text, limit))}”"


def span_legend(numbered: Sequence[NumberedSpan], *, colour: bool) -> list[Text]:
    """One line per span: number, tag, technique, confidence and (shortened) text."""
    heading = Text("Spans", style="bold" if colour else None)
    heading.append(" (“[n:TAG ” opens span n, “]n” closes it; nested and overlapping spans keep their numbers):")
    rows = [(str(m.number), Text(m.tag, style=Style(color=m.colour, bold=True) if colour else None),
             m.name, f"{m.span.confidence:.2f}", _quote(m.span.text, SPAN_QUOTE)) for m in numbered]
    return [heading, *_columns(rows, right=(0,))]


def technique_summary(analysis: Analysis, numbered: Sequence[NumberedSpan], *, colour: bool) -> list[Text]:
    """Techniques by number of spans, each with a few of its spans' texts."""
    counts = analysis.technique_counts()
    rows = []
    for technique, count in sorted(counts.items(), key=lambda kv: (-kv[1], BY_ID[kv[0]].name)):
        examples: list[str] = []
        for m in numbered:
            if m.span.technique == technique and m.span.text not in examples:
                examples.append(m.span.text)
        quotes = "; ".join(_quote(e, EXAMPLE_QUOTE) for e in examples[:EXAMPLES_PER_TECHNIQUE])
        if len(examples) > EXAMPLES_PER_TECHNIQUE:
            quotes += "; …"
        style = Style(color=BY_ID[technique].colour, bold=True) if colour else None
        rows.append((Text(BY_ID[technique].name, style=style), TAGS[technique], str(count), quotes))
    if not rows:
        return []
    return [Text("Techniques", style="bold" if colour else None) + Text(" (spans, examples):"),
            *_columns(rows, right=(2,))]


def _score_line(analysis: Analysis) -> str:
    if analysis.score is None:
        see = " (see the warnings above)" if analysis.warnings else ""
        return f"Article score: none, no article score for this text{see}"
    return (f"Article score: {analysis.score:.2f} (expected share of sentences using a technique; "
            f"{len(analysis.sentences)} sentences)")


def headline_lines(analysis: Analysis) -> list[str]:
    h = analysis.headline
    if h is None:
        return ["Headline: not checked (no headline with a body to compare it to)"]
    verdict = "supported" if h.supported else "NOT supported"
    lines = [f"Headline: {verdict} by the body (stance: {h.stance}, p={h.probabilities.get(h.stance, 0):.2f})"]
    lines += [f"  {e.relation}: {_quote(e.text, EVIDENCE_QUOTE)}" for e in h.evidence]
    return lines


def furniture_lines(analysis: Analysis) -> list[Text]:
    """Every range of page furniture set aside: its number, why, and its (shortened) text."""
    if not analysis.removed:
        return []
    n = len(analysis.removed)
    rows = [(f"F{number}", r.reason, _quote(analysis.text[r.start:r.end], FURNITURE_QUOTE))
            for number, r in enumerate(analysis.removed, 1)]
    heading = f"Page furniture ignored ({n} range{'s' if n != 1 else ''}, not analyzed):"
    return [Text(heading), *_columns(rows)]


def _source_line(analysis: Analysis) -> str:
    where = analysis.source.url or analysis.source.path or analysis.id
    return _visible(f"{where} · model: {analysis.model}" if analysis.model else where)


def _hidden_line(analysis: Analysis, hidden: int) -> str:
    return (f"{hidden} less sure span{'s' if hidden != 1 else ''} not shown (confidence under "
            f"{analysis.min_confidence:.2f}, the precision-first default; --min-confidence 0 shows every span).")


def report_blocks(analysis: Analysis, *, colour: bool, colour_system: str | None = None,
                  hidden: int = 0) -> list[Text]:
    """The report below its header, as lines and blocks of text (styled when ``colour``); ``hidden``
    spans fell under the analysis's ``min_confidence`` and are only counted."""
    numbered = number_spans(analysis.spans)
    blocks: list[Text] = [Text(_source_line(analysis), style="dim" if colour else None)]
    warning_style = "bold yellow" if colour else None
    blocks += [Text("Warning: ", style=warning_style) + Text(_visible(w)) for w in analysis.warnings]
    blocks += [Text(), marked_text(analysis, numbered, colour=colour, colour_system=colour_system), Text()]
    if numbered:
        blocks += [*span_legend(numbered, colour=colour), Text()]
        blocks += [*technique_summary(analysis, numbered, colour=colour), Text()]
    else:
        blocks += [Text("No propaganda techniques found."), Text()]
    if hidden:
        blocks += [Text(_hidden_line(analysis, hidden), style="dim" if colour else None), Text()]
    blocks += [Text(_score_line(analysis)), *map(Text, headline_lines(analysis))]
    if analysis.removed:
        blocks += [Text(), *furniture_lines(analysis)]
    return blocks


def _title(analysis: Analysis) -> str:
    return _visible(shorten(analysis.title or analysis.id, 100))


def plain_report(analysis: Analysis, *, hidden: int = 0) -> str:
    """The whole report as plain text: no escape codes, no wrapping, spans marked inline."""
    title = _title(analysis)
    lines = [title, "=" * len(title),
             *(block.plain for block in report_blocks(analysis, colour=False, hidden=hidden))]
    return "\n".join(lines) + "\n"


def wants_colour(console: Console) -> bool:
    """Colour only for a terminal that can show it, unless NO_COLOR (https://no-color.org) is set."""
    return console.is_terminal and not console.is_dumb_terminal and not os.environ.get("NO_COLOR")


def print_report(analysis: Analysis, console: Console | None = None, *, colour: bool | None = None,
                 hidden: int = 0) -> None:
    """Print the report: in colour on a terminal, as plain marked-up text anywhere else.

    ``colour`` True or False overrides the choice (``--color`` / ``--no-color``); ``hidden`` is the
    number of spans left out under the analysis's ``min_confidence``, which the report counts.
    """
    console = console or Console()
    if colour is None:
        colour = wants_colour(console)
    if not colour:
        console.file.write(plain_report(analysis, hidden=hidden) + "\n")
        console.file.flush()
        return
    console.rule(Text(_title(analysis), style="bold"))
    for block in report_blocks(analysis, colour=True, colour_system=console.color_system, hidden=hidden):
        console.print(block)
    console.print()

