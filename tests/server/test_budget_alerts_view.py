"""Budget alerts in the reactor view (issue 13, item 7): every ``budget.threshold_crossed`` a real
``run-batch`` fires shows in ``reactor.alerts`` with the server's own share, spend and cap (the HUD
prints them; it computes nothing), in the live view, in a replay moment and in the fleet view."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from brain_agent.server import ServerSettings, create_app, schemas
from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry.views.fleet import Member, fleet_status

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "demo_budget.json"  # alert_thresholds [0.5, 0.8, 0.95]
BASE = "http://127.0.0.1:8765"


@pytest.fixture(scope="module")
def alerted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("alerts")
    db = tmp / "alerts.db"
    config = json.loads(DEMO.read_text())
    config.update(max_tokens_per_day=10_000, price_table=str(REPO / "configs" / "prices.json"))
    (tmp / "budget.json").write_text(json.dumps(config))
    proc = subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", "run-batch", "--generate", "10", "--seed", "4",
         "--config", str(tmp / "budget.json"), "--db", str(db), "--simulate", "none", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode in (0, 3), proc.stderr[-2000:]
    store = SQLiteStore(db)
    run_id = store.list_runs(1)[0]["run_id"]
    store.close()
    return db, run_id


def _fired(db: Path, run_id: str) -> list[Any]:
    store = SQLiteStore(db)
    try:
        return [e for e in store.events(run_id) if e.name == "budget.threshold_crossed"]
    finally:
        store.close()


def test_every_crossing_is_in_the_reactor_with_the_servers_figures(alerted: tuple[Path, str]) -> None:
    db, run_id = alerted
    fired = _fired(db, run_id)
    assert len(fired) == 3, "a 10,000-token day crosses 50, 80 and 95 %"
    with TestClient(create_app(ServerSettings(db=db)), base_url=BASE) as client:
        body = client.get(f"/api/runs/{run_id}/reactor_status", params={"format": "reactor"}).json()
        status = schemas.ReactorStatus.model_validate(body)
        assert status.reactor is not None
        alerts = status.reactor.alerts
        assert [a.event_id for a in alerts] == [e.id for e in fired]
        for alert, event in zip(alerts, fired, strict=True):
            p = event.payload
            assert (alert.scope, alert.scope_key, alert.unit) == (p["scope"], p["scope_key"], p["unit"])
            assert (alert.threshold, alert.share) == (p["threshold"], p["share"])
            assert (alert.spent, alert.limit) == (str(p["spent"]), str(p["limit"]))
            assert alert.share >= alert.threshold and alert.window_end == p["window_end"]
        assert sorted(a.threshold for a in alerts) == sorted({a.threshold for a in alerts})  # once each
        # a replay moment before the first crossing has none; right after it, exactly that one
        before = client.get(
            f"/api/runs/{run_id}/reactor_status", params={"format": "reactor", "at": fired[0].id - 1}
        ).json()
        assert before["reactor"]["alerts"] == []
        after = client.get(
            f"/api/runs/{run_id}/reactor_status", params={"format": "reactor", "at": fired[0].id}
        ).json()
        assert [a["event_id"] for a in after["reactor"]["alerts"]] == [fired[0].id]
        assert after["reactor"]["radar"]["feed"][-1] == "Budget alert · day 50% of its cap reached"
        # the fleet view carries every running run's alerts, oldest first
        fleet = fleet_status(
            [Member("a", None, {**body, "status": "running"}), Member("b", None, _no_alerts(body))],
            {},
            now=0.0,
            cursor=1,
        )
        assert [a["event_id"] for a in fleet["reactor"]["alerts"]] == [e.id for e in fired]
        schemas.LiveStatus.model_validate(fleet)


def _no_alerts(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "status": "running", "reactor": {**body["reactor"], "alerts": []}}
