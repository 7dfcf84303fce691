"""Optional features name the extra that brings them when it is not installed: one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

EXAMPLE_TEXT = "Council approves the harbour bridge repairs\n\nThe council voted on Tuesday to repair it.\n"


def run_cli(*args: str, blocked: str, cwd) -> subprocess.CompletedProcess:
    """``propscan ARGS`` in a new process where ``blocked`` cannot be imported, as when not installed."""
    program = f"import sys\nsys.modules[{blocked!r}] = None\nfrom propscan.cli import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PROPSCAN_MODEL": "lexicon"}, timeout=300)


def only_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_batch_dask_without_the_dask_extra(tmp_path):
    (tmp_path / "article.txt").write_text(EXAMPLE_TEXT, encoding="utf-8")
    result = run_cli("batch", "article.txt", "--db", "store.sqlite3", "--dask", "local", blocked="distributed",
                     cwd=tmp_path)
    assert only_line(result) == "propscan: --dask needs the dask extra: pip install 'propscan[dask]'"


def test_stats_plot_without_the_plots_extra(tmp_path):
    result = run_cli("stats", "--db", "store.sqlite3", "--plot", "charts.png", blocked="matplotlib", cwd=tmp_path)
    assert only_line(result) == "propscan: --plot needs the plots extra: pip install 'propscan[plots]'"
    assert not (tmp_path / "charts.png").exists()
