"""The CLI contract of predict and evaluate, run as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from propscan.readers.ptc import read_article, read_labels

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "scorer-fixture"
FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "scorer"  # made up, with figures worked out by hand in its EXPECTED.md
PTC = FIXTURES / "ptc"
SOME_ARTICLES = ("900000001", "900000003", "900000006")


def propscan(*args: str | Path, model: str = "lexicon") -> subprocess.CompletedProcess:
    env = {**os.environ, "PROPSCAN_MODEL": model}
    return subprocess.run([sys.executable, "-m", "propscan.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """The one ``propscan: ...`` line a failed command printed, holding each fragment; no traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("propscan: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def articles(tmp_path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for article_id in SOME_ARTICLES:
        shutil.copy(PTC / "train-articles" / f"article{article_id}.txt", folder)
    return folder


@pytest.mark.parametrize(("folder", "article", "si_figures", "tc_f1", "full_technique"), [
    pytest.param(OFFICIAL, "article736757214", ["0.964912", "0.486864", "0.647181"], 0.6,
                 "Exaggeration,Minimisation", marks=pytest.mark.corpus, id="the organizers' example"),
    pytest.param(FIXTURE, "article900000201", ["0.557734", "0.750000", "0.639733"], 0.8,
                 "Bandwagon,Reductio_ad_hitlerum", id="the made-up example, worked by hand"),
])
def test_evaluate_prints_the_scorers_figures(folder, article, si_figures, tc_f1, full_technique):
    result = propscan("evaluate", "--task", "si", "--gold", folder / f"{article}.task-SI.labels",
                      "--pred", folder / "submission-task-SI.tsv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:6] == ["precision", si_figures[0], "recall", si_figures[1], "F1", si_figures[2]]
    result = propscan("evaluate", "--task", "tc", "--gold", folder / f"{article}.labels-task-TC",
                      "--pred", folder / "submission-task-TC.tsv", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["precision", "recall", "f1", "per_technique"]
    assert [round(data[k], 6) for k in ("precision", "recall", "f1")] == [tc_f1] * 3
    assert len(data["per_technique"]) == 14 and data["per_technique"][full_technique] == 1.0


def test_evaluate_reads_a_directory_of_gold_labels(tmp_path):
    gold = tmp_path / "gold"
    gold.mkdir()
    shutil.copy(FIXTURE / "article900000201.labels-task-TC", gold / "article900000201.task2-TC.labels")
    result = propscan("evaluate", "--task", "flc", "--gold", gold, "--pred", FIXTURE / "submission-task-TC.tsv",
                      "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # Every predicted span lies on a gold span of its technique; one gold span of five is missed.
    assert (round(data["precision"], 6), round(data["recall"], 6)) == (1.0, 0.8)


@pytest.mark.parametrize("task", ["si", "flc"])
def test_predict_writes_semeval_tsv_that_evaluate_reads(tmp_path, articles, task):
    out = tmp_path / f"{task}.tsv"
    result = propscan("predict", "--task", task, articles, "-o", out)
    assert result.returncode == 0, result.stderr
    texts = {a: read_article(articles / f"article{a}.txt").text for a in SOME_ARTICLES}
    columns = 3 if task == "si" else 4
    for line in out.read_text().splitlines():
        fields = line.split("\t")
        assert len(fields) == columns and fields[0] in texts
        start, end = int(fields[-2]), int(fields[-1])
        assert 0 <= start < end <= len(texts[fields[0]])
    labels = read_labels(out, articles=texts, require_technique=task == "flc")
    assert {label.article_id for label in labels} <= set(SOME_ARTICLES)

    gold = tmp_path / "gold.labels"
    gold_dir = PTC / ("train-labels-task1-span-identification" if task == "si"
                      else "train-labels-task2-technique-classification")
    gold.write_bytes(b"".join((gold_dir / f"article{a}.{'task1-SI' if task == 'si' else 'task2-TC'}.labels")
                              .read_bytes() for a in SOME_ARTICLES))
    result = propscan("evaluate", "--task", task, "--gold", gold, "--pred", out, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert all(0.0 <= data[k] <= 1.0 for k in ("precision", "recall", "f1"))


def test_predict_to_stdout_matches_the_output_file(tmp_path, articles):
    out = tmp_path / "si.tsv"
    assert propscan("predict", "--task", "si", articles, "-o", out).returncode == 0
    result = propscan("predict", "--task", "si", *sorted(articles.glob("*.txt")))
    assert result.returncode == 0 and result.stdout == out.read_text()


def test_predict_tc_labels_every_template_line_in_order(tmp_path, articles):
    gold = read_labels(PTC / "train-labels-task2-technique-classification" / "article900000003.task2-TC.labels")
    # The same span twice: the second copy gets the second most likely technique.
    lines = [f"{g.article_id}\t?\t{g.start}\t{g.end}" for g in gold[:4]] + ["900000001\t?\t0\t10"] * 2
    template = tmp_path / "template.txt"
    template.write_text("\n".join(lines) + "\n")
    result = propscan("predict", "--task", "tc", articles, "--spans", template)
    assert result.returncode == 0, result.stderr
    out = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(f[0], f[2], f[3]) for f in out] == [(t.split("\t")[0], t.split("\t")[2], t.split("\t")[3]) for t in lines]
    assert all(f[1] != "?" for f in out)
    assert out[-1][1] != out[-2][1]

    # A full label file works as the template too; its technique column is ignored.
    full = PTC / "train-labels-task2-technique-classification" / "article900000006.task2-TC.labels"
    result = propscan("predict", "--task", "tc", articles, "--spans", full)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(read_labels(full))


def test_a_missing_path_is_one_line():
    assert_one_line_error(propscan("predict", "--task", "si", "/no/such/article.txt"),
                          "/no/such/article.txt", "no such file or directory")
    assert_one_line_error(propscan("evaluate", "--task", "si", "--gold", "/no/gold.labels",
                                   "--pred", FIXTURE / "submission-task-SI.tsv"), "/no/gold.labels", "no such file")


def test_a_label_line_with_two_columns_is_one_line(tmp_path):
    pred = tmp_path / "pred.tsv"
    pred.write_text("900000201\t0\t50\n900000201\t161\n")
    result = propscan("evaluate", "--task", "si", "--gold", FIXTURE / "article900000201.task-SI.labels",
                      "--pred", pred)
    assert_one_line_error(result, str(pred), "line 2", "found 2")


def test_an_end_before_its_start_is_one_line(tmp_path):
    gold = tmp_path / "gold.labels"
    gold.write_text("900000201\tDoubt\t30\t20\n")
    result = propscan("evaluate", "--task", "tc", "--gold", gold, "--pred", FIXTURE / "submission-task-TC.tsv")
    assert_one_line_error(result, str(gold), "line 1", "end 20 is before its start 30")


def test_a_span_past_the_end_of_its_article_is_one_line(tmp_path):
    size = len(read_article(FIXTURE / "article900000201.txt").text)
    template = tmp_path / "template.txt"
    template.write_text(f"900000201\t?\t0\t5\n900000201\t?\t10\t{size + 3}\n")
    result = propscan("predict", "--task", "tc", FIXTURE / "article900000201.txt", "--spans", template)
    assert_one_line_error(result, str(template), "line 2", "runs past the end of article 900000201")


def test_a_label_for_an_article_that_is_not_there_is_one_line(tmp_path):
    template = tmp_path / "template.txt"
    template.write_text("900000201\t?\t0\t5\n42\t?\t0\t5\n")
    result = propscan("predict", "--task", "tc", FIXTURE / "article900000201.txt", "--spans", template)
    assert_one_line_error(result, str(template), "line 2", "article 42, which is not among the articles")


def test_tc_needs_its_template_and_only_tc_takes_one(tmp_path):
    article = FIXTURE / "article900000201.txt"
    assert_one_line_error(propscan("predict", "--task", "tc", article), "--spans")
    assert_one_line_error(propscan("predict", "--task", "si", article, "--spans", article), "--spans")


def test_an_unwritable_output_is_one_line(tmp_path):
    out = tmp_path / "missing-folder" / "out.tsv"
    result = propscan("predict", "--task", "si", FIXTURE / "article900000201.txt", "-o", out)
    assert_one_line_error(result, str(out))
