"""The metrics against cases computed by hand and against the organizers' scorer fixture."""

from __future__ import annotations

import pytest

from propscan.errors import PropscanError
from propscan.metrics import fnc1_score


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
