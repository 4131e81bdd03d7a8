"""``GET /api/runs/{run_id}/candidates/{candidate_id}`` on a real ``run-batch --simulate local`` run:
the candidate, its simulation's metrics, failed checks and cumulative PnL series (issue 13, item 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from brain_agent.server import ServerSettings, create_app, schemas
from brain_agent.storage.factory import open_store
from brain_agent.storage.simulation_store import Finish, SimulationStore
from brain_agent.storage.sqlite_store import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "demo_budget.json"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("detail") / "detail.db"
    proc = subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", "run-batch", "--generate", "6", "--seed", "3",
         "--config", str(CONFIG), "--db", str(db), "--simulate", "local", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode in (0, 3), proc.stderr[-2000:]
    store = SQLiteStore(db)
    run_id = store.list_runs(1)[0]["run_id"]
    store.close()
    return db, run_id


def test_detail_carries_metrics_checks_and_pnl(simulated: tuple[Path, str]) -> None:
    db, run_id = simulated
    with TestClient(create_app(ServerSettings(db=db)), base_url="http://127.0.0.1:8765") as client:
        listed = client.get(f"/api/runs/{run_id}/candidates").json()["candidates"]
        sims = client.get(f"/api/runs/{run_id}/simulations").json()["simulations"]
        completed = {s["candidate_id"]: s for s in sims if s["status"] == "completed"}
        assert completed, sims
        seen_failed = 0
        for cand in listed:
            resp = client.get(f"/api/runs/{run_id}/candidates/{cand['candidate_id']}")
            assert resp.status_code == 200, resp.text
            body = schemas.CandidateDetail.model_validate(resp.json())
            assert body.candidate.candidate_id == cand["candidate_id"]
            sim = body.simulation
            if cand["candidate_id"] not in completed:
                continue
            assert sim is not None and sim.status == "COMPLETE"
            event = completed[cand["candidate_id"]]
            assert (sim.sharpe, sim.fitness, sim.passed) == (
                event["sharpe"],
                event["fitness"],
                event["passed"],
            )
            assert sim.pnl is not None and sim.pnl_unavailable is None
            assert len(sim.pnl.dates) == len(sim.pnl.values) > 20
            assert sim.pnl.dates == sorted(sim.pnl.dates)
            assert sim.failed_checks == [c.name for c in sim.checks if c.result == "FAIL"]
            assert (not sim.failed_checks) == bool(sim.passed)
            seen_failed += bool(sim.failed_checks)
        assert seen_failed or all(s["passed"] for s in completed.values())


def test_unknown_candidate_or_run_is_404(simulated: tuple[Path, str]) -> None:
    db, run_id = simulated
    with TestClient(create_app(ServerSettings(db=db)), base_url="http://127.0.0.1:8765") as client:
        resp = client.get(f"/api/runs/{run_id}/candidates/nope")
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "not_found" and "nope" in json.dumps(resp.json())
        assert client.get("/api/runs/no_such_run/candidates/nope").status_code == 404


def test_brain_result_without_its_recordset_says_pnl_unavailable(store_url: str) -> None:
    """A BRAIN result whose ``pnl`` recordset could not be fetched keeps its metrics and checks; the
    route passes on ``pnl_unavailable`` instead of a series (both store backends: the SQL is portable)."""
    db = store_url
    store = open_store(store_url)
    run_id = store.create_run("batch", {"ideas": 1})
    store.save_candidate(
        {"candidate_id": "cand_b1", "run_id": run_id, "created_at": 1.0, "expression": "rank(close)",
         "status": "simulated", "valid": True}
    )  # fmt: skip
    sims = SimulationStore(store)
    row = sims.create(
        candidate_id="cand_b1", run_id=run_id, idea_id=None, lane="exploit", backend="brain",
        expression="rank(close)", settings_key="k", settings={}, status="SUBMITTED", created_at=1.0,
    )  # fmt: skip
    checks = [{"name": "LOW_SHARPE", "result": "FAIL", "limit": 1.25, "value": 0.4},
              {"name": "HIGH_TURNOVER", "result": "PASS", "limit": 0.7, "value": 0.3}]  # fmt: skip
    result = {"id": "A1", "is": {"sharpe": 0.4, "checks": checks}, "pnl": None, "pnl_unavailable": "HTTP 404"}
    sims.finish(
        row,
        Finish(status="COMPLETE", finished_at=2.0, queue_s=0.1, run_s=0.5, total_s=0.6, alpha_id="A1",
               result=result, sharpe=0.4, fitness=0.2, turnover=0.3, returns=0.05, passed=False),
    )  # fmt: skip
    store.close()
    with TestClient(create_app(ServerSettings(db=db)), base_url="http://127.0.0.1:8765") as client:
        body = schemas.CandidateDetail.model_validate(
            client.get(f"/api/runs/{run_id}/candidates/cand_b1").json()
        )
    sim = body.simulation
    assert sim is not None and sim.backend == "brain" and sim.alpha_id == "A1"
    assert sim.pnl is None and sim.pnl_unavailable == "HTTP 404"
    assert sim.failed_checks == ["LOW_SHARPE"] and len(sim.checks) == 2
    assert (sim.sharpe, sim.turnover, sim.passed) == (0.4, 0.3, False)
