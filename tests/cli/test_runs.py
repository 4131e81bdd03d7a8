"""``brain-agent runs`` and ``runs show RUN``: through the CLI, against a store a real batch filled."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from brain_agent.cli import run
from brain_agent.storage import SQLiteStore
from brain_agent.storage.simulation_store import SimulationStore


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code = run([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _batch(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    report: dict[str, Any] = _json(capsys, "run-batch", "--generate", "6", "--seed", "3", *args)
    return report


def test_runs_lists_the_batch_with_its_cost_and_results(capsys: pytest.CaptureFixture[str]) -> None:
    first = _batch(capsys)
    second = _batch(capsys, "--simulate", "none", "--seed", "4")
    rows = _json(capsys, "runs")
    assert [r["run_id"] for r in rows] == [second["run_id"], first["run_id"]]  # newest first
    row = rows[1]
    assert row["kind"] == "batch" and row["status"] == "completed"
    assert row["ideas"] == first["ideas"]
    assert row["tokens"] == first["tokens"]["total"]
    assert Decimal(row["cost"]) == Decimal(first["cost"])
    assert (row["candidates"], row["valid"]) == (first["candidates"], first["valid"])
    assert row["passing"] == first["simulation"]["passed"]
    assert row["simulated"] == first["simulation"]["simulated"]
    assert row["best_sharpe"] == first["simulation"]["best_sharpe"]
    assert rows[0]["simulated"] == 0 and rows[0]["best_sharpe"] is None

    assert run(["runs", "--limit", "1"]) == 0
    text = capsys.readouterr().out
    assert second["run_id"] in text and first["run_id"] not in text
    assert "best: Sharpe / fitness" in text and "cost (USD)" in text


def test_runs_show_lists_every_candidate(capsys: pytest.CaptureFixture[str], _isolated_store: Path) -> None:
    report = _batch(capsys, "--invalid-share", "0.4")
    doc = _json(capsys, "runs", "show", report["run_id"])
    cands = doc["candidates"]
    assert len(cands) == report["candidates"]
    assert sum(1 for c in cands if c["valid"]) == report["valid"]
    invalid = [c for c in cands if not c["valid"]]
    assert invalid, "an invalid share of 0.4 over six ideas should give at least one invalid answer"
    assert all(c["error_code"] for c in invalid)
    stored = {r["candidate_id"]: r for r in SimulationStore(SQLiteStore(_isolated_store)).list_rows()}
    for c in cands:
        sim = c["simulation"]
        if not c["valid"]:
            assert sim is None or sim["status"] == "SKIPPED"
            continue
        row = stored[c["candidate_id"]]
        assert sim["status"] == row["status"] == "COMPLETE"
        assert sim["sharpe"] == row["sharpe"] and sim["turnover"] == row["turnover"]
        failed = [k["name"] for k in row["result"]["is"]["checks"] if k["result"] == "FAIL"]
        assert sim["failed_checks"] == failed
        assert sim["passed"] == (not failed) == row["passed"]

    y = doc["yield"]
    assert y["total"]["tokens"] == report["tokens"]["total"]
    assert Decimal(y["total"]["cost"]) == Decimal(report["cost"])
    for lane, totals in report["lanes"].items():
        if totals["calls"]:
            assert y["lanes"][lane]["tokens"] == totals["tokens"]
    assert y["total"]["valid"] == report["valid"]
    assert y["total"]["tokens_per_valid"] == round(report["tokens"]["total"] / report["valid"], 1)
    best = y["best"]
    sharpes = [
        c["simulation"]["sharpe"] for c in cands if c["simulation"] and c["simulation"]["sharpe"] is not None
    ]
    assert best["sharpe"] == max(sharpes) == report["simulation"]["best_sharpe"]
    assert best["expression"] in {c["expression"] for c in cands}


def test_runs_show_text_has_percentages_checks_and_best_alpha(capsys: pytest.CaptureFixture[str]) -> None:
    report = _batch(capsys)
    doc = _json(capsys, "runs", "show", report["run_id"])
    assert run(["runs", "show", report["run_id"]]) == 0
    text = capsys.readouterr().out
    best = doc["yield"]["best"]
    assert f"best alpha ({best['lane']}, {best['candidate_id']})" in text
    assert best["expression"] in text
    assert f"turnover {best['turnover'] * 100:.2f}%" in text
    assert f"returns {best['returns'] * 100:.2f}%" in text
    for c in doc["candidates"]:
        assert c["expression"] in text
        for check in (c["simulation"] or {}).get("failed_checks", []):
            assert check in text
    assert "per valid" in text and "per passing" in text


def test_unknown_run_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["runs", "show", "run_nope"]) == 2
    assert "run_nope" in capsys.readouterr().err


def test_empty_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, "runs") == []
    assert run(["runs"]) == 0
    assert "no runs" in capsys.readouterr().out


def test_the_list_shows_one_candidates_sharpe_and_fitness(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    """The best Sharpe and the best fitness of these three come from different candidates; the list
    shows the best candidate by Sharpe (then fitness) with its own fitness, on both store backends."""
    expressions = ["rank(-returns)", "rank(close)", "ts_mean(close, 60)"]
    cands = tmp_path / "c.json"
    cands.write_text(
        json.dumps([{"candidate_id": f"c{i}", "expression": e} for i, e in enumerate(expressions)])
    )
    out = tmp_path / "results.json"
    assert run(["simulate-candidates", "--input", str(cands), "--output", str(out), "--db", store_url]) == 0
    capsys.readouterr()
    metrics = {r["candidate_id"]: r["result"]["is"] for r in json.loads(out.read_text())}
    by_sharpe = max(metrics, key=lambda c: (metrics[c]["sharpe"], metrics[c]["fitness"]))
    by_fitness = max(metrics, key=lambda c: metrics[c]["fitness"])
    assert by_sharpe != by_fitness, f"precondition: the simulator changed, pick other expressions ({metrics})"

    (row,) = _json(capsys, "runs", "--db", store_url)
    best = row["best"]
    assert best["candidate_id"] == by_sharpe
    assert (best["sharpe"], best["fitness"]) == (metrics[by_sharpe]["sharpe"], metrics[by_sharpe]["fitness"])
    assert row["best_sharpe"] == best["sharpe"]
    assert run(["runs", "--db", store_url]) == 0
    text = capsys.readouterr().out
    assert f"{best['sharpe']:.2f} / {best['fitness']:.2f}" in text
    assert f"/ {metrics[by_fitness]['fitness']:.2f}" not in text
