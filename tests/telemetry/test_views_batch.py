"""Views over real run-batch runs: rings attribute spend per scope, and period rings see earlier runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brain_agent.cli import run
from brain_agent.storage import SQLiteStore
from brain_agent.telemetry.views import RunView

REPO = Path(__file__).resolve().parents[2]
DEMO_BUDGET = REPO / "configs" / "demo_budget.json"


def _batch(capsys: pytest.CaptureFixture[str], seed: int) -> str:
    code = run(
        [
            "run-batch",
            "--generate",
            "10",
            "--seed",
            str(seed),
            "--config",
            str(DEMO_BUDGET),
            "--simulate",
            "none",
            "--json",
        ]
    )
    assert code in (0, 3)
    return str(json.loads(capsys.readouterr().out)["run_id"])


def _rings(store: SQLiteStore, run_id: str) -> dict[str, dict[str, float]]:
    view = RunView(run_id)
    for event in store.events(run_id, limit=100_000):
        view.apply(event)
    reactor = view.snapshot(now=view.last_ts or 0.0)["reactor"]
    return {r["scope"]: r for r in reactor["rings"]}


def test_rings_attribute_spend_per_scope(capsys: pytest.CaptureFixture[str], _isolated_store: Path) -> None:
    store = SQLiteStore(_isolated_store)
    first = _batch(capsys, 1)
    rings = _rings(store, first)
    settled = [e for e in store.events(first, limit=100_000) if e.name == "budget.settled"]
    total = sum(e.payload["total_tokens"] for e in settled)
    by_lane = {
        lane: sum(e.payload["total_tokens"] for e in settled if e.lane == lane)
        for lane in ("exploit", "explore")
    }
    assert rings["batch"]["spent"] == total and rings["day"]["spent"] == total
    assert rings["lane_exploit"]["spent"] == by_lane["exploit"]
    assert rings["lane_explore"]["spent"] == by_lane["explore"]
    assert rings["expansion"]["spent"] == 0
    assert all(r["pressure"] <= 1.0 for r in rings.values()), rings

    second = _batch(capsys, 2)
    later = _rings(store, second)
    own = sum(
        e.payload["total_tokens"] for e in store.events(second, limit=100_000) if e.name == "budget.settled"
    )
    assert later["day"]["spent"] == total + own
    assert later["batch"]["spent"] == own


def test_running_coverage_share_uses_the_catalogue_size(
    capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    store = SQLiteStore(_isolated_store)
    run_id = _batch(capsys, 3)
    view = RunView(run_id)
    for event in store.events(run_id, limit=100_000):
        if event.name == "kpi.batch":  # the view before the batch's KPI event lands
            break
        view.apply(event)
    kpi = view.kpi_view()
    total = store.events(run_id, names=["metadata_sync"])[0].payload["knowledge_pack"]["subcategories"]
    assert kpi["coverage"] > 0 and kpi["coverage_share"] == round(kpi["coverage"] / total, 6)


def test_radar_names_are_the_knowledge_packs(
    capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    store = SQLiteStore(_isolated_store)
    run_id = _batch(capsys, 4)
    view = RunView(run_id)
    for event in store.events(run_id, limit=100_000):
        view.apply(event)
        if event.name == "retrieval.pack_built":
            break  # an idea in flight: the radar is scanning its subcategories
    pack = json.loads((REPO / "data" / "meta" / "index" / "subcategories.json").read_text())
    names = {item["id"]: item["name"] for item in pack["items"]}
    scanning = view.snapshot(now=view.last_ts or 0.0)["reactor"]["radar"]["scanning"]
    assert scanning
    assert all(s["name"] == names[s["subcategory"]] for s in scanning), scanning
