"""KPIs: coverage, novelty against the store's history, structural (largest shared subtree)."""

from __future__ import annotations

from typing import Any

from brain_agent.telemetry.kpi import batch_kpis, subtrees


def _cand(
    expr: str, ops: list[str], fields: list[str], subs: list[str], valid: bool = True
) -> dict[str, Any]:
    return {"expression": expr, "operators": ops, "fields": fields, "subcategories": subs, "valid": valid}


def test_subtrees_are_canonical_and_sized() -> None:
    trees = subtrees("rank(ts_delta(close,5))")
    assert trees == {"ts_delta(close, 5)": 3, "rank(ts_delta(close, 5))": 4}
    assert subtrees("not an (expression") == {}


def test_coverage_and_novelty() -> None:
    history = [_cand("rank(close)", ["rank"], ["close"], ["price"])]
    batch = [
        _cand("rank(close)", ["rank"], ["close"], ["price"]),  # seen combination
        _cand("zscore(volume)", ["zscore"], ["volume"], ["volume"]),  # new
        _cand("zscore(volume)", ["zscore"], ["volume"], ["volume"]),  # repeats one earlier in the batch
        _cand("bad(", [], [], [], valid=False),  # invalid: not counted
    ]
    k = batch_kpis(batch, history, available_subcategories=4)
    assert (k["candidates"], k["valid"], k["coverage"], k["coverage_share"]) == (4, 3, 2, 0.5)
    assert k["novelty"] == round(1 / 3, 4)


def test_structural_novelty_flags_large_shared_subtrees() -> None:
    big = "group_neutralize(rank(-ts_delta(close, 5) / ts_std_dev(returns, 20)), subindustry)"
    history = [_cand(big, ["group_neutralize"], ["close"], ["x"])]
    batch = [
        _cand("zscore(" + big + ")", ["zscore"], ["close"], ["x"]),  # shares an 11-node subtree
        _cand("rank(ts_mean(volume, 10))", ["rank"], ["volume"], ["y"]),  # shares nothing
    ]
    k = batch_kpis(batch, history, available_subcategories=2)
    assert k["structural_novelty"] == 0.5
    assert k["mean_largest_shared_subtree"] > 5
