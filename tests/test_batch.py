"""Batch runs over real folders into a real SQLite store: failures, resume after kill -9, Dask."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from propscan.batch import LogProgress, estimate_total, run_batch
from propscan.store import Store, content_hash

SENTENCES = (
    "The corrupt regime keeps lying to the American people.",
    "Officials met on Tuesday to discuss the budget.",
    "So-called experts warn of an unprecedented invasion.",
    "The committee will publish its report next month.",
    "Real patriots know the shameful truth about these puppets.",
)


def write_corpus(folder: Path, n: int, *, start: int = 0) -> dict[str, str]:
    """``n`` small distinct articles in PTC layout; returns content hash -> file name."""
    folder.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for i in range(start, start + n):
        body = "\n".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(3))
        text = f"Report number {i} on the state of things\n\n{body}\nThis is article {i}.\n"
        name = f"article{100000 + i}.txt"
        (folder / name).write_text(text, encoding="utf-8")
        hashes[content_hash(text)] = name
    return hashes


@pytest.fixture(autouse=True)
def lexicon_model(monkeypatch):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")


def stored_hashes(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT content_hash FROM analyses")]


def assert_rows_whole(db: Path) -> None:
    """Every stored analysis has all its span rows and its JSON parses: no half-written row."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT id, n_spans FROM analyses").fetchall()
        for stored_id, n_spans in rows:
            assert conn.execute("SELECT count(*) FROM spans WHERE analysis_id = ?", (stored_id,)).fetchone()[0] \
                == n_spans
        assert conn.execute("SELECT count(*) FROM analyses_fts").fetchone()[0] == len(rows)
    with Store(db) as store:
        for stored_id, analysis in store.iter_analyses():
            assert len(analysis.spans) == dict(rows)[stored_id]


def test_folder_of_good_and_bad_files_stores_each_good_one_once(tmp_path):
    corpus = tmp_path / "corpus"
    hashes = write_corpus(corpus, 6)
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    (corpus / "blank.txt").write_text("  \n\n \n", encoding="utf-8")
    first = next(iter(hashes.values()))
    (corpus / "copy-of-first.txt").write_bytes((corpus / first).read_bytes())
    missing = str(tmp_path / "no-such-folder")
    log = io.StringIO()

    with Store(tmp_path / "db.sqlite3") as store:
        report = run_batch([str(corpus), missing], store, workers=1, progress=LogProgress(log))

        assert report.stored == 6
        assert report.skipped == 1  # the copy: same text, stored once
        failed = {Path(source).name: reason for source, reason in report.failures}
        assert set(failed) == {"empty.txt", "blank.txt", "no-such-folder"}
        assert all(reason for reason in failed.values())
        assert sorted(stored_hashes(tmp_path / "db.sqlite3")) == sorted(hashes)
        assert {Path(source).name for source, _, _ in store.failures()} == set(failed)
        assert "empty.txt: the article is empty" in log.getvalue() and "10/10 done" in log.getvalue()

        again = run_batch([str(corpus)], store, workers=1)
        assert (again.stored, again.skipped, again.failed) == (0, 7, 2)
        assert store.count() == 6
    assert_rows_whole(tmp_path / "db.sqlite3")


def test_cli_batch_reports_failures_and_exits_non_zero(tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 3)
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    db = tmp_path / "db.sqlite3"
    env = {**os.environ, "PROPSCAN_MODEL": "lexicon"}
    cmd = [sys.executable, "-m", "propscan.cli", "batch", str(corpus), "--db", str(db), "--workers", "1"]

    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)

    assert result.returncode == 1
    assert "3 stored, 0 already stored, 1 failed" in result.stdout
    assert "empty.txt: the article is empty" in result.stderr  # plain log lines: not a terminal
    assert "Traceback" not in result.stderr
    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert "0 stored, 3 already stored, 1 failed" in rerun.stdout


def test_run_killed_with_sigkill_resumes_and_stores_each_article_once(tmp_path):
    corpus = tmp_path / "corpus"
    hashes = write_corpus(corpus, 400)
    db = tmp_path / "db.sqlite3"
    Store(db).close()  # create the schema so the test can poll the count
    env = {**os.environ, "PROPSCAN_MODEL": "lexicon"}
    cmd = [sys.executable, "-m", "propscan.cli", "batch", str(corpus), "--db", str(db), "--workers", "1"]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        stored_at_kill = 0
        while time.monotonic() < deadline and process.poll() is None:
            with sqlite3.connect(db, timeout=30) as conn:
                stored_at_kill = conn.execute("SELECT count(*) FROM analyses").fetchone()[0]
            if stored_at_kill >= 5:
                break
            time.sleep(0.02)
        workers = psutil.Process(process.pid).children(recursive=True)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        _, still_running = psutil.wait_procs(workers, timeout=15)
        assert not still_running, "workers outlived their killed parent"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # any worker the parent left behind
        except ProcessLookupError:
            pass
    assert process.returncode == -signal.SIGKILL
    assert 5 <= stored_at_kill < len(hashes), "the run ended before it could be killed mid-way"
    partial = stored_hashes(db)
    assert len(partial) < len(hashes)
    assert_rows_whole(db)

    with Store(db) as store:
        report = run_batch([str(corpus)], store, workers=1)

    assert report.failed == 0
    assert report.skipped == len(partial)
    assert report.stored == len(hashes) - len(partial)
    final = stored_hashes(db)
    assert len(final) == len(set(final)) == len(hashes)
    assert set(final) == set(hashes)
    assert_rows_whole(db)


def test_dask_local_cluster_stores_the_same_analyses_as_local_workers(tmp_path):
    from distributed import LocalCluster

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 20)
    (corpus / "empty.txt").write_text("", encoding="utf-8")

    with Store(tmp_path / "local.sqlite3") as store:
        local = run_batch([str(corpus)], store, workers=1)
        by_hash_local = {content_hash(a.text): a for _, a in store.iter_analyses()}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Store(tmp_path / "dask.sqlite3") as store:
        on_dask = run_batch([str(corpus)], store, dask=cluster.scheduler_address, workers=2, chunk_size=3)
        by_hash_dask = {content_hash(a.text): a for _, a in store.iter_analyses()}

    assert (local.stored, local.failed) == (on_dask.stored, on_dask.failed) == (20, 1)
    assert by_hash_dask.keys() == by_hash_local.keys()
    for digest, analysis in by_hash_local.items():
        assert by_hash_dask[digest].model_dump() == analysis.model_dump()
    assert any(a.spans for a in by_hash_local.values())


def test_unreachable_dask_scheduler_is_one_clear_error(tmp_path, monkeypatch):
    from propscan import batch
    from propscan.errors import PropscanError

    monkeypatch.setattr(batch, "DASK_CONNECT_TIMEOUT", "1s")
    write_corpus(tmp_path / "corpus", 1)
    with Store(tmp_path / "db.sqlite3") as store, pytest.raises(PropscanError, match="Dask scheduler"):
        run_batch([str(tmp_path / "corpus")], store, dask="tcp://127.0.0.1:9")


def test_estimate_total_counts_files_and_corpus_lines(tmp_path):
    write_corpus(tmp_path / "folder", 4)
    (tmp_path / "corpus.jsonl").write_text('{"text": "a"}\n{"text": "b"}\n\n', encoding="utf-8")
    (tmp_path / "corpus.csv").write_text("text\na\nb\nc\n", encoding="utf-8")
    inputs = [str(tmp_path / "folder"), str(tmp_path / "corpus.jsonl"), str(tmp_path / "corpus.csv"),
              "https://example.org/a"]
    assert estimate_total(inputs) == 4 + 2 + 3 + 1
