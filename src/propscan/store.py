"""Store: analyses kept in one SQLite file, listed newest first and searchable by their words.

One row per article text: writes are keyed by ``content_hash`` of the text, so storing the same
article twice (a re-run batch, a double click on the web page) keeps one copy. The whole
``Analysis`` is kept as its JSON, beside the columns that listing and statistics need, a ``spans``
table for per-technique figures and an FTS5 index over title and text.

Several threads and processes may share the file: it runs in WAL mode with a busy timeout, every
thread gets its own connection, and every write is one ``BEGIN IMMEDIATE`` transaction, so a reader
never sees half of an analysis.

A file that cannot be used (read-only, damaged, locked, on a full disk) raises ``StoreError``, a
``PropscanError`` that says what is wrong, from whichever method met the problem: the CLI turns it
into one line, the web app into a JSON 503.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from propscan.document import Analysis
from propscan.errors import PropscanError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
ID_LENGTH = 16
_ITER_CHUNK = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS analyses (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    source TEXT,
    date TEXT,
    score REAL NOT NULL,
    n_sentences INTEGER NOT NULL,
    n_technique_sentences INTEGER NOT NULL,
    n_spans INTEGER NOT NULL,
    model TEXT,
    created_at TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS spans (
    analysis_id TEXT NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
    technique TEXT,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    confidence REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS spans_by_analysis ON spans(analysis_id);
CREATE INDEX IF NOT EXISTS spans_by_technique ON spans(technique);
CREATE VIRTUAL TABLE IF NOT EXISTS analyses_fts USING fts5(title, text);
CREATE TABLE IF NOT EXISTS failures (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


def content_hash(text: str) -> str:
    """The SHA-256 (hex) of an article's text, with Windows and old Mac newlines made ``\\n``."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def default_path() -> Path:
    """``propscan.sqlite3`` in the user's data directory (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("propscan")) / "propscan.sqlite3"


class StoreError(PropscanError):
    """The store's file cannot be read or written: read-only, damaged, locked or out of space."""


def _store_error(path: Path, e: sqlite3.Error) -> StoreError:
    """What a SQLite error means for the user of the store at ``path``."""
    detail = str(e) or type(e).__name__
    lowered = detail.lower()
    if "readonly" in lowered or "read-only" in lowered:
        message = f"the store is read-only ({detail}); make the file and its folder writable"
    elif "malformed" in lowered or "not a database" in lowered or "decode" in lowered or "corrupt" in lowered:
        message = f"the store is damaged ({detail}); restore it from a backup or use another --db"
    elif "locked" in lowered or "busy" in lowered:
        message = f"the store is busy ({detail}); another process holds it for too long"
    elif "full" in lowered:
        message = f"the store cannot grow ({detail}); free some disk space"
    else:
        message = f"the store cannot be used ({detail})"
    return StoreError(message, source=str(path))


class StoredSummary(BaseModel):
    """One stored analysis as a list shows it."""

    id: str
    title: str
    source: str | None = None
    date: str | None = None
    score: float
    created_at: str
    n_spans: int


class Store:
    """The analyses kept in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PropscanError(f"cannot create its folder ({e.strerror})", source=str(self.path)) from None
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._create_schema()

    # -- connections ---------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise RuntimeError("the store is closed")
        try:
            # Autocommit mode: transactions are opened explicitly (BEGIN IMMEDIATE for writes).
            # check_same_thread=False only so that close() may close every thread's connection.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"not a usable SQLite store ({e})", source=str(self.path)) from None
        conn.row_factory = sqlite3.Row
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    def _write(self) -> _Transaction:
        return _Transaction(self._conn())

    def _create_schema(self) -> None:
        try:
            with self._write() as conn:
                conn.executescript_in_transaction(_SCHEMA)
                row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                version = row[0]
                if version is None:
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                elif version > SCHEMA_VERSION:
                    raise PropscanError(f"made by a newer propscan (schema {version}, this one reads "
                                        f"{SCHEMA_VERSION})", source=str(self.path))
        except sqlite3.DatabaseError as e:
            raise StoreError(f"not a usable SQLite store ({e})", source=str(self.path)) from None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn SQLite's errors, and stored JSON that no longer parses, into one ``StoreError``."""
        try:
            yield
        except sqlite3.Error as e:
            raise _store_error(self.path, e) from None
        except ValidationError:
            raise StoreError("a stored analysis is damaged (its JSON does not parse); restore the store "
                             "from a backup", source=str(self.path)) from None

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        with self._lock:
            self._closed = True
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- analyses ------------------------------------------------------------------------------

    def add(self, analysis: Analysis) -> tuple[str, bool]:
        """Store an analysis unless one of the same text is stored: (its stored id, whether it was new)."""
        stored_id, _, created = self.add_or_get(analysis)
        return stored_id, created

    def add_or_get(self, analysis: Analysis) -> tuple[str, Analysis, bool]:
        """Store an analysis unless one of the same text is stored, in one transaction.

        Returns (stored id, the stored analysis, whether it was new): ``analysis`` itself when it
        was stored now, else the copy already there. Nothing read afterwards can be missing, so a
        delete that lands at the same moment cannot turn the answer into "not found".
        """
        digest = content_hash(analysis.text)
        with self._errors(), self._write() as conn:
            row = conn.execute("SELECT id, json FROM analyses WHERE content_hash = ?", (digest,)).fetchone()
            if row:
                return row["id"], Analysis.model_validate_json(row["json"]), False
            shown = analysis.shown()  # the counts and span rows are of what reports show
            stored_id = digest[:ID_LENGTH]
            if conn.execute("SELECT 1 FROM analyses WHERE id = ?", (stored_id,)).fetchone():
                stored_id = digest  # a 64-bit prefix collision: fall back to the whole hash
            cursor = conn.execute(
                "INSERT INTO analyses (id, content_hash, title, source, date, score, n_sentences,"
                " n_technique_sentences, n_spans, model, created_at, json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (stored_id, digest, analysis.title, _source_label(analysis), analysis.source.date,
                 # The summary column is NOT NULL in existing stores: no article lists as 0; its JSON keeps null.
                 analysis.score or 0.0, len(analysis.sentences), _technique_sentence_count(shown),
                 len(shown.spans), analysis.model, _now(), analysis.model_dump_json()),
            )
            conn.executemany(
                'INSERT INTO spans (analysis_id, technique, start, "end", confidence) VALUES (?, ?, ?, ?, ?)',
                [(stored_id, s.technique, s.start, s.end, s.confidence) for s in shown.spans],
            )
            conn.execute("INSERT INTO analyses_fts (rowid, title, text) VALUES (?, ?, ?)",
                         (cursor.lastrowid, analysis.title, analysis.text))
            return stored_id, analysis, True

    def contains(self, content_hash: str) -> bool:
        """Whether an analysis of the text with this ``content_hash`` is stored."""
        return self.id_for(content_hash) is not None

    def id_for(self, content_hash: str) -> str | None:
        """The stored id of the analysis of the text with this ``content_hash``, if one is stored."""
        with self._errors():
            row = self._conn().execute("SELECT id FROM analyses WHERE content_hash = ?",
                                       (content_hash,)).fetchone()
        return row["id"] if row else None

    def find(self, content_hash: str) -> tuple[str, Analysis] | None:
        """The stored id and analysis of the text with this ``content_hash``, read at once, if stored."""
        with self._errors():
            row = self._conn().execute("SELECT id, json FROM analyses WHERE content_hash = ?",
                                       (content_hash,)).fetchone()
            return (row["id"], Analysis.model_validate_json(row["json"])) if row else None

    def get(self, id: str) -> Analysis | None:
        with self._errors():
            row = self._conn().execute("SELECT json FROM analyses WHERE id = ?", (id,)).fetchone()
            return Analysis.model_validate_json(row["json"]) if row else None

    def search(self, q: str | None = None, limit: int = 50, offset: int = 0) -> list[StoredSummary]:
        """Stored analyses, newest first; with ``q``, only those whose title or text has all its words.

        Each word of ``q`` matches words that start with it (``propag`` finds ``propaganda``);
        punctuation and FTS5 syntax in ``q`` are ignored, so any string is safe.
        """
        columns = "a.id, a.title, a.source, a.date, a.score, a.created_at, a.n_spans"
        match = fts_query(q)
        if match is None:
            sql = f"SELECT {columns} FROM analyses a ORDER BY a.seq DESC LIMIT ? OFFSET ?"
            params: tuple = (limit, offset)
        else:
            sql = (f"SELECT {columns} FROM analyses_fts f JOIN analyses a ON a.seq = f.rowid"
                   " WHERE analyses_fts MATCH ? ORDER BY a.seq DESC LIMIT ? OFFSET ?")
            params = (match, limit, offset)
        with self._errors():
            rows = self._conn().execute(sql, params).fetchall()
            return [StoredSummary(**dict(row)) for row in rows]

    def delete(self, id: str) -> bool:
        """Forget a stored analysis; False when there was none with that id."""
        with self._errors(), self._write() as conn:
            row = conn.execute("SELECT seq FROM analyses WHERE id = ?", (id,)).fetchone()
            if not row:
                return False
            conn.execute("DELETE FROM spans WHERE analysis_id = ?", (id,))
            conn.execute("DELETE FROM analyses_fts WHERE rowid = ?", (row["seq"],))
            conn.execute("DELETE FROM analyses WHERE seq = ?", (row["seq"],))
            return True

    def count(self) -> int:
        with self._errors():
            return self._conn().execute("SELECT count(*) FROM analyses").fetchone()[0]

    def check(self) -> int:
        """The number of stored analyses, after reading the schema, the list and the newest analysis.

        Cheap enough for a health check (0.3 ms on a store of 6,000 analyses, 57 MB) and it
        fails (``StoreError``) where the listing would: damaged pages in the schema, in the index
        the count reads or in the newest rows, a file that is not a store. Damage elsewhere shows
        on the route that reads it (503); ``check_integrity`` reads every page.
        """
        with self._errors():
            conn = self._conn()
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            n = conn.execute("SELECT count(*) FROM analyses").fetchone()[0]
            self.search(limit=50)
            newest = conn.execute("SELECT json FROM analyses ORDER BY seq DESC LIMIT 1").fetchone()
            if newest is not None:
                Analysis.model_validate_json(newest["json"])
            return n

    def check_integrity(self) -> None:
        """Read every page of the file (SQLite's quick_check) and raise ``StoreError`` if any is damaged.

        0.1 s for a 57 MB store read from the page cache (longer from a cold disk): for the start of
        a batch run, which would otherwise write into a damaged file, not for a health check.
        """
        with self._errors():
            problems = [" ".join(str(row[0]).split()) for row in self._conn().execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise StoreError(f"the store is damaged ({'; '.join(problems)}); restore it from a backup or use "
                             "another --db", source=str(self.path))

    def check_writable(self) -> None:
        """Raise ``StoreError`` now, rather than at the first result, when the store cannot be written."""
        with self._errors(), self._write() as conn:
            conn.execute("UPDATE schema_version SET version = version")
            raise _RollBack

    def iter_analyses(self) -> Iterator[tuple[str, Analysis]]:
        """Every stored analysis, oldest first, read a chunk at a time (safe to write meanwhile), with the
        spans its reports show (``Analysis.shown``): statistics and exports count what a reader sees."""
        last = 0
        while True:
            with self._errors():
                rows = self._conn().execute(
                    "SELECT seq, id, json FROM analyses WHERE seq > ? ORDER BY seq LIMIT ?", (last, _ITER_CHUNK)
                ).fetchall()
                chunk = [(row["id"], Analysis.model_validate_json(row["json"]).shown()) for row in rows]
            if not rows:
                return
            yield from chunk
            last = rows[-1]["seq"]

    def iter_matching(self, q: str | None = None) -> Iterator[tuple[str, Analysis]]:
        """Like ``iter_analyses``, but only the analyses that ``search`` finds for ``q`` (all when it has no words)."""
        match = fts_query(q)
        if match is None:
            yield from self.iter_analyses()
            return
        last = 0
        while True:
            rows = self._conn().execute(
                "SELECT a.seq, a.id, a.json FROM analyses_fts f JOIN analyses a ON a.seq = f.rowid"
                " WHERE analyses_fts MATCH ? AND a.seq > ? ORDER BY a.seq LIMIT ?", (match, last, _ITER_CHUNK)
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield row["id"], Analysis.model_validate_json(row["json"]).shown()
            last = rows[-1]["seq"]

    # -- batch failures ------------------------------------------------------------------------

    def add_failure(self, source: str, reason: str) -> None:
        """Remember that an input could not be analyzed, and why."""
        with self._errors(), self._write() as conn:
            conn.execute("INSERT INTO failures (source, reason, created_at) VALUES (?, ?, ?)",
                         (source, reason, _now()))

    def failures(self) -> list[tuple[str, str, str]]:
        """The recorded failures, oldest first: (source, reason, when as ISO 8601 UTC)."""
        with self._errors():
            rows = self._conn().execute("SELECT source, reason, created_at FROM failures ORDER BY seq").fetchall()
        return [(r["source"], r["reason"], r["created_at"]) for r in rows]


class _RollBack(Exception):
    """Raised inside a transaction to end it with ROLLBACK; ``_Transaction`` swallows it."""


class _Transaction:
    """``with`` block around one ``BEGIN IMMEDIATE`` transaction: committed on success, else rolled back.

    IMMEDIATE takes the write lock at the start, so two writers queue on the busy timeout instead of
    one failing when it upgrades a read lock.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> _Transaction:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type: object, *exc: object) -> bool:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        return exc_type is _RollBack

    def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    def executescript_in_transaction(self, script: str) -> None:
        # sqlite3.executescript would COMMIT first; run the statements one by one instead.
        for statement in script.split(";"):
            if statement.strip():
                self.conn.execute(statement)


def fts_query(q: str | None) -> str | None:
    """An FTS5 MATCH expression for what a user typed: each word as a quoted prefix, all required."""
    words = re.findall(r"\w+", q or "")
    return " ".join(f'"{w}"*' for w in words) if words else None


def _source_label(analysis: Analysis) -> str | None:
    source = analysis.source
    return source.url or source.path or source.site


def _technique_sentence_count(analysis: Analysis) -> int:
    """Sentences that overlap at least one technique span."""
    return sum(1 for sent in analysis.sentences
               if any(s.start < sent.end and sent.start < s.end for s in analysis.spans))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
