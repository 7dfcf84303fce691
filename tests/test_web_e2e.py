"""The real server on 127.0.0.1: a headless Chromium drives the page, and concurrent clients hit the API.

The browser is Debian's /usr/bin/chromium (or any `chromium` on PATH, or Playwright's own download)
driven by Playwright. Where none is found the browser test is skipped with the reason, unless
PROPSCAN_REQUIRE_BROWSER=1 (as `.ci/run` sets after installing Chromium) makes that a failure.
Screenshots go to test-output/web_e2e/ (gitignored) so that a person can look at the page.
"""

from __future__ import annotations

import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from serving import CHROMIUM_ARGS, LiveServer

from propscan.store import Store
from propscan.taxonomy import BY_ID
from propscan.web.app import create_app

SAMPLE = Path(__file__).parent / "fixtures" / "scraped-article.txt"  # made up, with page furniture
OUTPUT = Path(__file__).parents[1] / "test-output" / "web_e2e"
@pytest.fixture
def lexicon(monkeypatch):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")


def test_twenty_concurrent_analyze_requests_all_succeed_and_are_stored_once(tmp_path, lexicon):
    db = tmp_path / "concurrent.sqlite3"
    texts = [f"Report {i}: the radical plan\n\nOfficials in district {i} described a reckless scheme."
             for i in range(15)]
    texts += texts[:5]  # five texts sent twice, at the same time as the first copies
    with LiveServer(create_app(db)) as live:
        def post(text: str) -> httpx.Response:
            return httpx.post(f"{live.url}/api/analyze", json={"text": text}, timeout=60)

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(post, texts))
        assert [r.status_code for r in responses] == [200] * 20
        ids = [r.json()["id"] for r in responses]
        assert ids[15:] == ids[:5]
        assert len(set(ids)) == 15
        assert httpx.get(f"{live.url}/healthz", timeout=10).json()["stored"] == 15
    with Store(db) as store:
        assert store.count() == 15
        assert sorted(a.text for _, a in store.iter_analyses()) == sorted(set(texts))


def test_an_oversized_body_is_refused_before_it_is_sent(tmp_path, lexicon):
    with LiveServer(create_app(tmp_path / "db.sqlite3", max_body_bytes=10_000)) as live:
        with socket.create_connection(("127.0.0.1", live.port), timeout=10) as conn:
            conn.sendall(b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 50000000\r\n\r\n")
            # No body sent: the server answers from the headers and closes; its reply may come in pieces.
            reply = b"".join(iter(lambda: conn.recv(65536), b"")).decode()
        assert reply.startswith("HTTP/1.1 413")
        assert "larger than 10000 bytes" in reply


def test_the_page_in_a_real_browser(tmp_path, monkeypatch, chromium):
    """Paste the sample, hover spans, move the threshold, open the analysis from the list.

    Runs with whichever detector PROPSCAN_E2E_MODEL names (default: lexicon, fast); the checks
    compare the page with the API's JSON, not with fixed model output.
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("PROPSCAN_MODEL", os.environ.get("PROPSCAN_E2E_MODEL", "lexicon"))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with LiveServer(create_app(tmp_path / "e2e.sqlite3")) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(live.url + "/")
            page.fill("#text", SAMPLE.read_text())
            page.click("#submit")
            page.wait_for_url(f"{live.url}/analyses/*")
            stored_id = page.url.rsplit("/", 1)[1]
            analysis = httpx.get(f"{live.url}/api/analyses/{stored_id}", timeout=10).json()
            spans = analysis["spans"]
            assert spans, "the made-up headline calls the council 'puppets'"
            assert page.inner_text("#article-title") == analysis["title"]
            page.screenshot(path=str(OUTPUT / "result.png"), full_page=True)

            # every highlighted fragment names, on hover, the techniques of the spans over it
            marks = page.locator("mark.hl")
            assert marks.count() >= 1
            for k in range(min(marks.count(), 5)):
                mark = marks.nth(k)
                indices = [int(i) for i in mark.get_attribute("data-spans").split()]
                mark.hover()
                tip = page.locator("#tip")
                tip.wait_for(state="visible")
                expected = [spans[i]["technique"] for i in indices]
                shown = [item.get_attribute("data-technique") for item in tip.locator(".tip-item").all()]
                assert shown == expected
                assert BY_ID[expected[0]].name in tip.inner_text()
                assert spans[indices[0]]["text"] in tip.inner_text()
                if k == 0:
                    page.screenshot(path=str(OUTPUT / "hover.png"))
                page.mouse.move(0, 0)

            # the slider hides spans below the threshold
            confidences = sorted(s["confidence"] for s in spans)
            threshold = min(1.0, round(confidences[0] + 0.01, 2))
            expected_shown = sum(c >= threshold for c in confidences)
            page.locator("#threshold").fill(str(threshold))
            assert page.inner_text("#shown-count") == f"{expected_shown} of {len(spans)} spans shown"
            segments = [[int(i) for i in m.get_attribute("data-spans").split()] for m in marks.all()]
            still_lit = sum(any(spans[i]["confidence"] >= threshold for i in seg) for seg in segments)
            assert page.locator("mark.hl:not(.hl-off)").count() == still_lit < len(segments)
            page.screenshot(path=str(OUTPUT / "threshold.png"), full_page=True)

            # the list links to the stored analysis
            page.click("nav >> text=Stored analyses")
            page.fill("#q", "Dunmore")
            page.click("form.search button")
            page.click(f"a[href='/analyses/{stored_id}']")
            page.wait_for_url(f"{live.url}/analyses/{stored_id}")
            assert page.inner_text("#article-title") == analysis["title"]

            # and the page is readable on a phone
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(f"{live.url}/analyses/{stored_id}")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            phone.screenshot(path=str(OUTPUT / "phone.png"), full_page=True)
        finally:
            browser.close()
