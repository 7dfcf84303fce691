"""The REST API and the server-rendered pages, against the real app and a real SQLite file."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from propscan.document import Analysis, Span
from propscan.pipeline import analyze_many
from propscan.readers import article_from_text
from propscan.store import Store
from propscan.taxonomy import TECHNIQUES
from propscan.web import view
from propscan.web.app import create_app

SAMPLE = Path(__file__).parent / "fixtures" / "scraped-article.txt"  # made up, with page furniture
TEXT = ("Radical thugs destroy our country\n\n"
        "The so-called experts begged the public to stay calm. Officials met on Monday to discuss the budget.")
PAGE = """<!doctype html><html><head><title>Ports reopen after the storm</title></head><body>
<article><h1>Ports reopen after the storm</h1>
<p>The harbour authority said on Tuesday that all three ports reopened after the storm had passed.</p>
<p>Critics called the delay a disgraceful failure by corrupt officials who ignored every warning.</p>
<p>Shipping companies expect normal traffic to resume by the end of the week, officials said.</p>
</article></body></html>"""


@pytest.fixture(autouse=True)
def lexicon(monkeypatch):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "web.sqlite3"


@pytest.fixture
def client(db):
    with TestClient(create_app(db)) as c:
        yield c


@pytest.fixture
def page_server():
    """A local web server on 127.0.0.1 that serves one article page."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/news/ports.html"
    server.shutdown()
    server.server_close()


# -- POST /api/analyze ------------------------------------------------------------------------


def test_analyze_text_returns_the_cli_json_plus_the_stored_id(client):
    response = client.post("/api/analyze", json={"text": TEXT})
    assert response.status_code == 200
    body = response.json()
    expected = next(analyze_many([article_from_text(TEXT)])).model_dump(mode="json")
    assert body["article_id"] == expected["id"]
    assert {k: v for k, v in body.items() if k not in ("id", "article_id")} == \
        {k: v for k, v in expected.items() if k != "id"}
    Analysis.model_validate({k: v for k, v in body.items() if k != "article_id"})
    assert body["spans"], "the lexicon detector marks 'thugs' and 'so-called'"
    stored = client.get(f"/api/analyses/{body['id']}")
    assert stored.status_code == 200
    assert stored.json() == body


def test_the_same_text_is_stored_once(client, db):
    first = client.post("/api/analyze", json={"text": TEXT}).json()
    second = client.post("/api/analyze", json={"text": TEXT.replace("\n", "\r\n")}).json()
    assert first["id"] == second["id"]
    assert Store(db).count() == 1


def test_title_and_source_are_kept(client):
    body = client.post("/api/analyze", json={"text": "Body line one.\n\nBody line two is here.",
                                             "title": "My own title", "source": "https://example.org/a"}).json()
    assert body["title"] == "My own title"
    assert body["source"]["url"] == "https://example.org/a"
    listed = client.get("/api/analyses").json()[0]
    assert (listed["title"], listed["source"]) == ("My own title", "https://example.org/a")
    site = client.post("/api/analyze", json={"text": "Another text entirely.", "source": "Example Daily"}).json()
    assert site["source"]["site"] == "Example Daily"


def test_analyze_html(client):
    body = client.post("/api/analyze", json={"html": PAGE, "source": "https://example.org/ports"}).json()
    assert body["title"] == "Ports reopen after the storm"
    assert "harbour authority" in body["text"]
    assert "<p>" not in body["text"]
    assert body["source"]["url"] == "https://example.org/ports"


def test_analyze_url_from_a_local_server_only_when_private_addresses_are_allowed(db, page_server):
    with TestClient(create_app(db)) as strict:
        refused = strict.post("/api/analyze", json={"url": page_server})
        assert refused.status_code == 400
        assert "127.0.0.1" in refused.json()["error"]
    with TestClient(create_app(db, allow_private_urls=True)) as local:
        body = local.post("/api/analyze", json={"url": page_server}).json()
        assert body["title"] == "Ports reopen after the storm"
        assert body["source"]["url"] == page_server


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [{"text": ""}, {"text": "  \n\t "}, {"html": "<html><body></body></html>"},
                                     {"html": ""}, {"url": "ftp://example.org/file"}, {"url": "not a url"}])
def test_input_that_cannot_be_analyzed_is_400_with_a_message(client, payload):
    response = client.post("/api/analyze", json=payload)
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize("payload", [{}, {"text": "a", "url": "https://example.org"}, {"text": 5},
                                     {"text": "a", "colour": "red"}, ["text"], {"title": "only a title"}])
def test_malformed_requests_are_422_with_a_message(client, payload):
    response = client.post("/api/analyze", json=payload)
    assert response.status_code == 422
    assert response.json()["error"]


def test_invalid_json_is_422(client):
    response = client.post("/api/analyze", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "error" in response.json()


def test_bodies_over_the_limit_are_413(db):
    with TestClient(create_app(db, max_body_bytes=1000)) as small:
        assert small.post("/api/analyze", json={"text": "x" * 900}).status_code == 200
        declared = small.post("/api/analyze", json={"text": "x" * 2000})
        assert declared.status_code == 413
        assert "1000 bytes" in declared.json()["error"]

        def chunks():  # no Content-Length: the limit is checked while reading
            for _ in range(10):
                yield b"x" * 500

        chunked = small.post("/api/analyze", content=chunks(), headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413
        assert small.post("/analyze", data={"text": "y" * 2000}).status_code == 413
    with TestClient(create_app(db)) as default:
        assert default.post("/api/analyze", json={"text": "x" * 2_100_000}).status_code == 413


def test_unknown_ids_are_404(client):
    for response in (client.get("/api/analyses/0123456789abcdef"), client.delete("/api/analyses/0123456789abcdef")):
        assert response.status_code == 404
        assert "0123456789abcdef" in response.json()["error"]
    assert client.get("/analyses/0123456789abcdef").status_code == 404


# -- listing, search, deletion ----------------------------------------------------------------


def test_list_search_limit_and_delete(client):
    ids = [client.post("/api/analyze", json={"text": f"Article {word}\n\nAbout {word} and more."}).json()["id"]
           for word in ("harbours", "elections", "vaccines")]
    listed = client.get("/api/analyses").json()
    assert [item["id"] for item in listed] == ids[::-1]
    assert set(listed[0]) == {"id", "title", "source", "date", "score", "created_at", "n_spans"}
    assert [item["id"] for item in client.get("/api/analyses", params={"q": "election"}).json()] == [ids[1]]
    assert [item["id"] for item in client.get("/api/analyses", params={"limit": 1, "offset": 1}).json()] == [ids[1]]
    assert client.get("/api/analyses", params={"q": '") OR *'}).status_code == 200
    assert client.get("/api/analyses", params={"limit": 0}).status_code == 422
    assert client.delete(f"/api/analyses/{ids[0]}").status_code == 204
    assert client.get(f"/api/analyses/{ids[0]}").status_code == 404
    assert [item["id"] for item in client.get("/api/analyses").json()] == ids[:0:-1]


def test_techniques_health_and_openapi(client):
    techniques = client.get("/api/techniques").json()
    assert [t["id"] for t in techniques] == [t.id for t in TECHNIQUES]
    assert len(techniques) == 14
    assert all(t["name"] and t["definition"] and t["example"] and t["colour"].startswith("#") for t in techniques)
    assert client.get("/healthz").json() == {"status": "ok", "stored": 0}
    schema = client.get("/openapi.json").json()
    assert {"AnalyzeRequest", "StoredAnalysis", "Span", "Sentence", "StoredSummary", "TechniqueInfo"} <= \
        set(schema["components"]["schemas"])
    paths = {"/api/analyze", "/api/analyses", "/api/analyses/{id}", "/api/techniques", "/healthz"}
    assert paths <= set(schema["paths"])
    docs = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_stored_analyses_survive_a_restart(db):
    with TestClient(create_app(db)) as first:
        stored = first.post("/api/analyze", json={"text": TEXT}).json()
    with TestClient(create_app(db)) as second:
        assert second.get(f"/api/analyses/{stored['id']}").json() == stored
        assert [item["id"] for item in second.get("/api/analyses", params={"q": "thugs"}).json()] == [stored["id"]]
        assert second.get("/healthz").json()["stored"] == 1


# -- pages ------------------------------------------------------------------------------------


def test_pages_render_and_the_form_stores_an_analysis(client):
    assert 'id="analyze-form"' in client.get("/").text
    response = client.post("/analyze", data={"text": SAMPLE.read_text()}, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    page = client.get(location)
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert '<mark class="hl"' in page.text
    assert "Article score" in page.text and "Removed as page furniture" in page.text
    listing = client.get("/analyses", params={"q": "Dunmore"}).text
    assert location in listing
    assert "save the island ferry" in listing


def test_the_form_accepts_uploads_and_explains_errors(client):
    txt = client.post("/analyze", files={"file": ("note.txt", TEXT.encode(), "text/plain")}, follow_redirects=False)
    assert txt.status_code == 303
    stored = client.get("/api" + txt.headers["location"]).json()
    assert stored["source"]["path"] == "note.txt"
    html = client.post("/analyze", files={"file": ("ports.html", PAGE.encode(), "text/html")}, follow_redirects=False)
    assert html.status_code == 303
    pdf = client.post("/analyze", files={"file": ("paper.pdf", b"%PDF-1.4", "application/pdf")})
    assert pdf.status_code == 400 and "paper.pdf: upload a .txt or .html file" in pdf.text
    nothing = client.post("/analyze", data={"text": "   "})
    assert nothing.status_code == 400 and "paste an article" in nothing.text
    both = client.post("/analyze", data={"text": "some text", "url": "https://example.org"})
    assert both.status_code == 400 and "not several" in both.text


def test_article_text_is_escaped_everywhere(client):
    evil = ('<script>alert("title")</script> thugs\n\n'
            'The radical </script><img src=x onerror=alert(1)> plan & "quotes" \'here\'.')
    body = client.post("/api/analyze", json={"text": evil}).json()
    page = client.get(f"/analyses/{body['id']}").text
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert page.count("</script>") == 2  # app.js and the JSON data block, nothing from the article
    assert "&lt;script&gt;alert" in page
    listing = client.get("/analyses").text
    assert "<script>alert" not in listing


# -- the result view's segments ---------------------------------------------------------------


def test_overlapping_spans_split_the_text_into_segments_covered_by_both():
    text = "They are all corrupt traitors, obviously."
    analysis = Analysis(id="x", title="t", text=text, spans=[
        Span.of(text, 9, 29, "Loaded_Language", 0.9),    # "all corrupt traitors"
        Span.of(text, 13, 29, "Name_Calling,Labeling", 0.4),  # "corrupt traitors"
        Span.of(text, 21, 30, "Doubt", 0.2),            # "traitors,"
    ])
    segments = view.segments(analysis)
    assert "".join(s.text for s in segments) == text
    covered = {s.text: s.spans for s in segments}
    assert covered == {"They are ": [], "all ": [0], "corrupt ": [0, 1], "traitors": [0, 1, 2], ",": [2],
                       " obviously.": []}
    triple = next(s for s in segments if s.text == "traitors")
    assert triple.style.count("inset") == 3
    assert view.technique_counts(analysis)[0]["count"] == 1


def test_the_page_shows_the_headline_check_when_there_is_one(db):
    from propscan.document import Evidence, HeadlineCheck, Sentence

    text = "Puppets beg Russia for help\n\nThe ministers met in New York. Nobody begged anyone."
    start = text.index("Nobody")
    analysis = Analysis(
        id="h1", title="Puppets beg Russia for help", text=text,
        sentences=[Sentence(start=29, end=start - 1, score=0.2), Sentence(start=start, end=len(text), score=0.1)],
        headline=HeadlineCheck(stance="disagree", supported=False,
                               probabilities={"agree": 0.1, "disagree": 0.7, "discuss": 0.15, "unrelated": 0.05},
                               evidence=[Evidence(start=start, end=len(text), text=text[start:], relation="contradicts",
                                                  score=0.8)]))
    with Store(db) as store:
        stored_id, _ = store.add(analysis)
    with TestClient(create_app(db)) as client:
        page = client.get(f"/analyses/{stored_id}").text
        assert 'id="headline-check"' in page
        assert "does not support the headline" in page and "Nobody begged anyone." in page
        assert client.get(f"/api/analyses/{stored_id}").json()["headline"]["stance"] == "disagree"


def test_serve_refuses_a_file_that_is_not_a_store_in_one_line(tmp_path):
    import subprocess
    import sys

    notes = tmp_path / "notes.txt"
    notes.write_text("not a database " * 200)
    for args in (["--db", str(notes)], ["--max-body", "0"]):
        done = subprocess.run([sys.executable, "-m", "propscan.cli", "serve", "--port", "1", *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert done.stderr.startswith("propscan: ") and done.stderr.count("\n") == 1
        assert "Traceback" not in done.stderr
