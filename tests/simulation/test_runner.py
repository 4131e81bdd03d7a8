"""The runner: events with timings, validation skips, retry-after polling on a fake clock, resume
after an interruption without resubmitting, and self-correlation against earlier results."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from brain_agent.simulation.backend import Poll, SimulationJob, SimulationOutcome, SimulationSettings
from brain_agent.simulation.local.backend import LocalBackend
from brain_agent.simulation.local.panel import Panel
from brain_agent.simulation.result import AlphaResult
from brain_agent.simulation.runner import ProgressUpdate, simulate_candidates
from brain_agent.storage.simulation_store import SimulationStore
from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry import events as ev


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


class SlowBackend:
    """Answers 'running' ``polls_needed`` times (retry after 5 s, progress rising), then delegates the
    result to a real LocalBackend. ``explode_on_poll`` simulates a crash while polling."""

    name = "slow"
    max_batch = 2

    def __init__(
        self, panel: Panel, clock: FakeClock, polls_needed: int = 2, explode_on_poll: bool = False
    ) -> None:
        self.local = LocalBackend(panel)
        self.clock = clock
        self.polls_needed = polls_needed
        self.explode_on_poll = explode_on_poll
        self.submitted: list[list[str]] = []
        self.polls: dict[str, int] = {}

    def submit(self, jobs: Sequence[SimulationJob]) -> list[str]:
        self.submitted.append([j.candidate_id for j in jobs])
        return self.local.submit(jobs)

    def poll(self, handle: str) -> Poll:
        if self.explode_on_poll:
            raise KeyboardInterrupt
        n = self.polls[handle] = self.polls.get(handle, 0) + 1
        if n <= self.polls_needed:
            return Poll(done=False, progress=n / (self.polls_needed + 1), retry_after_s=5.0)
        self.clock.t += 3.0  # the work itself takes 3 s
        poll = self.local.poll(handle)
        return Poll(done=True, progress=1.0, retry_after_s=0.0, outcome=poll.outcome, extra={"run_s": 3.0})


def cand(cid: str, expression: str, **extra: Any) -> dict[str, Any]:
    return {
        "candidate_id": cid,
        "expression": expression,
        "run_id": "run_t",
        "idea_id": "idea_1",
        "lane": "explore",
        "valid": True,
        **extra,
    }


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "store.db")


def test_events_timings_and_retry_after(store: SQLiteStore, small_market: Panel) -> None:
    clock = FakeClock()
    backend = SlowBackend(small_market, clock)
    updates: list[ProgressUpdate] = []
    records = simulate_candidates(
        store,
        [cand("c1", "rank(-ts_delta(close, 5))"), cand("c2", "rank(nope)"), cand("c3", "rank(", valid=False)],
        backend,
        SimulationSettings(),
        progress=updates.append,
        clock=clock,
    )
    assert [r["status"] for r in records] == ["COMPLETE", "ERROR", "SKIPPED"]
    assert backend.submitted == [["c1", "c2"]]  # the invalid one never reaches the backend
    assert clock.sleeps == [5.0, 5.0]  # retry_after honoured, both jobs polled in the same rounds
    done = records[0]
    AlphaResult.model_validate(done["result"])
    assert done["timings"] == {"queue_s": 10.0, "run_s": 3.0, "total_s": 13.0}
    assert records[1]["error"]["code"] == "UNKNOWN_FIELD" and records[1]["error"]["location"] == {
        "start": 5,
        "end": 9,
    }
    assert records[2]["error"]["code"] == "CANDIDATE_INVALID"
    events = store.events("run_t")
    names = [e.name for e in events]
    assert names.count(ev.SIMULATION_SUBMITTED) == 2 and names.count(ev.SIMULATION_COMPLETED) == 1
    assert names.count(ev.SIMULATION_FAILED) == 2 and names.count(ev.SIMULATION_PROGRESS) == 4
    completed = next(e for e in events if e.name == ev.SIMULATION_COMPLETED)
    assert (
        completed.payload["candidate_id"] == "c1"
        and completed.idea_id == "idea_1"
        and completed.lane == "explore"
    )
    assert completed.payload["queue_s"] == 10.0 and completed.payload["total_s"] == 13.0
    assert {"sharpe", "fitness", "turnover", "returns", "passed", "alpha_id"} <= set(completed.payload)
    assert updates[-1].done == 3 and updates[-1].total == 3
    last: dict[str, str] = {}
    for update in updates:  # done = candidates whose latest status is final, at every update
        last[update.candidate_id] = update.status
        assert update.done == sum(s in ("COMPLETE", "ERROR", "SKIPPED") for s in last.values())


def test_interrupted_run_resumes_in_flight_jobs_without_resubmitting(
    store: SQLiteStore, small_market: Panel
) -> None:
    clock = FakeClock()
    crashing = SlowBackend(small_market, clock, explode_on_poll=True)
    candidates = [cand("c1", "rank(-ts_delta(close, 5))"), cand("c2", "rank(-returns)")]
    with pytest.raises(KeyboardInterrupt):
        simulate_candidates(store, candidates, crashing, SimulationSettings(), clock=clock)
    rows = SimulationStore(store).in_flight()
    assert [(r["candidate_id"], r["status"]) for r in rows] == [("c1", "SUBMITTED"), ("c2", "SUBMITTED")]
    assert all(r["handle"] for r in rows)
    # a new process: a fresh backend that never saw the submission
    restarted = SlowBackend(small_market, clock, polls_needed=0)
    records = simulate_candidates(store, candidates, restarted, SimulationSettings(), clock=clock)
    assert restarted.submitted == []
    assert [r["status"] for r in records] == ["COMPLETE", "COMPLETE"]
    assert [r["simulation_id"] for r in records] == [rows[0]["id"], rows[1]["id"]]
    assert SimulationStore(store).in_flight() == []
    # and a finished simulation is not repeated either
    again = SlowBackend(small_market, clock, polls_needed=0)
    simulate_candidates(store, candidates, again, SimulationSettings(), clock=clock)
    assert again.submitted == []
    assert len(store.events("run_t", names=[ev.SIMULATION_SUBMITTED])) == 2


def test_self_correlation_against_earlier_results(store: SQLiteStore, small_market: Panel) -> None:
    backend = LocalBackend(small_market)
    first = simulate_candidates(
        store, [cand("a", "rank(-ts_delta(close, 5))")], backend, SimulationSettings()
    )
    second = simulate_candidates(
        store, [cand("b", "rank(-ts_delta(close, 5)) * 3")], backend, SimulationSettings()
    )
    third = simulate_candidates(store, [cand("c", "rank(ts_mean(volume, 3))")], backend, SimulationSettings())

    def check(records: list[dict[str, Any]]) -> dict[str, Any]:
        result = AlphaResult.model_validate(records[0]["result"])
        found = result.check("SELF_CORRELATION")
        assert found is not None
        return found.model_dump()

    assert check(first)["result"] == "PASS"
    assert check(second)["result"] == "FAIL" and check(second)["value"] == pytest.approx(1.0)
    assert check(third)["result"] == "PASS" and check(third)["value"] < 0.7


def test_backend_error_outcome_is_recorded(store: SQLiteStore, small_market: Panel) -> None:
    class Failing(SlowBackend):
        def poll(self, handle: str) -> Poll:
            outcome = SimulationOutcome(
                "x", "ERROR", error={"code": "CANCELLED", "message": "sibling failed", "location": None}
            )
            return Poll(done=True, outcome=outcome)

    records = simulate_candidates(
        store, [cand("x", "rank(close)")], Failing(small_market, FakeClock()), SimulationSettings()
    )
    assert records[0]["status"] == "ERROR" and records[0]["error"]["code"] == "CANCELLED"
    assert store.events("run_t", names=[ev.SIMULATION_FAILED])[0].payload["error_code"] == "CANCELLED"


def test_a_simulate_run_it_opens_is_finished(store: SQLiteStore, small_market: Panel) -> None:
    """Candidates without a run get one "simulate" run; it ends completed with the counts, not
    "running" forever."""
    clock = FakeClock()
    loose = [
        {k: v for k, v in cand(c, e).items() if k != "run_id"}
        for c, e in (("a", "rank(close)"), ("b", "rank(x)"))
    ]
    records = simulate_candidates(
        store, loose, SlowBackend(small_market, clock), SimulationSettings(), clock=clock
    )
    run_id = records[0]["run_id"]
    assert run_id == records[1]["run_id"] and run_id != "run_t"
    run = store.get_run(run_id)
    assert run["status"] == "completed"
    assert run["summary"] == {"candidates": 2, "complete": 1, "error": 1, "skipped": 0}
