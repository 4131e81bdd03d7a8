"""Through the CLI: a candidate whose simulation cannot run ends with a coded ERROR (never left
SUBMITTED, and a rerun does not crash); --workers and --sim-cache-mb change how, not what."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from brain_agent.cli import run
from brain_agent.simulation.backend import Poll, SimulationJob, SimulationSettings
from brain_agent.simulation.local.corpus import llm_style_alphas
from brain_agent.simulation.runner import simulate_candidates
from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry import events as ev

POISON = [
    'group_neutralize(close, bucket(rank(cap), range="0,1,1e-12"))',  # asked for 2 PiB before
    'group_neutralize(close, bucket(rank(cap), range="0,1e308,1e-308"))',  # OverflowError before
]


@pytest.fixture(autouse=True)
def _small_market(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAIN_AGENT_SIM_INSTRUMENTS", "120")
    monkeypatch.setenv("BRAIN_AGENT_SIM_DAYS", "300")


def _simulate(tmp_path: Path, candidates: list[dict[str, Any]], *extra: str, name: str = "out") -> list[Any]:
    source, output = tmp_path / f"{name}.in.json", tmp_path / f"{name}.json"
    source.write_text(json.dumps(candidates), encoding="utf-8")
    code = run(
        [
            "simulate-candidates",
            "--input",
            str(source),
            "--output",
            str(output),
            "--db",
            str(tmp_path / "s.db"),
            *extra,
        ]
    )
    records: list[Any] = json.loads(output.read_text(encoding="utf-8"))
    errors = any(r["status"] == "ERROR" for r in records)
    assert code == (5 if errors else 0)  # exit 5: some candidate ended in ERROR (docs/errors.md)
    return records


def test_poison_expressions_end_in_a_coded_error_and_rerun_cleanly(tmp_path: Path) -> None:
    candidates = [{"candidate_id": f"p{i}", "expression": e, "valid": True} for i, e in enumerate(POISON)] + [
        {"candidate_id": "ok", "expression": "rank(-ts_delta(close, 5))", "valid": True}
    ]
    records = _simulate(tmp_path, candidates)
    by_id = {r["candidate_id"]: r for r in records}
    assert by_id["ok"]["status"] == "COMPLETE"
    for cid in ("p0", "p1"):
        assert by_id[cid]["status"] == "ERROR"
        assert by_id[cid]["error"]["code"] == "BAD_ARGUMENT"
        assert "at most 10000" in by_id[cid]["error"]["message"]
    with sqlite3.connect(tmp_path / "s.db") as conn:
        statuses = {row[0] for row in conn.execute("SELECT status FROM simulations")}
    assert statuses <= {"COMPLETE", "ERROR"}  # nothing left QUEUED or SUBMITTED
    again = _simulate(tmp_path, candidates, name="again")
    assert [r["status"] for r in again] == ["ERROR", "ERROR", "COMPLETE"]


def test_workers_and_cache_options_give_the_same_results(tmp_path: Path) -> None:
    candidates = [
        {"candidate_id": f"c{i:02d}", "expression": e, "valid": True}
        for i, e in enumerate(llm_style_alphas(12))
    ]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    serial = _simulate(tmp_path / "a", candidates, "--workers", "1", "--sim-cache-mb", "0")
    parallel = _simulate(tmp_path / "b", candidates, "--workers", "2", "--sim-cache-mb", "16")

    def metrics(records: list[Any]) -> list[Any]:
        return [
            (r["candidate_id"], r["status"], r["alpha_id"], r["result"]["is"], r["result"]["pnl"])
            for r in records
        ]

    assert len(serial) == 12 and metrics(parallel) == metrics(serial)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--workers", "0", "--workers"),
        ("--workers", "many", "--workers"),
        ("--sim-cache-mb", "-5", "--sim-cache-mb"),
    ],
)
def test_bad_worker_and_cache_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    source = tmp_path / "c.json"
    source.write_text(json.dumps([{"candidate_id": "c", "expression": "rank(close)"}]), encoding="utf-8")
    code = run(
        ["simulate-candidates", "--input", str(source), "--output", str(tmp_path / "o.json"), option, value]
    )
    assert code == 2
    assert message in capsys.readouterr().err


class _RaisingBackend:
    """A backend whose simulations raise (a bug, or memory running out) instead of answering."""

    name = "raising"
    max_batch = 10

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def submit(self, jobs: Sequence[SimulationJob]) -> list[str]:
        return [f"h-{job.candidate_id}" for job in jobs]

    def poll(self, handle: str) -> Poll:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (RuntimeError("kernel bug " + "x" * 5000), "SIMULATION_CRASHED"),
        (MemoryError("2 PiB"), "OUT_OF_MEMORY"),
    ],
)
def test_a_simulation_that_raises_is_a_final_coded_error(
    tmp_path: Path, exc: BaseException, code: str
) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    candidates = [
        {"candidate_id": c, "expression": "rank(close)", "run_id": "r1", "valid": True} for c in "ab"
    ]
    records = simulate_candidates(store, candidates, _RaisingBackend(exc), SimulationSettings())
    assert [r["status"] for r in records] == ["ERROR", "ERROR"]
    assert {r["error"]["code"] for r in records} == {code}
    assert all(len(r["error"]["message"]) < 400 for r in records)  # a poison value is shortened
    failed = store.events("r1", names=[ev.SIMULATION_FAILED])
    assert [e.payload["error_code"] for e in failed] == [code, code]
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert {row[0] for row in conn.execute("SELECT status FROM simulations")} == {"ERROR"}
