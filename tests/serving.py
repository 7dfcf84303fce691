"""Helpers for the server and store tests: `propscan` run as a user would, live servers, damaged stores.

Not a test module: imported by the server, store and browser tests.
"""

from __future__ import annotations

import ctypes
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from propscan.document import Analysis, Sentence, Source, Span
from propscan.store import Store

PAGE_SIZE = 4096
WORDS = ("radical", "plan", "officials", "thugs", "budget", "district", "storm", "harbour", "vote", "minister")


def run_cli(*args: str, env: dict | None = None, timeout: float = 60,
            preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess:
    """``propscan ARGS`` in a fresh interpreter (so PYTHONPATH picks this checkout's sources)."""
    return subprocess.run([sys.executable, "-m", "propscan.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, preexec_fn=preexec_fn)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(*args: str, env: dict | None = None,
                preexec_fn: Callable[[], None] | None = None) -> tuple[subprocess.Popen, str]:
    """`propscan serve` on a free port, returned once /healthz answers; its output goes to one pipe."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "propscan.cli", "serve", "--port", str(port), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, **(env or {})}, preexec_fn=preexec_fn)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise AssertionError(f"propscan serve stopped: {process.stdout.read()}")
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code in (200, 503):
                return process, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("propscan serve did not start")
        time.sleep(0.1)


def stop_serve(process: subprocess.Popen) -> str:
    """Stop a `start_serve` server as Ctrl-C would; returns everything it printed."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


# Flags for headless Chromium on a machine with no network beyond loopback: without the
# background-networking ones it keeps trying to reach outside hosts.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class LiveServer:
    """uvicorn serving an app in a thread of this process on a free 127.0.0.1 port."""

    def __init__(self, app) -> None:
        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", limit_concurrency=100))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 120  # the trained model may take a while to load
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()


def stored_analysis(i: int, rng: random.Random) -> Analysis:
    """A made-up analysis of a few kilobytes, so that a store of them spans many pages."""
    text = f"Report {i} on the {rng.choice(WORDS)}\n\n" + " ".join(rng.choice(WORDS) for _ in range(500)) + "."
    return Analysis(id=f"r{i}", title=text.split("\n", 1)[0], text=text, source=Source(site=f"site{i % 3}.example"),
                    spans=[Span.of(text, 0, 6, "Loaded_Language", 0.8)],
                    sentences=[Sentence(start=0, end=len(text), score=0.5)], score=0.5, model="test")


def damaged_store(path: Path, n: int = 60) -> tuple[Path, list[str]]:
    """A real store of ``n`` analyses whose middle third of pages is overwritten with garbage.

    The first page (the schema) is intact, so the store opens and the damage shows only when the
    pages are read, as with a disk that lost a stretch of a file. Returns the path and the ids.
    """
    rng = random.Random(7)
    with Store(path) as store:
        ids = [store.add(stored_analysis(i, rng))[0] for i in range(n)]
    data = bytearray(path.read_bytes())
    pages = len(data) // PAGE_SIZE
    assert pages > 30, "the store is too small to damage only its middle"
    garbage = bytes(rng.randrange(256) for _ in range(PAGE_SIZE))
    for page in range(pages // 3, 2 * pages // 3):
        data[page * PAGE_SIZE:(page + 1) * PAGE_SIZE] = garbage
    path.write_bytes(data)
    return path, ids


def _drop_file_override() -> None:
    """In a child process run by root: drop CAP_DAC_OVERRIDE, so file modes apply as to anyone else."""
    pr_capbset_drop, cap_dac_override = 24, 1
    if ctypes.CDLL(None, use_errno=True).prctl(pr_capbset_drop, cap_dac_override, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def readonly_preexec() -> Callable[[], None] | None:
    """What a subprocess needs for a file without write permission (mode 0o444) to be read-only to it.

    None for an ordinary user; as root (CI containers), a preexec_fn that gives up root's power to
    write any file. Skips the test where that is not possible.
    """
    if os.geteuid() != 0:
        return None
    probe = Path(f"/tmp/propscan-readonly-probe-{os.getpid()}")
    probe.write_text("x")
    probe.chmod(0o444)
    try:
        done = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}, 'a')"], capture_output=True,
                              preexec_fn=_drop_file_override, timeout=60)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("cannot make a file read-only for root here")
    finally:
        probe.unlink()
    if b"PermissionError" not in done.stderr:
        pytest.skip("cannot make a file read-only for root here")
    return _drop_file_override
