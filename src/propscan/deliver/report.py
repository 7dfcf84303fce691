"""The terminal report: the article with technique spans highlighted, and a per-technique summary."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from propscan.document import Analysis
from propscan.taxonomy import BY_ID


def render_text(analysis: Analysis) -> Text:
    """The article text with each span styled in its technique's colour (innermost span on top)."""
    text = Text(analysis.text)
    for r in analysis.removed:
        text.stylize("dim strike", r.start, r.end)
    for span in sorted(analysis.spans, key=lambda s: s.start - s.end):
        if span.technique:
            text.stylize(f"bold on {BY_ID[span.technique].colour}", span.start, span.end)
    return text


def summary_table(analysis: Analysis) -> Table:
    table = Table(title="Techniques", show_lines=False)
    table.add_column("technique")
    table.add_column("spans", justify="right")
    table.add_column("examples")
    for technique, count in sorted(analysis.technique_counts().items(), key=lambda kv: -kv[1]):
        examples = [s.text for s in analysis.spans if s.technique == technique][:3]
        name = Text(BY_ID[technique].name, style=f"bold {BY_ID[technique].colour}")
        table.add_row(name, str(count), "; ".join(f"“{e[:60]}”" for e in examples))
    return table


def print_report(analysis: Analysis, console: Console | None = None) -> None:
    console = console or Console()
    console.rule(f"[bold]{analysis.title or analysis.id}")
    console.print(render_text(analysis))
    console.print()
    if analysis.headline:
        h = analysis.headline
        verdict = "supported" if h.supported else "NOT supported"
        console.print(f"[bold]Headline:[/] {verdict} by the body (stance: {h.stance}, "
                      f"p={h.probabilities.get(h.stance, 0):.2f})")
        for e in h.evidence:
            console.print(f"  {e.relation}: “{e.text[:120]}”")
    if analysis.score is None:
        console.print("[bold]Article score:[/] none (no article)")
    else:
        console.print(f"[bold]Article score:[/] {analysis.score:.2f} (expected share of sentences "
                      f"using a technique; {len(analysis.sentences)} sentences)")
    if analysis.removed:
        console.print(f"[dim]Page furniture ignored: {len(analysis.removed)} range(s)[/]")
    for w in analysis.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    if analysis.spans:
        console.print(summary_table(analysis))
    else:
        console.print("No propaganda techniques found.")
