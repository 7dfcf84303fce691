"""Reading and writing the Propaganda Techniques Corpus layout: round trips and validation."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from propscan.errors import PropscanError
from propscan.readers.ptc import (
    TEMPLATE,
    Label,
    read_article,
    read_articles,
    read_labels,
    write_article,
    write_label_dir,
    write_labels,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).parent / "fixtures"
SCORER = FIXTURES / "scorer"
SCORER_ARTICLE = SCORER / "article900000201.txt"
SI_DIR = "train-labels-task1-span-identification"
TC_DIR = "train-labels-task2-technique-classification"
# Each round trip runs on the made-up articles everywhere and on the whole corpus where it is.
CORPORA = [pytest.param(FIXTURES / "ptc", 6, id="made-up"),
           pytest.param(SHARED / "ptc", 296, id="ptc", marks=pytest.mark.corpus)]


@pytest.mark.parametrize(("ptc", "count"), CORPORA)
def test_articles_round_trip_to_identical_bytes(tmp_path, ptc, count):
    articles = read_articles(ptc / "train-articles")
    assert len(articles) == count
    for article in articles:
        write_article(article, tmp_path)
    for original in (ptc / "train-articles").glob("article*.txt"):
        assert (tmp_path / original.name).read_bytes() == original.read_bytes()


@pytest.mark.parametrize("article", [pytest.param(SCORER_ARTICLE, id="made-up"),
                                     pytest.param(SHARED / "scorer-fixture" / "article736757214.txt", id="official",
                                                  marks=pytest.mark.corpus)])
def test_article_id_title_and_offsets_follow_the_file(article):
    read = read_article(article)
    assert read.id == article.stem.removeprefix("article")
    assert read.title and read.text.startswith(read.title)
    # Offsets count characters of the decoded text: the gold spans point at real words.
    labels = read_labels(next(article.parent.glob("*labels-task-TC")), require_technique=True)
    assert labels
    for label in labels:
        fragment = read.text[label.start:label.end]
        assert fragment.strip() and len(fragment) == label.end - label.start


@pytest.mark.parametrize(("ptc", "count"), CORPORA)
@pytest.mark.parametrize("folder", [SI_DIR, TC_DIR])
def test_every_label_file_round_trips_to_identical_bytes(tmp_path, ptc, count, folder):
    files = sorted((ptc / folder).glob("*.labels"))
    assert len(files) == count
    for original in files:
        copy = write_labels(read_labels(original), tmp_path / original.name)
        assert copy.read_bytes() == original.read_bytes(), original.name


@pytest.mark.parametrize(("ptc", "count"), CORPORA)
def test_a_directory_round_trips_through_per_article_files(tmp_path, ptc, count):
    tc_dir = ptc / TC_DIR
    articles = {a.id: a for a in read_articles(ptc / "train-articles")}
    labels = read_labels(tc_dir, articles=articles, require_technique=True)
    assert len(labels) == sum(1 for f in tc_dir.glob("*.labels") for line in f.read_text().splitlines() if line)
    write_label_dir(labels, tmp_path, suffix=".task2-TC.labels", article_ids=sorted(articles))
    match, mismatch, errors = filecmp.cmpfiles(tc_dir, tmp_path, [f.name for f in tc_dir.glob("*.labels")],
                                               shallow=False)
    assert not mismatch and not errors and len(match) == count


@pytest.mark.parametrize(("ptc", "count"), CORPORA)
def test_a_concatenated_file_reads_like_the_directory(tmp_path, ptc, count):
    si_dir = ptc / SI_DIR
    files = sorted(si_dir.glob("*.labels"))
    assert len(files) == count
    concatenated = tmp_path / "all.labels"
    concatenated.write_bytes(b"".join(f.read_bytes() for f in files))
    labels = read_labels(concatenated)
    assert labels == read_labels(si_dir)
    assert all(label.technique is None for label in labels)
    assert write_labels(labels, tmp_path / "again.labels").read_bytes() == concatenated.read_bytes()


def test_templates_keep_their_question_mark(tmp_path):
    template = tmp_path / "template.txt"
    template.write_text("1\t?\t0\t4\n1\t?\t0\t4\n2\t?\t3\t9\n")
    labels = read_labels(template)
    assert labels == [Label("1", 0, 4, TEMPLATE), Label("1", 0, 4, TEMPLATE), Label("2", 3, 9, TEMPLATE)]
    assert write_labels(labels, tmp_path / "out").read_bytes() == template.read_bytes()
    # A full label file read as a template: the technique column is ignored.
    as_template = read_labels(SCORER / "submission-task-TC.tsv", template=True)
    assert {label.technique for label in as_template} == {TEMPLATE}


def test_fine_grained_techniques_map_to_the_shared_task(tmp_path):
    path = tmp_path / "fine.labels"
    path.write_text("5\tStraw_Men\t0\t3\n5\tBandwagon\t4\t8\n5\tObfuscation,Intentional_Vagueness,Confusion\t1\t2\n")
    assert read_labels(path, require_technique=True) == [
        Label("5", 0, 3, "Whataboutism,Straw_Men,Red_Herring"),
        Label("5", 4, 8, "Bandwagon,Reductio_ad_hitlerum"),
    ]


@pytest.mark.parametrize(("content", "reason"), [
    ("1\t0\t5\n1\t7\n", "line 2: expected 3 or 4 tab-separated columns, found 2"),
    ("1\t0\t5\t9\t9\n", "line 1: expected 3 or 4 tab-separated columns, found 5"),
    ("1\tfive\t9\n", "line 1: offsets must be integers"),
    ("1\t9\t5\n", "line 1: end 5 is before its start 9"),
    ("1\t-2\t5\n", "line 1: start -2 is negative"),
    ("1\tNot_A_Technique\t0\t5\n", "line 1: unknown technique 'Not_A_Technique'"),
])
def test_bad_lines_name_the_file_the_line_and_the_reason(tmp_path, content, reason):
    path = tmp_path / "bad.labels"
    path.write_text(content)
    with pytest.raises(PropscanError) as caught:
        read_labels(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and reason in message
    assert "\n" not in message


def test_technique_labels_need_four_columns(tmp_path):
    path = tmp_path / "si.labels"
    path.write_text("1\t0\t5\n")
    with pytest.raises(PropscanError, match=r"line 1: expected 4 \(ID, technique, start, end\)"):
        read_labels(path, require_technique=True)
    path.write_text("1\t?\t0\t5\n")
    with pytest.raises(PropscanError, match="template line"):
        read_labels(path, require_technique=True)


def test_labels_are_checked_against_the_articles(tmp_path):
    article = read_article(SCORER_ARTICLE)
    articles = {article.id: article}
    path = tmp_path / "x.labels"
    path.write_text(f"900000201\t0\t5\n900000201\t0\t{len(article.text) + 1}\n")
    with pytest.raises(PropscanError, match=rf"line 2: span 0-{len(article.text) + 1} runs past the end of "
                                            rf"article 900000201 \({len(article.text)} characters\)"):
        read_labels(path, articles=articles)
    path.write_text("900000201\t0\t5\n999\t0\t5\n")
    with pytest.raises(PropscanError, match="line 2: a label for article 999, which is not among the articles"):
        read_labels(path, articles=articles)
    path.write_text(f"900000201\t0\t{len(article.text)}\n")
    assert read_labels(path, articles={"900000201": article.text}) == [Label("900000201", 0, len(article.text))]


def test_missing_paths_and_empty_directories(tmp_path):
    with pytest.raises(PropscanError, match="no such file or directory"):
        read_labels(tmp_path / "missing.labels")
    with pytest.raises(PropscanError, match="no \\*.labels files"):
        read_labels(tmp_path)
    with pytest.raises(PropscanError, match="article1.txt: no such file"):
        read_article(tmp_path / "article1.txt")
    (tmp_path / "article2.txt").write_bytes(b"\xff\xfe bad")
    with pytest.raises(PropscanError, match="not UTF-8"):
        read_article(tmp_path / "article2.txt")


def test_blank_lines_and_crlf_are_tolerated(tmp_path):
    path = tmp_path / "loose.labels"
    path.write_bytes(b"1\t0\t5\r\n\r\n2\tDoubt\t3\t4\r\n")
    assert read_labels(path) == [Label("1", 0, 5), Label("2", 3, 4, "Doubt")]
