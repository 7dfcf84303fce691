"""Export every stored analysis: JSON Lines, CSV, the SemEval FLC label format, or Label Studio tasks.

- ``jsonl``: one ``Analysis`` JSON object per line (the ``analyze --json`` contract), plus
  ``stored_id``, its id in the store.
- ``csv``: one row per article: ids, title, source, date, score, sentence and span counts, and a
  column of span counts per technique.
- ``semeval``: the FLC label file of SemEval-2020 Task 11, ``ID<TAB>technique<TAB>start<TAB>end`` per
  span with a technique, ID being the article id (the ``<ID>`` of ``article<ID>.txt``).
- ``label-studio``: a JSON list of tasks, each the article text with propscan's spans as a
  prediction, for review in Label Studio; ``LABEL_CONFIG`` is the labeling configuration to create
  the project with (written next to the tasks as ``<name>.label-config.xml``).

Exports stream: analyses are read from the store a chunk at a time and written as they come. A
file is written beside its target and renamed over it at the end (``replacing_file``), so a run
that fails half-way (a damaged store, a full disk) leaves no partial or empty file behind.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import quoteattr

from propscan.document import Analysis
from propscan.readers.ptc import Label
from propscan.stats import technique_sentence_count
from propscan.taxonomy import TECHNIQUE_IDS, TECHNIQUES

FORMATS = ("jsonl", "csv", "semeval", "label-studio")
CSV_COLUMNS = ("stored_id", "article_id", "title", "site", "url", "path", "date", "model", "score",
               "sentences", "technique_sentences", "spans", *TECHNIQUE_IDS)
LS_FROM_NAME = "label"
LS_TO_NAME = "text"


def export(analyses: Iterable[tuple[str, Analysis]], fmt: str, out: TextIO) -> int:
    """Write ``(stored id, analysis)`` pairs to ``out`` in ``fmt``; returns the number of analyses."""
    writers = {"jsonl": _jsonl, "csv": _csv, "semeval": _semeval, "label-studio": _label_studio}
    if fmt not in writers:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writers[fmt](analyses, out)


def _jsonl(analyses: Iterable[tuple[str, Analysis]], out: TextIO) -> int:
    n = 0
    for stored_id, analysis in analyses:
        record = {"stored_id": stored_id, **analysis.model_dump(mode="json")}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        n += 1
    return n


def _csv(analyses: Iterable[tuple[str, Analysis]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for stored_id, a in analyses:
        counts = a.technique_counts()
        score = "" if a.score is None else f"{a.score:.4f}"  # no article: no score
        writer.writerow([stored_id, a.id, a.title, a.source.site or "", a.source.url or "", a.source.path or "",
                         a.source.date or "", a.model or "", score, len(a.sentences),
                         technique_sentence_count(a), len(a.spans),
                         *(counts.get(t, 0) for t in TECHNIQUE_IDS)])
        n += 1
    return n


def _semeval(analyses: Iterable[tuple[str, Analysis]], out: TextIO) -> int:
    n = 0
    for _, a in analyses:
        for span in sorted(a.spans, key=lambda s: (s.start, s.end, s.technique or "")):
            if span.technique:
                out.write(Label(a.id, span.start, span.end, span.technique).to_line())
        n += 1
    return n


def _label_studio(analyses: Iterable[tuple[str, Analysis]], out: TextIO) -> int:
    out.write("[")
    n = 0
    for stored_id, a in analyses:
        out.write(",\n" if n else "\n")
        out.write(json.dumps(label_studio_task(stored_id, a), ensure_ascii=False))
        n += 1
    out.write("\n]\n")
    return n


def label_studio_task(stored_id: str, analysis: Analysis) -> dict:
    """One Label Studio task: the text, and propscan's technique spans as a prediction to review."""
    results = [
        {
            "id": f"{stored_id}-{i}",
            "from_name": LS_FROM_NAME,
            "to_name": LS_TO_NAME,
            "type": "labels",
            "value": {"start": s.start, "end": s.end, "text": s.text, "labels": [s.technique]},
            "score": s.confidence,
        }
        for i, s in enumerate(s for s in analysis.spans if s.technique)
    ]
    return {
        "data": {"text": analysis.text, "title": analysis.title, "article_id": analysis.id,
                 "stored_id": stored_id, "source": analysis.source.url or analysis.source.path or ""},
        "predictions": [{"model_version": analysis.model or "propscan", "score": analysis.score,
                         "result": results}],
    }


def label_studio_config() -> str:
    """The labeling configuration that matches the exported tasks: one label per technique."""
    labels = "\n".join(f"    <Label value={quoteattr(t.id)} background={quoteattr(t.colour)}/>" for t in TECHNIQUES)
    return (f'<View>\n  <Labels name="{LS_FROM_NAME}" toName="{LS_TO_NAME}">\n{labels}\n  </Labels>\n'
            f'  <Text name="{LS_TO_NAME}" value="$text"/>\n</View>\n')


def label_config_path(tasks_path: str | Path) -> Path:
    """Where the labeling configuration goes beside a tasks file: ``tasks.json`` → ``tasks.label-config.xml``."""
    path = Path(tasks_path)
    return path.with_name(path.stem + ".label-config.xml")


@contextlib.contextmanager
def replacing_file(path: str | Path) -> Iterator[TextIO]:
    """A text file to write that appears at ``path`` only once it is complete.

    It is written as a hidden temporary file in the same folder and renamed over ``path`` when the
    block ends without an error; on an error it is removed and ``path`` is left as it was. Paths
    that are not regular files (``/dev/stdout``, a named pipe) are written directly.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        with open(target, "w", encoding="utf-8", newline="") as out:
            yield out
        return
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(target)) from None
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as out:
            yield out
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o7777)
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
