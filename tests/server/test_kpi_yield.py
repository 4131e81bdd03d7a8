"""``GET /api/runs/{run_id}/kpi``'s ``yield`` (issue 13, item 2): tokens and cost per valid candidate
and per passing alpha by lane, and the best alpha — the figures ``run-batch`` prints and ``runs show``
computes (``telemetry/alpha_yield.py``), on real batches written through the real append path."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from brain_agent.agents.batch import BatchOptions, Progress, run_batch
from brain_agent.cli.budget import load_budget
from brain_agent.ideas import generate_ideas
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.llm import make_provider
from brain_agent.server import ServerSettings, create_app, schemas
from brain_agent.simulation.backend import SimulationSettings
from brain_agent.simulation.factory import close_backend, make_backend
from brain_agent.simulation.runner import simulate_candidates
from brain_agent.storage import local_path, open_store
from brain_agent.storage.sqlite_store import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "demo_budget.json"
KNOWLEDGE = REPO / "data" / "meta" / "index"
BASE = "http://127.0.0.1:8765"


def _kpi(client: TestClient, run_id: str, **params: Any) -> schemas.YieldView | None:
    resp = client.get(f"/api/runs/{run_id}/kpi", params={"format": "reactor", **params})
    assert resp.status_code == 200, resp.text
    status = schemas.ReactorStatus.model_validate(resp.json())  # strict: no unknown key anywhere
    assert status.kpi is not None
    assert "yield" in resp.json()["kpi"]  # present even when null
    return status.kpi.yield_


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Any]]:
    """A real ``run-batch --simulate local`` in its own process; its ``--json`` closing summary."""
    db = tmp_path_factory.mktemp("yield") / "yield.db"
    proc = subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", "run-batch", "--generate", "8", "--seed", "5",
         "--config", str(CONFIG), "--db", str(db), "--simulate", "local", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode in (0, 3), proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    return db, summary["run_id"], summary


def test_finished_run_serves_the_closing_figures_run_batch_printed(
    finished: tuple[Path, str, dict[str, Any]],
) -> None:
    db, run_id, summary = finished
    with TestClient(create_app(ServerSettings(db=db)), base_url=BASE) as client:
        got = _kpi(client, run_id)
    assert got is not None and got.source == "cycle_completed"
    served = got.model_dump(mode="json", exclude={"source"})
    assert served == summary["yield"]
    total = summary["yield"]["total"]
    assert total["valid"] > 0 and total["tokens"] == summary["tokens"]["total"]
    assert got.best is not None and got.best.expression  # this seed simulates something


def test_store_computation_agrees_with_the_closing_figures(
    finished: tuple[Path, str, dict[str, Any]],
) -> None:
    """The two sources (the finished run's payload, the store while running) are one computation over
    the same data: on a finished run they give the same figures; ``runs show`` too."""
    from brain_agent.server.kpi_yield import store_yield

    db, run_id, summary = finished
    store = SQLiteStore(db)
    try:
        computed = store_yield(store, run_id)
    finally:
        store.close()
    assert computed.pop("source") == "store"
    assert computed == summary["yield"]
    shown = subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", "runs", "show", run_id, "--db", str(db), "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert json.loads(shown.stdout)["yield"] == summary["yield"]


def test_replay_yield_is_null_until_the_run_finished(finished: tuple[Path, str, dict[str, Any]]) -> None:
    db, run_id, summary = finished
    store = SQLiteStore(db)
    try:
        events = store.events(run_id)
    finally:
        store.close()
    last = events[-1]
    assert last.name == "cycle_completed"
    with TestClient(create_app(ServerSettings(db=db)), base_url=BASE) as client:
        assert _kpi(client, run_id, at=events[len(events) // 2].id) is None
        at_end = _kpi(client, run_id, at=last.id)
    assert at_end is not None and at_end.source == "cycle_completed"
    assert at_end.total.tokens == summary["yield"]["total"]["tokens"]


def test_running_run_is_computed_from_the_store_on_both_backends(store_url: str) -> None:
    """An in-process batch (mock LLM, local simulator) on either backend; after each idea, while the run
    is still running, ``/kpi`` answers from the store: counts that grow, per-lane figures that are the
    spend divided by the counts, the best alpha the highest Sharpe simulated so far."""
    knowledge = load_knowledge_pack(KNOWLEDGE)
    provider = make_provider("mock", seed=11, invalid_share=0.25)
    cfg, prices, _ = load_budget(CONFIG, model=provider.model)
    backend = make_backend("local", db_path=local_path(store_url), knowledge_pack=knowledge)
    store = open_store(store_url)
    seen: list[schemas.YieldView] = []
    ids: list[str] = []
    try:
        with TestClient(create_app(ServerSettings(db=store_url)), base_url=BASE) as client:

            def on_start(run_id: str, _total: int) -> None:
                ids.append(run_id)

            def on_progress(_p: Progress) -> None:
                status = client.get(f"/api/runs/{ids[0]}/kpi", params={"format": "reactor"}).json()
                assert status["status"] == "running"
                got = _kpi(client, ids[0])
                assert got is not None
                seen.append(got)

            opts = BatchOptions(
                config=cfg,
                prices=prices,
                knowledge_pack=knowledge,
                provider=provider,
                seed=11,
                claim_deferred=False,
                on_start=on_start,
                on_progress=on_progress,
                simulate=lambda cands: simulate_candidates(store, cands, backend, SimulationSettings()),
            )
            report = run_batch(store, generate_ideas(5, knowledge, seed=11, explore_share=0.4), opts)
            final = _kpi(client, report.run_id)
    finally:
        close_backend(backend)
        store.close()
    assert len(seen) >= 3 and all(y.source == "store" for y in seen)
    candidates = [y.total.candidates for y in seen]
    assert candidates == sorted(candidates) and candidates[-1] > candidates[0]
    for y in seen:
        for lane in y.lanes.values():
            if lane.valid:
                assert lane.tokens_per_valid == round(lane.tokens / lane.valid, 1)
                assert Decimal(lane.cost_per_valid or "x") == pytest.approx(Decimal(lane.cost) / lane.valid)
            else:
                assert lane.tokens_per_valid is None and lane.cost_per_valid is None
            if lane.passing:
                assert lane.tokens_per_passing == round(lane.tokens / lane.passing, 1)
            else:
                assert lane.tokens_per_passing is None
        assert y.total.tokens == sum(lane.tokens for lane in y.lanes.values())
    sharpes = [y.best.sharpe for y in seen if y.best is not None]
    assert sharpes and sharpes == sorted(sharpes)  # the best so far never gets worse
    # the finished run: the closing figures, the same as the last in-progress answer's counts
    assert final is not None and final.source == "cycle_completed"
    assert final.model_dump(exclude={"source"}) == report.yields.to_dict()
    assert final.total.candidates == report.candidates
