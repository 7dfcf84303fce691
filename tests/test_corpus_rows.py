"""Corpus rows fail one by one, each named ``file:line`` once, and the rest are read; the same text
is refused with the same words whichever way it comes in (file, corpus row, pasted text)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from propscan.errors import PropscanError
from propscan.readers import ReadFailure, article_from_text, check_text, iter_sources

GOOD = '{"text": "Council backs harbour plan %d\\n\\nA calm body sentence about the weather."}\n'


def read(path: Path, **kwargs) -> list:
    return list(iter_sources([str(path)], **kwargs))


def kinds(items: list) -> list[str]:
    return ["ok" if not isinstance(i, ReadFailure) else "failed" for i in items]


def failures(items: list) -> dict[str, str]:
    found = {i.source: i.reason for i in items if isinstance(i, ReadFailure)}
    for source, reason in found.items():
        assert re.search(r":\d+$", source), source  # every row failure names its line
        assert not reason.startswith(source.split(":")[0]), reason  # and says where only once
    return found


def analyze_cli(path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROPSCAN_MODEL": "lexicon"}
    return subprocess.run([sys.executable, "-m", "propscan.cli", "analyze", str(path), "--json", *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_a_lone_surrogate_fails_its_row_and_the_rest_are_analyzed(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(GOOD % 1 + '{"text": "lone \\ud800 surrogate"}\n' + GOOD % 3, encoding="utf-8")
    result = analyze_cli(path)
    assert result.returncode == 1
    titles = [json.loads(line)["title"] for line in result.stdout.splitlines()]
    assert titles == ["Council backs harbour plan 1", "Council backs harbour plan 3"]
    assert result.stderr.splitlines() == [
        f"propscan: {path}:2: not text: the text is not valid Unicode (a lone surrogate, U+D800, at character 5)"]


def test_json_nested_too_deeply_fails_its_row_and_the_rest_are_analyzed(tmp_path):
    path = tmp_path / "deep.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(GOOD % 1 + '{"text": ' + deep + "}\n" + deep + "\n" + GOOD % 4, encoding="utf-8")
    result = analyze_cli(path)
    assert result.returncode == 1
    titles = [json.loads(line)["title"] for line in result.stdout.splitlines()]
    assert titles == ["Council backs harbour plan 1", "Council backs harbour plan 4"]
    assert result.stderr.splitlines() == [f"propscan: {path}:{n}: not valid JSON here: it is nested too deeply"
                                          for n in (2, 3)]


@pytest.mark.parametrize(("value", "kind"), [("123", "a number"), ('["a", "b"]', "a list"),
                                              ('{"a": 1}', "an object"), ("true", "true or false")])
def test_a_text_that_is_not_a_string_fails_its_row(tmp_path, value, kind):
    path = tmp_path / "values.jsonl"
    rows = [f'{{"text": {value}}}', f'{{"title": {value}, "text": "x"}}']
    path.write_text(GOOD % 1 + "\n".join(rows) + "\n" + GOOD % 4, encoding="utf-8")
    items = read(path)
    assert kinds(items) == ["ok", "failed", "failed", "ok"]
    assert failures(items) == {f"{path}:2": f"text must be a string, not {kind}",
                               f"{path}:3": f"title must be a string, not {kind}"}


def test_ids_and_dates_may_be_numbers(tmp_path):
    path = tmp_path / "numbers.jsonl"
    path.write_text('{"id": 42, "date": 2020, "text": "Headline\\n\\nBody."}\n{"id": [1], "text": "x"}\n',
                    encoding="utf-8")
    article, failure = read(path)
    assert (article.id, article.source.date) == ("42", "2020")
    assert failure == ReadFailure(f"{path}:2", "id must be a string or a number, not a list")


def test_a_csv_field_over_the_limit_fails_its_row_and_the_rest_are_read(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("id,text\n")
        f.write('1,"Headline one\n\nA calm body."\n')  # lines 2-4
        f.write('2,"' + "A long sentence, with a comma and a ""quote"". " * 1_000 + '"\n')  # 49 kB
        f.write('3,"' + "Longer, still. " * 300 + '"\n')  # 4.5 kB: the row fits, its text does not
        f.write('4,"Headline four\n\nAnother body."\n')
    items = read(path, max_bytes=4_000)
    assert kinds(items) == ["ok", "failed", "failed", "ok"]
    assert [a.id for a in items if not isinstance(a, ReadFailure)] == ["1", "4"]
    assert failures(items) == {
        f"{path}:5": "too large: the row is over 16,000 bytes, 4 times the limit of 4,000 (raise it with --max-bytes)",
        f"{path}:6": "too large: the text is over the limit of 4,000 bytes (raise it with --max-bytes)"}


def test_a_csv_field_over_5_mb_does_not_stop_the_file(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("id,text\n")
        f.write('1,"' + "word " * 1_100_000 + '"\n')  # 5.5 MB, over the default limit
        f.write('2,"Headline two\n\nA calm body sentence."\n')
    result = analyze_cli(path)
    assert result.returncode == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["2"]
    assert result.stderr.splitlines() == [
        f"propscan: {path}:2: too large: the text is over the limit of 5,000,000 bytes (raise it with --max-bytes)"]


def test_a_quote_never_closed_fails_its_row_and_the_rows_after_it_are_read(tmp_path):
    path = tmp_path / "open.csv"
    path.write_text('id,title,text\n1,One,"Body one, fine."\n2,Two,"Body two, never closed\n'
                    "3,Three,Body three.\n4,Four,Body four.\n", encoding="utf-8")
    items = read(path)
    assert [a.id for a in items if not isinstance(a, ReadFailure)] == ["1", "3", "4"]
    assert failures(items) == {f"{path}:3": "not valid CSV: the quote opened in the row on line 3 is never "
                                            "closed (it runs to the end of the file)"}
    assert not any("Body two" in a.text for a in items if not isinstance(a, ReadFailure))


def test_a_quote_left_open_does_not_merge_the_next_rows_into_one_article(tmp_path):
    path = tmp_path / "merged.csv"
    path.write_text('id,text\n1,"Body one\n2,"Body two"\n3,Headline three\n', encoding="utf-8")
    items = read(path)
    assert [a.id for a in items if not isinstance(a, ReadFailure)] == ["3"]
    assert failures(items) == {f"{path}:3": "not valid CSV in the row on lines 2-3 (',' expected after '\"'; "
                                            "is a quote left open on line 2?)"}


def test_quoted_fields_over_several_lines_are_still_one_row(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text('id,text,date\n7,"Headline\n\nA body, with ""quotes"",\nover lines.",2020-01-02\n'
                    "8,Second headline,2020-01-03\n", encoding="utf-8")
    first, second = read(path)
    assert first.text == 'Headline\n\nA body, with "quotes",\nover lines.'
    assert (first.source.path, first.source.date) == (f"{path}:5", "2020-01-02")  # numbered by its last line
    assert (second.id, second.source.path) == ("8", f"{path}:6")


NUL_REFUSAL = "not text: the text is binary data (it contains NUL characters)"


def test_nul_characters_are_refused_from_every_path(tmp_path):
    (tmp_path / "nul.csv").write_text("id,text\n1,Headline\x00 one\n2,Headline two\n", encoding="utf-8")
    (tmp_path / "nul.jsonl").write_text('{"text": "Headline\\u0000 one"}\n' + GOOD % 2, encoding="utf-8")
    for name in ("nul.csv", "nul.jsonl"):
        items = read(tmp_path / name)
        assert kinds(items) == ["failed", "ok"]
        assert failures(items) == {f"{tmp_path / name}:{2 if name.endswith('csv') else 1}": NUL_REFUSAL}
    with pytest.raises(PropscanError, match=re.escape("not text: it is binary data (it contains NUL characters)")):
        article_from_text("Headline\x00 one\n\nBody.")
    (tmp_path / "nul.txt").write_bytes(b"Headline\x00 one\n\nBody.")
    assert kinds(read(tmp_path / "nul.txt")) == ["failed"]


def test_lone_surrogates_are_refused_from_every_path(tmp_path):
    with pytest.raises(PropscanError, match=re.escape("not valid Unicode (a lone surrogate, U+DC80, at character 9)")):
        article_from_text("Headline \udc80\n\nBody.")
    with pytest.raises(PropscanError, match="the title is not valid Unicode"):
        article_from_text("Headline\n\nBody.", title="A \ud83d title")
    with pytest.raises(PropscanError, match="the html is not valid Unicode"):
        check_text("<p>\ud800</p>", field="html")
    assert check_text("Emoji \U0001f600 and accents é are text") == "Emoji \U0001f600 and accents é are text"
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "Headline\\n\\nBody.", "title": "\\udfff"}\n', encoding="utf-8")
    assert failures(read(path)) == {f"{path}:1": "not text: the title is not valid Unicode (a lone surrogate, "
                                                 "U+DFFF, at character 0)"}


def test_a_row_failure_names_its_row_once(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(GOOD % 1 + '{"html": "<html><body><script>x()</script></body></html>"}\n', encoding="utf-8")
    result = analyze_cli(path)
    assert result.stderr.splitlines() == [f"propscan: {path}:2: no article text found in the HTML page"]


def test_a_corpus_line_over_the_limit_is_one_failure(tmp_path):
    path = tmp_path / "long.jsonl"
    path.write_text(GOOD % 1 + '{"text": "' + "x " * 30_000 + '"}\n' + GOOD % 3, encoding="utf-8")
    items = read(path, max_bytes=10_000)
    assert kinds(items) == ["ok", "failed", "ok"]
    assert failures(items) == {f"{path}:2": "too large: the line is over 40,000 bytes, 4 times the limit of "
                                            "10,000 (raise it with --max-bytes)"}


def test_windows_quotes_read_as_latin1_controls_are_text_not_binary():
    # „Jung und billig“ – as a page that mixed up its encodings serves it: C1 control characters.
    text = "Minijobs unter der Lupe\n\nIn der Kampagne \x84Jung und billig\x93 \x96 gegen Minijobs.\n"
    assert article_from_text(text).text == text
    with pytest.raises(PropscanError, match="control characters"):
        article_from_text("Binary\n\n" + "\x01\x02\x03\x04" * 10)
