"""Lanes, pure: shares, deferral order and the explore floor."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from brain_agent.generation.budget import PlannedIdea, plan_lanes
from brain_agent.generation.budget.expansion import expand, repeated_error
from brain_agent.retrieval import TopK


def _idea(i: int, lane: str, priority: int, tokens: int = 1000) -> PlannedIdea:
    return PlannedIdea(f"{lane}-{i}", lane, priority, tokens)


def test_exploit_deferred_before_the_explore_floor() -> None:
    ideas = [_idea(i, "exploit", 9) for i in range(5)] + [_idea(i, "explore", 1) for i in range(3)]
    plan = plan_lanes(
        ideas, shared_available=4000, lane_available={"exploit": 10**6, "explore": 10**6}, min_explore=2
    )
    kept = set(plan.order)
    assert len(kept) == 4
    assert {i for i in kept if i.startswith("explore")} == {"explore-0", "explore-1"}  # the floor
    assert plan.protections  # the third explore idea went first, then exploit ideas took the floor's place
    assert all(p.deferred_idea_id.startswith("exploit") for p in plan.protections)
    assert all(p.explore_count == 2 and p.min_explore == 2 for p in plan.protections)
    assert plan.order[:2] == ["explore-0", "explore-1"]  # protected explore ideas run first


def test_lane_share_defers_within_the_lane() -> None:
    ideas = [_idea(i, "exploit", 5) for i in range(4)] + [_idea(0, "explore", 5)]
    plan = plan_lanes(
        ideas, shared_available=10**6, lane_available={"exploit": 2500, "explore": 1000}, min_explore=1
    )
    assert {d.idea_id for d in plan.deferred} == {"exploit-2", "exploit-3"}
    assert all(d.reason == "lane_share" for d in plan.deferred)


ideas_st = st.lists(
    st.builds(
        PlannedIdea,
        st.uuids().map(str),
        st.sampled_from(["exploit", "explore"]),
        st.integers(1, 10),
        st.integers(100, 5000),
    ),
    max_size=20,
    unique_by=lambda i: i.idea_id,
)


@given(ideas_st, st.integers(0, 60_000), st.integers(0, 40_000), st.integers(0, 20_000), st.integers(0, 4))
def test_plan_fits_and_keeps_the_floor(
    ideas: list[PlannedIdea], shared: int, exploit: int, explore: int, floor: int
) -> None:
    plan = plan_lanes(
        ideas,
        shared_available=shared,
        lane_available={"exploit": exploit, "explore": explore},
        min_explore=floor,
    )
    by_id = {i.idea_id: i for i in ideas}
    kept = [by_id[i] for i in plan.order]
    assert len(kept) + len(plan.deferred) == len(ideas)
    assert sum(i.min_tokens for i in kept) <= shared
    for lane, cap in (("exploit", exploit), ("explore", explore)):
        assert sum(i.min_tokens for i in kept if i.lane == lane) <= cap
    # a shared shrink defers an explore idea at the floor only when no exploit idea is left
    for p in plan.protections:
        assert by_id[p.deferred_idea_id].lane == "exploit" and p.explore_count <= floor
    kept_explore = sum(1 for i in kept if i.lane == "explore")
    shrunk_explore = [d for d in plan.deferred if d.lane == "explore" and d.reason == "batch_shrink"]
    if shrunk_explore and kept_explore < floor:
        assert not [i for i in kept if i.lane == "exploit"]
    assert len(plan.protections) <= len(ideas)


def test_repeated_error_and_expansion() -> None:
    assert repeated_error(["UNKNOWN_FIELD", "UNKNOWN_FIELD"], 2) == "UNKNOWN_FIELD"
    assert repeated_error(["ARITY", "UNKNOWN_FIELD"], 2) is None
    assert repeated_error([None, None], 2) is None
    grown = expand(TopK(10, 8, 3), "UNKNOWN_OPERATOR", TopK(100, 12, 5))
    assert grown is not None and (grown.stage, grown.from_k, grown.to_k) == ("operators", 8, 12)
    assert expand(TopK(10, 12, 3), "UNKNOWN_OPERATOR", TopK(100, 12, 5)) is None
