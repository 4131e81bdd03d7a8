"""The pure yield function: per-lane division, the best alpha, and reading simulation records."""

from __future__ import annotations

from decimal import Decimal

from brain_agent.telemetry.alpha_yield import Outcome, Spend, compute_yield, outcome_of


def _o(
    cid: str, lane: str, *, valid: bool = True, passed: bool | None = None, sharpe: float | None = None
) -> Outcome:
    return Outcome(
        cid, lane, f"rank({cid})", valid, "COMPLETE" if sharpe is not None else None, passed, sharpe, 0.5
    )


def test_per_lane_and_total() -> None:
    outcomes = [
        _o("a", "exploit", passed=True, sharpe=1.5),
        _o("b", "exploit", passed=False, sharpe=2.0),
        _o("c", "exploit", valid=False),
        _o("d", "explore", passed=False, sharpe=0.1),
    ]
    spend = {"exploit": Spend(3000, Decimal("0.003")), "explore": Spend(1000, Decimal("0.001"))}
    y = compute_yield(outcomes, spend)
    ex = y.lanes["exploit"]
    assert (ex.candidates, ex.valid, ex.passing) == (3, 2, 1)
    assert ex.tokens_per_valid == 1500.0 and ex.cost_per_valid == Decimal("0.0015")
    assert ex.tokens_per_passing == 3000.0 and ex.cost_per_passing == Decimal("0.003")
    er = y.lanes["explore"]
    assert er.passing == 0 and er.tokens_per_passing is None and er.cost_per_passing is None
    assert y.total.tokens == 4000 and y.total.valid == 3 and y.total.passing == 1
    assert y.total.cost_per_valid == Decimal("0.004") / 3
    assert y.best is not None and y.best.candidate_id == "b"  # highest Sharpe, passing or not
    doc = y.to_dict()
    assert doc["total"]["cost_per_passing"] == "0.004"
    assert doc["lanes"]["explore"]["tokens_per_passing"] is None
    assert doc["best"]["expression"] == "rank(b)"


def test_lanes_without_candidates_and_nothing_simulated() -> None:
    y = compute_yield([], {"explore": Spend(500, Decimal("0.0005"))})
    assert y.best is None
    assert y.lanes["explore"].valid == 0 and y.lanes["explore"].tokens_per_valid is None
    assert y.to_dict()["best"] is None


def test_outcome_reads_the_result_json_and_stored_columns() -> None:
    cand = {"candidate_id": "x", "lane": "explore", "expression": "rank(close)", "valid": True}
    result = {
        "is": {
            "sharpe": 1.3,
            "fitness": 1.1,
            "turnover": 0.2,
            "returns": 0.05,
            "checks": [
                {"name": "LOW_SHARPE", "result": "PASS"},
                {"name": "CONCENTRATED_WEIGHT", "result": "FAIL"},
                {"name": "LOW_SUB_UNIVERSE_SHARPE", "result": "FAIL"},
            ],
        }
    }
    o = outcome_of(cand, {"status": "COMPLETE", "result": result})
    assert o.failed_checks == ("CONCENTRATED_WEIGHT", "LOW_SUB_UNIVERSE_SHARPE") and o.passed is False
    assert (o.sharpe, o.turnover, o.returns) == (1.3, 0.2, 0.05)
    row = outcome_of(cand, {"status": "COMPLETE", "result": None, "sharpe": 0.7, "passed": True})
    assert row.sharpe == 0.7 and row.passed is True
    err = outcome_of(cand, {"status": "ERROR", "error": {"code": "x"}})
    assert err.status == "ERROR" and err.sharpe is None and err.passed is None
    assert outcome_of({**cand, "lane": None}, None).lane == "unassigned"
