"""The API under slow, hostile and concurrent requests, and over a store that cannot be used.

- A slow article (slow to read or to analyze) must not stall the event loop: /healthz and the
  other routes answer while it is worked on.
- Inputs that are not text, and listing offsets beyond any integer SQLite holds, are JSON 4xx.
- A damaged store makes /healthz and the data routes answer 503 with what is wrong; a read-only
  one makes POST and DELETE answer 503 (it is served by `propscan serve` with write permission
  taken away, the way a user meets it).
- A POST and a DELETE of the same text at once never make the POST answer 404.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from serving import LiveServer, damaged_store, readonly_preexec, start_serve, stop_serve

from propscan.store import Store
from propscan.web.app import create_app

TEXT = "Radical thugs destroy our country\n\nThe so-called experts begged the public to stay calm."
WAIT = 60  # seconds a blocked step waits before the test gives up (a hang, not a timing assert)


@pytest.fixture(autouse=True)
def lexicon(monkeypatch):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path / "db.sqlite3"), follow_redirects=False) as c:
        yield c


# -- the event loop stays free ----------------------------------------------------------------


def blocking(function, entered: threading.Event, release: threading.Event):
    """``function`` that, when called, says so and then waits until the test releases it."""

    def wrapper(*args, **kwargs):
        entered.set()
        assert release.wait(WAIT), "the test never released the slow step"
        return function(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize("slow_step", ["analysis", "reading"])
def test_a_slow_article_does_not_stall_health_checks_or_other_requests(tmp_path, monkeypatch, slow_step):
    import propscan.pipeline
    import propscan.readers

    entered, release = threading.Event(), threading.Event()
    if slow_step == "analysis":
        monkeypatch.setattr(propscan.pipeline, "analyze_many",
                            blocking(propscan.pipeline.analyze_many, entered, release))
    else:
        monkeypatch.setattr(propscan.readers, "article_from_text",
                            blocking(propscan.readers.article_from_text, entered, release))
    finished: list[str] = []
    with LiveServer(create_app(tmp_path / "db.sqlite3")) as live, ThreadPoolExecutor(2) as pool:
        def slow_post() -> httpx.Response:
            response = httpx.post(f"{live.url}/api/analyze", json={"text": TEXT}, timeout=WAIT * 2)
            finished.append("post")
            return response

        posted = pool.submit(slow_post)
        assert entered.wait(WAIT), "the POST never reached the slow step"
        try:
            health = httpx.get(f"{live.url}/healthz", timeout=WAIT)
            listing = httpx.get(f"{live.url}/api/analyses", timeout=WAIT)
            page = httpx.get(f"{live.url}/", timeout=WAIT)
            finished.append("others")
        finally:
            release.set()
        assert posted.result(timeout=WAIT).status_code == 200
    assert finished == ["others", "post"], "the other requests waited for the slow article"
    assert health.json() == {"status": "ok", "stored": 0}
    assert listing.json() == [] and page.status_code == 200


# -- input that is not text, numbers beyond any store ------------------------------------------


@pytest.mark.parametrize("body", [b'{"text": "lone \\ud800 surrogate"}',
                                  b'{"text": "Fine text.", "title": "lone \\udc00"}',
                                  b'{"html": "<p>\\udbff</p>"}',
                                  b'{"text": "Fine text.", "source": "\\ud800"}'])
def test_a_lone_surrogate_is_a_422_before_the_model_runs(client, monkeypatch, body):
    import propscan.pipeline

    def no_model(*args, **kwargs):
        raise AssertionError("the model ran on input that is not text")

    monkeypatch.setattr(propscan.pipeline, "analyze_many", no_model)
    response = client.post("/api/analyze", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "lone surrogate" in response.json()["error"]
    assert client.get("/healthz").json()["stored"] == 0


@pytest.mark.parametrize("path", ["/api/analyses?offset=9223372036854775808", "/api/analyses?offset=-1",
                                  "/api/analyses?limit=9223372036854775808", "/analyses?page=4611686018427387904",
                                  "/analyses?page=0", "/analyses?page=x"])
def test_offsets_and_pages_beyond_any_store_are_422(client, path):
    response = client.get(path)
    assert response.status_code == 422
    assert response.json()["error"]


def test_the_last_offset_and_page_accepted_still_answer(client):
    client.post("/api/analyze", json={"text": TEXT})
    assert client.get("/api/analyses", params={"offset": 1_000_000_000}).json() == []
    assert client.get("/analyses", params={"page": 20_000_000}).status_code == 200


# -- POST and DELETE of the same text at once --------------------------------------------------


def test_a_delete_landing_between_the_store_calls_of_a_post_never_makes_it_404(tmp_path):
    """Every store call the POST makes is followed at once by a DELETE of the text, from outside."""
    db = tmp_path / "db.sqlite3"
    with TestClient(create_app(db)) as client, Store(db) as other:
        store = client.app.state.store
        deletes = 0

        def delete_after(name: str):
            method = getattr(store, name)

            def wrapper(*args, **kwargs):
                nonlocal deletes
                result = method(*args, **kwargs)
                for item in other.search():
                    deletes += other.delete(item.id)
                return result

            return wrapper

        for name in ("find", "id_for", "get", "add", "add_or_get", "contains"):
            setattr(store, name, delete_after(name))
        first = client.post("/api/analyze", json={"text": TEXT})
        assert first.status_code == 200, first.text
        assert first.json()["text"] == TEXT
        for name in ("find", "id_for", "get", "add", "add_or_get", "contains"):
            delattr(store, name)
        client.post("/api/analyze", json={"text": TEXT})  # stored again, so the next POST finds it
        for name in ("find", "id_for", "get", "add", "add_or_get", "contains"):
            setattr(store, name, delete_after(name))
        again = client.post("/api/analyze", json={"text": TEXT})
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
        assert deletes == 2


def test_concurrent_posts_and_deletes_of_the_same_text_never_404_the_post(tmp_path):
    with LiveServer(create_app(tmp_path / "db.sqlite3")) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        stored_id = http.post("/api/analyze", json={"text": TEXT}).json()["id"]

        def post() -> httpx.Response:
            return http.post("/api/analyze", json={"text": TEXT})

        def delete() -> httpx.Response:
            return http.delete(f"/api/analyses/{stored_id}")

        with ThreadPoolExecutor(4) as pool:
            for _ in range(25):
                futures = [pool.submit(post), pool.submit(delete), pool.submit(post), pool.submit(delete)]
                posts = [futures[0].result(), futures[2].result()]
                assert [r.status_code for r in posts] == [200, 200], [r.text for r in posts]
                assert all(r.json()["id"] == stored_id and r.json()["text"] == TEXT for r in posts)
                assert {futures[1].result().status_code, futures[3].result().status_code} <= {204, 404}


# -- a store that cannot be used ----------------------------------------------------------------


def test_a_damaged_store_is_503_on_healthz_and_the_data_routes(tmp_path):
    db, ids = damaged_store(tmp_path / "damaged.sqlite3")
    with TestClient(create_app(db), follow_redirects=False) as client:
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert "damaged" in health.json()["error"] and str(db) in health.json()["error"]
        routes = ["/api/analyses", "/api/analyses?q=radical", "/analyses", "/stats"]
        answers = [client.get(path) for path in routes]
        answers += [client.get(f"/api/analyses/{i}") for i in ids]
        assert {r.status_code for r in answers} <= {200, 503}
        for path, response in zip(routes, answers, strict=False):
            assert response.status_code == 503, path
        for response in answers:
            if response.status_code == 503:
                assert "the store is damaged" in response.json()["error"]
        assert any(r.status_code == 503 for r in answers[len(routes):]), "some stored analysis is in a damaged page"
        posted = client.post("/api/analyze", json={"text": "A new text about the budget."})
        assert posted.status_code in (200, 503)
        if posted.status_code == 503:
            assert "damaged" in posted.json()["error"]


def test_a_read_only_store_answers_reads_and_refuses_writes_with_503(tmp_path):
    preexec = readonly_preexec()
    db = tmp_path / "readonly.sqlite3"
    with Store(db) as store:
        from propscan.pipeline import analyze_many
        from propscan.readers import article_from_text

        stored_id, _ = store.add(next(analyze_many([article_from_text(TEXT)])))
    db.chmod(0o444)
    process, url = start_serve("--db", str(db), preexec_fn=preexec)
    try:
        assert httpx.get(f"{url}/healthz", timeout=10).json() == {"status": "ok", "stored": 1}
        assert httpx.get(f"{url}/api/analyses/{stored_id}", timeout=10).status_code == 200
        for response in (httpx.post(f"{url}/api/analyze", json={"text": "A new text."}, timeout=60),
                         httpx.delete(f"{url}/api/analyses/{stored_id}", timeout=10)):
            assert response.status_code == 503, response.text
            assert "read-only" in response.json()["error"]
        form = httpx.post(f"{url}/analyze", data={"text": "A new text."}, timeout=60)
        assert form.status_code == 503 and "read-only" in form.json()["error"]
        assert httpx.get(f"{url}/api/analyses/{stored_id}", timeout=10).status_code == 200
    finally:
        output = stop_serve(process)
    assert "Traceback" not in output


def test_a_bug_is_a_json_500_with_the_security_headers(tmp_path):
    with TestClient(create_app(tmp_path / "db.sqlite3"), raise_server_exceptions=False) as client:
        store = client.app.state.store

        def broken(*args, **kwargs):
            raise RuntimeError("a bug")

        store.search = broken
        response = client.get("/api/analyses")
        assert response.status_code == 500
        assert response.json() == {"error": "internal error"}, "the bug's message is not shown to clients"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" in response.headers


@pytest.mark.parametrize("body", [
    {"text": "Headline words here\n\nBody text here.", "title": "A \x00 title"},
    {"html": "<html><body><h1>Big news today</h1><p>Body \x00 text of the article.</p></body></html>"},
    {"text": "Headline words here\n\nBody text here.", "source": "site\x00name"},
])
def test_nul_characters_are_refused_in_every_field_as_in_files(tmp_path, body, monkeypatch):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")
    with TestClient(create_app(tmp_path / "db.sqlite3")) as client:
        answer = client.post("/api/analyze", json=body)
    assert answer.status_code == 400
    assert "NUL characters" in answer.json()["error"]
