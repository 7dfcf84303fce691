"""The Python API says what it does: a string is text, files and URLs are read only when asked for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.local_server import Route, serve

import propscan
from propscan import Article, PropscanError

BODY = ("Council approves the harbour bridge repairs\n\n"
        "The council voted on Tuesday to repair the harbour bridge. Work starts in the spring and the "
        "bridge stays open to walkers while it lasts.\n")


@pytest.fixture(autouse=True)
def lexicon(monkeypatch):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")


@pytest.fixture
def secret_file(tmp_path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("The launch code is 0000, never to be shown.\n", encoding="utf-8")
    return path


def test_a_string_naming_a_file_is_analyzed_as_text_not_read(secret_file):
    analysis = propscan.analyze(str(secret_file))
    assert analysis.text == str(secret_file)
    assert "launch code" not in analysis.to_json()


def test_etc_hostname_is_analyzed_as_the_text_etc_hostname():
    assert propscan.analyze("/etc/hostname").text == "/etc/hostname"


def test_a_string_that_looks_like_a_url_is_not_fetched():
    with serve({"/": Route(body=b"<html><body><p>fetched</p></body></html>")}) as server:
        analysis = propscan.analyze(server.url + "/")
    assert analysis.text == server.url + "/"
    assert server.requests == []


def test_a_path_and_analyze_file_read_the_file(secret_file):
    from_path = propscan.analyze(secret_file)
    from_name = propscan.analyze_file(str(secret_file))
    assert from_path.text.startswith("The launch code is 0000")
    assert from_path.model_dump() == from_name.model_dump()
    assert from_path.source.path == str(secret_file)


def test_an_article_is_analyzed_as_it_is():
    article = Article(id="bridge", title="Council approves the harbour bridge repairs", text=BODY)
    analysis = propscan.analyze(article)
    assert analysis.id == "bridge" and analysis.text == BODY
    as_text = propscan.analyze(BODY)
    assert analysis.spans == as_text.spans and analysis.sentences == as_text.sentences


def test_analyze_file_refuses_what_is_not_one_article(tmp_path):
    with pytest.raises(PropscanError, match="no such file"):
        propscan.analyze_file(tmp_path / "missing.txt")
    with pytest.raises(PropscanError, match="not a file"):
        propscan.analyze_file(tmp_path)
    corpus = tmp_path / "two.jsonl"
    corpus.write_text("".join(json.dumps({"id": str(i), "text": BODY}) + "\n" for i in range(2)), encoding="utf-8")
    with pytest.raises(PropscanError, match="holds 2 articles; use analyze_many"):
        propscan.analyze_file(corpus)


def test_a_file_named_dash_is_the_file_not_standard_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("-").write_text(BODY, encoding="utf-8")
    assert propscan.analyze_file("-").text == BODY


def test_analyze_url_fetches_and_refuses_private_addresses_unless_allowed():
    page = f"<html><head><title>Bridge</title></head><body><article><p>{BODY}</p></article></body></html>"
    with serve({"/story": Route(body=page.encode())}) as server:
        with pytest.raises(PropscanError, match="127.0.0.1"):
            propscan.analyze_url(server.url + "/story")
        assert server.requests == []
        analysis = propscan.analyze_url(server.url + "/story", allow_private=True)
    assert "harbour bridge" in analysis.text
    assert analysis.source.url == server.url + "/story"


def test_analyze_url_takes_only_http_urls(secret_file):
    with pytest.raises(PropscanError, match="not an http"):
        propscan.analyze_url(str(secret_file))


def test_analyze_refuses_other_types():
    with pytest.raises(TypeError, match="not bytes"):
        propscan.analyze(b"bytes are not text")
