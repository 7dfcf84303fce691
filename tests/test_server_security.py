"""Access control of the web app and API: the token, the login cookie, --public-read, the Host and
Origin checks, the security headers, and `propscan serve` refusing to expose an open server.

The app is exercised in process (TestClient), through `propscan serve` itself on a real port, and
in a real browser (Debian's Chromium via Playwright) for the login form and the CSP of /docs.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from serving import CHROMIUM_ARGS, run_cli, start_serve, stop_serve

from propscan.web.app import create_app
from propscan.web.guard import SESSION_COOKIE, served_hosts

TOKEN = "correct horse battery staple"
TEXT = "Radical thugs destroy our country\n\nThe so-called experts begged the public to stay calm."
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


@pytest.fixture(autouse=True)
def lexicon(monkeypatch):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")
    monkeypatch.delenv("PROPSCAN_TOKEN", raising=False)


def client_for(db: Path, **access) -> TestClient:
    """A client of the app as `propscan serve` builds it: loopback names served, Host checked."""
    access.setdefault("allowed_hosts", served_hosts("127.0.0.1"))
    return TestClient(create_app(db, **access), base_url="http://127.0.0.1:8000", follow_redirects=False)


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- the token ----------------------------------------------------------------------------------


def test_with_a_token_the_api_answers_401_without_it_and_200_with_it(tmp_path):
    with client_for(tmp_path / "db.sqlite3", token=TOKEN) as client:
        stored = client.post("/api/analyze", json={"text": TEXT}, headers=bearer())
        assert stored.status_code == 200
        stored_id = stored.json()["id"]
        for method, path in (("GET", "/api/analyses"), ("GET", f"/api/analyses/{stored_id}"),
                             ("POST", "/api/analyze"), ("DELETE", f"/api/analyses/{stored_id}")):
            body = {"json": {"text": TEXT}} if method == "POST" else {}
            for headers in ({}, bearer("wrong token"), {"Authorization": TOKEN}, {"Authorization": "Basic eDp5"}):
                refused = client.request(method, path, headers=headers, **body)
                assert refused.status_code == 401, (method, path, headers)
                assert "Authorization: Bearer TOKEN" in refused.json()["error"]
                assert refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/api/analyses", headers=bearer()).json()[0]["id"] == stored_id
        assert client.get(f"/api/analyses/{stored_id}", headers=bearer()).status_code == 200
        # open to everyone: the health check, the technique list, the docs and the static files
        assert client.get("/healthz").json() == {"status": "ok", "stored": 1}
        assert len(client.get("/api/techniques").json()) == 14
        assert client.get("/docs").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/static/app.js").status_code == 200
        # pages send a browser to the login form, keeping where it was going
        for path in ("/", "/analyses?q=thugs", f"/analyses/{stored_id}", "/stats"):
            redirect = client.get(path)
            assert redirect.status_code == 303
            assert redirect.headers["location"].startswith("/login?next=%2F")
        assert client.post("/analyze", data={"text": TEXT}).headers["location"] == "/login?next=%2F"
        assert client.delete(f"/api/analyses/{stored_id}", headers=bearer()).status_code == 204


def test_the_login_form_sets_an_httponly_strict_cookie_that_works_in_place_of_the_header(tmp_path):
    with client_for(tmp_path / "db.sqlite3", token=TOKEN) as client:
        form = client.get("/login", params={"next": "/analyses"})
        assert form.status_code == 200 and 'id="login-form"' in form.text
        wrong = client.post("/login", data={"token": "guess", "next": "/analyses"})
        assert wrong.status_code == 401 and "not this server" in wrong.text
        assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
        assert "set-cookie" not in wrong.headers

        right = client.post("/login", data={"token": TOKEN, "next": "/analyses"})
        assert right.status_code == 303 and right.headers["location"] == "/analyses"
        cookie = right.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert TOKEN.split()[0] not in cookie, "the cookie holds an HMAC of the token, not the token"
        assert client.cookies.get(SESSION_COOKIE)

        # the cookie now stands in for the header, on pages and on the API
        assert client.get("/analyses").status_code == 200
        posted = client.post("/analyze", data={"text": TEXT})
        assert posted.status_code == 303 and posted.headers["location"].startswith("/analyses/")
        stored_id = posted.headers["location"].rsplit("/", 1)[1]
        assert client.get(f"/api/analyses/{stored_id}").status_code == 200
        assert client.delete(f"/api/analyses/{stored_id}").status_code == 204

        # a forged cookie is refused; logging out forgets the session
        forged = TestClient(client.app, base_url="http://127.0.0.1:8000", follow_redirects=False,
                            cookies={SESSION_COOKIE: "0" * 64})
        assert forged.get("/api/analyses").status_code == 401
        assert client.post("/logout").status_code == 303
        assert client.get("/api/analyses").status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_the_login_form_only_sends_back_to_this_server(tmp_path, target):
    with client_for(tmp_path / "db.sqlite3", token=TOKEN) as client:
        assert client.post("/login", data={"token": TOKEN, "next": target}).headers["location"] == "/"


def test_public_read_opens_get_routes_while_writing_and_deleting_still_need_the_token(tmp_path):
    with client_for(tmp_path / "db.sqlite3", token=TOKEN, public_read=True) as client:
        stored_id = client.post("/api/analyze", json={"text": TEXT}, headers=bearer()).json()["id"]
        assert client.get("/api/analyses").json()[0]["id"] == stored_id
        assert client.get(f"/api/analyses/{stored_id}").status_code == 200
        for path in ("/", "/analyses", f"/analyses/{stored_id}", "/stats"):
            assert client.get(path).status_code == 200, path
        assert client.post("/api/analyze", json={"text": "Another text."}).status_code == 401
        assert client.delete(f"/api/analyses/{stored_id}").status_code == 401
        assert client.post("/analyze", data={"text": "Another text."}).status_code == 303
        assert client.get(f"/api/analyses/{stored_id}").status_code == 200, "nothing was deleted"
        assert client.delete(f"/api/analyses/{stored_id}", headers=bearer()).status_code == 204


def test_without_a_token_everything_stays_open_as_before(tmp_path):
    with client_for(tmp_path / "db.sqlite3") as client:
        stored_id = client.post("/api/analyze", json={"text": TEXT}).json()["id"]
        assert client.get("/api/analyses").status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/login").headers["location"] == "/"
        assert client.delete(f"/api/analyses/{stored_id}").status_code == 204


# -- Host and Origin ----------------------------------------------------------------------------


def test_the_host_header_must_be_a_served_name(tmp_path):
    with client_for(tmp_path / "db.sqlite3", allowed_hosts=served_hosts("127.0.0.1", ["news.example.org"])) as client:
        for host in ("127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "news.example.org",
                     "news.example.org.:443"):
            assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
        for host in ("evil.example", "attacker.example:8000", "127.0.0.1.nip.io", "", "[::2]:8000"):
            refused = client.get("/api/analyses", headers={"Host": host})
            assert refused.status_code == 400, host
            assert "--allowed-host" in refused.json()["error"]
            assert client.get("/healthz", headers={"Host": host}).status_code == 400


def test_served_names_are_the_loopback_names_the_bound_address_and_the_added_ones():
    assert served_hosts("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert served_hosts("0.0.0.0") == {"127.0.0.1", "localhost", "::1"}
    assert served_hosts("192.168.1.20", ["Scan.Example.org", "[fd00::1]"]) == \
        {"127.0.0.1", "localhost", "::1", "192.168.1.20", "scan.example.org", "fd00::1"}


def test_cross_origin_writes_are_refused(tmp_path):
    with client_for(tmp_path / "db.sqlite3", trusted_origins=["scan.example.org"],
                    allowed_hosts=served_hosts("127.0.0.1", ["scan.example.org"])) as client:
        stored_id = client.post("/api/analyze", json={"text": TEXT}).json()["id"]
        for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                        {"Origin": "http://127.0.0.1:9999"}, {"Referer": "http://evil.example/form.html"}):
            form = client.post("/analyze", data={"text": "Cross-site text."}, headers=headers)
            assert form.status_code == 403, headers
            assert "cross-origin" in form.json()["error"]
            assert client.post("/api/analyze", json={"text": "Cross-site text."}, headers=headers).status_code == 403
            assert client.delete(f"/api/analyses/{stored_id}", headers=headers).status_code == 403
        assert client.get("/api/analyses").json()[0]["id"] == stored_id
        assert len(client.get("/api/analyses").json()) == 1, "nothing cross-site was stored"
        # the page's own origin, a trusted name, and clients that send no Origin may write
        for headers in ({"Origin": "http://127.0.0.1:8000"}, {"Referer": "http://127.0.0.1:8000/"},
                        {"Origin": "https://scan.example.org"}, {}):
            assert client.post("/analyze", data={"text": f"Same-site {headers}."}, headers=headers).status_code == 303


# -- security headers ---------------------------------------------------------------------------


def test_security_headers_are_on_every_response(tmp_path):
    with client_for(tmp_path / "db.sqlite3", token=TOKEN, max_body_bytes=1000) as client:
        responses = {
            "page": client.get("/login"),
            "redirect": client.get("/"),
            "docs": client.get("/docs"),
            "docs asset": client.get("/docs-assets/swagger-ui-bundle.js"),
            "openapi": client.get("/openapi.json"),
            "json": client.get("/api/techniques"),
            "401": client.get("/api/analyses"),
            "404": client.get("/api/analyses/0123456789abcdef", headers=bearer()),
            "422": client.get("/api/analyses", params={"limit": 0}, headers=bearer()),
            "413": client.post("/api/analyze", json={"text": "x" * 2000}, headers=bearer()),
            "400 host": client.get("/healthz", headers={"Host": "evil.example"}),
            "403 origin": client.post("/login", data={"token": TOKEN}, headers={"Origin": "http://evil.example"}),
        }
        for name, response in responses.items():
            for header in SECURITY_HEADERS:
                assert header in response.headers, (name, header)
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
        assert "<script>" not in responses["docs"].text, "the docs page has no inline script for the CSP to block"


def test_the_docs_page_reads_a_3_0_rendering_of_the_same_schema(tmp_path):
    import json

    with client_for(tmp_path / "db.sqlite3") as client:
        full = client.get("/openapi.json").json()
        docs = client.get("/docs/openapi.json").json()
    assert full["openapi"].startswith("3.1") and docs["openapi"] == "3.0.3"
    assert docs["paths"].keys() == full["paths"].keys()
    text = json.dumps(docs)
    assert '{"type": "null"}' not in text and '"examples": [' not in text
    request = docs["components"]["schemas"]["AnalyzeRequest"]
    assert request["properties"]["text"]["type"] == "string" and request["properties"]["text"]["nullable"]
    assert request["example"]["text"].startswith("Latin America")


# -- propscan serve -----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["--host", "0.0.0.0"], ["--host", "::"], ["--host", "192.168.1.20"], ["--host", "example.org"],
    ["--host", "0.0.0.0", "--token", "  "], ["--port", "70000"], ["--port", "0"], ["--port", "-1"],
    ["--public-read"], ["--token", "x", "--no-auth"], ["--allowed-host", "https://scan.example.org/"],
    ["--allowed-host", "scan.example.org:8000"], ["--allowed-host", ""],
])
def test_serve_refuses_bad_settings_in_one_line_without_serving(tmp_path, args):
    done = run_cli("serve", "--db", str(tmp_path / "db.sqlite3"), *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("propscan: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    if args[:2] == ["--host", "0.0.0.0"] and len(args) == 2:
        assert "--token" in done.stderr and "PROPSCAN_TOKEN" in done.stderr and "--no-auth" in done.stderr


def test_serve_with_the_token_from_the_environment_checks_it_and_never_logs_it(tmp_path):
    process, url = start_serve("--db", str(tmp_path / "db.sqlite3"), env={"PROPSCAN_TOKEN": TOKEN})
    try:
        assert httpx.get(url + "/api/analyses", timeout=10).status_code == 401
        stored = httpx.post(url + "/api/analyze", json={"text": TEXT}, headers=bearer(), timeout=60)
        assert stored.status_code == 200
        with httpx.Client(base_url=url, timeout=10) as browser:
            assert browser.post("/login", data={"token": TOKEN, "next": "/analyses"}).status_code == 303
            assert browser.get("/analyses").status_code == 200
            assert browser.get(f"/api/analyses/{stored.json()['id']}").status_code == 200
        assert httpx.get(url + "/healthz", headers={"Host": "rebound.example"}, timeout=10).status_code == 400
        assert httpx.get(url.replace("127.0.0.1", "localhost") + "/healthz", timeout=10).status_code == 200
    finally:
        output = stop_serve(process)
    assert "GET /api/analyses HTTP/1.1\" 401" in output, "the access log is on"
    assert TOKEN not in output and "correct" not in output
    assert "a token is needed" in output


def test_serve_on_a_public_address_goes_on_with_a_token_or_no_auth(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database " * 200)  # so that the server stops at its store, after the check
    for args, env in ((["--token", TOKEN], {}), (["--no-auth"], {}), ([], {"PROPSCAN_TOKEN": TOKEN})):
        done = run_cli("serve", "--host", "0.0.0.0", "--db", str(notes), *args, env=env)
        assert done.returncode == 2
        assert "not a usable SQLite store" in done.stderr, "the exposure check let it through"


# -- in a real browser ----------------------------------------------------------------------------


@pytest.fixture
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_in_a_browser_the_page_asks_for_the_token_once_and_docs_work_under_the_csp(tmp_path, browser):
    process, url = start_serve("--db", str(tmp_path / "db.sqlite3"), "--token", TOKEN)
    try:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        page.goto(url + "/")
        page.wait_for_selector("#login-form")
        page.fill("#token", TOKEN)
        page.click("#login")
        page.wait_for_selector("#analyze-form")
        page.fill("#text", TEXT)
        page.click("#submit")
        page.wait_for_url(f"{url}/analyses/*")
        stored_id = page.url.rsplit("/", 1)[1]
        assert page.evaluate("document.cookie") == "", "the session cookie is HttpOnly"
        # the delete button calls the API with the cookie alone
        page.on("dialog", lambda dialog: dialog.accept())
        page.click("#delete")
        page.wait_for_url(f"{url}/analyses")
        assert httpx.get(f"{url}/api/analyses/{stored_id}", headers=bearer(), timeout=10).status_code == 404

        page.goto(url + "/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        page.get_by_text("/api/analyze", exact=True).wait_for()
        assert "Unable to render" not in page.inner_text("body")
        assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
        assert not problems, problems
    finally:
        stop_serve(process)


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run_cli("serve", "--port", str(taken.getsockname()[1]), "--db", str(tmp_path / "db.sqlite3"))
    assert done.returncode == 2
    assert done.stderr.startswith("propscan: cannot listen on 127.0.0.1 port ") and done.stderr.count("\n") == 1
    assert done.stdout == ""
