"""The dashboard agrees with the CLI on a real run: ``run-batch`` (its closing summary), ``budget
status`` (the ledger) and ``reactor_status`` (the view the HUD shows) give the same numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from brain_agent.server import ServerSettings, create_app
from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry.views.budget import ring_of

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "demo_budget.json"


def _cli(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 3), proc.stderr[-2000:]  # 3: some ideas hit a cap (the demo budget)
    return proc.stdout


def test_hud_view_agrees_with_run_batch_and_budget_status(tmp_path: Path) -> None:
    db = tmp_path / "agree.db"
    summary = json.loads(
        _cli("run-batch", "--generate", "8", "--seed", "5", "--config", str(CONFIG), "--db", str(db),
             "--simulate", "local", "--json")
    )  # fmt: skip
    store = SQLiteStore(db)
    run_id = store.list_runs(1)[0]["run_id"]
    store.close()
    ledger = json.loads(
        _cli("budget", "status", "--config", str(CONFIG), "--db", str(db), "--run", run_id, "--json")
    )
    with TestClient(create_app(ServerSettings(db=db)), base_url="http://127.0.0.1:8765") as client:
        status = client.get(f"/api/runs/{run_id}/reactor_status").json()
    r = status["reactor"]
    assert status["status"] == "completed"
    # tokens: the closing table's totals
    assert r["totals"]["prompt_tokens"] == summary["tokens"]["prompt"]
    assert r["totals"]["completion_tokens"] == summary["tokens"]["completion"]
    assert r["totals"]["total_tokens"] == summary["tokens"]["total"]
    # simulations: passed / failed / errors mean the same on both sides
    sim = summary["simulation"]
    assert (r["simulation"]["passed"], r["simulation"]["failed"], r["simulation"]["errors"]) == (
        sim["passed"], sim["failed"], sim["errors"]
    )  # fmt: skip
    # coverage and novelty: the batch's KPIs
    assert r["kpi"]["coverage"] == summary["coverage"]
    assert abs(r["kpi"]["novelty"] - summary["novelty"]) < 1e-3
    # every ring's spend is what the ledger says for that scope
    rings = {ring["scope"]: ring for ring in r["rings"]}
    compared = 0
    for scope in ledger["scopes"]:
        ring = rings.get(ring_of(scope["scope_key"]) or "")
        if ring is None or scope["limit"] is None or scope["unit"] != "tokens":
            continue
        assert ring["spent"] == scope["spent"], scope["scope_key"]
        assert ring["limit"] == scope["limit"], scope["scope_key"]
        compared += 1
    assert compared >= 4  # batch, both lanes, expansion, day
    assert r["time_to_exhaustion_s"] is None  # a finished run forecasts nothing
