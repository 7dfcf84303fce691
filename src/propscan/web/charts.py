"""Chart geometry for the ``/stats`` page: coordinates, ticks and labels of server-drawn SVG charts.

The page draws its charts as inline SVG from these objects (``templates/charts.html``), so it needs
no script, no CDN and no inline style: colours are SVG ``fill`` attributes or classes of
``static/stats.css``. Every chart is drawn in a fixed coordinate box (``viewBox``) that the page
scales to its width. Shares are given as fractions and drawn as percentages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from propscan.stats import GroupStats, MixRow, OutletProfile, OutletReport
from propscan.taxonomy import BY_ID

WIDTH = 560
LABEL_CHARS = 28
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STEPS = (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500)


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    """What the bar says in words (its SVG title)."""
    value_label: str = ""
    fill: str | None = None


@dataclass
class BarRow:
    """One labelled row of a horizontal bar chart: one bar, or an outlet's and the selection's side by side."""

    y: float
    label: str
    full_label: str
    bars: list[Bar]
    swatch: str | None = None
    value_x: list[float] = field(default_factory=list)


@dataclass
class HBarChart:
    height: float
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    rows: list[BarRow]
    ticks: list[Tick]
    axis_title: str
    reference: Tick | None = None
    """A vertical line across the rows (the whole selection's figure), with its label."""
    width: float = WIDTH


@dataclass
class Point:
    x: float
    y: float
    label: str


@dataclass
class Series:
    name: str
    css: str
    runs: list[str]
    """``points`` attributes of polylines: consecutive months with articles, broken where a month has none."""
    points: list[Point]


@dataclass
class MonthChart:
    height: float
    plot_left: float
    plot_right: float
    share_top: float
    share_bottom: float
    count_top: float
    count_bottom: float
    series: list[Series]
    bars: list[Bar]
    share_ticks: list[Tick]
    count_ticks: list[Tick]
    month_ticks: list[Tick]
    label_y: float
    bar_name: str
    width: float = WIDTH


def percent(share: float) -> str:
    """A share as a percentage with one decimal (``0.4213`` → ``42.1%``)."""
    return f"{100 * share:.1f}%"


def short(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def month_name(month: str) -> str:
    """``2024-03`` → ``Mar 2024``."""
    year, number = month.split("-")
    return f"{_MONTH_NAMES[int(number) - 1]} {year}"


def nice_top(value: float, max_ticks: int = 5) -> tuple[float, float]:
    """The axis top and tick step for values up to ``value`` (> 0): a round step, at most ``max_ticks`` steps."""
    value = max(value, 1e-9)
    magnitude = 10 ** math.floor(math.log10(value / max_ticks))
    for step in _STEPS:
        if value / (step * magnitude) <= max_ticks:
            step *= magnitude
            return math.ceil(value / step - 1e-9) * step, step
    return value, value


def count_axis(largest: int, max_ticks: int = 2) -> tuple[int, int]:
    """The axis top and a whole tick step (1, 2, 5, 10, 20, …) for counts up to ``largest``."""
    step = 1
    while math.ceil(largest / step) > max_ticks:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2  # 1, 2, 5, 10, 20, 50, …
    return max(1, math.ceil(largest / step)) * step, step


def percent_ticks(top_share: float) -> tuple[float, list[float]]:
    """The axis top (a fraction) and the tick positions (fractions) for shares up to ``top_share``."""
    top, step = nice_top(min(max(top_share, 0.01), 1.0) * 100)
    top = min(top, 100)
    count = round(top / step)
    return top / 100, [min(i * step, 100) / 100 for i in range(count + 1)]


def _tick_label(share: float) -> str:
    value = 100 * share
    return f"{value:.0f}%" if abs(value - round(value)) < 1e-9 else f"{value:.1f}%"


def outlets_chart(report: OutletReport, limit: int = 25) -> HBarChart:
    """Per outlet, the share of its sentences with a technique, against the selection's share."""
    groups = report.corpus.by_source[:limit]
    top, ticks = percent_ticks(max([g.share for g in groups] + [report.corpus.share]))
    left, right, row_height, top_margin = 190.0, 430.0, 24.0, 26.0
    scale = (right - left) / top
    rows = []
    for i, g in enumerate(groups):
        y = top_margin + i * row_height
        bar = Bar(left, y + 4, g.share * scale, row_height - 8,
                  f"{g.key}: {percent(g.share)} of {g.sentences:,} sentences have a technique "
                  f"({g.articles:,} article{'' if g.articles == 1 else 's'})",
                  f"{percent(g.share)} · {g.articles:,} art.")
        rows.append(BarRow(y, short(g.key), g.key, [bar], value_x=[left + g.share * scale + 6]))
    bottom = top_margin + len(groups) * row_height
    return HBarChart(
        height=bottom + 42, plot_left=left, plot_right=right, plot_top=top_margin - 4, plot_bottom=bottom,
        rows=rows, ticks=[Tick(left + t * scale, _tick_label(t)) for t in ticks],
        axis_title="% of the outlet's sentences with a technique",
        reference=Tick(left + report.corpus.share * scale, f"all outlets {percent(report.corpus.share)}"))


def mix_top(report: OutletReport) -> float:
    """One scale for every outlet's mix chart, so that bars compare across outlets."""
    return max([r.share for p in report.profiles for r in p.mix] + [r.corpus_share for p in report.profiles
                                                                     for r in p.mix] + [0.01])


def mix_chart(profile: OutletProfile, top_share: float) -> HBarChart:
    """Per technique, its share of the outlet's spans (upper bar) and of the selection's (lower bar)."""
    top, ticks = percent_ticks(top_share)
    left, right, row_height, top_margin = 190.0, 490.0, 26.0, 10.0
    scale = (right - left) / top
    rows = []
    for i, r in enumerate(profile.mix):
        y = top_margin + i * row_height
        outlet_bar = Bar(left, y + 3, r.share * scale, 9,
                         f"{r.name}: {percent(r.share)} of {profile.outlet}'s technique spans ({r.spans:,})",
                         percent(r.share))
        corpus_bar = Bar(left, y + 13, r.corpus_share * scale, 9,
                         f"{r.name}: {percent(r.corpus_share)} of all outlets' technique spans ({r.corpus_spans:,})",
                         percent(r.corpus_share))
        rows.append(BarRow(y, short(r.name), r.name, [outlet_bar, corpus_bar], swatch=_colour(r),
                           value_x=[left + r.share * scale + 5, left + r.corpus_share * scale + 5]))
    bottom = top_margin + len(rows) * row_height
    return HBarChart(height=bottom + 42, plot_left=left, plot_right=right, plot_top=top_margin - 4,
                     plot_bottom=bottom, rows=rows, ticks=[Tick(left + t * scale, _tick_label(t)) for t in ticks],
                     axis_title="% of technique spans")


def share_top(report: OutletReport) -> float:
    """One share scale for every month chart of the page."""
    shares = [g.share for g in report.corpus_months if g.articles]
    shares += [g.share for p in report.profiles for g in p.months if g.articles]
    return max(shares + [0.01])


def month_chart(months: list[str], main: list[GroupStats], main_name: str, top_share: float,
                reference: list[GroupStats] | None = None, reference_name: str = "") -> MonthChart:
    """Share of sentences with a technique per month (a line per series) over the main series' articles per
    month (bars), on one time axis."""
    left, right = 62.0, WIDTH - 14.0
    share_top_y, share_bottom_y, count_top_y, count_bottom_y = 12.0, 162.0, 196.0, 252.0
    band = (right - left) / max(len(months), 1)
    centre = [left + band * (i + 0.5) for i in range(len(months))]
    top, ticks = percent_ticks(top_share)

    def share_y(share: float) -> float:
        return share_bottom_y - share / top * (share_bottom_y - share_top_y)

    def series(groups: list[GroupStats], name: str, css: str) -> Series:
        points, runs, run = [], [], []
        for x, g in zip(centre, groups, strict=True):
            if not g.articles:
                if run:
                    runs.append(run)
                run = []
                continue
            point = Point(x, share_y(g.share), f"{name}, {month_name(g.key)}: {percent(g.share)} of "
                                               f"{g.sentences:,} sentences have a technique ({g.articles:,} "
                                               f"article{'' if g.articles == 1 else 's'})")
            points.append(point)
            run.append(point)
        if run:
            runs.append(run)
        return Series(name, css, [" ".join(f"{p.x:.1f},{p.y:.1f}" for p in r) for r in runs if len(r) > 1], points)

    lines = [series(main, main_name, "main")]
    if reference is not None:
        lines.insert(0, series(reference, reference_name, "reference"))
    count_top, count_step = count_axis(max([g.articles for g in main] + [1]))
    bar_width = min(band * 0.7, 28)
    bars = []
    for x, g in zip(centre, main, strict=True):
        if g.articles:
            height = g.articles / count_top * (count_bottom_y - count_top_y)
            label = f"{main_name}, {month_name(g.key)}: {g.articles:,} article{'' if g.articles == 1 else 's'}"
            bars.append(Bar(x - bar_width / 2, count_bottom_y - height, bar_width, height, label))
    every = max(1, math.ceil(len(months) / max(1, int((right - left) // 64))))
    return MonthChart(
        height=298, plot_left=left, plot_right=right, share_top=share_top_y, share_bottom=share_bottom_y,
        count_top=count_top_y, count_bottom=count_bottom_y, series=lines, bars=bars,
        share_ticks=[Tick(share_y(t), _tick_label(t)) for t in ticks],
        count_ticks=[Tick(count_bottom_y - n / count_top * (count_bottom_y - count_top_y), f"{n:,}")
                     for n in range(0, count_top + 1, count_step)],
        month_ticks=[Tick(centre[i], month_name(m)) for i, m in enumerate(months) if i % every == 0],
        label_y=count_bottom_y + 18, bar_name=f"{main_name}: articles per month")


def _colour(row: MixRow) -> str | None:
    technique = BY_ID.get(row.technique)
    return technique.colour if technique else None


@dataclass
class ProfileView:
    profile: OutletProfile
    mix: HBarChart
    months: MonthChart
    only_url: str
    """The page filtered to this outlet, the other filters kept."""


def page_context(report: OutletReport) -> dict:
    """Everything ``templates/stats.html`` draws for a report."""
    from urllib.parse import urlencode

    filters = {"q": report.q, "from": report.date_from, "to": report.date_to}

    def url(outlet: str | None) -> str:
        params = {k: v for k, v in {**filters, "outlet": outlet}.items() if v}
        return "/stats" + ("?" + urlencode(params) if params else "")

    top_mix, top_share = mix_top(report), share_top(report)
    profiles = [ProfileView(p, mix_chart(p, top_mix),
                            month_chart(report.months, p.months, p.outlet, top_share, report.corpus_months,
                                        "all outlets"), url(p.outlet))
                for p in report.profiles]
    return {
        "r": report, "outlets_chart": outlets_chart(report),
        "corpus_months": month_chart(report.months, report.corpus_months, "all outlets", top_share),
        "profiles": profiles, "all_outlets_url": url(None),
    }
