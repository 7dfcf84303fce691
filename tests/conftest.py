"""What every test module shares: where the optional corpora live, and skipping tests that need them.

The suite carries its own data in ``tests/fixtures``. A few tests check figures that only the full
corpora can give (the 296 PTC training articles, the organizers' scorer example, the issue's sample
article); they are marked ``@pytest.mark.corpus`` and read ``<repo>/../shared``, which CI keeps beside
the clone. Where it is absent they are skipped with one line naming what is missing.
"""

from __future__ import annotations

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
