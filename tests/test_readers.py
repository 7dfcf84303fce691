"""Readers: decoding, .txt / .html files, corpora, folders, and what they refuse."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from propscan.errors import PropscanError
from propscan.readers import ReadFailure, iter_sources, read_source
from propscan.readers.html import article_from_html
from propscan.readers.text import decode

FIXTURES = Path(__file__).parent / "fixtures"
STORY = "“Obviously, let’s check,” Néstor Popolizio said – the café’s naïve owner paid 5 €.\nSecond line.\n"

# -- decoding ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoded", [
    STORY.encode("utf-8"),
    codecs.BOM_UTF8 + STORY.encode("utf-8"),
    STORY.encode("utf-16"),  # with its byte-order mark
    codecs.BOM_UTF16_BE + STORY.encode("utf-16-be"),
    STORY.encode("cp1252"),
], ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "windows-1252"])
def test_encodings_decode_to_the_same_text(encoded):
    assert decode(encoded, "test") == STORY


def test_latin_1_decodes_correctly():
    text = "Le café de la Señora Müller était fermé à cause de la grève.\nÀ bientôt, garçon!\n"
    assert decode(text.encode("latin-1"), "test") == text


def test_mostly_non_latin_text_in_a_legacy_encoding_is_detected():
    text = "Президент заявил, что правительство примет новые меры для поддержки экономики страны.\n"
    assert decode(text.encode("cp1251"), "test") == text


@pytest.mark.parametrize(("raw", "expected"), [
    (b"Title\r\n\r\nBody one.\r\nBody two.\r\n", "Title\n\nBody one.\nBody two.\n"),
    (b"Title\r\rBody one.\rBody two.", "Title\n\nBody one.\nBody two."),
    (b"Title\n\r\nmixed\r", "Title\n\nmixed\n"),
])
def test_crlf_and_cr_newlines_become_newlines(raw, expected):
    assert decode(raw, "test") == expected


@pytest.mark.parametrize(("data", "reason"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (a PNG image)"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary file (a PDF document)"),
    (b"some text\x00\x00 with NULs", "binary file (it contains NUL bytes)"),
    (codecs.BOM_UTF8 + b"caf\xe9 \xff\xfe broken", "undecodable: it starts with a UTF-8 byte-order mark"),
    (b"\x01\x02\x03\x04 text? \x05\x06\x07\x08\x0e\x0f\x10\x11", "not text: it holds control characters"),
])
def test_binary_and_undecodable_bytes_are_refused(data, reason):
    with pytest.raises(PropscanError) as refused:
        decode(data, "input.txt")
    assert str(refused.value).startswith(f"input.txt: {reason}")


# -- .txt files ----------------------------------------------------------------------------------------


def test_a_ptc_file_keeps_its_text_and_id(tmp_path):
    path = tmp_path / "article123456.txt"
    path.write_bytes(b"Title line\n\nFirst sentence.\n")
    [article] = read_source(str(path))
    assert (article.id, article.title, article.text) == ("123456", "Title line", "Title line\n\nFirst sentence.\n")


def test_ptc_offsets_stay_valid():
    folder = FIXTURES / "ptc" / "train-articles"
    labels = FIXTURES / "ptc" / "train-labels-task1-span-identification"
    path = sorted(folder.glob("article*.txt"))[0]
    [article] = read_source(str(path))
    assert article.text == path.read_text(encoding="utf-8")
    spans = [line.split() for line in (labels / f"article{article.id}.task1-SI.labels").read_text().splitlines()]
    assert spans and all(0 <= int(s) < int(e) <= len(article.text) for _, s, e in spans)


def test_plain_text_takes_its_first_non_empty_line_as_title(tmp_path):
    path = tmp_path / "pasted.txt"
    path.write_bytes(b"\n\n  A headline  \nThe body.\n")
    [article] = read_source(str(path))
    assert article.title == "A headline"
    assert article.text == "\n\n  A headline  \nThe body.\n"


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "the article is empty"),
    (b" \n\r\n\t ", "the article is empty"),
    (b"x" * 2001, "too large: 2,001 bytes, over the limit of 2,000 (raise it with --max-bytes)"),
])
def test_empty_and_oversized_files_are_refused(tmp_path, content, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(PropscanError) as refused:
        read_source(str(path), max_bytes=2000)
    assert str(refused.value) == f"{path}: {reason}"


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(PropscanError, match=r"missing\.txt: no such file or directory"):
        read_source(str(tmp_path / "missing.txt"))


# -- HTML ------------------------------------------------------------------------------------------------

STORY_PARAGRAPHS = [
    "The harbour council voted seven to four on Tuesday night to build a two-kilometre sea wall along the "
    "eastern front, ending a dispute that has divided the town for more than a decade.",
    "Supporters said the wall would protect about 900 homes from the winter surges that flooded the old market in "
    "2020 and again last year, when water reached the steps of the town hall.",
    "Opponents argued that the project, estimated at 48 million pounds, would cut fishermen off from the beach they "
    "have used for generations and that cheaper measures had never been properly studied.",
    "Tonight the council finally listened to the families who lost everything in the floods. The wall gets built.",
    "— Jane Harrow (@janeharrow_cllr) March 12, 2024",
    "Council leader Jane Harrow, who posted the message above shortly after the vote, said construction could begin "
    "in the autumn if the national flood agency confirms its share of the funding.",
    "The fishermen's association said it would ask for a judicial review of the decision and called on residents to "
    "attend a public meeting at the harbour chapel next week.",
]
TITLE = "Harbour council approves new sea wall after stormy debate"


def test_a_news_page_yields_its_title_and_exactly_the_story_paragraphs():
    [article] = read_source(str(FIXTURES / "news-page.html"))
    assert article.title == TITLE
    assert article.text == "\n\n".join([TITLE, *STORY_PARAGRAPHS])  # PTC layout: title, empty line, body
    for furniture in ("cookie", "Share on", "views", "BREAKING", "Related articles", "Leave a comment",
                      "Subscribe", "All rights reserved", "Politics"):
        assert furniture not in article.text
    assert (article.source.author, article.source.date, article.source.site) == (
        "Maria Okafor", "2024-03-14", "The Coastal Courier")


def test_html_without_an_article_is_refused(tmp_path):
    path = tmp_path / "menu.html"
    path.write_text("<html><head><title>Home</title></head><body><nav><a href='/'>Home</a> "
                    "<a href='/news'>News</a></nav></body></html>", encoding="utf-8")
    with pytest.raises(PropscanError) as refused:
        read_source(str(path))
    assert str(refused.value) == f"{path}: no article text found in the HTML page"


def test_html_in_windows_1252_with_a_meta_charset(tmp_path):
    body = "<p>" + "Le café était fermé, dit-il – “c’est fini”. " * 8 + "</p>"
    page = f"<html><head><meta charset='windows-1252'><title>Fermé</title></head><body><article>{body}" \
           "</article></body></html>"
    path = tmp_path / "fr.htm"
    path.write_bytes(page.encode("cp1252"))
    [article] = read_source(str(path))
    assert "“c’est fini”" in article.text


def test_article_from_html_keeps_the_url():
    article = article_from_html((FIXTURES / "news-page.html").read_text(encoding="utf-8"),
                                url="https://courier.example/a", id="a1")
    assert article.id == "a1"
    assert article.source.url == "https://courier.example/a"


# -- corpora and folders ---------------------------------------------------------------------------------


def test_a_jsonl_corpus_reads_good_rows_and_reports_bad_ones(tmp_path):
    html = (FIXTURES / "news-page.html").read_text(encoding="utf-8")
    rows = [
        json.dumps({"id": "t1", "title": "A title", "text": "The body.\r\nMore.", "source": "Daily Example",
                    "date": "2024-01-02"}),
        json.dumps({"id": "h1", "html": html, "source": "https://courier.example/x"}),
        "{not json",
        json.dumps({"id": "e1", "text": "  "}),
        "",
        json.dumps(["a list"]),
        json.dumps({"text": "Untitled first line\n\nbody"}),
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    items = list(iter_sources([str(path)]))
    articles = [i for i in items if not isinstance(i, ReadFailure)]
    failures = [i for i in items if isinstance(i, ReadFailure)]
    assert [a.id for a in articles] == ["t1", "h1", "corpus-7"]
    assert articles[0].text == "A title\n\nThe body.\nMore."
    assert (articles[0].source.site, articles[0].source.date) == ("Daily Example", "2024-01-02")
    assert articles[1].title == TITLE and articles[1].source.url == "https://courier.example/x"
    assert articles[2].title == "Untitled first line"
    assert [(f.source, f.reason.split(" (")[0]) for f in failures] == [
        (f"{path}:3", "not valid JSON"),
        (f"{path}:4", "the record has no text, html or url"),
        (f"{path}:6", "not a JSON object"),
    ]


def test_a_csv_corpus_with_long_fields_and_windows_1252_rows(tmp_path):
    long_text = "A sentence of the story. " * 10_000  # longer than csv's default field limit
    path = tmp_path / "export.csv"
    path.write_bytes(b"id,title,text\r\n" + f'c1,Long one,"{long_text}"\r\n'.encode()
                     + 'c2,Café,"Le café était fermé."\r\n'.encode("cp1252"))
    articles = read_source(str(path))
    assert [a.id for a in articles] == ["c1", "c2"]
    assert articles[0].text == f"Long one\n\n{long_text}"
    assert articles[1].text == "Café\n\nLe café était fermé."


def test_a_csv_without_a_text_column_is_one_failure(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("name,body\na,b\n", encoding="utf-8")
    expected = ReadFailure(f"{path}:1", "the CSV header has no text, html or url column")
    assert list(iter_sources([str(path)])) == [expected]


def test_a_folder_is_read_recursively_by_extension_and_reports_every_bad_file(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.txt").write_text("Good news A\n\nBody.", encoding="utf-8")
    (tmp_path / "sub" / "b.html").write_bytes((FIXTURES / "news-page.html").read_bytes())
    (tmp_path / "sub" / "deeper" / "c.txt").write_bytes("Good news C\n\nCafé.".encode("cp1252"))
    (tmp_path / "sub" / "empty.txt").write_bytes(b"")
    (tmp_path / "sub" / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "notes.md").write_text("not an article extension", encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_text("hidden", encoding="utf-8")
    items = list(iter_sources([str(tmp_path)]))
    read = [(i.source.path, i.title) for i in items if not isinstance(i, ReadFailure)]
    failed = [(i.source, i.reason.split(" (")[0]) for i in items if isinstance(i, ReadFailure)]
    assert read == [(str(tmp_path / "a.txt"), "Good news A"), (str(tmp_path / "sub" / "b.html"), TITLE),
                    (str(tmp_path / "sub" / "deeper" / "c.txt"), "Good news C")]
    assert failed == [(str(tmp_path / "sub" / "binary.txt"), "binary file"),
                      (str(tmp_path / "sub" / "empty.txt"), "the article is empty")]


def test_read_source_is_strict_and_an_empty_folder_is_reported(tmp_path):
    with pytest.raises(PropscanError, match="no article files"):
        read_source(str(tmp_path))
