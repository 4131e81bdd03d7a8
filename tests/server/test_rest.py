"""Every REST route through TestClient: shapes, paging, errors in one JSON shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from brain_agent.server import schemas
from brain_agent.storage.sqlite_store import SQLiteStore

from .conftest import BASE, make_app


def test_health(client: TestClient) -> None:
    body = schemas.Health.model_validate(client.get("/api/health").json())
    assert body.status == "ok"
    assert body.cursor > 0


def test_runs_newest_first_with_headline(client: TestClient) -> None:
    runs = schemas.RunList.model_validate(client.get("/api/runs").json()).runs
    assert [r.run_id for r in runs] == ["run_live", "run_old"]
    old = runs[1]
    assert old.status == "completed" and old.finished_at is not None
    assert old.headline.calls == 3 and old.headline.candidates == 3
    assert old.headline.total_tokens == 3 * 9500
    assert runs[0].status == "running"
    assert client.get("/api/runs", params={"limit": 1}).json()["runs"][0]["run_id"] == "run_live"


def test_run_detail(client: TestClient) -> None:
    run = schemas.RunDetail.model_validate(client.get("/api/runs/run_old").json())
    assert run.kind == "batch" and run.config == {"ideas": 3}


@pytest.mark.parametrize("route", ["reactor_status", "budget", "kpi"])
def test_status_routes_both_formats(client: TestClient, route: str) -> None:
    body = client.get(f"/api/runs/run_old/{route}").json()
    status = schemas.ReactorStatus.model_validate(body)
    assert status.reactor is not None and status.series is not None and status.flags is not None
    assert status.status == "completed"
    reactor = status.reactor
    assert reactor.totals.calls == 3
    assert reactor.totals.fallbacks == 1
    assert reactor.pressure_by_scope["batch"] == pytest.approx(3 * 9500 / 60_000, abs=1e-6)
    assert (
        reactor.pressure
        == max(v for k, v in reactor.pressure_by_scope.items() if not k.startswith("request"))
        == pytest.approx(3 * 9500 / 60_000, abs=1e-6)
    )
    assert reactor.simulation.done == 3 and reactor.simulation.passed == 2
    assert reactor.simulation.best is not None and reactor.simulation.best.candidate_id == "c2"
    assert reactor.lanes.explore.tokens == 9500 and reactor.lanes.exploit.tokens == 19_000
    assert {g.scope for g in status.gauges or []} == {"request", "batch", "day", "week", "money_day"}
    # finished run: as_of is its last event, so the (recent) fallback still counts as protection
    assert reactor.protection_mode and status.flags.protection_mode
    assert (route == "budget") == (status.budget is not None)
    assert (route == "kpi") == (status.kpi is not None)
    if status.kpi is not None:
        assert status.kpi.per_batch[0].batch_id == "b1"
    if status.budget is not None:
        assert status.budget.spent_tokens == 3 * 9500 and status.budget.source == "ledger_events"


@pytest.mark.parametrize(
    ("fmt", "present", "absent"),
    [
        ("reactor", {"reactor"}, {"series", "gauges", "flags"}),
        ("chart", {"series", "gauges", "flags"}, {"reactor"}),
    ],
)
def test_status_format_param(client: TestClient, fmt: str, present: set[str], absent: set[str]) -> None:
    body = client.get("/api/runs/run_old/reactor_status", params={"format": fmt}).json()
    assert present <= body.keys() and not (absent & body.keys())


def test_running_run_uses_now_and_sees_new_events(client: TestClient, db: Path) -> None:
    before = client.get("/api/runs/run_live/reactor_status").json()
    assert before["status"] == "running"
    store = SQLiteStore(db)
    for cost in ("0.001", "0.5"):  # two earlier calls + this cheap one, then a spike
        store.append_event(
            "run_live",
            "llm.call",
            {"prompt_tokens": 100, "completion_tokens": 5, "cost": cost, "cache_hit": False},
            lane="explore",
        )
    after = client.get("/api/runs/run_live/reactor_status").json()
    assert after["cursor"] > before["cursor"]
    assert after["reactor"]["totals"]["calls"] == before["reactor"]["totals"]["calls"] + 2
    assert after["reactor"]["pulse"][-2]["spike"] is False
    assert after["reactor"]["pulse"][-1]["spike"] is True


def test_events_cursor_paging(client: TestClient) -> None:
    seen: list[int] = []
    after = 0
    while True:
        page = schemas.EventsPage.model_validate(
            client.get("/api/runs/run_old/events", params={"after": after, "limit": 7}).json()
        )
        seen += [e.id for e in page.events]
        after = page.next_cursor
        if not page.has_more:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert all(e["run_id"] == "run_old" for e in client.get("/api/runs/run_old/events").json()["events"])
    assert len(seen) == 31  # metadata + 3 ideas (one with a fallback) + kpi + cycle_completed


def test_candidates_and_simulations(client: TestClient, db: Path) -> None:
    SQLiteStore(db).save_candidate({"candidate_id": "c0", "run_id": "run_old", "expression": "rank(close)"})
    cands = schemas.CandidateList.model_validate(client.get("/api/runs/run_old/candidates").json())
    assert [c.candidate_id for c in cands.candidates] == ["c0"]
    sims = schemas.SimulationList.model_validate(client.get("/api/runs/run_old/simulations").json())
    assert [s.candidate_id for s in sims.simulations] == ["c0", "c1", "c2"]
    assert sims.simulations[0].status == "completed" and sims.summary.done == 3
    assert len(client.get("/api/runs/run_old/simulations", params={"limit": 1}).json()["simulations"]) == 1


@pytest.mark.parametrize(
    "path", ["", "/budget", "/kpi", "/reactor_status", "/events", "/candidates", "/simulations"]
)
def test_unknown_run_is_404_in_the_error_shape(client: TestClient, path: str) -> None:
    response = client.get(f"/api/runs/no-such-run{path}")
    assert response.status_code == 404
    error = schemas.ErrorResponse.model_validate(response.json()).error
    assert error.code == "not_found" and "no-such-run" in error.message


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/runs/run_old/events?limit=0", "limit"),
        ("/api/runs/run_old/events?after=-1", "after"),
        ("/api/runs/run_old/events?after=abc", "after"),
        ("/api/runs/run_old/reactor_status?format=xml", "format"),
        ("/api/runs?limit=100000", "limit"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(client: TestClient, url: str, field: str) -> None:
    response = client.get(url)
    assert response.status_code == 422
    error = schemas.ErrorResponse.model_validate(response.json()).error
    assert error.code == "bad_input"
    assert error.details["field"] == field and f"'{field}'" in error.message


def test_unknown_path_and_method(client: TestClient) -> None:
    assert client.get("/api/nope").json()["error"]["code"] == "not_found"
    response = client.post("/api/runs")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_a_bug_is_a_generic_500_without_a_trace(db: Path) -> None:
    app = make_app(db)

    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        response = c.get("/api/boom")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error" and error["details"]["incident"] in error["message"]
    assert "secret" not in response.text and "Traceback" not in response.text


def test_docs_and_help_page(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "brain-agent dashboard API"
    page = client.get("/")
    assert page.status_code == 200 and "npm run build" in page.text


def test_serves_the_built_hud(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("<html>reactor core</html>")
    (out / "app.js").write_text("console.log(1)")
    with TestClient(make_app(db, web_dir=out), base_url=BASE) as c:
        assert "reactor core" in c.get("/").text
        assert c.get("/app.js").text == "console.log(1)"
        assert c.get("/api/health").status_code == 200
