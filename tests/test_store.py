"""The SQLite store: idempotent writes, search, deletion, restarts and concurrent writers."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading

import pytest

from propscan.document import Analysis, Sentence, Source, Span
from propscan.errors import PropscanError
from propscan.store import Store, StoredSummary, content_hash


def make_analysis(text: str, title: str | None = None, **source) -> Analysis:
    title = title if title is not None else text.split("\n", 1)[0]
    first_word_end = text.index(" ") if " " in text else len(text)
    return Analysis(
        id="a" + content_hash(text)[:6], title=title, text=text, source=Source(**source),
        spans=[Span.of(text, 0, first_word_end, "Loaded_Language", 0.8),
               Span.of(text, 0, len(text), "Doubt", 0.3)],
        sentences=[Sentence(start=0, end=len(text), score=0.6)], score=0.6, model="test",
    )


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store.sqlite3")
    yield s
    s.close()


def test_content_hash_ignores_newline_style():
    assert content_hash("a\r\nb\rc") == content_hash("a\nb\nc")
    assert content_hash("a") != content_hash("b")
    assert len(content_hash("a")) == 64


def test_add_is_idempotent_and_get_returns_the_same_analysis(store):
    analysis = make_analysis("Lies everywhere, says the minister.", url="https://example.org/a")
    stored_id, created = store.add(analysis)
    assert created
    assert store.add(analysis) == (stored_id, False)
    assert store.count() == 1
    assert content_hash(analysis.text).startswith(stored_id)
    assert store.contains(content_hash(analysis.text))
    assert not store.contains(content_hash("something else"))
    assert store.id_for(content_hash(analysis.text)) == stored_id
    assert store.id_for(content_hash("something else")) is None
    assert store.get(stored_id) == analysis
    assert store.get("0" * 16) is None


def test_search_lists_newest_first_with_summary_columns(store):
    ids = [store.add(make_analysis(f"Article number {i} about {word}", date="2020-01-0" + str(i + 1),
                                   site="example.org"))[0]
           for i, word in enumerate(["elections", "vaccines", "elections again"])]
    summaries = store.search()
    assert [s.id for s in summaries] == ids[::-1]
    first = summaries[-1]
    assert isinstance(first, StoredSummary)
    assert (first.title, first.source, first.date, first.score, first.n_spans) == (
        "Article number 0 about elections", "example.org", "2020-01-01", 0.6, 2)
    assert [s.id for s in store.search(limit=1, offset=1)] == [ids[1]]


def test_search_matches_words_of_title_and_text_and_prefixes(store):
    a, _ = store.add(make_analysis("Headline about ports\n\nThe body mentions propaganda.", title="Ports"))
    b, _ = store.add(make_analysis("Something else entirely\n\nNothing to see.", title="Other"))
    assert [s.id for s in store.search("ports")] == [a]
    assert [s.id for s in store.search("PROPAG")] == [a]
    assert [s.id for s in store.search("body propaganda")] == [a]
    assert store.search("body entirely") == []
    assert {s.id for s in store.search("")} == {a, b}


@pytest.mark.parametrize("q", ['"', "AND", "OR NOT", "a*b(c", "title:x", "NEAR(a b)", "'; DROP TABLE analyses; --",
                               "ünïcödé", "^", "-", "   "])
def test_search_accepts_any_string(store, q):
    store.add(make_analysis("Plain text about AND and ünïcödé words"))
    assert isinstance(store.search(q), list)
    assert store.count() == 1


def test_delete_removes_analysis_spans_and_index_entry(store):
    stored_id, _ = store.add(make_analysis("Remove me please"))
    keep_id, _ = store.add(make_analysis("Keep me please"))
    assert store.delete(stored_id)
    assert not store.delete(stored_id)
    assert store.get(stored_id) is None
    assert [s.id for s in store.search("please")] == [keep_id]
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT count(*) FROM spans WHERE analysis_id = ?", (stored_id,)).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM spans").fetchone()[0] == 2
    conn.close()
    # deleting and adding again works and gets the same id back
    assert store.add(make_analysis("Remove me please")) == (stored_id, True)


def test_spans_table_and_listing_columns(store):
    text = "First sentence here. Second one."
    analysis = make_analysis(text).model_copy(update={
        "sentences": [Sentence(start=0, end=20, score=0.9), Sentence(start=21, end=len(text), score=0.1)],
        "spans": [Span.of(text, 0, 5, "Doubt", 0.7)],
    })
    stored_id, _ = store.add(analysis)
    conn = sqlite3.connect(store.path)
    assert conn.execute('SELECT technique, start, "end", confidence FROM spans').fetchall() == [("Doubt", 0, 5, 0.7)]
    assert conn.execute("SELECT n_sentences, n_technique_sentences, n_spans FROM analyses").fetchone() == (2, 1, 1)
    assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_iter_analyses_streams_everything_oldest_first(store):
    texts = [f"Article {i} text" for i in range(250)]
    ids = [store.add(make_analysis(t))[0] for t in texts]
    seen = [(stored_id, a.text) for stored_id, a in store.iter_analyses()]
    assert seen == list(zip(ids, texts, strict=True))


def test_failures_are_kept_apart(store):
    store.add_failure("https://example.org/x", "HTTP 404")
    store.add_failure("broken.txt", "not UTF-8 text")
    failures = store.failures()
    assert [(s, r) for s, r, _ in failures] == [("https://example.org/x", "HTTP 404"), ("broken.txt", "not UTF-8 text")]
    assert all("T" in when for _, _, when in failures)
    assert store.count() == 0


def test_analyses_survive_reopening(tmp_path):
    path = tmp_path / "nested" / "folder" / "db.sqlite3"
    with Store(path) as first:
        stored_id, _ = first.add(make_analysis("Persistent article text"))
        first.add_failure("x", "y")
    with Store(path) as second:
        assert second.get(stored_id).text == "Persistent article text"
        assert second.add(make_analysis("Persistent article text")) == (stored_id, False)
        assert len(second.failures()) == 1


def test_default_path_is_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with Store() as s:
        assert s.path == tmp_path / "xdg" / "propscan" / "propscan.sqlite3"
        assert s.path.exists()


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.sqlite3"
    bad.write_text("these are my notes, not a database " * 100)
    with pytest.raises(PropscanError, match="notes.sqlite3"):
        Store(bad)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "db.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(PropscanError, match="newer propscan"):
        Store(path)


def test_threads_share_one_store_without_losing_or_duplicating_writes(store):
    texts = [f"Thread article {i % 10}" for i in range(40)]  # each text written by four threads
    results: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def write(text: str) -> None:
        result = store.add(make_analysis(text))
        with lock:
            results.append(result)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 40
    assert sum(created for _, created in results) == 10
    assert store.count() == 10
    assert len({stored_id for stored_id, _ in results}) == 10


def _write_from_process(path: str, worker: int) -> None:
    with Store(path) as s:
        for i in range(15):
            s.add(make_analysis(f"Shared article {i}"))
            s.add(make_analysis(f"Worker {worker} article {i}"))


def test_processes_share_one_file(tmp_path):
    path = tmp_path / "shared.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_from_process, args=(str(path), w)) for w in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    with Store(path) as s:
        assert s.count() == 15 + 3 * 15
        assert len(s.search("Shared", limit=100)) == 15
