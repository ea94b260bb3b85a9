"""Reciprocal rank fusion on synthetic rankings."""

from __future__ import annotations

import pytest

from engine.knowledge.fusion import reciprocal_rank_fusion


def test_scores_are_sums_of_reciprocal_ranks():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)


def test_agreement_beats_a_single_first_place():
    order = [item for item, _ in reciprocal_rank_fusion([["x", "both"], ["y", "both"]])]
    assert order[0] == "both"
    assert set(order) == {"x", "y", "both"}


def test_ties_keep_first_met_order_and_repeats_count_once():
    # "p" and "q" tie (first of one ranking each): the earlier ranking's item comes first.
    assert [i for i, _ in reciprocal_rank_fusion([["p"], ["q"]])] == ["p", "q"]
    fused = dict(reciprocal_rank_fusion([["r", "r", "s"]], k=0))
    assert fused == {"r": 1.0, "s": pytest.approx(1 / 3)}


def test_one_ranking_keeps_its_order_and_empty_input_gives_nothing():
    ranking = [(3, "doc"), (1, "doc"), (2, "doc")]
    assert [i for i, _ in reciprocal_rank_fusion([ranking])] == ranking
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []


def test_negative_k_is_refused():
    with pytest.raises(ValueError, match="k must be"):
        reciprocal_rank_fusion([["a"]], k=-1)
