"""run-batch --simulate: simulation events land under the batch's run_id, and the report counts them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brain_agent.cli import run
from brain_agent.storage import SQLiteStore


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    code = run(["run-batch", "--generate", "4", "--seed", "5", "--json", *args])
    assert code == 0, capsys.readouterr().err
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    return report


def test_local_simulation_is_linked_to_the_run(
    capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    report = _report(capsys)
    sim = report["simulation"]
    assert isinstance(sim, dict)
    assert sim["simulated"] == report["valid"] and sim["simulated"] > 0
    assert sim["passed"] + sim["failed"] + sim["errors"] == sim["simulated"]
    store = SQLiteStore(_isolated_store)
    events = store.events(str(report["run_id"]), limit=10_000)
    names = [e.name for e in events]
    assert names.count("simulation.submitted") == sim["simulated"]
    done = [e for e in events if e.name in ("simulation.completed", "simulation.failed")]
    assert len(done) == sim["simulated"]
    created = {e.payload["candidate_id"] for e in events if e.name == "candidate.created"}
    assert {e.payload["candidate_id"] for e in done} <= created
    assert names.index("simulation.submitted") < names.index("cycle_completed")


def test_simulate_none_skips_simulation(capsys: pytest.CaptureFixture[str], _isolated_store: Path) -> None:
    report = _report(capsys, "--simulate", "none")
    assert report["simulation"] == {
        "simulated": 0,
        "passed": 0,
        "failed": 0,
        "errors": 0,
        "best_sharpe": None,
        "best_fitness": None,
    }
    names = {e.name for e in SQLiteStore(_isolated_store).events(str(report["run_id"]), limit=10_000)}
    assert not any(n.startswith("simulation.") for n in names)


def test_unknown_backend_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["run-batch", "--generate", "2", "--simulate", "cloud"]) == 2
    assert "cloud" in capsys.readouterr().err
