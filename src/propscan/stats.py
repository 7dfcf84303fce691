"""Corpus statistics: how much of a stored corpus uses propaganda techniques, overall, per technique,
per source and per month, as one typed object behind the terminal tables, ``--json``, the charts and
the ``/stats`` page of ``serve``.

Definitions (also in ``CorpusStats.definition``):

- A sentence *has a technique* when at least one detected span overlaps it by at least one
  character (the same rule the store uses for its ``n_technique_sentences`` column).
- Per technique, a sentence or an article *has* the technique when one of its spans of that
  technique overlaps it / lies in it; ``spans`` counts the spans themselves.
- The source of an article is ``Source.site``, else the host of ``Source.url``, else the folder of
  ``Source.path``, else ``unknown``. Its month is ``Source.date`` as ``YYYY-MM``, else ``unknown``.

Statistics are gathered in one streaming pass, so memory grows with the number of sources and
months, not with the corpus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePath
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from propscan.document import Analysis
from propscan.errors import PropscanError
from propscan.taxonomy import BY_ID, TECHNIQUE_IDS

DEFINITION = ("a sentence has a technique when at least one detected span overlaps it by at least one "
              "character; rates are shares of all sentences (or articles) in the group")
UNKNOWN = "unknown"
GROUPINGS = ("technique", "source", "month")
PLOT_SUFFIXES = (".png", ".svg")


class TechniqueStats(BaseModel):
    """How often one technique occurs in the corpus."""

    technique: str
    name: str
    spans: int = 0
    sentences: int = 0
    articles: int = 0
    sentence_rate: float = 0.0
    """Share of all sentences that have this technique."""
    article_rate: float = 0.0
    """Share of all articles with at least one span of this technique."""


class GroupStats(BaseModel):
    """The figures of one source or one month."""

    key: str
    articles: int = 0
    sentences: int = 0
    technique_sentences: int = 0
    share: float = 0.0
    """Share of the group's sentences that have a technique."""
    spans: int = 0
    mean_score: float = 0.0
    techniques: dict[str, int] = Field(default_factory=dict)
    """Spans per technique in the group."""


class CorpusStats(BaseModel):
    """The whole corpus: totals, then per technique, per source and per month."""

    definition: str = DEFINITION
    articles: int = 0
    sentences: int = 0
    technique_sentences: int = 0
    share: float = 0.0
    spans: int = 0
    mean_score: float = 0.0
    by_technique: list[TechniqueStats] = Field(default_factory=list)
    by_source: list[GroupStats] = Field(default_factory=list)
    by_month: list[GroupStats] = Field(default_factory=list)


def corpus_stats(analyses: Iterable[Analysis]) -> CorpusStats:
    """The statistics of some analyses, in one pass."""
    total = GroupStats(key="all")
    per_technique = {t: TechniqueStats(technique=t, name=BY_ID[t].name) for t in TECHNIQUE_IDS}
    sources: dict[str, GroupStats] = {}
    months: dict[str, GroupStats] = {}
    for analysis in analyses:
        counts = analysis.technique_counts()
        source, month = source_key(analysis), month_key(analysis)
        for group in (total, sources.setdefault(source, GroupStats(key=source)),
                      months.setdefault(month, GroupStats(key=month))):
            group.articles += 1
            group.sentences += len(analysis.sentences)
            group.technique_sentences += technique_sentence_count(analysis)
            group.spans += len(analysis.spans)
            group.mean_score += analysis.score or 0.0  # a sum until the pass ends; no article counts 0
            for technique, n in counts.items():
                group.techniques[technique] = group.techniques.get(technique, 0) + n
        for technique, n in counts.items():
            stats = per_technique[technique]
            stats.spans += n
            stats.articles += 1
            stats.sentences += technique_sentence_count(analysis, technique)
    for group in (total, *sources.values(), *months.values()):
        group.share = _ratio(group.technique_sentences, group.sentences)
        group.mean_score = _ratio(group.mean_score, group.articles)
    for stats in per_technique.values():
        stats.sentence_rate = _ratio(stats.sentences, total.sentences)
        stats.article_rate = _ratio(stats.articles, total.articles)
    return CorpusStats(
        articles=total.articles, sentences=total.sentences, technique_sentences=total.technique_sentences,
        share=total.share, spans=total.spans, mean_score=total.mean_score,
        by_technique=sorted(per_technique.values(), key=lambda t: (-t.spans, t.technique)),
        by_source=sorted(sources.values(), key=lambda g: (-g.articles, g.key)),
        by_month=sorted(months.values(), key=lambda g: (g.key == UNKNOWN, g.key)),
    )


def store_stats(store) -> CorpusStats:
    """The statistics of everything in a ``propscan.store.Store``."""
    return corpus_stats(analysis for _, analysis in store.iter_analyses())


def technique_sentence_count(analysis: Analysis, technique: str | None = None) -> int:
    """Sentences that at least one span (of ``technique``, when given) overlaps."""
    spans = [s for s in analysis.spans if technique is None or s.technique == technique]
    return sum(1 for sent in analysis.sentences if any(s.start < sent.end and sent.start < s.end for s in spans))


def source_key(analysis: Analysis) -> str:
    """The site, else the URL's host, else the file's folder, else ``unknown``."""
    source = analysis.source
    if source.site:
        return source.site
    if source.url:
        host = urlsplit(source.url).hostname
        if host:
            return host.removeprefix("www.")
    if source.path:
        return str(PurePath(source.path).parent)
    return UNKNOWN


_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})")


def month_key(analysis: Analysis) -> str:
    """``YYYY-MM`` of the article's date (ISO 8601 or RFC 2822), else ``unknown``."""
    date = (analysis.source.date or "").strip()
    if not date:
        return UNKNOWN
    m = _YEAR_MONTH.match(date)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{m.group(2)}"
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            return parse(date).strftime("%Y-%m")
        except (ValueError, TypeError, IndexError):
            continue
    return UNKNOWN


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


# -- terminal tables ---------------------------------------------------------------------------------


def stats_tables(stats: CorpusStats, by: str | None = None) -> list:
    """Rich tables: the totals, then the grouping asked for (all three when ``by`` is None)."""
    from rich.table import Table

    overview = Table(title="Corpus", show_header=False)
    overview.add_column("figure")
    overview.add_column("value", justify="right")
    overview.add_row("articles", f"{stats.articles:,}")
    overview.add_row("sentences", f"{stats.sentences:,}")
    overview.add_row("sentences with a technique", f"{stats.technique_sentences:,} ({stats.share:.1%})")
    overview.add_row("technique spans", f"{stats.spans:,}")
    overview.add_row("mean article score", f"{stats.mean_score:.3f}")
    overview.caption = DEFINITION[0].upper() + DEFINITION[1:] + "."
    tables = [overview]
    if by in (None, "technique"):
        table = Table(title="Per technique")
        for column in ("technique", "spans", "sentences", "% of sentences", "articles", "% of articles"):
            table.add_column(column, justify="left" if column == "technique" else "right")
        for t in stats.by_technique:
            table.add_row(t.name, f"{t.spans:,}", f"{t.sentences:,}", f"{t.sentence_rate:.1%}",
                          f"{t.articles:,}", f"{t.article_rate:.1%}")
        tables.append(table)
    for grouping, title, groups in (("source", "Per source", stats.by_source), ("month", "Per month", stats.by_month)):
        if by not in (None, grouping):
            continue
        table = Table(title=title)
        for column in (grouping, "articles", "sentences", "with a technique", "spans", "top technique"):
            table.add_column(column, justify="left" if column in (grouping, "top technique") else "right")
        for g in groups:
            top = max(g.techniques.items(), key=lambda kv: (kv[1], kv[0]), default=None)
            table.add_row(g.key, f"{g.articles:,}", f"{g.sentences:,}", f"{g.share:.1%}", f"{g.spans:,}",
                          f"{BY_ID[top[0]].name} ({top[1]})" if top else "")
        tables.append(table)
    return tables


# -- charts ------------------------------------------------------------------------------------------------


def plot_stats(stats: CorpusStats, path: str | Path, by: str | None = None) -> Path:
    """Bar and line charts of the statistics (PNG or SVG by the file's suffix); all three when ``by`` is None."""
    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise PropscanError("the chart must be a .png or .svg file", source=str(path))
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    panels = [g for g in GROUPINGS if by in (None, g)]
    figure = Figure(figsize=(9, 4.2 * len(panels)), layout="constrained")
    for axes, grouping in zip(figure.subplots(len(panels), 1, squeeze=False)[:, 0], panels, strict=True):
        if grouping == "technique":
            rows = [t for t in reversed(stats.by_technique)]
            axes.barh([t.name for t in rows], [100 * t.sentence_rate for t in rows],
                      color=[BY_ID[t.technique].colour for t in rows])
            axes.set_xlabel("% of sentences with the technique")
            axes.set_title(f"Techniques in {stats.articles:,} articles")
        elif grouping == "source":
            rows = list(reversed(stats.by_source[:25]))
            axes.barh([g.key for g in rows], [100 * g.share for g in rows], color="#4c72b0")
            axes.set_xlabel("% of sentences with a technique")
            axes.set_title("Per source" + (" (the 25 largest)" if len(stats.by_source) > 25 else ""))
        else:
            rows = [g for g in stats.by_month if g.key != UNKNOWN]
            axes.plot([g.key for g in rows], [100 * g.share for g in rows], marker="o", color="#c44e52")
            axes.set_ylabel("% of sentences with a technique")
            axes.set_title("Per month" if rows else "Per month (no dated articles)")
            axes.tick_params(axis="x", labelrotation=45)
    try:
        figure.savefig(path)
    except OSError as e:
        raise PropscanError(e.strerror or "cannot be written", source=str(path)) from None
    return path
