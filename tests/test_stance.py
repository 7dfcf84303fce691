"""The headline check: the FNC-1 CSV contract, the sample's verdict, and a tiny training run."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from propscan.errors import PropscanError
from propscan.stance.fnc1 import predict_csv
from propscan.stance.model import STANCES, WEIGHTS_DIR, StanceModel
from propscan.training.stance import ReaderSettings, split_by_body, train_stance

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "samples" / "venezuela-lima-group.txt"
SCRAPED = Path(__file__).parent / "fixtures" / "scraped-article.txt"  # made up: the body only discusses it

BODIES = {
    "1": "Police confirmed on Monday that the mayor resigned after the scandal. The mayor resigned, "
         "officials said, and a new mayor will be chosen.",
    "2": "The report that the mayor resigned is a hoax. Officials denied that the mayor resigned and "
         "said the claim was fake.",
    "3": "A local bakery won a prize for its bread. The bakers said the recipe is old.",
}


def _write_fnc1(folder: Path, rows: list[tuple[str, str, str]], bodies: dict[str, str]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stances, bodies_csv = folder / "stances.csv", folder / "bodies.csv"
    with open(stances, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Headline", "Body ID", "Stance"])
        writer.writerows(rows)
    with open(bodies_csv, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Body ID", "articleBody"])
        writer.writerows(bodies.items())
    return stances, bodies_csv


def _tiny_training_set(folder: Path) -> Path:
    """Enough pairs of each stance, over 20 bodies, for the training code path to run end to end."""
    bodies, rows = {}, []
    for i in range(20):
        town = f"town{i}"
        bodies[f"a{i}"] = f"Officials in {town} confirmed the mayor resigned on Monday. The mayor of {town} resigned."
        rows.append((f"Mayor of {town} resigns", f"a{i}", "agree"))
        rows.append((f"Bakery in {town} wins bread prize", f"a{i}", "unrelated"))
        bodies[f"d{i}"] = f"Reports that the {town} dam burst are a hoax. Officials denied the dam burst; it is fake."
        rows.append((f"Dam in {town} bursts", f"d{i}", "disagree" if i % 2 else "discuss"))
        rows.append((f"Singer in {town} marries", f"d{i}", "unrelated"))
    _write_fnc1(folder, rows, bodies)
    return folder


TINY_READER = ReaderSettings(layers=1, max_tokens=48, epochs=1)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> tuple[Path, dict]:
    data = _tiny_training_set(tmp_path_factory.mktemp("fnc1"))
    out = tmp_path_factory.mktemp("model")
    return out, train_stance(data, out, seed=3, reader=TINY_READER)


def test_training_writes_loadable_deterministic_files(tiny_model, tmp_path):
    out, figures = tiny_model
    assert {"relative_score", "macro_f1", "per_class_f1", "accuracy", "calibration_error"} <= set(figures)
    assert 0.0 <= figures["relative_score"] <= 1.0
    model = StanceModel.load(out)
    prediction = model.predict_pairs(["Mayor of town3 resigns"], ["b"], {"b": BODIES["1"]})[0]
    assert prediction.stance in STANCES
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    again = tmp_path / "again"
    data = _tiny_training_set(tmp_path / "data")
    train_stance(data, again, seed=3, reader=TINY_READER)
    assert (again / "stance.json").read_text() == (out / "stance.json").read_text()
    assert (again / "stance-reader.onnx").read_bytes() == (out / "stance-reader.onnx").read_bytes()
    first, second = np.load(out / "stance.npz"), np.load(again / "stance.npz")
    assert sorted(first.files) == sorted(second.files)
    for name in first.files:
        assert np.array_equal(first[name], second[name]), name


def test_split_by_body_is_seeded_and_disjoint():
    ids = [str(i) for i in range(50)] * 3
    train, dev = split_by_body(ids, seed=7)
    assert train.isdisjoint(dev) and train | dev == set(ids) and len(dev) == 10
    assert split_by_body(ids, seed=7) == (train, dev)


def test_probabilities_cover_the_four_stances_and_sum_to_one():
    model = StanceModel.load(WEIGHTS_DIR)
    predictions = model.predict_pairs(["Mayor resigns after scandal"] * 3, ["1", "2", "3"], BODIES)
    for p in predictions:
        assert set(p.probabilities) == set(STANCES)
        assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert predictions[2].stance == "unrelated"


def test_csv_keeps_order_quotes_headlines_and_ignores_stance_column(tmp_path):
    headlines = ['He said "no, never", then left', "Mayor resigns, officials say", "Plain headline"]
    rows = [(headlines[0], "2", "agree"), (headlines[1], "1", "discuss"), (headlines[2], "3", "agree"),
            (headlines[1], "3", "unrelated")]
    stances, bodies = _write_fnc1(tmp_path, rows, BODIES)
    out = tmp_path / "out.csv"
    assert predict_csv(stances, bodies, out) == 4
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "Headline,Body ID,Stance"
    assert '"He said ""no, never"", then left",2,' in text
    written = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [(r["Headline"], r["Body ID"]) for r in written] == [(h, b) for h, b, _ in rows]
    assert all(r["Stance"] in STANCES for r in written)


def test_cli_writes_stdout_and_reports_missing_body_in_one_line(tmp_path):
    stances, bodies = _write_fnc1(tmp_path, [("Mayor resigns", "1", ""), ("Another", "99", "")], BODIES)
    result = subprocess.run([sys.executable, "-m", "propscan.cli", "stance", str(stances), str(bodies)],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stdout == ""
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "'99'" in message and str(stances) in message and str(bodies) in message

    stances, bodies = _write_fnc1(tmp_path / "ok", [("Mayor resigns", "1", "")], BODIES)
    result = subprocess.run([sys.executable, "-m", "propscan.cli", "stance", str(stances), str(bodies)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Headline,Body ID,Stance" and lines[1].startswith("Mayor resigns,1,")


def test_missing_columns_are_one_clear_error(tmp_path):
    bad = tmp_path / "stances.csv"
    bad.write_text("Title,Body\nx,1\n", encoding="utf-8")
    _, bodies = _write_fnc1(tmp_path / "b", [], BODIES)
    with pytest.raises(PropscanError, match=r"missing column\(s\) Headline, Body ID"):
        predict_csv(bad, bodies, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_check_needs_a_title_and_a_body():
    model = StanceModel.load(WEIGHTS_DIR)
    text = "Mayor resigns\n\nThe mayor resigned on Monday."
    assert model.check(text, None, [(15, 43)]) is None
    assert model.check(text, (0, 13), [(0, 13)]) is None
    check = model.check(text, (0, 13), [(0, 13), (15, 43)])
    assert check is not None and check.supported == (check.stance == "agree")
    for e in check.evidence:
        assert text[e.start:e.end] == e.text and e.start >= 13


@pytest.mark.parametrize("path", [pytest.param(SCRAPED, id="made-up"),
                                  pytest.param(SAMPLE, id="sample", marks=pytest.mark.corpus)])
def test_a_headline_the_body_only_discusses_is_not_supported(monkeypatch, path):
    monkeypatch.setenv("PROPSCAN_MODEL", "lexicon")
    import propscan

    analysis = propscan.analyze(path)
    assert analysis.headline is not None
    assert analysis.headline.supported is False
    assert analysis.headline.stance != "agree"
    assert json.loads(analysis.to_json())["headline"]["supported"] is False


def test_the_shipped_model_on_a_made_up_fnc1_pair_of_files(tmp_path):
    """tests/fixtures/fnc1 holds three made-up bodies, a headline each agrees with, contradicts or
    only discusses, and a headline none of them is about."""
    from propscan.metrics import RELATED, fnc1_score

    fnc1 = Path(__file__).parent / "fixtures" / "fnc1"
    out = tmp_path / "predicted.csv"
    result = subprocess.run([sys.executable, "-m", "propscan.cli", "stance", str(fnc1 / "stances.csv"),
                             str(fnc1 / "bodies.csv"), "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    gold = list(csv.DictReader((fnc1 / "stances.csv").open(encoding="utf-8", newline="")))
    predicted = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [(r["Headline"], r["Body ID"]) for r in predicted] == [(r["Headline"], r["Body ID"]) for r in gold]
    assert [r["Stance"] in RELATED for r in predicted] == [r["Stance"] in RELATED for r in gold]
    score = fnc1_score([r["Stance"] for r in gold], [r["Stance"] for r in predicted])
    # A body that denies the headline is never read as support. (The shipped model reads the agreeing
    # body as only discussing it: FNC-1 models find agreement in short bodies hard.)
    assert predicted[1]["Stance"] != "agree"
    assert score["max_score"] == 3 * 1.0 + 3 * 0.25
    # Related or not right for all six pairs (6 x 0.25) and the agreeing pair's stance (0.75): 2.25 / 3.75.
    assert score["relative_score"] >= 0.6


def test_a_finished_reader_is_reused_and_other_settings_retrain_it(tmp_path):
    data = _tiny_training_set(tmp_path / "data")
    work = tmp_path / "work"
    first = train_stance(data, tmp_path / "a", seed=3, reader=TINY_READER, work_dir=work)
    kept = work / "final" / "stance-reader.onnx"  # the shipped reader; "tuning" holds the other
    stamp = kept.stat().st_mtime_ns
    again = train_stance(data, tmp_path / "b", seed=3, reader=TINY_READER, work_dir=work)
    assert kept.stat().st_mtime_ns == stamp  # not trained again
    assert (tmp_path / "b" / "stance-reader.onnx").read_bytes() == kept.read_bytes()
    assert again["relative_score"] == first["relative_score"]
    train_stance(data, tmp_path / "c", seed=3, reader=ReaderSettings(layers=1, max_tokens=40, epochs=1),
                 work_dir=work)
    for folder in ("tuning", "final"):
        assert json.loads((work / folder / "done.json").read_text())["stamp"]["settings"]["max_tokens"] == 40


def test_the_reader_runs_in_onnx_runtime_as_its_network_does(tmp_path):
    """The file inference runs gives the trained network's logits, padded batches included (a graph
    traced in training mode would drop out at random)."""
    import torch

    from propscan.stance.reader import READER_FILE, ReaderNet, StanceReader, encode_pairs
    from propscan.training.export import write_stance_reader

    torch.manual_seed(0)
    net = ReaderNet.untrained(1).eval()
    write_stance_reader(net, tmp_path / READER_FILE)
    reader = StanceReader.load(tmp_path, {"layers": 1, "max_tokens": 48})
    headlines = ["Mayor resigns", "Dam in town bursts after a week of heavy rain upstream"]
    excerpts = ["Officials confirmed that the mayor resigned on Monday after the scandal.", "It is a hoax."]
    batch = encode_pairs(reader.tokenizer, headlines, excerpts, 48)
    assert not bool(batch["attention_mask"].all())  # the batch is padded
    with torch.inference_mode():
        expected = net(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).numpy()
    assert np.allclose(reader.logits(headlines, excerpts), expected, atol=1e-4)
    assert not net.training  # writing the file leaves the network as it found it
    # Read alone, a pair gives what it gives in the padded batch.
    alone = reader.probabilities(headlines[1:], excerpts[1:])
    assert np.allclose(reader.probabilities(headlines, excerpts)[1], alone[0], atol=1e-5)
    # Read in bulk (on more threads), the same.
    assert np.allclose(reader.probabilities(headlines, excerpts, bulk=True),
                       reader.probabilities(headlines, excerpts), atol=1e-6)
    write_stance_reader(net, tmp_path / "again.onnx")
    assert (tmp_path / "again.onnx").read_bytes() == (tmp_path / READER_FILE).read_bytes()
