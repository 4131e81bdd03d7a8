"""End to end: a candidate JSON → simulate-candidates (local) → BRAIN-shaped results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brain_agent.cli import run
from brain_agent.simulation.result import AlphaResult
from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry import events as ev


@pytest.fixture(autouse=True)
def _small_market(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAIN_AGENT_SIM_INSTRUMENTS", "120")
    monkeypatch.setenv("BRAIN_AGENT_SIM_DAYS", "300")


def test_simulate_candidates_local_end_to_end(tmp_path: Path) -> None:
    candidate = {
        "candidate_id": "cand_1",
        "expression": "rank(-ts_delta(close, 5))",
        "idea_id": "idea_x",
        "lane": "exploit",
        "run_id": "run_cli",
        "valid": True,
    }
    source, output, db = tmp_path / "c.json", tmp_path / "out.json", tmp_path / "s.db"
    source.write_text(json.dumps(candidate), encoding="utf-8")
    code = run(["simulate-candidates", "--input", str(source), "--output", str(output), "--db", str(db)])
    assert code == 0
    records = json.loads(output.read_text(encoding="utf-8"))
    assert len(records) == 1 and records[0]["status"] == "COMPLETE"
    result = AlphaResult.model_validate(records[0]["result"])
    assert result.regular is not None and result.regular.code == candidate["expression"]
    assert result.is_.bookSize == 20_000_000 and result.pnl is not None and len(result.pnl.dates) > 200
    assert {c.name for c in result.is_.checks} >= {"LOW_SHARPE", "LOW_FITNESS", "SELF_CORRELATION"}
    assert result.settings["universe"] == "TOP3000"
    names = [e.name for e in SQLiteStore(db).events("run_cli")]
    assert names == [ev.SIMULATION_SUBMITTED, ev.SIMULATION_COMPLETED]


def test_settings_file_invalid_candidates_and_bad_input(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(
        json.dumps({"neutralization": "MARKET", "decay": 3, "universe": "TOP500"}), encoding="utf-8"
    )
    source, output = tmp_path / "c.json", tmp_path / "out.json"
    source.write_text(
        json.dumps(
            [
                {"candidate_id": "ok", "expression": "rank(-returns)", "valid": True},
                {
                    "candidate_id": "bad",
                    "expression": "rank(",
                    "valid": False,
                    "error_code": "PARSE_UNEXPECTED_END",
                },
            ]
        ),
        encoding="utf-8",
    )
    args = [
        "simulate-candidates",
        "--input",
        str(source),
        "--output",
        str(output),
        "--db",
        str(tmp_path / "s.db"),
    ]
    assert run([*args, "--settings", str(settings)]) == 0
    records = json.loads(output.read_text(encoding="utf-8"))
    assert [r["status"] for r in records] == ["COMPLETE", "SKIPPED"]
    assert records[0]["result"]["settings"]["decay"] == 3
    settings.write_text(json.dumps({"decay": -1}), encoding="utf-8")
    assert run([*args, "--settings", str(settings)]) == 2
    assert run([*args, "--backend", "nowhere"]) == 2
    source.write_text("[1, 2]", encoding="utf-8")
    assert run(args) == 2
