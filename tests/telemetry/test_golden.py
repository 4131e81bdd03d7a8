"""The golden event log (tests/telemetry/golden/): the Python view, the served replay and the
definitions in docs/api.md agree on every headline figure. The HUD checks the same file (vitest)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from brain_agent.server import ServerSettings, create_app
from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry.kpi import batch_kpis

GOLDEN = Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))
import build  # noqa: E402

EVENTS: list[dict[str, Any]] = json.loads((GOLDEN / "events.json").read_text(encoding="utf-8"))
EXPECTED: dict[str, Any] = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))


def test_golden_files_are_current() -> None:
    assert build.script() == EVENTS, "events.json is stale: run python tests/telemetry/golden/build.py"
    assert build.expected(EVENTS) == EXPECTED, (
        "expected.json is stale (the view changed): review, then run python tests/telemetry/golden/build.py"
    )


def _upto(at: int) -> list[dict[str, Any]]:
    return [e for e in EVENTS if e["id"] <= at]


def test_figures_follow_the_documented_definitions() -> None:
    for moment in EXPECTED["moments"]:
        events, fig = _upto(moment["at"]), moment["figures"]
        calls = [e["payload"] for e in events if e["name"] == "llm.call"]
        assert fig["tokens_in"] == sum(c["prompt_tokens"] for c in calls)
        assert fig["tokens_out"] == sum(c["completion_tokens"] for c in calls)
        assert fig["tokens_total"] == fig["tokens_in"] + fig["tokens_out"]
        done = [e["payload"] for e in events if e["name"] == "simulation.completed"]
        assert fig["passed"] == sum(1 for d in done if d["passed"])
        assert fig["failed"] == sum(1 for d in done if not d["passed"])  # completed, below thresholds
        assert fig["errors"] == sum(1 for e in events if e["name"] == "simulation.failed")
        candidates = [e["payload"] for e in events if e["name"] == "candidate.created"]
        kpis = [e["payload"] for e in events if e["name"] == "kpi.batch"]
        if kpis:
            assert fig["coverage"] == kpis[-1]["coverage"]
            assert fig["structural_novelty"] == kpis[-1]["structural_novelty"]
        else:  # before the first kpi.batch: kpi.py's coverage over this run's valid candidates
            assert fig["coverage"] == batch_kpis(candidates, [], 20)["coverage"]
            assert fig["structural_novelty"] is None
        protections = [e for e in events if e["name"] in ("budget.fallback_applied", "budget.blocked")]
        assert fig["protection_mode"] == bool(protections)  # a check failure alone is not a protection
        if fig["status"] == "completed":
            assert fig["exhaustion_s"] is None and fig["exhaustion_scope"] is None
        else:
            assert fig["exhaustion_scope"] != "expansion"  # nobody drew on the reserve


def test_served_replay_returns_the_golden_statuses(tmp_path: Path) -> None:
    db = tmp_path / "golden.db"
    store = SQLiteStore(db)
    store.create_run("batch", {}, run_id=EXPECTED["run_id"])
    for e in EVENTS:
        got = store.append_event(
            e["run_id"],
            e["name"],
            e["payload"],
            step=e["step"],
            idea_id=e["idea_id"],
            lane=e["lane"],
            ts=e["ts"],
        )
        assert got == e["id"]
    store.close()
    with TestClient(create_app(ServerSettings(db=db)), base_url="http://127.0.0.1:8765") as client:
        for moment in EXPECTED["moments"]:
            got = client.get(f"/api/runs/{EXPECTED['run_id']}/reactor_status", params={"at": moment["at"]})
            assert got.json() == moment["status"]
