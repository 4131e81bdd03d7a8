"""RunView: the pure reducer behind the dashboard views."""

from __future__ import annotations

import json
from itertools import count
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from brain_agent.storage.sqlite_store import Event
from brain_agent.telemetry import events as ev
from brain_agent.telemetry.views import PROTECTION_WINDOW_S, SERIES_MAX_POINTS, RunView, sector_for

T0 = 1_800_000_000.0
LIMITS = {"request": 20_000, "batch": 100_000, "day": 1_000_000, "money_day": 10}


class Log:
    def __init__(self) -> None:
        self.ids = count(1)
        self.events: list[Event] = []

    def add(
        self, name: str, ts: float, lane: str | None = "exploit", idea: str | None = "i1", **payload: Any
    ) -> Event:
        event = Event(next(self.ids), "r1", ts, name, None, idea, lane, payload)
        self.events.append(event)
        return event


def run_log() -> Log:
    log = Log()
    log.add(ev.METADATA_SYNC, T0, budget={"limits": LIMITS, "exploit_ratio": 0.7, "explore_ratio": 0.3})
    log.add(
        ev.RETRIEVAL_PACK_BUILT,
        T0 + 1,
        subcategories=["option-volatility"],
        subcategory_names={"option-volatility": "Volatility Index"},
    )
    log.add(ev.BUDGET_CHECK_PASSED, T0 + 2, prompt_tokens=9000, completion_tokens=1000)
    log.add(ev.BUDGET_RESERVED, T0 + 2, reservation_id="a", tokens=10_000, cost="0.01")
    log.add(ev.LLM_CALL, T0 + 3, prompt_tokens=8000, completion_tokens=500, cost="0.002", cache_hit=False)
    log.add(
        ev.BUDGET_SETTLED,
        T0 + 3,
        reservation_id="a",
        prompt_tokens=8000,
        completion_tokens=500,
        total_tokens=8500,
        cost="0.002",
    )
    log.add(
        ev.BUDGET_RESERVED, T0 + 4, lane="explore", idea="i2", reservation_id="b", tokens=5000, cost="0.01"
    )
    return log


def fold(events: list[Event]) -> RunView:
    view = RunView("r1")
    view.apply_many(events)
    return view


def test_pressure_is_spent_plus_reserved_over_limit() -> None:
    view = fold(run_log().events)
    reactor = view.snapshot(T0 + 5)["reactor"]
    assert reactor["pressure_by_scope"]["batch"] == (8500 + 5000) / 100_000
    # request: the admitted prompt (check_passed) + the last call's real completion (settled)
    assert reactor["pressure_by_scope"]["request"] == (9000 + 500) / 20_000
    # the overall pressure is budget burn: request scopes (one call's size) do not heat the core
    assert reactor["pressure"] == (8500 + 5000) / 100_000
    assert reactor["core"]["state"] == "nominal"
    ring = next(r for r in reactor["rings"] if r["scope"] == "batch")
    assert (ring["spent"], ring["reserved"]) == (8500, 5000)


def test_velocity_counts_settled_tokens_in_the_window() -> None:
    view = fold(run_log().events)
    assert view.snapshot(T0 + 5)["reactor"]["velocity"] == {
        "tokens_per_s": round(8500 / 60, 6),
        "window_s": 60,
    }
    assert view.snapshot(T0 + 64)["reactor"]["velocity"]["tokens_per_s"] == 0
    tte = view.snapshot(T0 + 5)["reactor"]["time_to_exhaustion_s"]
    assert tte == round((100_000 - 13_500) / (8500 / 60), 6)
    assert view.snapshot(T0 + 64)["reactor"]["time_to_exhaustion_s"] is None


def test_protection_mode_is_recent_relative_to_as_of() -> None:
    log = run_log()
    log.add(ev.BUDGET_FALLBACK_APPLIED, T0 + 10, stage="fields", from_k=40, to_k=20)
    view = fold(log.events)
    assert view.snapshot(T0 + 10 + PROTECTION_WINDOW_S)["reactor"]["protection_mode"] is True
    late = view.snapshot(T0 + 11 + PROTECTION_WINDOW_S)
    assert late["reactor"]["protection_mode"] is False and late["flags"]["protection_mode"] is False
    assert late["reactor"]["protection"]["reason"] == "fields 40→20"
    # a finished run is judged at its last event, so the flag does not decay with the wall clock
    log.add(ev.CYCLE_COMPLETED, T0 + 20, status="completed")
    done = fold(log.events).snapshot(T0 + 10_000)
    assert done["status"] == "completed" and done["as_of"] == T0 + 20 and done["reactor"]["protection_mode"]


def test_blocked_sets_core_state_and_flag() -> None:
    log = run_log()
    log.add(ev.BUDGET_BLOCKED, T0 + 6, failure_code="BUDGET_DAY_TOKENS", scope="day", limit=1, observed=2)
    snap = fold(log.events).snapshot(T0 + 7)
    assert snap["reactor"]["core"]["state"] == "blocked" and snap["flags"]["blocked"] is True
    assert snap["reactor"]["totals"]["blocked"] == 1


def test_spikes_lanes_radar_and_simulations() -> None:
    log = run_log()
    for i, cost in enumerate(["0.001", "0.001", "0.001", "0.01"]):
        log.add(ev.LLM_CALL, T0 + 5 + i, prompt_tokens=10, completion_tokens=1, cost=cost)
    log.add(ev.SIMULATION_SUBMITTED, T0 + 9, candidate_id="c1", expression="rank(close)")
    log.add(ev.SIMULATION_SUBMITTED, T0 + 9, candidate_id="c2", expression="rank(open)")
    log.add(
        ev.SIMULATION_COMPLETED, T0 + 10, candidate_id="c1", sharpe=1.5, fitness=1.1, passed=True, total_s=2
    )
    reactor = fold(log.events).snapshot(T0 + 11)["reactor"]
    assert [p["spike"] for p in reactor["pulse"]][-2:] == [False, True]
    assert reactor["lanes"]["exploit"]["ideas"] == 1 and reactor["lanes"]["explore"]["ideas"] == 1
    assert reactor["radar"]["scanning"][0]["sector"] == sector_for("option-volatility") == 5
    assert reactor["radar"]["scanning"][0]["name"] == "Volatility Index"
    sim = reactor["simulation"]
    assert (sim["in_flight"], sim["done"], sim["passed"]) == (1, 1, 1)
    assert sim["best"] == {"candidate_id": "c1", "sharpe": 1.5, "fitness": 1.1, "expression": "rank(close)"}
    assert sim["latency_s"] == {"p50": 2.0, "p95": 2.0}


def test_without_ledger_events_llm_calls_count_as_spend() -> None:
    log = Log()
    log.add(ev.METADATA_SYNC, T0, budget={"limits": {"batch": 1000}})
    log.add(ev.LLM_CALL, T0 + 1, prompt_tokens=400, completion_tokens=100, cost="0.1")
    snap = fold(log.events).snapshot(T0 + 2, extra="budget")
    assert snap["reactor"]["pressure"] == 0.5 and snap["budget"]["source"] == "llm_calls"


def test_series_stays_bounded_by_widening_buckets() -> None:
    log = run_log()
    for i in range(1000):
        log.add(ev.BUDGET_SETTLED, T0 + 10 + i * 7, total_tokens=10)
    series = fold(log.events).snapshot(T0 + 8000)["series"]
    assert len(series["points"]) <= SERIES_MAX_POINTS and series["bucket_s"] > 5
    assert sum(p["tokens"]["exploit"] for p in series["points"]) == 8500 + 10 * 1000


def test_snapshot_is_json_and_does_not_mutate() -> None:
    view = fold(run_log().events)
    first = json.dumps(view.snapshot(T0 + 5, extra="kpi"))
    assert json.dumps(view.snapshot(T0 + 5, extra="kpi")) == first


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(0, 60), max_size=6), replay=st.integers(0, 60))
def test_incremental_equals_one_fold_and_duplicates_are_ignored(cuts: list[int], replay: int) -> None:
    log = run_log()
    for i in range(50):
        name = [ev.LLM_CALL, ev.BUDGET_SETTLED, ev.BUDGET_FALLBACK_APPLIED, ev.CANDIDATE_CREATED][i % 4]
        log.add(
            name,
            T0 + 5 + i,
            lane=["exploit", "explore"][i % 2],
            idea=f"i{i % 5}",
            total_tokens=i,
            prompt_tokens=i,
            cost=f"0.00{i % 10}",
            candidate_id=f"c{i}",
            fields=["close"],
            operators=["rank"],
        )
    whole = fold(log.events).snapshot(T0 + 100)
    view = RunView("r1")
    start = 0
    for cut in [*sorted(cuts), len(log.events)]:
        view.apply_many(log.events[start:cut])
        view.apply_many(log.events[: min(replay, cut)])  # a resume that replays old events
        start = max(start, cut)
    assert view.snapshot(T0 + 100) == whole
