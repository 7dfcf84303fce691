"""`propscan analyze` on real-world input: bad inputs are one line each, good ones are analyzed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.local_server import Route, serve
from typer.testing import CliRunner

from propscan.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = Path(__file__).parent / "fixtures" / "scraped-article.txt"  # made up, with page furniture


@pytest.fixture(autouse=True)
def fast_detector(monkeypatch):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")


def run(*args: str, stdin: bytes | None = None):
    return CliRunner().invoke(app, ["analyze", *args], input=stdin)


def results(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def check_offsets(result: dict) -> None:
    text, removed = result["text"], [(r["start"], r["end"]) for r in result["removed"]]
    for span in result["spans"]:
        assert text[span["start"]:span["end"]] == span["text"]
        assert not any(span["start"] < e and s < span["end"] for s, e in removed)


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("missing.txt", None, "no such file or directory"),
    ("empty.txt", b"  \n\n", "the article is empty"),
    ("binary.txt", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), "binary file (an executable), not text"),
    ("big.txt", b"word " * 400, "too large: 2,000 bytes, over the limit of 1,000 (raise it with --max-bytes)"),
    ("broken.txt", b"\xef\xbb\xbfcaf\xe9 \xff", "undecodable: it starts with a UTF-8 byte-order mark"),
    ("nav.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>",
     "no article text found in the HTML page"),
])
def test_each_bad_input_exits_non_zero_with_one_line_naming_it(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run(str(path), "--json", "--max-bytes", "1000")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"propscan: {path}: {reason}")
    assert "Traceback" not in result.stderr


def test_a_folder_mixing_good_and_bad_files_is_analyzed_to_the_end(tmp_path):
    (tmp_path / "1-good.txt").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "2-empty.txt").write_bytes(b"")
    (tmp_path / "3-good.html").write_bytes((FIXTURES / "news-page.html").read_bytes())
    (tmp_path / "4-binary.txt").write_bytes(b"\x00" * 64)
    (tmp_path / "5-good.txt").write_text("Another headline\r\n\r\nA calm and factual body.\r\n", encoding="cp1252")
    result = run(str(tmp_path), "--json")
    assert result.exit_code == 1
    analyzed = results(result.stdout)
    assert [Path(r["source"]["path"]).name for r in analyzed] == ["1-good.txt", "3-good.html", "5-good.txt"]
    assert result.stderr.splitlines() == [
        f"propscan: {tmp_path / '2-empty.txt'}: the article is empty",
        f"propscan: {tmp_path / '4-binary.txt'}: binary file (it contains NUL bytes), not text",
    ]
    for r in analyzed:
        check_offsets(r)
    sample = analyzed[0]
    assert sample["text"] == SAMPLE.read_text(encoding="utf-8")
    assert [sample["text"][r["start"]:r["end"]] for r in sample["removed"]][:2] == ["0 1,482", "- Advertisement -"]
    assert analyzed[2]["text"] == "Another headline\n\nA calm and factual body.\n"


def test_a_url_to_127_0_0_1_is_refused_by_default_and_read_with_allow_private():
    with serve({"/story": Route((FIXTURES / "news-page.html").read_bytes())}) as server:
        refused = run(f"{server.url}/story", "--json")
        read = run(f"{server.url}/story", "--json", "--allow-private")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.startswith(f"propscan: {server.url}/story: refused: 127.0.0.1 is a loopback address")
    assert refused.stderr.count("\n") == 1
    assert read.exit_code == 0, read.stderr
    [result] = results(read.stdout)
    assert result["title"] == "Harbour council approves new sea wall after stormy debate"
    assert result["source"]["url"] == f"{server.url}/story"
    check_offsets(result)


def test_standard_input_is_read_as_text_or_html():
    text = run("-", "--json", stdin=SAMPLE.read_bytes())
    html = run("-", "--json", stdin=(FIXTURES / "news-page.html").read_bytes())
    empty = run("-", "--json", stdin=b"\n")
    assert text.exit_code == 0 and html.exit_code == 0
    assert results(text.stdout)[0]["text"] == SAMPLE.read_text(encoding="utf-8")
    assert results(html.stdout)[0]["source"]["format"] == "html"
    assert (empty.exit_code, empty.stderr) == (1, "propscan: <stdin>: the article is empty\n")


def test_non_english_input_carries_a_warning_in_the_json(tmp_path):
    path = tmp_path / "es.txt"
    path.write_text("El gobierno anuncia nuevas medidas\n\nEl presidente presentó el martes un plan para apoyar a "
                    "las empresas afectadas por la crisis, con ayudas directas y aplazamientos de impuestos.\n",
                    encoding="utf-8")
    [result] = results(run(str(path), "--json").stdout)
    assert result["language"] == "es"
    assert any("Spanish (es), not English" in w for w in result["warnings"])


def test_a_corpus_with_a_bad_row_reports_it_and_analyzes_the_rest(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text(json.dumps({"id": "a", "title": "Good", "text": "A body."}) + "\n{broken\n"
                    + json.dumps({"id": "b", "text": "Second\n\nbody"}) + "\n", encoding="utf-8")
    result = run(str(path), "--json")
    assert result.exit_code == 1
    assert [r["id"] for r in results(result.stdout)] == ["a", "b"]
    assert result.stderr.startswith(f"propscan: {path}:2: not valid JSON")
