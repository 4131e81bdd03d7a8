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
    scope: str = ""
    """The binding scope: the lane (``lane_share``) or the shared scope with the least headroom."""
    needed: int = 0
    """What the ideas still kept needed from that scope when this one was dropped (> its headroom)."""


@dataclass(frozen=True)
class LanePlan:
    order: list[str]
    deferred: list[Deferral] = field(default_factory=list)
    protections: list[FloorProtection] = field(default_factory=list)


def _rank(idea: PlannedIdea) -> tuple[int, str]:
    return (-idea.priority, idea.idea_id)


def explore_floor_tokens(ideas: Sequence[PlannedIdea], min_explore: int) -> int:
    """Tokens the explore floor needs: the smallest configurations of the ``min_explore``
    highest-priority explore ideas (fewer when the batch has fewer explore ideas)."""
    explore = sorted((i for i in ideas if i.lane == "explore"), key=_rank)[:min_explore]
    return sum(i.min_tokens for i in explore)


def plan_lanes(
    ideas: Sequence[PlannedIdea],
    *,
    shared_available: int | Mapping[str, int],
    lane_available: Mapping[str, int],
    min_explore: int,
) -> LanePlan:
    """See the module docstring. ``shared_available`` is the headroom of each shared scope (batch
    pool, day, week; a bare number is one anonymous scope); ``lane_available`` the headroom of each
    lane's share. Each deferral names the scope that bound it."""
    shared = {"shared": shared_available} if isinstance(shared_available, int) else dict(shared_available)
    binding = min(shared, key=lambda k: (shared[k], k)) if shared else "shared"
    available = shared.get(binding, 0)
    kept = sorted(ideas, key=_rank)
    deferred: list[Deferral] = []
    protections: list[FloorProtection] = []

    def lowest(lane: str | None) -> PlannedIdea | None:
        pool = [i for i in kept if lane is None or i.lane == lane]
        return pool[-1] if pool else None

    def drop(idea: PlannedIdea, reason: str, scope: str, needed: int) -> None:
        kept.remove(idea)
        deferred.append(Deferral(idea.idea_id, idea.lane, reason, scope, needed))

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
            drop(victim, "lane_share", over_lane, sum(i.min_tokens for i in kept if i.lane == over_lane))
            continue
        total = sum(i.min_tokens for i in kept)
        if total <= available:
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
        drop(victim, "batch_shrink", binding, total)

    explore_sorted = [i for i in kept if i.lane == "explore"]
    protected = explore_sorted[:min_explore]
    rest = [i for i in kept if i not in protected]
    return LanePlan([i.idea_id for i in [*protected, *rest]], deferred, protections)
