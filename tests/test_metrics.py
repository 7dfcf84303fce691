"""The metrics against cases computed by hand and against the organizers' scorer fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from propscan.errors import PropscanError
from propscan.metrics import Score, flc_score, fnc1_score, si_score, tc_score
from propscan.readers.ptc import Label, read_labels
from propscan.taxonomy import TECHNIQUE_IDS


def test_fnc1_score_on_a_hand_computed_case():
    gold = ["agree", "disagree", "discuss", "unrelated", "unrelated", "agree"]
    pred = ["agree", "agree", "unrelated", "unrelated", "discuss", "agree"]
    result = fnc1_score(gold, pred)
    # 1 (exact related) + 0.25 (related, wrong stance) + 0 + 0.25 (unrelated right) + 0 + 1
    assert result["score"] == pytest.approx(2.5)
    assert result["max_score"] == pytest.approx(4 * 1.0 + 2 * 0.25)
    assert result["relative_score"] == pytest.approx(2.5 / 4.5)
    assert result["accuracy"] == pytest.approx(0.5)
    assert result["per_class_f1"] == pytest.approx(
        {"agree": 0.8, "disagree": 0.0, "discuss": 0.0, "unrelated": 0.5})
    assert result["macro_f1"] == pytest.approx(1.3 / 4)
    assert result["confusion"]["agree"]["agree"] == 2
    assert result["confusion"]["disagree"]["agree"] == 1
    assert result["confusion"]["discuss"]["unrelated"] == 1
    assert result["confusion"]["unrelated"]["discuss"] == 1
    assert sum(sum(row.values()) for row in result["confusion"].values()) == len(gold)


def test_fnc1_perfect_predictions_score_the_maximum():
    gold = ["unrelated", "discuss", "agree", "disagree"]
    result = fnc1_score(gold, gold)
    assert result["score"] == result["max_score"] == pytest.approx(3.25)
    assert result["relative_score"] == 1.0
    assert result["macro_f1"] == 1.0


def test_fnc1_rejects_unknown_stances_and_length_mismatch():
    with pytest.raises(PropscanError, match="unknown stance"):
        fnc1_score(["agree"], ["maybe"])
    with pytest.raises(PropscanError, match="1 gold stances but 2"):
        fnc1_score(["agree"], ["agree", "agree"])


# --- SemEval-2020 Task 11 ------------------------------------------------------------------------

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "scorer-fixture"
MADE_UP = Path(__file__).parent / "fixtures" / "scorer"
LL, NC, DOUBT = "Loaded_Language", "Name_Calling,Labeling", "Doubt"


@pytest.mark.corpus
def test_si_reproduces_the_organizers_figures():
    score = si_score(read_labels(OFFICIAL / "article736757214.task-SI.labels"),
                     read_labels(OFFICIAL / "submission-task-SI.tsv"))
    assert (round(score.precision, 6), round(score.recall, 6), round(score.f1, 6)) == (0.964912, 0.486864, 0.647181)
    assert score.per_technique == {}


@pytest.mark.corpus
def test_tc_reproduces_the_organizers_figures():
    score = tc_score(read_labels(OFFICIAL / "article736757214.labels-task-TC", require_technique=True),
                     read_labels(OFFICIAL / "submission-task-TC.tsv", require_technique=True))
    assert (round(score.precision, 6), round(score.recall, 6), round(score.f1, 6)) == (0.6, 0.6, 0.6)
    assert score.per_technique["Exaggeration,Minimisation"].f1 == 1.0
    assert score.per_technique[LL].f1 == pytest.approx(2 / 3)  # 1 right of 1 predicted and 2 gold


# The made-up example's figures are worked out by hand in tests/fixtures/scorer/EXPECTED.md.


def test_si_gives_the_made_up_examples_hand_worked_figures():
    score = si_score(read_labels(MADE_UP / "article900000201.task-SI.labels"),
                     read_labels(MADE_UP / "submission-task-SI.tsv"))
    assert score.precision == pytest.approx(256 / 459)
    assert score.recall == pytest.approx(0.75)
    assert score.f1 == pytest.approx(1536 / 2401)
    assert (round(score.precision, 6), round(score.recall, 6), round(score.f1, 6)) == (0.557734, 0.75, 0.639733)
    assert score.per_technique == {}


def test_tc_and_flc_give_the_made_up_examples_hand_worked_figures():
    gold = read_labels(MADE_UP / "article900000201.labels-task-TC", require_technique=True)
    pred = read_labels(MADE_UP / "submission-task-TC.tsv", require_technique=True)
    tc = tc_score(gold, pred)
    assert (tc.precision, tc.recall, tc.f1) == (pytest.approx(0.8), pytest.approx(0.8), pytest.approx(0.8))
    assert tc.per_technique[LL] == Score(1.0, 0.5, pytest.approx(2 / 3))
    assert tc.per_technique[NC] == Score(0.5, 1.0, pytest.approx(2 / 3))
    assert {t for t, s in tc.per_technique.items() if s.f1 == 1.0} == \
        {"Appeal_to_fear-prejudice", "Bandwagon,Reductio_ad_hitlerum"}
    flc = flc_score(gold, pred)
    assert (flc.precision, flc.recall, flc.f1) == (pytest.approx(1.0), pytest.approx(0.8), pytest.approx(8 / 9))


def test_si_merges_overlapping_spans_before_counting():
    # Unmerged, the two predictions would count as two spans each covering part of the gold one.
    score = si_score([("a", 0, 10)], [("a", 0, 6), ("a", 4, 10)])
    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)
    # Gold spans are merged too: the duplicate and the overlapping one make one span of 0-12.
    score = si_score([("a", 0, 10), ("a", 0, 10), ("a", 8, 12)], [("a", 0, 12)])
    assert (score.precision, score.recall) == (1.0, 1.0)


def test_si_keeps_spans_that_only_touch_apart():
    score = si_score([("a", 0, 10)], [("a", 0, 5), ("a", 5, 10)])
    assert score.precision == 1.0  # (5/5 + 5/5) / 2
    assert score.recall == 1.0  # (5/10 + 5/10) / 1


def test_si_partial_overlap_and_other_articles():
    score = si_score([("a", 0, 10)], [("a", 5, 15)])
    assert (score.precision, score.recall, score.f1) == (0.5, 0.5, 0.5)
    # The same offsets in another article do not overlap.
    score = si_score([("a", 0, 10)], [("a", 5, 15), ("b", 0, 10)])
    assert score.precision == pytest.approx(0.25)
    assert score.recall == pytest.approx(0.5)
    assert score.f1 == pytest.approx(2 * 0.25 * 0.5 / 0.75)


def test_si_partial_overlap_with_two_gold_spans():
    # p = 0-20 covers 8 of gold 2-10 and 5 of gold 15-25: P = 13/20, R = (8/8 + 5/10) / 2.
    score = si_score([("a", 2, 10), ("a", 15, 25)], [("a", 0, 20)])
    assert score.precision == pytest.approx(13 / 20)
    assert score.recall == pytest.approx(0.75)


def test_empty_predictions_and_empty_gold_score_zero():
    for scorer in (si_score, flc_score, tc_score):
        assert scorer([("a", LL, 0, 5)], []).f1 == 0.0
        assert scorer([], [("a", LL, 0, 5)]).f1 == 0.0
        nothing = scorer([], [])
        assert (nothing.precision, nothing.recall, nothing.f1) == (0.0, 0.0, 0.0)


def test_tc_matches_duplicated_gold_spans_as_multisets():
    gold = [("a", LL, 0, 5), ("a", NC, 0, 5), ("a", DOUBT, 10, 20)]
    # Both copies of 0-5 say NC: one matches the gold NC, the other cannot match the gold LL.
    pred = [("a", NC, 0, 5), ("a", NC, 0, 5), ("a", DOUBT, 10, 20)]
    score = tc_score(gold, pred)
    assert (score.precision, score.recall) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert score.per_technique[NC] == Score(0.5, 1.0, pytest.approx(2 / 3))
    assert score.per_technique[LL] == Score(0.0, 0.0, 0.0)
    assert score.per_technique[DOUBT] == Score(1.0, 1.0, 1.0)
    # Giving the second copy the other technique gets both.
    assert tc_score(gold, [("a", LL, 0, 5), ("a", NC, 0, 5), ("a", DOUBT, 10, 20)]).f1 == 1.0


def test_tc_spans_must_be_identical():
    score = tc_score([("a", LL, 0, 5)], [("a", LL, 0, 6)])
    assert score.f1 == 0.0


def test_flc_needs_the_same_technique():
    gold, pred = [("a", LL, 0, 10)], [("a", NC, 0, 10)]
    assert si_score(gold, pred).f1 == 1.0
    assert flc_score(gold, pred).f1 == 0.0


def test_flc_duplicated_gold_spans_with_different_techniques():
    # Merging is per technique, so the two gold spans stay two; the prediction finds one of them.
    score = flc_score([("a", LL, 0, 5), ("a", NC, 0, 5)], [("a", LL, 0, 5)])
    assert (score.precision, score.recall) == (1.0, 0.5)
    assert score.f1 == pytest.approx(2 / 3)
    assert score.per_technique[LL] == Score(1.0, 1.0, 1.0)
    assert score.per_technique[NC] == Score(0.0, 0.0, 0.0)
    assert set(score.per_technique) == set(TECHNIQUE_IDS)


def test_flc_partial_overlap_per_technique():
    gold = [("a", LL, 0, 10), ("a", LL, 5, 12), ("a", NC, 20, 30)]  # LL merges into 0-12
    pred = [("a", LL, 6, 18), ("a", NC, 25, 30)]
    score = flc_score(gold, pred)
    # LL: p 6-18 shares 6 with g 0-12 -> P 6/12, R 6/12; NC: p 25-30 inside g 20-30 -> P 1, R 1/2
    assert score.per_technique[LL].precision == pytest.approx(0.5)
    assert score.per_technique[LL].recall == pytest.approx(0.5)
    assert score.per_technique[NC].precision == pytest.approx(1.0)
    assert score.per_technique[NC].recall == pytest.approx(0.5)
    assert score.precision == pytest.approx((0.5 + 1.0) / 2)
    assert score.recall == pytest.approx((0.5 + 0.5) / 2)


def test_metrics_take_label_objects_and_ignore_empty_spans():
    gold = [Label("7", 0, 4, LL), Label("7", 3, 3, LL)]
    assert flc_score(gold, [Label("7", 0, 4, LL)]).f1 == 1.0
    assert si_score(gold, [("7", 0, 4)]).f1 == 1.0


def test_task_score_json_shape():
    data = flc_score([("a", LL, 0, 5)], [("a", LL, 0, 5)]).to_dict()
    assert list(data) == ["precision", "recall", "f1", "per_technique"]
    assert data["per_technique"][LL] == 1.0
    assert si_score([], []).to_dict()["per_technique"] == {}
