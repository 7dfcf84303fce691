"""Statistics and every export format, checked against a small stored corpus whose counts are known."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from propscan.cli import app
from propscan.deliver.export import export, label_config_path, label_studio_config
from propscan.document import Analysis, Sentence, Source, Span
from propscan.readers.ptc import read_labels
from propscan.stats import corpus_stats, month_key, source_key, store_stats
from propscan.store import Store

LOADED, NAME_CALLING, DOUBT = "Loaded_Language", "Name_Calling,Labeling", "Doubt"


def make_analysis(id: str, lines: list[str], spans: list[tuple[str, str]], source: Source) -> Analysis:
    """An analysis whose sentences are the lines and whose spans are (technique, exact phrase) pairs."""
    text = "\n".join(lines) + "\n"
    sentences, offset = [], 0
    for line in lines:
        sentences.append(Sentence(start=offset, end=offset + len(line), score=0.5))
        offset += len(line) + 1
    found = []
    for technique, phrase in spans:
        start = text.index(phrase)
        found.append(Span.of(text, start, start + len(phrase), technique, 0.75))
    return Analysis(id=id, title=lines[0], text=text, source=source, spans=found, sentences=sentences,
                    score=0.5, model="test")


# Three articles; the figures below are counted by hand.
A1 = make_analysis(
    "111", ["Shameful puppets rule the city.", "The council met on Monday.", "Can we trust them at all?"],
    [(LOADED, "Shameful"), (NAME_CALLING, "puppets"), (DOUBT, "Can we trust them")],
    Source(site="a.example", date="2024-01-15", path="/crawl/a/1.html"))
A2 = make_analysis(
    "222", ["A disgusting plan.", "It will fail."],
    [(LOADED, "disgusting plan.\nIt will")],  # crosses into the second sentence: both sentences have it
    Source(url="https://www.b.example/news/2", date="Thu, 01 Feb 2024 10:00:00 +0000"))
A3 = make_analysis(
    "333", ["Rain is expected.", "Roads stay open."], [],
    Source(path="/corpus/c/article333.txt"))
CORPUS = [A1, A2, A3]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "db.sqlite3"
    with Store(path) as store:
        for analysis in CORPUS:
            store.add(analysis)
    return path


def test_stats_of_a_known_corpus(db):
    with Store(db) as store:
        stats = store_stats(store)

    assert (stats.articles, stats.sentences, stats.technique_sentences, stats.spans) == (3, 7, 4, 4)
    assert stats.share == pytest.approx(4 / 7)
    per_technique = {t.technique: t for t in stats.by_technique}
    assert len(per_technique) == 14
    assert (per_technique[LOADED].spans, per_technique[LOADED].sentences, per_technique[LOADED].articles) == (2, 3, 2)
    assert per_technique[LOADED].sentence_rate == pytest.approx(3 / 7)
    assert per_technique[LOADED].article_rate == pytest.approx(2 / 3)
    assert (per_technique[DOUBT].spans, per_technique[DOUBT].sentences, per_technique[DOUBT].articles) == (1, 1, 1)
    assert per_technique["Slogans"].spans == 0
    assert stats.by_technique[0].technique == LOADED  # most spans first

    sources = {g.key: g for g in stats.by_source}
    assert set(sources) == {"a.example", "b.example", "/corpus/c"}  # site, URL host, folder
    assert (sources["a.example"].sentences, sources["a.example"].technique_sentences) == (3, 2)
    assert sources["a.example"].techniques == {LOADED: 1, NAME_CALLING: 1, DOUBT: 1}
    assert sources["b.example"].share == 1.0
    assert sources["/corpus/c"].spans == 0

    months = [(g.key, g.articles, g.technique_sentences) for g in stats.by_month]
    assert months == [("2024-01", 1, 2), ("2024-02", 1, 2), ("unknown", 1, 0)]


def test_stats_streams_and_matches_a_direct_count():
    assert corpus_stats(iter(CORPUS)) == corpus_stats(CORPUS)
    assert corpus_stats([]).articles == 0 and corpus_stats([]).share == 0.0


@pytest.mark.parametrize(("date", "month"), [
    ("2019-03-07", "2019-03"), ("2019-03-07T12:00:00+02:00", "2019-03"), ("Mon, 04 Mar 2019 10:00:00 GMT", "2019-03"),
    ("", "unknown"), (None, "unknown"), ("last Tuesday", "unknown"), ("2019-13-01", "unknown"),
])
def test_month_of_a_date(date, month):
    assert month_key(A3.model_copy(update={"source": Source(date=date)})) == month


def test_source_key_falls_back_from_site_to_host_to_folder():
    assert source_key(A1) == "a.example"
    assert source_key(A2) == "b.example"
    assert source_key(A3) == "/corpus/c"
    assert source_key(A3.model_copy(update={"source": Source()})) == "unknown"


def test_stats_command_json_table_and_charts(db, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["stats", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["articles"], data["sentences"], data["technique_sentences"]) == (3, 7, 4)
    assert "overlaps" in data["definition"]

    table = runner.invoke(app, ["stats", "--db", str(db), "--by", "source"])
    assert table.exit_code == 0 and "b.example" in table.stdout and "Per technique" not in table.stdout

    png, svg = tmp_path / "stats.png", tmp_path / "month.svg"
    assert runner.invoke(app, ["stats", "--db", str(db), "--plot", str(png)]).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert runner.invoke(app, ["stats", "--db", str(db), "--by", "month", "--plot", str(svg)]).exit_code == 0
    assert "<svg" in svg.read_text(encoding="utf-8") and "2024-02" in svg.read_text(encoding="utf-8")

    bad = runner.invoke(app, ["stats", "--db", str(db), "--plot", str(tmp_path / "chart.gif")])
    assert bad.exit_code == 2 and "must be a .png or .svg" in bad.output


def exported(db, fmt: str) -> str:
    out = io.StringIO()
    with Store(db) as store:
        assert export(store.iter_analyses(), fmt, out) == 3
    return out.getvalue()


def test_export_jsonl_round_trips_every_analysis(db):
    lines = exported(db, "jsonl").splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    with Store(db) as store:
        for record in records:
            assert store.get(record.pop("stored_id")) == Analysis.model_validate(record)
    assert sorted(Analysis.model_validate(r).id for r in records) == ["111", "222", "333"]


def test_export_csv_has_one_row_per_article_with_technique_counts(db):
    rows = {row["article_id"]: row for row in csv.DictReader(io.StringIO(exported(db, "csv")))}
    assert set(rows) == {"111", "222", "333"}
    assert (rows["111"]["sentences"], rows["111"]["technique_sentences"], rows["111"]["spans"]) == ("3", "2", "3")
    assert rows["111"][NAME_CALLING] == "1" and rows["111"]["Slogans"] == "0"
    assert rows["222"][LOADED] == "1" and rows["222"]["url"] == "https://www.b.example/news/2"
    assert rows["333"]["spans"] == "0"


def test_export_semeval_is_the_flc_label_format(db, tmp_path):
    text = exported(db, "semeval")
    expected = {
        f"111\t{LOADED}\t0\t8", f"111\t{NAME_CALLING}\t9\t16", f"111\t{DOUBT}\t59\t76", f"222\t{LOADED}\t2\t26",
    }
    assert set(text.splitlines()) == expected
    labels_file = tmp_path / "pred.labels"
    labels_file.write_text(text, encoding="utf-8")
    labels = read_labels(labels_file, articles={a.id: a.text for a in CORPUS}, require_technique=True)
    assert len(labels) == 4


def test_export_label_studio_tasks_match_their_labeling_config(db):
    tasks = json.loads(exported(db, "label-studio"))
    config = ET.fromstring(label_studio_config())
    labels = config.find("Labels")
    allowed = {label.get("value") for label in labels}
    assert len(allowed) == 14 and config.find("Text").get("value") == "$text"

    assert len(tasks) == 3
    result_ids = []
    for task in tasks:
        text = task["data"]["text"]
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == "test" and 0 <= prediction["score"] <= 1
        for result in prediction["result"]:
            assert (result["from_name"], result["to_name"], result["type"]) == \
                (labels.get("name"), labels.get("toName"), "labels")
            value = result["value"]
            assert text[value["start"]:value["end"]] == value["text"]
            assert len(value["labels"]) == 1 and value["labels"][0] in allowed
            result_ids.append(result["id"])
    assert len(result_ids) == len(set(result_ids)) == 4


def test_export_command_writes_files_and_the_label_config(db, tmp_path):
    runner = CliRunner()
    out = tmp_path / "tasks.json"
    result = runner.invoke(app, ["export", "--db", str(db), "--format", "label-studio", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 3
    assert label_config_path(out).read_text(encoding="utf-8") == label_studio_config()

    to_stdout = runner.invoke(app, ["export", "--db", str(db), "--format", "semeval"])
    assert to_stdout.exit_code == 0 and len(to_stdout.stdout.splitlines()) == 4

    unwritable = runner.invoke(app, ["export", "--db", str(db), "--format", "csv", "-o",
                                     str(tmp_path / "missing" / "x.csv")])
    assert unwritable.exit_code == 2 and "No such file or directory" in unwritable.output


def test_stats_page_of_serve_shows_the_same_figures(db, monkeypatch):
    from fastapi.testclient import TestClient

    from propscan.web.app import create_app

    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")
    with TestClient(create_app(db)) as client:
        page = client.get("/stats")
    assert page.status_code == 200
    html = page.text
    assert "<th>Articles</th><td>3</td>" in html and "<th>Sentences</th><td>7</td>" in html
    assert "4 (57.1%)" in html
    for key in ("a.example", "b.example", "/corpus/c", "2024-01", "2024-02"):
        assert f"<td>{key}</td>" in html
    assert html.count('<li data-technique="') == 14
