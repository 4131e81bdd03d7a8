"""Checkpoints of the view: a round trip gives the same snapshot, and their size does not grow with the
run's length (the reducer forgets finished ideas, simulations and candidates past fixed counts)."""

from __future__ import annotations

from brain_agent.storage.sqlite_store import Event
from brain_agent.telemetry import checkpoint
from brain_agent.telemetry.views import MAX_SIMULATIONS, RunView

T0 = 1_800_000_000.0


def _run(ideas: int) -> RunView:
    view = RunView("r")
    n = 0

    def add(name: str, payload: dict[str, object], idea: str | None = None, lane: str | None = None) -> None:
        nonlocal n
        n += 1
        view.apply(Event(n, "r", T0 + n * 0.01, name, None, idea, lane, payload))

    add("metadata_sync", {"budget": {"limits": {"batch": 10**9}}, "knowledge_pack": {"subcategories": 40}})
    for i in range(ideas):
        idea, lane, cid = f"idea-{i}", ("exploit", "explore")[i % 2], f"cand-{i}"
        add("idea.refined", {"subcategories": [f"sub-{i % 30}"]}, idea, lane)
        add("llm.call", {"prompt_tokens": 900, "completion_tokens": 100, "cost": "0.001"}, idea, lane)
        expression = f"rank(ts_mean(close, {i}))"
        created = {"candidate_id": cid, "expression": expression, "valid": True, "fields": ["close"]}
        add("candidate.created", {**created, "operators": ["rank", "ts_mean"]}, idea, lane)
        add("simulation.submitted", {"candidate_id": cid, "backend": "local"}, idea, lane)
        add(
            "simulation.completed",
            {"candidate_id": cid, "sharpe": (i % 17) / 10, "passed": i % 3 == 0},
            idea,
            lane,
        )
    return view


def test_round_trip_gives_the_same_snapshot() -> None:
    view = _run(300)
    again = checkpoint.decode(checkpoint.encode(view))
    assert again.snapshot(T0 + 99) == view.snapshot(T0 + 99)
    assert again.simulation_list(50) == view.simulation_list(50)


def test_checkpoint_size_is_bounded_by_what_is_in_flight() -> None:
    small, big = _run(1500), _run(6000)
    assert big.sims.counts["done"] == 6000 and big.radar.lane_ideas == {"exploit": 3000, "explore": 3000}
    assert len(big.radar.ideas) == 0  # every idea finished: none kept
    assert len(big.sims.records) == MAX_SIMULATIONS
    assert len(checkpoint.encode(big)) < 1.3 * len(checkpoint.encode(small))
