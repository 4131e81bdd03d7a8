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


def test_show_its_plot_and_the_detail_pick_the_same_simulation(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    """A candidate simulated by its own batch and again later (other settings, another run): the
    table, the plot and the candidate detail all show the batch's own attempt; a batch that
    simulated nothing shows the later attempt. One choice, made once (``chosen_simulations``)."""
    from brain_agent.report.pnl_page import panels
    from brain_agent.storage import open_store
    from brain_agent.storage.candidate_detail import candidate_detail
    from brain_agent.storage.run_queries import run_yield

    own = _batch(capsys, "--db", store_url)
    bare = _batch(capsys, "--simulate", "none", "--seed", "4", "--db", store_url)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"decay": 8, "neutralization": "MARKET"}))
    for report in (own, bare):
        doc = _json(capsys, "runs", "show", report["run_id"], "--db", store_url)
        cands = [
            {"candidate_id": c["candidate_id"], "expression": c["expression"]}
            for c in doc["candidates"]
            if c["valid"]
        ]
        batch_file = tmp_path / f"{report['run_id']}.json"
        batch_file.write_text(json.dumps(cands))
        out = tmp_path / f"{report['run_id']}.out.json"
        code = run(
            [
                "simulate-candidates",
                "--input",
                str(batch_file),
                "--output",
                str(out),
                "--settings",
                str(settings),
                "--db",
                store_url,
            ]
        )
        assert code == 0, capsys.readouterr().err
        capsys.readouterr()
    store = open_store(store_url)
    rows = SimulationStore(store).list_rows()
    for report, made_by_itself in ((own, True), (bare, False)):
        run_id = report["run_id"]
        expected: dict[str, float] = {}
        for row in sorted(rows, key=lambda r: r["id"]):  # the newest by this run, else the newest
            if row["status"] == "COMPLETE" and (row["run_id"] == run_id or not made_by_itself):
                expected[row["candidate_id"]] = row["sharpe"]
        shown = {
            c["candidate_id"]: c["simulation"]["sharpe"]
            for c in _json(capsys, "runs", "show", run_id, "--db", store_url)["candidates"]
            if c["simulation"] is not None
        }
        mine = {k: v for k, v in expected.items() if k in shown}
        assert mine and shown == mine, (made_by_itself, shown, mine)
        candidates, outcomes, _ = run_yield(store, run_id)
        drawn = {p.candidate_id: p.sharpe for p in panels(candidates, outcomes)}
        assert drawn == {k: v for k, v in shown.items() if k in drawn} and drawn
        for cid, sharpe in shown.items():
            detail = candidate_detail(store, run_id, cid)
            assert detail is not None and detail["simulation"]["sharpe"] == sharpe
    store.close()
    assert any(  # the later attempts differ, so the choice matters
        r["sharpe"] != s["sharpe"]
        for r in rows
        for s in rows
        if r["candidate_id"] == s["candidate_id"]
        and r["run_id"] != s["run_id"]
        and r["status"] == s["status"] == "COMPLETE"
    )


def test_figures_read_a_tiny_negative_as_zero() -> None:
    """One rule for the tables and the PnL page: what rounds to zero reads 0.00, never -0.00."""
    from brain_agent.report.figures import fixed, percent

    assert [fixed(v) for v in (-0.004, -0.0, 0.004, -0.006, 12.345)] == [
        "0.00",
        "0.00",
        "0.00",
        "-0.01",
        "12.35",
    ]
    assert fixed(-0.04, 1) == "0.0" and fixed(-10.0, 0) == "-10"
    assert fixed(None) == "" and fixed(None, missing="n/a") == "n/a"
    assert percent(-0.00001) == "0.00%" and percent(0.0123) == "1.23%" and percent(None, "n/a") == "n/a"
