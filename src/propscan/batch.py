"""Batch: analyze a whole corpus into the store, on local worker processes or on a Dask cluster.

The parent process reads the inputs, skips every article whose text is already stored (keyed by
its content hash), sends the rest to the workers in small chunks (a bounded number in flight, so
memory does not grow with the corpus) and writes each result to the store in its own transaction
as it comes back. Only the parent writes. A run stopped at any moment, even by ``kill -9``, leaves
only whole rows behind, and the next run picks up where it stopped.

Workers load the model once (``load_detector`` caches it per process) and run the same
``analyze_many`` as ``propscan analyze``, so a local run, a Dask run and a one-by-one analysis
store the same analyses.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TextIO

from propscan.detect import DETECTORS, check_models, load_detector
from propscan.detect.base import release_freed_memory
from propscan.document import Analysis, Article
from propscan.errors import PropscanError
from propscan.pipeline import BATCH_SIZE, analyze_many
from propscan.store import Store, content_hash

Outcome = Literal["stored", "skipped", "failed"]
# Chunks in flight per worker: enough to keep every worker busy while the parent writes results.
IN_FLIGHT_PER_WORKER = 2
DASK_CONNECT_TIMEOUT = "15s"


@dataclass
class ArticleResult:
    """What a worker sends back for one article: its analysis, or why there is none."""

    source: str
    analysis: Analysis | None = None
    error: str | None = None


@dataclass
class BatchReport:
    """What a batch run did; ``failures`` are this run's (input, reason) pairs."""

    stored: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def done(self) -> int:
        return self.stored + self.skipped + self.failed


class BatchProgress(Protocol):
    """Where a batch run reports its progress (a progress bar, log lines, or nothing)."""

    def start(self, total_estimate: int | None) -> None: ...
    def set_total(self, total: int) -> None: ...
    def advance(self, outcome: Outcome, source: str, reason: str | None = None) -> None: ...
    def stop(self) -> None: ...


# -- the run ---------------------------------------------------------------------------------------


def run_batch(inputs: Iterable[str], store: Store, *, workers: int | None = None, dask: str | None = None,
              model: str | None = None, progress: BatchProgress | None = None,
              chunk_size: int = BATCH_SIZE, allow_private: bool = False,
              max_bytes: int | None = None) -> BatchReport:
    """Analyze every article in ``inputs`` that ``store`` does not hold yet, and store it.

    ``workers``: local worker processes (default: one per core). ``dask``: a Dask scheduler address,
    or ``local`` for a LocalCluster on this machine, instead of local workers. ``model``: the detector
    name (default: ``PROPSCAN_MODEL``, else the trained model); every worker uses the same one.
    ``allow_private`` and ``max_bytes`` are passed to the readers (``propscan.readers.iter_sources``).
    """
    inputs = list(inputs)
    model_name = model or os.environ.get("PROPSCAN_MODEL") or "trained"
    if model_name not in DETECTORS:
        raise PropscanError(f"unknown model {model_name!r}; choose one of {', '.join(DETECTORS)}")
    check_models(model_name)  # the reason, once, rather than every worker's crash
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise PropscanError(f"--workers must be at least 1, not {workers}")
    progress = progress or _NoProgress()
    report = BatchReport()
    started = time.monotonic()
    engine = _DaskEngine(dask, workers, model_name) if dask else _LocalEngine(workers, model_name)
    progress.start(estimate_total(inputs))
    finished = False
    try:
        _drive(engine, _read(inputs, allow_private, max_bytes), store, report, progress, chunk_size,
               max_in_flight=engine.slots * IN_FLIGHT_PER_WORKER)
        finished = True
    finally:
        engine.close(wait=finished)  # interrupted: drop the queued chunks, do not wait for them
        progress.stop()
    report.seconds = time.monotonic() - started
    return report


def _drive(engine: _Engine, items: Iterator[Article | ArticleResult], store: Store, report: BatchReport,
           progress: BatchProgress, chunk_size: int, max_in_flight: int) -> None:
    in_flight: dict[object, list[str]] = {}  # chunk handle -> content hashes of its articles
    queued: set[str] = set()  # hashes in the chunk being filled or in flight: a repeat is skipped

    def record(outcome: Outcome, source: str, reason: str | None = None) -> None:
        if outcome == "stored":
            report.stored += 1
        elif outcome == "skipped":
            report.skipped += 1
        else:
            report.failures.append((source, reason or "failed"))
            store.add_failure(source, reason or "failed")
        progress.advance(outcome, source, reason)

    def collect(block: bool) -> None:
        for handle, results in engine.completed(block):
            queued.difference_update(in_flight.pop(handle))
            for result in results:
                if result.analysis is None:
                    record("failed", result.source, result.error)
                else:
                    _, created = store.add(result.analysis)
                    record("stored" if created else "skipped", result.source)

    def submit(chunk: list[Article], hashes: list[str]) -> None:
        while len(in_flight) >= max_in_flight:
            collect(block=True)
        in_flight[engine.submit(chunk)] = hashes
        collect(block=False)

    seen = 0
    chunk: list[Article] = []
    hashes: list[str] = []
    for item in items:
        seen += 1
        if isinstance(item, ArticleResult):
            record("failed", item.source, item.error)
            continue
        digest = content_hash(item.text)
        if digest in queued or store.contains(digest):
            record("skipped", source_label(item))
            continue
        queued.add(digest)
        chunk.append(item)
        hashes.append(digest)
        if len(chunk) >= chunk_size:
            submit(chunk, hashes)
            chunk, hashes = [], []
    progress.set_total(seen)
    if chunk:
        submit(chunk, hashes)
    while in_flight:
        collect(block=True)


# -- reading -----------------------------------------------------------------------------------------


def _read(inputs: list[str], allow_private: bool, max_bytes: int | None) -> Iterator[Article | ArticleResult]:
    """Every article of every input, and a failed result for each input (or item) that cannot be read."""
    from propscan.readers import DEFAULT_MAX_BYTES, ReadFailure, iter_sources

    for item in iter_sources(inputs, allow_private=allow_private, max_bytes=max_bytes or DEFAULT_MAX_BYTES):
        if isinstance(item, ReadFailure):
            yield ArticleResult(source=item.source, error=item.reason)
        else:
            yield item


def estimate_total(inputs: list[str]) -> int | None:
    """A quick estimate of the number of articles, for the progress bar's time left.

    Article files in folders, lines of JSON Lines and CSV corpora, one per other input; the exact
    total is known once every input has been read.
    """
    from propscan.readers import CORPUS_SUFFIXES, FOLDER_SUFFIXES

    def estimate(path: Path) -> int:
        if path.suffix.lower() not in CORPUS_SUFFIXES:
            return 1
        with path.open("rb") as f:
            lines = sum(1 for line in f if line.strip())
        return max(lines - (path.suffix.lower() == ".csv"), 0)  # less the CSV header

    total = 0
    for source in inputs:
        path = Path(source)
        try:
            if path.is_dir():
                total += sum(estimate(p) for p in path.rglob("*")
                             if p.suffix.lower() in FOLDER_SUFFIXES and not p.name.startswith(".") and p.is_file())
            elif path.is_file():
                total += estimate(path)
            else:
                total += 1
        except OSError:
            total += 1
    return total or None


def source_label(article: Article) -> str:
    """How a batch names an article in its log and failures: its path or URL, else its id."""
    return article.source.path or article.source.url or article.id


# -- work done on the workers --------------------------------------------------------------------------


def analyze_chunk(articles: list[Article], model_name: str) -> list[ArticleResult]:
    """Analyze a few articles together; when that fails, each alone, so one bad article fails alone."""
    detector = load_detector(model_name)
    try:
        analyses = list(analyze_many(articles, detector=detector))
        return [ArticleResult(source_label(a), analysis=x) for a, x in zip(articles, analyses, strict=True)]
    except Exception:
        if len(articles) == 1:
            return [_analyze_alone(articles[0], detector)]
        return [_analyze_alone(a, detector) for a in articles]
    finally:
        # A worker reads chunk after chunk: without handing freed pages back, its heap grew with the
        # corpus (one worker peaked at 1,087 MiB on 1,000 articles, 1,017 on 100).
        release_freed_memory()


def _analyze_alone(article: Article, detector) -> ArticleResult:
    try:
        return ArticleResult(source_label(article), analysis=next(analyze_many([article], detector=detector)))
    except Exception as e:  # noqa: BLE001 - any error in one article is that article's failure
        return ArticleResult(source_label(article), error=f"analysis failed: {type(e).__name__}: {e}")


def _init_local_worker(model_name: str, parent_pid: int, threads: int) -> None:
    """Load the model once per worker, and end the worker if the parent dies (even by ``kill -9``).

    Ctrl-C is the parent's to handle: it stops the run, and the workers end with it. Each worker's
    math libraries get its share of the cores (unless the user set OMP_NUM_THREADS), so that N
    workers do not each start a thread per core.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(threads))
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    load_detector(model_name)


def _exit_when_orphaned(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)


# -- engines: where chunks run -----------------------------------------------------------------------------


class _Engine(Protocol):
    slots: int  # how many chunks can run at once
    def submit(self, chunk: list[Article]) -> object: ...
    def completed(self, block: bool) -> list[tuple[object, list[ArticleResult]]]: ...
    def close(self, wait: bool = True) -> None: ...


class _LocalEngine:
    """Worker processes on this machine (spawned, so a loaded model is never forked)."""

    def __init__(self, workers: int, model_name: str) -> None:
        self.model_name = model_name
        self.slots = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_local_worker,
                                        initargs=(model_name, os.getpid(), max(1, (os.cpu_count() or 1) // workers)))
        self.pending: set = set()

    def submit(self, chunk: list[Article]) -> object:
        future = self.pool.submit(analyze_chunk, chunk, self.model_name)
        self.pending.add(future)
        return future

    def completed(self, block: bool) -> list[tuple[object, list[ArticleResult]]]:
        if not self.pending:
            return []
        done, self.pending = wait(self.pending, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        try:
            return [(future, future.result()) for future in done]
        except BrokenProcessPool:
            raise PropscanError("a worker process died (out of memory?); run the same command again to "
                                "resume") from None

    def close(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=True)


class _DaskEngine:
    """Workers of a Dask distributed cluster; results stream back as they complete."""

    def __init__(self, address: str, workers: int, model_name: str) -> None:
        try:
            from distributed import Client, LocalCluster, as_completed
        except ImportError:
            raise PropscanError("--dask needs the dask extra: pip install 'propscan[dask]'") from None
        self.model_name = model_name
        self.cluster = None
        try:
            if address == "local":
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            self._close_cluster()
            raise PropscanError(f"cannot reach the Dask scheduler ({e})", source=address) from None
        self.client.register_plugin(_model_loader(model_name), name=f"propscan-model-{model_name}")
        self.slots = sum(self.client.nthreads().values()) or workers
        self.results = as_completed()

    def submit(self, chunk: list[Article]) -> object:
        future = self.client.submit(analyze_chunk, chunk, self.model_name, pure=False)
        self.results.add(future)
        return future

    def completed(self, block: bool) -> list[tuple[object, list[ArticleResult]]]:
        if self.results.is_empty() or not (block or self.results.has_ready()):
            return []
        futures = self.results.next_batch(block=True)
        try:
            return [(future, future.result()) for future in futures]
        except Exception as e:  # a lost worker or a broken cluster, not one article's fault
            raise PropscanError(f"a Dask task failed ({type(e).__name__}: {e}); run the same command "
                                "again to resume") from None

    def close(self, wait: bool = True) -> None:
        self.client.close()
        self._close_cluster()

    def _close_cluster(self) -> None:
        if self.cluster is not None:
            self.cluster.close()


def _model_loader(model_name: str):
    """A Dask worker plugin that loads the model when a worker starts (or joins later)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class LoadModel(WorkerPlugin):
        def setup(self, worker) -> None:
            load_detector(model_name)

    return LoadModel()


# -- progress ------------------------------------------------------------------------------------------------


class _NoProgress:
    def start(self, total_estimate: int | None) -> None: ...
    def set_total(self, total: int) -> None: ...
    def advance(self, outcome: Outcome, source: str, reason: str | None = None) -> None: ...
    def stop(self) -> None: ...


class LogProgress:
    """Plain log lines (when not on a terminal): every failure, and the count every few seconds."""

    def __init__(self, stream: TextIO | None = None, every_seconds: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.every_seconds = every_seconds
        self.counts = {"stored": 0, "skipped": 0, "failed": 0}
        self.total: int | None = None

    def start(self, total_estimate: int | None) -> None:
        self.total = total_estimate
        self.started = self.last = time.monotonic()
        self._line(f"batch: starting, about {total_estimate} articles" if total_estimate else "batch: starting")

    def set_total(self, total: int) -> None:
        self.total = total

    def advance(self, outcome: Outcome, source: str, reason: str | None = None) -> None:
        self.counts[outcome] += 1
        if outcome == "failed":
            self._line(f"batch: failed: {source}: {reason}")
        now = time.monotonic()
        if now - self.last >= self.every_seconds:
            self.last = now
            self._line(self._status(now))

    def stop(self) -> None:
        self._line(self._status(time.monotonic()))

    def _status(self, now: float) -> str:
        done = sum(self.counts.values())
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        of = f"/{self.total}" if self.total else ""
        left = ""
        if self.total and rate > 0 and done < self.total:
            left = f", about {_duration((self.total - done) / rate)} left"
        return (f"batch: {done}{of} done ({self.counts['stored']} stored, {self.counts['skipped']} already "
                f"stored, {self.counts['failed']} failed), {rate:.1f} articles/s{left}")

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


class RichProgress:
    """A progress bar with rate and time left (on a terminal); failures print above it."""

    def __init__(self, console=None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.counts = {"stored": 0, "skipped": 0, "failed": 0}

    def start(self, total_estimate: int | None) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(), _rate_column(),
                            TimeRemainingColumn(), TextColumn("{task.fields[counts]}"), console=self.console)
        self.task = self.bar.add_task("batch", total=total_estimate, counts="")
        self.bar.start()

    def set_total(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def advance(self, outcome: Outcome, source: str, reason: str | None = None) -> None:
        self.counts[outcome] += 1
        if outcome == "failed":
            self.bar.console.print(f"[red]failed[/red] {source}: {reason}", markup=True, highlight=False)
        counts = f"{self.counts['stored']} new, {self.counts['skipped']} skipped, {self.counts['failed']} failed"
        self.bar.update(self.task, advance=1, counts=counts)

    def stop(self) -> None:
        self.bar.stop()


def _rate_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f}/s" if speed else "…/s")

    return RateColumn()


def progress_for(stream: TextIO | None = None) -> BatchProgress:
    """A progress bar when ``stream`` (default stderr) is a terminal, plain log lines otherwise."""
    stream = stream or sys.stderr
    if stream.isatty():
        from rich.console import Console

        return RichProgress(Console(file=stream))
    return LogProgress(stream)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"
