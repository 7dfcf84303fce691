"""A store that cannot be used (damaged pages, no write permission) is one clear line, never a traceback.

The CLI commands that use the store are run as a user would (`propscan batch/stats/export` in a
subprocess) on real SQLite files: one damaged by garbage over its middle pages, one without write
permission. `export -o FILE` must leave no partial or empty file behind.
"""

from __future__ import annotations

import random

import pytest
from serving import damaged_store, readonly_preexec, run_cli, stored_analysis

from propscan.store import Store, StoreError

TEXT = "Radical thugs destroy our country\n\nThe so-called experts begged the public to stay calm."


@pytest.fixture(autouse=True)
def lexicon(monkeypatch):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")


def assert_one_line(done, *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("propscan: ") and done.stderr.count("\n") == 1, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


@pytest.fixture
def article(tmp_path):
    path = tmp_path / "article.txt"
    path.write_text(TEXT)
    return path


# -- the store itself -----------------------------------------------------------------------------


def test_every_read_of_a_damaged_store_raises_one_store_error(tmp_path):
    db, ids = damaged_store(tmp_path / "damaged.sqlite3")
    with Store(db) as store:
        with pytest.raises(StoreError, match="the store is damaged"):
            store.check()
        with pytest.raises(StoreError, match="the store is damaged"):
            store.check_integrity()
        with pytest.raises(StoreError, match="the store is damaged"):
            list(store.iter_analyses())
        with pytest.raises(StoreError, match="the store is damaged"):
            store.search()
        failures = 0
        for stored_id in ids:
            try:
                store.get(stored_id)
            except StoreError as e:
                assert str(e).startswith(f"{db}: the store is damaged")
                failures += 1
        assert failures, "some analyses are in the damaged pages"


def test_a_sound_store_passes_every_check(tmp_path):
    with Store(tmp_path / "sound.sqlite3") as store:
        rng = random.Random(1)
        for i in range(40):
            store.add(stored_analysis(i, rng))
        assert store.check() == 40
        store.check_integrity()
        store.check_writable()
        assert store.count() == 40, "check_writable changes nothing"


def test_garbage_json_in_a_row_is_a_store_error(tmp_path):
    import sqlite3

    db = tmp_path / "store.sqlite3"
    with Store(db) as store:
        stored_id, _ = store.add(stored_analysis(0, random.Random(0)))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE analyses SET json = '{\"not\": \"an analysis\"}'")
    with Store(db) as store:
        for read in (lambda: store.get(stored_id), lambda: list(store.iter_analyses()), store.check):
            with pytest.raises(StoreError, match="a stored analysis is damaged"):
                read()


# -- the CLI on a damaged store -----------------------------------------------------------------


def test_stats_export_and_batch_on_a_damaged_store_print_one_line(tmp_path, article):
    db, _ = damaged_store(tmp_path / "damaged.sqlite3")
    for args in (["stats"], ["stats", "--json"], ["export", "--format", "jsonl"],
                 ["batch", str(article), "--workers", "1"]):
        done = run_cli(*args, "--db", str(db))
        assert_one_line(done, str(db), "the store is damaged")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "semeval", "label-studio"])
def test_export_to_a_file_from_a_damaged_store_leaves_no_file_behind(tmp_path, fmt):
    db, _ = damaged_store(tmp_path / "damaged.sqlite3")
    out = tmp_path / "out" / "export.data"
    out.parent.mkdir()
    done = run_cli("export", "--format", fmt, "--db", str(db), "-o", str(out))
    assert_one_line(done, "the store is damaged")
    assert list(out.parent.iterdir()) == [], "no partial, empty or temporary file"
    out.write_text("the previous export\n")
    done = run_cli("export", "--format", fmt, "--db", str(db), "-o", str(out))
    assert done.returncode == 2
    assert out.read_text() == "the previous export\n", "a failed export leaves the old file as it was"
    assert [p.name for p in out.parent.iterdir()] == ["export.data"]


def test_export_to_a_file_still_writes_the_whole_file(tmp_path):
    db = tmp_path / "store.sqlite3"
    with Store(db) as store:
        rng = random.Random(2)
        for i in range(3):
            store.add(stored_analysis(i, rng))
    out = tmp_path / "export.jsonl"
    out.write_text("old\n")
    done = run_cli("export", "--format", "jsonl", "--db", str(db), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    done = run_cli("export", "--format", "jsonl", "--db", str(db), "-o", str(tmp_path / "missing" / "x.jsonl"))
    assert_one_line(done, "missing/x.jsonl")


# -- the CLI on a read-only store ---------------------------------------------------------------


def test_batch_on_a_read_only_store_prints_one_line(tmp_path, article):
    preexec = readonly_preexec()
    db = tmp_path / "readonly.sqlite3"
    with Store(db) as store:
        store.add(stored_analysis(0, random.Random(0)))
    db.chmod(0o444)
    done = run_cli("batch", str(article), "--workers", "1", "--db", str(db), preexec_fn=preexec)
    assert_one_line(done, str(db), "read-only")
    # reading it is fine
    stats = run_cli("stats", "--json", "--db", str(db), preexec_fn=preexec)
    assert stats.returncode == 0, stats.stderr
    with Store(db) as store:
        assert store.count() == 1
