"""The /stats page in a real browser: Debian's Chromium, driven by Playwright, on a real local server.

Articles from three outlets over three months are analyzed with the lexicon detector and stored in a
real SQLite file. The test follows the Stats link from the front page, counts the bars and points of
each outlet's charts against /api/stats, applies the outlet, keyword and period filters, and checks the
page under a Content-Security-Policy without 'unsafe-inline'. Skipped without Chromium unless
PROPSCAN_REQUIRE_BROWSER=1. The screenshot goes to /tmp/propscan-stats.png for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from propscan.document import Source
from propscan.store import Store

SCREENSHOT = Path("/tmp/propscan-stats.png")
STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
              "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

# (outlet, date, text): harbour.example in January and March, daily.example in February and March,
# voice.example in January; "council" is in three of them.
ARTICLES = [
    ("harbour.example", "2024-01-10", "Council plan\n\nThe reckless council bureaucrats want to destroy our harbour. "
                                      "Shameful! The plan is a disgrace."),
    ("harbour.example", "2024-03-02", "Bridge vote\n\nThe bridge vote is on Monday. Officials met on Friday."),
    ("harbour.example", "2024-03-20", "Radical scheme\n\nA radical and disgusting scheme by corrupt puppets of the "
                                      "elite. The council must resign."),
    ("daily.example", "2024-02-14", "Weather report\n\nRain is expected on Monday. Roads stay open."),
    ("daily.example", "Tue, 05 Mar 2024 08:00:00 +0000", "Council news\n\nThe council reopened the harbour after "
                                                         "repairs. Traffic is normal."),
    ("voice.example", "2024-01-28", "Patriots rise\n\nTrue patriots must defend our great nation against the "
                                    "traitors. Our glorious flag will never fall."),
]
MONTHS = {"harbour.example": 2, "daily.example": 2, "voice.example": 1}  # months with articles, per outlet


@pytest.fixture
def stored_corpus(tmp_path, monkeypatch):
    from propscan.pipeline import analyze_many
    from propscan.readers import article_from_text

    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")
    db = tmp_path / "outlets.sqlite3"
    articles = [article_from_text(text, source=Source(site=site, date=date, format="text"))
                for site, date, text in ARTICLES]
    with Store(db) as store:
        for analysis in analyze_many(articles):
            store.add(analysis)
        assert store.count() == len(ARTICLES)
    return db


def test_the_stats_page_in_a_real_browser(stored_corpus, chromium):
    from playwright.sync_api import sync_playwright
    from serving import CHROMIUM_ARGS, LiveServer

    from propscan.web.app import create_app

    with LiveServer(create_app(stored_corpus)) as live, sync_playwright() as p:
        api = httpx.get(f"{live.url}/api/stats", timeout=30).json()
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))

            def strict_csp(route) -> None:
                # the page's own headers, with a policy that refuses inline scripts and styles
                response = route.fetch()
                route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

            page.route(lambda url: urlsplit(url).path == "/stats", strict_csp)

            # every page links to /stats
            stored_id = httpx.get(f"{live.url}/api/analyses", timeout=10).json()[0]["id"]
            for path in ("/", "/analyses", f"/analyses/{stored_id}", "/analyses/no-such-id"):
                page.goto(live.url + path)
                assert page.locator("nav a[href='/stats']").count() == 1, path
            page.goto(live.url + "/")
            page.click("nav >> text=Stats")
            page.wait_for_url(f"{live.url}/stats")
            assert page.inner_text("#selection").startswith("6 articles from 3 outlets")

            # one profile per outlet, largest first, each with a mix chart and a month chart
            profiles = page.locator("section.outlet-profile")
            assert [profiles.nth(i).get_attribute("data-outlet") for i in range(profiles.count())] == \
                [q["outlet"] for q in api["profiles"]] == ["harbour.example", "daily.example", "voice.example"]
            for i, expected in enumerate(api["profiles"]):
                profile = profiles.nth(i)
                mix = profile.locator("svg.hbar")
                assert mix.get_attribute("role") == "img"
                assert expected["outlet"] in mix.locator("title").first.text_content()
                assert mix.locator("rect.bar-outlet").count() == len(expected["mix"]) >= 1
                assert mix.locator("rect.bar-corpus").count() == len(expected["mix"])
                months = profile.locator("svg.months")
                n_months = MONTHS[expected["outlet"]]
                assert months.locator("circle.point-main").count() == n_months
                assert months.locator("rect.bar-articles").count() == n_months
                assert months.locator("circle.point-reference").count() == 3  # all outlets, every month
                assert [t.text_content() for t in months.locator("text.month-label").all()] == \
                    ["Jan 2024", "Feb 2024", "Mar 2024"]
                assert "articles per month" in profile.locator(".chart-legend").last.inner_text()
                # the numbers are there as a table too
                profile.locator("summary").click()
                rows = profile.locator("table.month-table tr")
                assert rows.count() == 4 and rows.nth(1).locator("td").first.inner_text() == "2024-01"
            first_mix = profiles.first.locator("svg.hbar rect.bar-outlet").first
            assert first_mix.bounding_box()["width"] > 10  # drawn, at its size
            # the stylesheet applies under the strict policy (a blocked one would leave SVG's black fill)
            assert first_mix.evaluate("e => getComputedStyle(e).fill") == "rgb(36, 86, 166)"
            assert page.locator("svg#outlets-chart rect.bar-share").count() == 3
            assert page.locator("svg#corpus-months circle.point-main").count() == 3
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            # the outlet filter: one profile, still set against every outlet
            page.select_option("#outlet", "daily.example")
            page.click("#apply")
            page.wait_for_url("**/stats?*outlet=daily.example*")
            assert profiles.count() == 1 and profiles.first.get_attribute("data-outlet") == "daily.example"
            assert "profile of daily.example" in page.inner_text("#selection")
            assert page.locator("#outlet").input_value() == "daily.example"

            # the keyword, as the stored-analyses list searches it, with the outlet kept
            page.fill("#q", "council")
            page.click("#apply")
            page.wait_for_url("**/stats?*q=council*")
            listed = httpx.get(f"{live.url}/api/analyses", params={"q": "council"}, timeout=10).json()
            assert len(listed) == 3
            assert page.inner_text("#selection").startswith("3 articles from 2 outlets matching “council”")
            assert profiles.count() == 1
            assert profiles.first.locator("svg.months circle.point-main").count() == 1  # only March's article

            # a period: only its months are on the axis
            page.select_option("#outlet", "")
            page.fill("#q", "")
            page.fill("#from", "2024-02")
            page.fill("#to", "2024-03-04")
            page.click("#apply")
            page.wait_for_url("**/stats?*from=2024-02*")
            assert page.inner_text("#selection").startswith(
                "2 articles from 2 outlets, dated from 2024-02 to 2024-03-04")
            assert [t.text_content() for t in page.locator("svg#corpus-months text.month-label").all()] == \
                ["Feb 2024", "Mar 2024"]
            assert [profiles.nth(i).get_attribute("data-outlet") for i in range(profiles.count())] == \
                ["daily.example", "harbour.example"]

            # a period the server cannot read is said so, next to the form
            page.fill("#from", "2024-13")
            page.click("#apply")
            assert "'from' must be a month" in page.locator("p.error[role=alert]").inner_text()
            page.click("#clear")
            page.wait_for_url(f"{live.url}/stats")
            assert profiles.count() == 3

            assert not [m for m in console if "Content Security Policy" in m], console

            # and it fits a phone
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(f"{live.url}/stats")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            phone.screenshot(path="/tmp/propscan-stats-phone.png", full_page=True)
        finally:
            browser.close()
