"""Corpus statistics: how much of a stored corpus uses propaganda techniques, overall, per technique,
per source and per month, as one typed object behind the terminal tables, ``--json``, the charts and
the ``/stats`` page of ``serve``; and the outlet profiles of that page (``outlet_report``): per outlet,
its technique mix against the whole selection and its figures month by month, for the analyses that
match a keyword, a period and an outlet.

Definitions (also in ``CorpusStats.definition``):

- A sentence *has a technique* when at least one detected span overlaps it by at least one
  character (the same rule the store uses for its ``n_technique_sentences`` column).
- Per technique, a sentence or an article *has* the technique when one of its spans of that
  technique overlaps it / lies in it; ``spans`` counts the spans themselves.
- The source of an article is ``Source.site``, else the host of ``Source.url``, else the folder of
  ``Source.path``, else ``unknown``. Its month is ``Source.date`` as ``YYYY-MM``, else ``unknown``.
- An outlet's *technique mix* is each technique's share of the outlet's technique spans, set beside
  the same share in the whole selection (every outlet that matches the keyword and the period).

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
            _add_article(group, analysis)
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


# -- outlet profiles (the /stats page) ---------------------------------------------------------------

DEFAULT_PROFILES = 12
_PERIOD_BOUND = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_YEAR_MONTH_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class MixRow(BaseModel):
    """One technique in an outlet's mix, beside the whole selection."""

    technique: str
    name: str
    spans: int = 0
    share: float = 0.0
    """Share of the outlet's technique spans that are of this technique."""
    corpus_spans: int = 0
    corpus_share: float = 0.0
    """Share of all technique spans in the selection that are of this technique."""


class OutletProfile(BaseModel):
    """One outlet: its totals, its technique mix and its figures in every month of the selection."""

    outlet: str
    totals: GroupStats
    mix: list[MixRow] = Field(default_factory=list)
    months: list[GroupStats] = Field(default_factory=list)
    """One entry per month of ``OutletReport.months``, in order; ``articles`` is 0 in a month without any."""


class OutletReport(BaseModel):
    """What the ``/stats`` page shows for some filters.

    ``corpus`` is every analysis that matches the keyword and the period, all outlets together: the
    baseline of each outlet's mix. ``profiles`` are the outlets shown: the one asked for, else the
    ``DEFAULT_PROFILES`` largest.
    """

    q: str | None = None
    outlet: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    corpus: CorpusStats
    months: list[str] = Field(default_factory=list)
    """Every month from the first to the last dated article of the selection, gaps included."""
    corpus_months: list[GroupStats] = Field(default_factory=list)
    """The selection's figures in each month of ``months``."""
    undated: int = 0
    """Articles of the selection without a usable date (in no month)."""
    outlets: list[str] = Field(default_factory=list)
    """Every outlet of the selection, largest first."""
    profiles: list[OutletProfile] = Field(default_factory=list)


def date_key(analysis: Analysis) -> str | None:
    """``YYYY-MM-DD`` of the article's date, ``YYYY-MM`` when only its month is known, else None."""
    date = (analysis.source.date or "").strip()
    day = _YEAR_MONTH_DAY.match(date)
    if day and _valid_day(*day.groups()):
        return "-".join(day.groups())
    month = month_key(analysis)
    if month == UNKNOWN:
        return None
    if not _YEAR_MONTH.match(date):  # a parsable date in another form, e.g. RFC 2822
        for parse in (datetime.fromisoformat, parsedate_to_datetime):
            try:
                return parse(date).strftime("%Y-%m-%d")
            except (ValueError, TypeError, IndexError):
                continue
    return month


def period_bound(value: str | None, name: str, end: bool = False) -> str | None:
    """A filter's ``YYYY-MM`` or ``YYYY-MM-DD`` as a comparable day (a month's first day, or last when ``end``)."""
    value = (value or "").strip()
    if not value:
        return None
    m = _PERIOD_BOUND.match(value)
    if not m or not _valid_day(m.group(1), m.group(2), m.group(3) or "01"):
        raise PropscanError(f"'{name}' must be a month (YYYY-MM) or a day (YYYY-MM-DD), not {value!r}")
    if m.group(3):
        return value
    # "31" sorts after every day of the month, which is all a comparison of ISO strings needs.
    return f"{value}-31" if end else f"{value}-01"


def in_period(analysis: Analysis, start: str | None, end: str | None) -> bool:
    """Whether the article's date falls in [start, end] (days from ``period_bound``); undated ones never do
    when a bound is given. An article dated only by its month is in when that month overlaps the period."""
    if start is None and end is None:
        return True
    key = date_key(analysis)
    if key is None:
        return False
    first, last = (key, key) if len(key) == 10 else (f"{key}-01", f"{key}-31")
    return (start is None or last >= start) and (end is None or first <= end)


def outlet_report(analyses: Iterable[Analysis], *, q: str | None = None, outlet: str | None = None,
                  date_from: str | None = None, date_to: str | None = None,
                  limit: int = DEFAULT_PROFILES) -> OutletReport:
    """The outlet profiles of the analyses in the period (``date_from``/``date_to``: ``YYYY-MM`` or
    ``YYYY-MM-DD``, both included), in one pass.

    ``analyses`` are taken as already matching ``q`` (``store_outlet_report`` asks the store's full-text
    search for them); ``q`` is only recorded. With ``outlet``, that outlet is profiled, else the ``limit``
    outlets with the most articles.
    """
    start, end = period_bound(date_from, "from"), period_bound(date_to, "to", end=True)
    if start and end and start > end:
        raise PropscanError(f"'from' ({date_from}) is after 'to' ({date_to})")
    outlet = (outlet or "").strip() or None
    cells: dict[tuple[str, str], GroupStats] = {}

    def selected() -> Iterable[Analysis]:
        # The per-outlet, per-month cells are counted on the way through corpus_stats's own pass,
        # so the store is read once.
        for analysis in analyses:
            if in_period(analysis, start, end):
                key = (source_key(analysis), month_key(analysis))
                _add_article(cells.setdefault(key, GroupStats(key=key[1])), analysis)
                yield analysis

    corpus = corpus_stats(selected())
    months = month_range([g.key for g in corpus.by_month if g.key != UNKNOWN])
    by_month = {g.key: g for g in corpus.by_month}
    outlets = [g.key for g in corpus.by_source]
    shown = [outlet] if outlet else outlets[:limit]
    by_source = {g.key: g for g in corpus.by_source}
    corpus_total = sum(t.spans for t in corpus.by_technique)
    profiles = []
    for name in shown:
        totals = by_source.get(name, GroupStats(key=name))
        outlet_total = sum(totals.techniques.values())
        mix = [MixRow(technique=t.technique, name=t.name, spans=totals.techniques.get(t.technique, 0),
                      share=_ratio(totals.techniques.get(t.technique, 0), outlet_total),
                      corpus_spans=t.spans, corpus_share=_ratio(t.spans, corpus_total))
               for t in corpus.by_technique if t.spans]
        series = []
        for month in months:
            cell = cells.get((name, month), GroupStats(key=month))
            cell.share = _ratio(cell.technique_sentences, cell.sentences)
            cell.mean_score = _ratio(cell.mean_score, cell.articles)
            series.append(cell)
        profiles.append(OutletProfile(outlet=name, totals=totals, mix=mix, months=series))
    return OutletReport(
        q=(q or "").strip() or None, outlet=outlet, date_from=(date_from or "").strip() or None,
        date_to=(date_to or "").strip() or None, corpus=corpus, months=months,
        corpus_months=[by_month.get(m, GroupStats(key=m)) for m in months],
        undated=by_month[UNKNOWN].articles if UNKNOWN in by_month else 0, outlets=outlets, profiles=profiles)


def store_outlet_report(store, *, q: str | None = None, outlet: str | None = None, date_from: str | None = None,
                        date_to: str | None = None, limit: int = DEFAULT_PROFILES) -> OutletReport:
    """``outlet_report`` of the stored analyses whose title or text has every word of ``q``, as the
    stored-analyses list searches (``Store.iter_matching``)."""
    period_bound(date_from, "from")  # refuse a bad filter before reading the store
    period_bound(date_to, "to")
    return outlet_report((analysis for _, analysis in store.iter_matching(q)), q=q, outlet=outlet,
                         date_from=date_from, date_to=date_to, limit=limit)


def month_range(months: Iterable[str]) -> list[str]:
    """Every ``YYYY-MM`` from the earliest to the latest of ``months``, so that a chart's time axis is even."""
    known = sorted(months)
    if not known:
        return []
    year, month = map(int, known[0].split("-"))
    last = tuple(map(int, known[-1].split("-")))
    result = []
    while (year, month) <= last:
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def _add_article(group: GroupStats, analysis: Analysis) -> None:
    """Count one article into a group; ``mean_score`` stays a sum until the caller divides it."""
    group.articles += 1
    group.sentences += len(analysis.sentences)
    group.technique_sentences += technique_sentence_count(analysis)
    group.spans += len(analysis.spans)
    group.mean_score += analysis.score or 0.0  # no article (score None) counts 0
    for technique, n in analysis.technique_counts().items():
        group.techniques[technique] = group.techniques.get(technique, 0) + n


def _valid_day(year: str, month: str, day: str) -> bool:
    try:
        datetime(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


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
    try:
        import matplotlib
    except ImportError:
        raise PropscanError("--plot needs the plots extra: pip install 'propscan[plots]'") from None

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
