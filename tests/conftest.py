"""What every test module shares: where the optional corpora live, and skipping tests that need them.

The suite carries its own data in ``tests/fixtures``. A few tests check figures that only the full
corpora can give (the 296 PTC training articles, the organizers' scorer example, the issue's sample
article); they are marked ``@pytest.mark.corpus`` and read ``<repo>/../shared``, which CI keeps beside
the clone. Where it is absent they are skipped with one line naming what is missing. Browser tests
take the ``chromium`` fixture, which skips them likewise when no Chromium is found, unless
``PROPSCAN_REQUIRE_BROWSER=1`` (as ``.ci/run`` sets) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS_PATHS = (SHARED / "data", SHARED / "samples")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [str(path) for path in CORPUS_PATHS if not path.is_dir()]
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"corpus test: needs the full corpora beside the clone (as CI has them); "
                                   f"missing {' and '.join(missing)}")
    for item in items:
        if item.get_closest_marker("corpus"):
            item.add_marker(skip)


CHROMIUM = "/usr/bin/chromium"


def find_chromium() -> tuple[str | None, str]:
    """A Chromium executable, or None and why there is none."""
    for candidate in (CHROMIUM, shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate, ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, "Playwright is not installed (pip install -e '.[test]')"
    with sync_playwright() as p:
        downloaded = p.chromium.executable_path
    if os.access(downloaded, os.X_OK):
        return downloaded, ""
    return None, f"no Chromium found ({CHROMIUM}, chromium on PATH or Playwright's {downloaded})"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable for browser tests (skips them when there is none)."""
    executable, missing = find_chromium()
    if executable is None:
        if os.environ.get("PROPSCAN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PROPSCAN_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(f"browser test: {missing}; install Debian's chromium to run it")
    return executable
