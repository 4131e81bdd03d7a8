"""Exploit/explore lanes, pure: which ideas a batch runs, in what order, and which it defers.

- Each lane may spend only its share of the batch (``lane:{batch}:{lane}`` scopes); exploit calls
  can never spend the explore share.
- When the batch must shrink (its ideas' smallest estimates exceed what the shared scopes have
  left), the lowest-priority idea is deferred, except that explore ideas at the floor
  (``min_explore_candidates_per_batch``) are protected: the lowest-priority exploit idea is deferred
  instead, and a :class:`FloorProtection` records it (``budget.explore_floor_preserved``).
- Protected explore ideas run first, so a shared cap exhausted at run time hits exploit ideas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlannedIdea:
    idea_id: str
    lane: str
    priority: int
    min_tokens: int
    """Reservation needed at the smallest ladder configuration."""


@dataclass(frozen=True)
class FloorProtection:
    explore_count: int
    min_explore: int
    deferred_idea_id: str
    protected_idea_id: str


@dataclass(frozen=True)
class Deferral:
    idea_id: str
    lane: str
    reason: str
    """``lane_share`` (its lane's share cannot hold it) or ``batch_shrink`` (shared scopes)."""


@dataclass(frozen=True)
class LanePlan:
    order: list[str]
    deferred: list[Deferral] = field(default_factory=list)
    protections: list[FloorProtection] = field(default_factory=list)


def _rank(idea: PlannedIdea) -> tuple[int, str]:
    return (-idea.priority, idea.idea_id)


def plan_lanes(
    ideas: Sequence[PlannedIdea],
    *,
    shared_available: int,
    lane_available: Mapping[str, int],
    min_explore: int,
) -> LanePlan:
    """See the module docstring. ``shared_available`` is the tightest of batch/day/week headroom;
    ``lane_available`` the headroom of each lane's share."""
    kept = sorted(ideas, key=_rank)
    deferred: list[Deferral] = []
    protections: list[FloorProtection] = []

    def lowest(lane: str | None) -> PlannedIdea | None:
        pool = [i for i in kept if lane is None or i.lane == lane]
        return pool[-1] if pool else None

    def drop(idea: PlannedIdea, reason: str) -> None:
        kept.remove(idea)
        deferred.append(Deferral(idea.idea_id, idea.lane, reason))

    while kept:
        over_lane = next(
            (
                lane
                for lane in ("explore", "exploit")
                if sum(i.min_tokens for i in kept if i.lane == lane) > lane_available.get(lane, 0)
            ),
            None,
        )
        if over_lane is not None:
            victim = lowest(over_lane)
            assert victim is not None
            drop(victim, "lane_share")
            continue
        if sum(i.min_tokens for i in kept) <= shared_available:
            break
        victim = lowest(None)
        assert victim is not None
        explore_count = sum(1 for i in kept if i.lane == "explore")
        if victim.lane == "explore" and explore_count <= min_explore:
            exploit = lowest("exploit")
            if exploit is not None:
                protections.append(
                    FloorProtection(explore_count, min_explore, exploit.idea_id, victim.idea_id)
                )
                victim = exploit
        drop(victim, "batch_shrink")

    explore_sorted = [i for i in kept if i.lane == "explore"]
    protected = explore_sorted[:min_explore]
    rest = [i for i in kept if i not in protected]
    return LanePlan([i.idea_id for i in [*protected, *rest]], deferred, protections)
