"""Outlet profiles behind /stats: per-outlet share, technique mix against the selection, months, and the
keyword, period and outlet filters, on a small real SQLite store whose figures are counted by hand."""

from __future__ import annotations

import pytest
from test_stats_export import make_analysis

from propscan.document import Source
from propscan.errors import PropscanError
from propscan.stats import GroupStats, date_key, month_range, outlet_report, period_bound, store_outlet_report
from propscan.store import Store
from propscan.web.charts import count_axis, month_chart, outlets_chart, page_context, percent_ticks

LOADED, NAME_CALLING, DOUBT, FLAG = "Loaded_Language", "Name_Calling,Labeling", "Doubt", "Flag-Waving"


# Outlet a.example: January and March; b.example: February (an RFC 2822 date) and March (the month
# only); /corpus/c: no date.
A1 = make_analysis("a1", ["Shameful puppets rule the city.", "The council met on Monday.", "Can we trust them at all?"],
                   [(LOADED, "Shameful"), (NAME_CALLING, "puppets"), (DOUBT, "Can we trust them")],
                   Source(site="a.example", date="2024-01-15"))
A2 = make_analysis("a2", ["A disgusting harbour deal.", "Boats left at noon."], [(LOADED, "disgusting")],
                   Source(site="a.example", date="2024-03-02T09:00:00+01:00"))
B1 = make_analysis("b1", ["A vile plan.", "It will fail."], [(LOADED, "vile plan.\nIt will")],
                   Source(url="https://www.b.example/news/1", date="Thu, 01 Feb 2024 10:00:00 +0000"))
B2 = make_analysis("b2", ["The council budget.", "Roads stay open."], [],
                   Source(url="https://b.example/2", date="2024-03"))
C1 = make_analysis("c1", ["Our great nation.", "Rain is expected."], [(FLAG, "Our great nation")],
                   Source(path="/corpus/c/1.txt"))
CORPUS = [A1, A2, B1, B2, C1]
OUTLET = {"a1": "a.example", "a2": "a.example", "b1": "b.example", "b2": "b.example", "c1": "/corpus/c"}


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "outlets.sqlite3") as store:
        for analysis in CORPUS:
            store.add(analysis)
        yield store


def test_profiles_of_a_known_corpus(store):
    report = store_outlet_report(store)

    assert (report.corpus.articles, report.corpus.sentences, report.corpus.technique_sentences) == (5, 11, 6)
    assert report.outlets == ["a.example", "b.example", "/corpus/c"]  # most articles first, then by name
    assert report.months == ["2024-01", "2024-02", "2024-03"]
    assert [(g.key, g.articles) for g in report.corpus_months] == [("2024-01", 1), ("2024-02", 1), ("2024-03", 2)]
    assert report.undated == 1

    profiles = {p.outlet: p for p in report.profiles}
    assert list(profiles) == report.outlets
    a, b, c = profiles["a.example"], profiles["b.example"], profiles["/corpus/c"]
    assert (a.totals.articles, a.totals.sentences, a.totals.technique_sentences) == (2, 5, 3)
    assert a.totals.share == pytest.approx(3 / 5)
    assert b.totals.share == pytest.approx(2 / 4) and c.totals.share == pytest.approx(1 / 2)

    # the mix: each technique's share of the outlet's technique spans beside the selection's
    mix = {m.technique: m for m in a.mix}
    assert list(mix) == [LOADED, DOUBT, FLAG, NAME_CALLING]  # the selection's techniques, most spans first
    assert (mix[LOADED].spans, mix[LOADED].share, mix[LOADED].corpus_spans, mix[LOADED].corpus_share) == \
        (2, pytest.approx(2 / 4), 3, pytest.approx(3 / 6))
    assert (mix[NAME_CALLING].share, mix[NAME_CALLING].corpus_share) == (pytest.approx(1 / 4), pytest.approx(1 / 6))
    assert (mix[FLAG].spans, mix[FLAG].share, mix[FLAG].corpus_share) == (0, 0.0, pytest.approx(1 / 6))
    assert sum(m.share for m in a.mix) == pytest.approx(1.0)
    assert {m.technique: m.share for m in b.mix}[LOADED] == 1.0

    # months: every month of the selection, empty ones included, so the charts share one time axis
    assert [(g.key, g.articles, g.sentences, g.technique_sentences) for g in a.months] == \
        [("2024-01", 1, 3, 2), ("2024-02", 0, 0, 0), ("2024-03", 1, 2, 1)]
    assert [g.share for g in a.months] == [pytest.approx(2 / 3), 0.0, pytest.approx(1 / 2)]
    assert [(g.articles, g.share) for g in b.months] == [(0, 0.0), (1, 1.0), (1, 0.0)]
    assert [g.articles for g in c.months] == [0, 0, 0]


def test_the_keyword_selects_what_the_list_search_finds(store):
    for q in ("council", "counc", "COUNCIL budget", "harbour", "nothing-like-this"):
        found = {s.id for s in store.search(q, limit=100)}
        assert {stored_id for stored_id, _ in store.iter_matching(q)} == found
        report = store_outlet_report(store, q=q)
        assert report.corpus.articles == len(found)
    council = store_outlet_report(store, q="council")
    assert council.outlets == ["a.example", "b.example"] and council.q == "council"
    assert {stored_id for stored_id, _ in store.iter_matching("")} == {s.id for s in store.search(None, limit=100)}
    assert store_outlet_report(store, q=' "*) - ').corpus.articles == 5  # no words: everything, as the list


@pytest.mark.parametrize(("date_from", "date_to", "expected"), [
    ("2024-02", None, {"b1", "a2", "b2"}),  # undated c1 is out once a period is given
    (None, "2024-02-01", {"a1", "b1"}),  # the RFC 2822 date is 1 February
    ("2024-03-10", "2024-03-31", {"b2"}),  # dated only by its month, b2 overlaps the period
    ("2024-03-02", "2024-03-02", {"a2", "b2"}),
    ("2024-01", "2024-01", {"a1"}),
    ("2023-01", "2023-12", set()),
])
def test_the_period_includes_both_ends(store, date_from, date_to, expected):
    report = store_outlet_report(store, date_from=date_from, date_to=date_to)
    assert report.corpus.articles == len(expected)
    assert set(report.outlets) == {OUTLET[i] for i in expected}


def test_a_period_drops_months_outside_it(store):
    report = store_outlet_report(store, date_from="2024-02")
    assert report.months == ["2024-02", "2024-03"] and report.undated == 0
    assert [g.articles for g in report.profiles[0].months] == [1, 1]  # b.example leads with two articles


def test_the_outlet_filter_profiles_one_outlet_against_every_outlet(store):
    report = store_outlet_report(store, outlet="b.example")
    assert [p.outlet for p in report.profiles] == ["b.example"]
    assert report.corpus.articles == 5 and report.outlets == ["a.example", "b.example", "/corpus/c"]
    missing = store_outlet_report(store, outlet="nowhere.example")
    assert missing.profiles[0].totals.articles == 0 and missing.profiles[0].mix[0].spans == 0
    assert [p.outlet for p in store_outlet_report(store, limit=2).profiles] == ["a.example", "b.example"]


@pytest.mark.parametrize("bad", ["2024", "2024-13", "2024-02-30", "24-01", "2024/01", "january"])
def test_a_malformed_period_is_refused(store, bad):
    with pytest.raises(PropscanError, match="'from' must be a month"):
        store_outlet_report(store, date_from=bad)


def test_a_period_that_ends_before_it_starts_is_refused(store):
    with pytest.raises(PropscanError, match="after 'to'"):
        store_outlet_report(store, date_from="2024-03", date_to="2024-02")


def test_dates_and_months():
    assert [date_key(a) for a in CORPUS] == ["2024-01-15", "2024-03-02", "2024-02-01", "2024-03", None]
    assert period_bound("2024-02", "from") == "2024-02-01" and period_bound("2024-02", "to", end=True) == "2024-02-31"
    assert period_bound("  ", "from") is None
    assert month_range(["2023-11", "2024-02"]) == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert month_range([]) == []


def test_outlet_report_streams_in_one_pass():
    consumed = []

    def once():
        for analysis in CORPUS:
            consumed.append(analysis.id)
            yield analysis

    report = outlet_report(once())
    assert consumed == [a.id for a in CORPUS] and report.corpus.articles == 5


def test_chart_geometry_matches_the_figures(store):
    report = store_outlet_report(store)
    a = report.profiles[0]
    chart = month_chart(report.months, a.months, a.outlet, 1.0, report.corpus_months, "all outlets")
    reference, main = chart.series
    assert (reference.name, main.name) == ("all outlets", "a.example")
    assert len(main.points) == 2 and main.runs == []  # February has no article of a.example: no line across it
    assert len(reference.points) == 3 and len(reference.runs) == 1
    assert len(chart.bars) == 2 and chart.bars[0].height == chart.bars[1].height  # one article each
    assert [t.label for t in chart.month_ticks] == ["Jan 2024", "Feb 2024", "Mar 2024"]
    # a share of 2/3 on a 0–100% axis sits two thirds of the way up
    assert main.points[0].y == pytest.approx(chart.share_bottom - 2 / 3 * (chart.share_bottom - chart.share_top))
    assert "66.7% of 3 sentences" in main.points[0].label

    bars = outlets_chart(report)
    assert [r.full_label for r in bars.rows] == report.outlets
    assert bars.reference.label == "all outlets 54.5%"
    assert percent_ticks(0.571) == (0.6, [0.0, 0.2, 0.4, 0.6])
    assert count_axis(7) == (10, 5) and count_axis(1) == (1, 1)

    context = page_context(report)
    assert [v.only_url for v in context["profiles"]][1] == "/stats?outlet=b.example"


def test_a_long_time_axis_labels_only_some_months():
    months = month_range(["2010-01", "2024-12"])
    chart = month_chart(months, [GroupStats(key=m) for m in months], "x", 0.5)
    assert len(months) == 180 and 2 <= len(chart.month_ticks) <= 8
    xs = [t.position for t in chart.month_ticks]
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= 64  # labels never overlap


def test_the_api_and_the_page_refuse_a_bad_period_and_the_page_has_no_inline_style(store, monkeypatch):
    from fastapi.testclient import TestClient

    from propscan.web.app import create_app

    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")
    store.close()
    with TestClient(create_app(store.path)) as client:
        data = client.get("/api/stats", params={"outlet": "a.example", "from": "2024-01"}).json()
        assert data["corpus"]["articles"] == 4 and [p["outlet"] for p in data["profiles"]] == ["a.example"]
        assert client.get("/api/stats", params={"to": "2024-1"}).json() == \
            {"error": "'to' must be a month (YYYY-MM) or a day (YYYY-MM-DD), not '2024-1'"}
        bad = client.get("/stats", params={"from": "2024-13", "q": "council"})
        assert bad.status_code == 400 and "role=\"alert\"" in bad.text and "from&#39; must be a month" in bad.text
        assert 'value="council"' in bad.text  # the form keeps what was typed
        page = client.get("/stats")
    assert page.status_code == 200
    html = page.text
    # nothing that a Content-Security-Policy without 'unsafe-inline' would block
    assert " style=" not in html and "<style" not in html and "<script>" not in html
    assert html.count('class="card outlet-profile"') == 3
    assert html.count('<svg class="chart-svg months"') == 3  # a.example, b.example and all outlets (c is undated)
    assert html.count('<text class="month-label"') == 9


def test_a_long_period_keeps_one_even_axis_but_tables_only_months_with_articles(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from propscan.web.app import create_app

    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")
    old = A1.model_copy(update={"source": Source(site="a.example", date="2020-01-05")})
    with Store(tmp_path / "long.sqlite3") as store:
        store.add(old)
        store.add(A2)
        report = store_outlet_report(store)
    assert len(report.months) == 51 and report.months[0] == "2020-01" and report.months[-1] == "2024-03"
    with TestClient(create_app(tmp_path / "long.sqlite3")) as client:
        html = client.get("/stats").text
    table = html[html.index('<table class="stats month-table">'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr><td>") == 2 and "<td>2020-01</td>" in table and "<td>2024-03</td>" in table
