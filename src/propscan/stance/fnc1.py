"""FNC-1 files: reading the stances and bodies CSV files, and writing the model's stance for every row.

Training (``propscan.training.stance``) reads its pairs through ``read_fnc1`` too, so both check the
files the same way.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

from propscan.errors import PropscanError
from propscan.stance import load_headline_checker
from propscan.stance.model import StanceModel


def read_csv_rows(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    """The rows of a CSV file with a header that names at least ``required`` columns."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            missing = [c for c in required if c not in columns]
            if missing:
                raise PropscanError(f"{path}: missing column(s) {', '.join(missing)} "
                                    f"(found: {', '.join(columns) or 'no header'})")
            return list(reader)
    except FileNotFoundError as e:
        raise PropscanError(f"{path}: no such file") from e
    except (UnicodeDecodeError, csv.Error) as e:
        raise PropscanError(f"{path}: not a readable UTF-8 CSV file ({e})") from e


def read_fnc1(stances_csv: Path, bodies_csv: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The stance rows (Headline, Body ID[, Stance]) and the bodies by Body ID, checked."""
    rows = read_csv_rows(stances_csv, ("Headline", "Body ID"))
    bodies = {r["Body ID"].strip(): r["articleBody"] or ""
              for r in read_csv_rows(bodies_csv, ("Body ID", "articleBody"))}
    for line, row in enumerate(rows, start=2):
        if row["Headline"] is None or row["Body ID"] is None:
            raise PropscanError(f"{stances_csv}: row {line} has fewer fields than the header")
        if row["Body ID"].strip() not in bodies:
            raise PropscanError(f"{stances_csv}: row {line} names Body ID {row['Body ID']!r}, "
                                f"which is not in {bodies_csv}")
    return rows, bodies


def predict_csv(stances_csv: Path, bodies_csv: Path, out: Path | None = None,
                model: StanceModel | None = None) -> int:
    """Write ``Headline,Body ID,Stance`` for every row of an FNC-1 stances file, in input order, to
    ``out`` (stdout when None); the inputs are checked in full before anything is written."""
    rows, bodies = read_fnc1(stances_csv, bodies_csv)
    model = model or load_headline_checker()
    predictions = model.predict_pairs([r["Headline"] for r in rows],
                                      [r["Body ID"].strip() for r in rows], bodies)
    with open(out, "w", encoding="utf-8", newline="") if out is not None else nullcontext(sys.stdout) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["Headline", "Body ID", "Stance"])
        for row, prediction in zip(rows, predictions, strict=True):
            writer.writerow([row["Headline"], row["Body ID"], prediction.stance])
    return len(rows)
