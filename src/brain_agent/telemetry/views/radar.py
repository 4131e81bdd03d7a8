"""The radar: ideas in flight and their subcategories, sector numbers unique in view, the feed."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from brain_agent.storage import Event
from brain_agent.telemetry.views.common import (
    FEED_SHOWN,
    MAX_FEED,
    MAX_FINISHED_IDEAS,
    MAX_SCANNING,
    SECTORS,
    put,
)


def sector_for(subcategory: str) -> int:
    """Preferred radar sector 1..12: FNV-1a of the id (UTF-16 code units, as JS ``charCodeAt``)."""
    h = 0x811C9DC5
    for code in memoryview(subcategory.encode("utf-16-le")).cast("H"):
        h ^= code
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h % SECTORS + 1


def subcategory_name(subcategory: str, names: Mapping[str, str]) -> str:
    """The knowledge pack's name (sent with ``retrieval.pack_built``), else the id made readable."""
    known = names.get(subcategory)
    if known:
        return known
    words = subcategory.replace("_", "-").replace(".", "-").replace(" ", "-").split("-")
    return " ".join(w[0].upper() + w[1:] for w in words if w)


@dataclass
class Idea:
    lane: str | None
    subcategories: list[str] = field(default_factory=list)
    done: bool = False
    candidates: set[str] = field(default_factory=set)  # not yet simulated to the end
    simulated: int = 0
    last_seen: int = 0


class Radar:
    def __init__(self) -> None:
        self.ideas: dict[str, Idea] = {}  # ideas not finished yet
        self._finished: dict[str, None] = {}  # the newest MAX_FINISHED_IDEAS finished ids
        self.active: dict[str, None] = {}  # not-done ideas, least recently seen first
        self.lane_ideas: dict[str, int] = {}
        self.feed: deque[str] = deque(maxlen=MAX_FEED)
        self.names: dict[str, str] = {}  # subcategory id → name (retrieval.pack_built)
        self.sectors: dict[str, int] = {}  # sticky sector per subcategory (see assign_sector)

    # -- ideas -------------------------------------------------------------------------------
    def idea(self, e: Event) -> Idea | None:
        """The event's idea (created on first sight; a lane counts each idea once)."""
        if not e.idea_id:
            return None
        idea = self.ideas.get(e.idea_id)
        if idea is None:
            idea = Idea(lane=e.lane)
            self.ideas[e.idea_id] = idea
            seen_before = self._finished.pop(e.idea_id, 0) is None  # e.g. a deferred idea retried
            if e.lane and not seen_before:
                self.lane_ideas[e.lane] = self.lane_ideas.get(e.lane, 0) + 1
        elif e.lane and not idea.lane:
            idea.lane = e.lane
            self.lane_ideas[e.lane] = self.lane_ideas.get(e.lane, 0) + 1
        idea.last_seen = e.id
        if not idea.done:
            self.active.pop(e.idea_id, None)
            self.active[e.idea_id] = None
        return idea

    def finish(self, idea_id: str) -> None:
        idea = self.ideas.pop(idea_id, None)
        if idea is not None:
            idea.done = True
            put(self._finished, idea_id, None, MAX_FINISHED_IDEAS)
        self.active.pop(idea_id, None)

    def finish_all(self) -> None:
        for idea_id in list(self.ideas):
            self.finish(idea_id)
        self.active.clear()

    # -- sectors and the feed ----------------------------------------------------------------
    def say(self, line: str) -> None:
        self.feed.append(line)

    def scan(self, subcategories: list[str]) -> None:
        for s in subcategories:
            self.say(f"Sector {self.assign_sector(s)} ({subcategory_name(s, self.names)}) Scanning...")

    def in_view(self) -> list[str]:
        """Distinct subcategories of the active ideas, most recently seen first (at most 12)."""
        seen: dict[str, None] = {}
        for idea_id in reversed(self.active):
            for s in self.ideas[idea_id].subcategories:
                seen.setdefault(s, None)
            if len(seen) >= SECTORS:
                break
        return list(seen)

    def assign_sector(self, subcategory: str) -> int:
        """A sector for ``subcategory`` that no other subcategory in view holds: the hash's sector
        (:func:`sector_for`) when free, else the next free one (1..12, wrapping). Sticky while free."""
        taken = {self.sectors[s] for s in self.in_view() if s != subcategory and s in self.sectors}
        current = self.sectors.get(subcategory)
        if current is not None and current not in taken:
            return current
        start = sector_for(subcategory)
        for i in range(SECTORS):
            candidate = (start - 1 + i) % SECTORS + 1
            if candidate not in taken:
                self.sectors[subcategory] = candidate
                return candidate
        self.sectors[subcategory] = start  # more than 12 in view: cannot be unique (the radar shows 12)
        return start

    # -- views -------------------------------------------------------------------------------
    def scanning(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        sectors: dict[str, int] = {}  # unique within this view, starting from the sticky assignment
        for s in self.in_view():
            want = self.sectors.get(s) or sector_for(s)
            taken = set(sectors.values())
            for i in range(SECTORS):
                candidate = (want - 1 + i) % SECTORS + 1
                if candidate not in taken:
                    sectors[s] = candidate
                    break
        for idea_id in reversed(self.active):  # most recently seen first; stops early
            idea = self.ideas[idea_id]
            for s in idea.subcategories:
                if s not in sectors:
                    continue
                out.append(
                    {
                        "sector": sectors[s],
                        "subcategory": s,
                        "name": subcategory_name(s, self.names),
                        "lane": idea.lane,
                        "idea_id": idea_id,
                    }
                )
                if len(out) >= MAX_SCANNING:
                    return out
        return out

    def view(self) -> dict[str, Any]:
        return {"scanning": self.scanning(), "feed": list(self.feed)[-FEED_SHOWN:]}
