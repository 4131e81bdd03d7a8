"""Dashboard views derived from events: one :class:`RunView` reducer per run.

``RunView.apply(event)`` folds one event (in id order) into bounded state; ``RunView.snapshot(now)``
turns that state into the dict documented in ``docs/reactor-contract.md`` (HUD format ``reactor``,
chart format ``series`` / ``gauges`` / ``flags``). Nothing here does I/O or reads a clock: the caller
passes ``now``. Memory is bounded by the run's ideas and candidates, not by its event count; a snapshot
costs O(scopes + window sizes), never O(events).

Definitions (also in ``docs/api.md``):
- *spent* tokens are ``budget.settled`` totals (``llm.call`` tokens when a run has no ledger events);
  *reserved* are open ``budget.reserved`` reservations; request scopes use the latest admitted prompt
  (``budget.check_passed``) and the last call's real completion (``budget.settled``).
- *pressure* of a scope is ``(spent + reserved) / limit``; the overall pressure is the max over the
  cumulative scopes (request scopes have rings but do not heat the core).
- *velocity* is the spent tokens whose event ``ts`` lies in ``(as_of - 60 s, as_of]``, divided by 60.
- *protection_mode* is true while a protection event (``budget.fallback_applied``, ``budget.blocked``,
  ``budget.explore_floor_preserved``) happened within the last 30 s before ``as_of``; ``as_of`` is
  ``now`` for a running run and the last event's ``ts`` for a finished one.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from brain_agent.storage.sqlite_store import Event
from brain_agent.telemetry import events as ev

VELOCITY_WINDOW_S = 60
PROTECTION_WINDOW_S = 30
PROTECTION_EVENT_NAMES = frozenset(
    {ev.BUDGET_FALLBACK_APPLIED, ev.BUDGET_BLOCKED, ev.BUDGET_EXPLORE_FLOOR_PRESERVED}
)
WARNING_PRESSURE = 0.75
CRITICAL_PRESSURE = 0.9
SPIKE_FACTOR = 1.6  # a call costing > 1.6 x the mean of the previous 10 calls (with >= 3 of them)
SERIES_BASE_BUCKET_S = 5
SERIES_MAX_POINTS = 120  # past this the bucket width doubles (5 s, 10 s, 20 s, ...)
MAX_INJECTIONS = 50
MAX_PULSE = 120
MAX_FEED = 30
FEED_SHOWN = 12
MAX_SCANNING = 24
MAX_LATENCIES = 1000
MAX_KPI_BATCHES = 500
# State is bounded by what is in flight, not by the run's length (so a checkpoint of a 1,000,000-event
# run is as small as one of a 1,000-event run): finished ideas, simulations and candidates are
# forgotten past these counts, newest kept.
MAX_SIMULATIONS = 1000  # records kept for GET /simulations (its default limit)
MAX_OPEN_CANDIDATES = 5000  # candidates not yet simulated (their idea and expression)
MAX_FINISHED_IDEAS = 5000  # ids of finished ideas remembered (a late event does not count them again)
SECTORS = 12

Format = Literal["both", "chart", "reactor"]
Extra = Literal["budget", "kpi"]
LANES = ("exploit", "explore")
FINISHED = frozenset({"completed", "failed", "interrupted"})


def sector_for(subcategory: str) -> int:
    """Stable radar sector 1..12: FNV-1a of the id (the HUD's ``sectors.ts`` uses the same hash)."""
    h = 0x811C9DC5
    for code in memoryview(subcategory.encode("utf-16-le")).cast("H"):  # JS charCodeAt: UTF-16 units
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


def _num(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else default
    if isinstance(value, str):
        try:
            out = float(value)
        except ValueError:
            return default
        return out if math.isfinite(out) else default
    return default


def _int(value: Any) -> int:
    return int(_num(value))


def _money(value: Any) -> Decimal:
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
    return out if out.is_finite() else Decimal(0)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None if value is None else str(value)


def _str_list(value: Any) -> list[str]:
    return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []


def _money_scope(scope: str) -> bool:
    return scope.startswith("money") or scope.endswith("_usd") or "cost" in scope


_RING_PREFIXES = {
    "batch": "batch",
    "expansion": "expansion",
    "day": "day",
    "week": "week",
    "money_day": "money_day",
    "money_week": "money_week",
}


def _overall_pressure(rings: list[dict[str, Any]]) -> float:
    """The core's heat: the max over the cumulative scopes (batch, lanes, expansion, periods, money).
    Request scopes measure one call's size, not budget burn, so they have rings but don't heat the core."""
    return max((r["pressure"] for r in rings if not _request_scope(r["scope"])), default=0.0)


def _request_scope(scope: str) -> bool:
    return scope in ("request", "request_prompt", "request_completion")


def _ring_of(scope_key: str) -> str | None:
    """``lane:{batch}:exploit`` → ``lane_exploit``, ``day:2026-11-25@UTC`` → ``day``, …"""
    head = scope_key.split(":", 1)[0]
    if head == "lane":
        return f"lane_{scope_key.rsplit(':', 1)[-1]}"
    return _RING_PREFIXES.get(head)


def _default_rings(lane: str | None) -> tuple[str, ...]:
    base = ("batch", "day", "week")
    return (*base, f"lane_{lane}") if lane in ("exploit", "explore") else base


def _quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[i]


def _round(x: float) -> float:
    return round(x, 6)


@dataclass
class _Idea:
    lane: str | None
    subcategories: list[str] = field(default_factory=list)
    done: bool = False
    candidates: set[str] = field(default_factory=set)  # not yet simulated to the end
    simulated: int = 0
    last_seen: int = 0


def _put(d: dict[str, Any], key: str, value: Any, limit: int) -> None:
    """Insert as newest; drop the oldest entries past ``limit``."""
    d.pop(key, None)
    d[key] = value
    while len(d) > limit:
        del d[next(iter(d))]


@dataclass
class _Bucket:
    t: float
    tokens: dict[str, int] = field(default_factory=dict)
    cost: Decimal = Decimal(0)
    pressure: float = 0.0
    pressure_by_scope: dict[str, float] = field(default_factory=dict)


class RunView:
    """The incrementally maintained dashboard state of one run. Feed events in id order."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.cursor = 0
        self.event_count = 0
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.status: str | None = None  # from cycle_completed; the caller may know better (runs table)
        # budget configuration (metadata_sync)
        self.limits: dict[str, float] = {}
        self.budget_config: dict[str, Any] = {}
        self.exploit_ratio = 0.7
        self.explore_ratio = 0.3
        self.provider: str | None = None
        self.model: str | None = None
        # ledger
        self.ledger_seen = False
        self.spent_tokens = 0
        self.spent_cost = Decimal(0)
        self.reservations: dict[str, tuple[int, Decimal]] = {}
        self.reservation_rings: dict[str, tuple[str, ...]] = {}
        self.ring_spent: dict[str, float] = {}
        self.baseline: dict[str, float] = {}
        self.subcategory_total = 0  # the knowledge pack's subcategories (metadata_sync)
        self.subcategory_names: dict[str, str] = {}  # id → name (retrieval.pack_built)
        self.last_request = (0, 0)
        self.checks = {"passed": 0, "failed": 0}
        self.last_check_failed = False
        self.expansions = 0
        self.lane_tokens: dict[str, int] = {}
        # (ts, tokens, rings drawn on) within the velocity window
        self._spend_ticks: deque[tuple[float, int, tuple[str, ...]]] = deque()
        self._llm_ticks: deque[tuple[float, int, tuple[str, ...]]] = deque()
        self.llm_lane_tokens: dict[str, int] = {}
        # protection
        self.protection: tuple[str, float, str | None] | None = None
        self.last_blocked_at: float | None = None
        self.explore_floor_preserved = 0
        # calls
        self.totals = {
            "prompt": 0,
            "completion": 0,
            "calls": 0,
            "cache_hits": 0,
            "cache_hit_calls": 0,
            "tokens_saved": 0,
            "fallbacks": 0,
            "blocked": 0,
            "deferred": 0,
        }
        self.total_cost = Decimal(0)
        self.injections: deque[dict[str, Any]] = deque(maxlen=MAX_INJECTIONS)
        self.pulse: deque[dict[str, Any]] = deque(maxlen=MAX_PULSE)
        self._recent_costs: deque[Decimal] = deque(maxlen=10)
        # ideas, radar
        self.ideas: dict[str, _Idea] = {}  # ideas not finished yet
        self._finished_ideas: dict[str, None] = {}  # the newest MAX_FINISHED_IDEAS finished ids
        self.active_ideas: dict[str, None] = {}  # not-done ideas, least recently seen first
        self.lane_ideas: dict[str, int] = {}
        self.feed: deque[str] = deque(maxlen=MAX_FEED)
        # candidates, KPIs
        self.candidate_idea: dict[str, str] = {}
        self.expressions: dict[str, str] = {}
        self.candidates = 0
        self.valid_candidates = 0
        self._subcategories_seen: set[str] = set()
        self._combos: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
        self.kpi: dict[str, Any] | None = None
        self.kpi_batches: deque[dict[str, Any]] = deque(maxlen=MAX_KPI_BATCHES)
        # simulations
        self.simulations: dict[str, dict[str, Any]] = {}
        self.in_flight: set[str] = set()
        # done = completed (passed + failed); failed = completed below the thresholds; errors =
        # simulation.failed (the backend could not score it). The CLI's closing table uses the same words.
        self.sim_counts = {"done": 0, "passed": 0, "failed": 0, "errors": 0}
        # radar sector per subcategory, unique among the subcategories in view (see _assign_sector)
        self.sectors: dict[str, int] = {}
        self.latencies: deque[float] = deque(maxlen=MAX_LATENCIES)
        self.best: dict[str, Any] | None = None
        # chart series
        self.bucket_s = SERIES_BASE_BUCKET_S
        self.buckets: list[_Bucket] = []

    # -- folding ---------------------------------------------------------------------------
    def apply_many(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        """Fold one event. Events at or below the cursor are ignored (resume / duplicates)."""
        if event.id <= self.cursor:
            return
        self.cursor = event.id
        self.event_count += 1
        ts = event.ts
        if self.first_ts is None:
            self.first_ts = ts
        self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        if event.idea_id:
            self._idea(event)
        handler = _HANDLERS.get(event.name)
        if handler is not None:
            handler(self, event, event.payload if isinstance(event.payload, Mapping) else {})

    def _idea(self, event: Event) -> _Idea | None:
        if not event.idea_id:
            return None
        idea = self.ideas.get(event.idea_id)
        if idea is None:
            idea = _Idea(lane=event.lane)
            self.ideas[event.idea_id] = idea
            seen_before = self._finished_ideas.pop(event.idea_id, 0) is None  # e.g. a deferred idea retried
            if event.lane and not seen_before:
                self.lane_ideas[event.lane] = self.lane_ideas.get(event.lane, 0) + 1
        elif event.lane and not idea.lane:
            idea.lane = event.lane
            self.lane_ideas[event.lane] = self.lane_ideas.get(event.lane, 0) + 1
        idea.last_seen = event.id
        if not idea.done:
            self.active_ideas.pop(event.idea_id, None)
            self.active_ideas[event.idea_id] = None
        return idea

    def _finish_idea(self, idea_id: str) -> None:
        idea = self.ideas.pop(idea_id, None)
        if idea is not None:
            idea.done = True
            _put(self._finished_ideas, idea_id, None, MAX_FINISHED_IDEAS)
        self.active_ideas.pop(idea_id, None)

    def _scan(self, subcategories: list[str]) -> None:
        for s in subcategories:
            self.feed.append(
                f"Sector {self._assign_sector(s)} ({subcategory_name(s, self.subcategory_names)}) Scanning..."
            )

    def _in_view(self) -> list[str]:
        """Distinct subcategories of the active ideas, most recently seen first (the radar's view)."""
        seen: dict[str, None] = {}
        for idea_id in reversed(self.active_ideas):
            for s in self.ideas[idea_id].subcategories:
                seen.setdefault(s, None)
            if len(seen) >= SECTORS:
                break
        return list(seen)

    def _assign_sector(self, subcategory: str) -> int:
        """A sector for ``subcategory`` that no other subcategory in view holds: the hash's sector
        (:func:`sector_for`) when free, else the next free one (1..12, wrapping). Sticky while free."""
        taken = {self.sectors[s] for s in self._in_view() if s != subcategory and s in self.sectors}
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

    def _protect(self, event: Event, reason: str | None) -> None:
        self.protection = (event.name, event.ts, reason)

    def _bucket(self, ts: float) -> _Bucket:
        t = math.floor(ts / self.bucket_s) * self.bucket_s
        if not self.buckets or t > self.buckets[-1].t:
            self.buckets.append(_Bucket(t=float(t)))
            if len(self.buckets) > SERIES_MAX_POINTS:
                self._widen()
                return self._bucket(ts)
            return self.buckets[-1]
        for bucket in reversed(self.buckets):  # out-of-order ts: the bucket it falls in, else the oldest
            if bucket.t <= t:
                return bucket
        return self.buckets[0]

    def _widen(self) -> None:
        self.bucket_s *= 2
        merged: list[_Bucket] = []
        for b in self.buckets:
            t = float(math.floor(b.t / self.bucket_s) * self.bucket_s)
            if not merged or merged[-1].t != t:
                merged.append(_Bucket(t=t, pressure=b.pressure, pressure_by_scope=dict(b.pressure_by_scope)))
            m = merged[-1]
            for lane, n in b.tokens.items():
                m.tokens[lane] = m.tokens.get(lane, 0) + n
            m.cost += b.cost
            m.pressure, m.pressure_by_scope = b.pressure, dict(b.pressure_by_scope)
        self.buckets = merged

    def _mark_pressure(self, ts: float) -> None:
        rings = self._rings()
        bucket = self._bucket(ts)
        bucket.pressure_by_scope = {r["scope"]: r["pressure"] for r in rings}
        bucket.pressure = max(bucket.pressure_by_scope.values(), default=0.0)

    def _add_spend(
        self, ts: float, lane: str | None, tokens: int, ledger: bool, rings: tuple[str, ...]
    ) -> None:
        ticks = self._spend_ticks if ledger else self._llm_ticks
        ticks.append((ts, tokens, rings))
        while ticks and ticks[0][0] < ts - VELOCITY_WINDOW_S:
            ticks.popleft()
        lanes = self.lane_tokens if ledger else self.llm_lane_tokens
        key = lane or "none"
        lanes[key] = lanes.get(key, 0) + tokens
        if ledger or not self.ledger_seen:
            bucket = self._bucket(ts)
            bucket.tokens[key] = bucket.tokens.get(key, 0) + tokens

    # -- derived numbers -------------------------------------------------------------------
    def _spent(self) -> tuple[int, dict[str, int], deque[tuple[float, int, tuple[str, ...]]]]:
        if self.ledger_seen:
            return self.spent_tokens, self.lane_tokens, self._spend_ticks
        llm_total = self.totals["prompt"] + self.totals["completion"]
        return llm_total, self.llm_lane_tokens, self._llm_ticks

    def _rings(self) -> list[dict[str, Any]]:
        """One ring per configured scope. Spend is attributed through the scope keys each
        ``budget.reserved`` event lists (exact per lane / expansion / period); runs without ledger
        events fall back to the ``llm.call`` totals. Day / week rings add ``budget.baseline`` (usage
        by earlier runs and other processes when this run started)."""
        spent_tokens, _, _ = self._spent()
        rings = []
        for scope, limit in self.limits.items():
            if not limit > 0:
                continue
            if _request_scope(scope):
                prompt, completion = self.last_request
                spent: float = {"request_prompt": prompt, "request_completion": completion}.get(
                    scope, prompt + completion
                )
                reserved: float = 0
            else:
                money = _money_scope(scope)
                reserved = 0.0
                for rid, (tokens, cost) in self.reservations.items():
                    if scope in self.reservation_rings.get(rid, ()):
                        reserved += float(cost) if money else tokens
                if self.ledger_seen:
                    spent = self.ring_spent.get(scope, 0.0)
                elif money:
                    spent = float(self.total_cost)
                elif scope.startswith("lane_"):
                    spent = self.llm_lane_tokens.get(scope.removeprefix("lane_"), 0)
                elif scope == "expansion":
                    spent = 0
                else:
                    spent = spent_tokens
                spent += self.baseline.get(scope, 0.0)
            rings.append(
                {
                    "scope": scope,
                    "spent": spent,
                    "reserved": reserved,
                    "limit": limit,
                    "pressure": _round((spent + reserved) / limit),
                }
            )
        return rings

    def as_of(self, now: float, status: str | None = None) -> float:
        """``now`` while the run is running; the last event's ``ts`` once it is finished."""
        status = status or self.status or "running"
        if status in FINISHED and self.last_ts is not None:
            return self.last_ts
        return now

    def protection_active(self, as_of: float) -> bool:
        return self.protection is not None and 0 <= as_of - self.protection[1] <= PROTECTION_WINDOW_S

    # -- views -----------------------------------------------------------------------------
    def snapshot(
        self, now: float, *, status: str | None = None, fmt: Format = "both", extra: Extra | None = None
    ) -> dict[str, Any]:
        """The reactor_status envelope at ``now`` (``status`` overrides the event-derived status)."""
        status = status or self.status or "running"
        as_of = self.as_of(now, status)
        rings = self._rings()
        pressure = _overall_pressure(rings)
        protection = self.protection_active(as_of)
        blocked = (
            self.last_blocked_at is not None and 0 <= as_of - self.last_blocked_at <= PROTECTION_WINDOW_S
        )
        out: dict[str, Any] = {"run_id": self.run_id, "status": status, "as_of": as_of, "cursor": self.cursor}
        if fmt in ("both", "reactor"):
            out["reactor"] = self._reactor(as_of, rings, pressure, protection, blocked, status in FINISHED)
        if fmt in ("both", "chart"):
            out["series"] = self._series()
            out["gauges"] = [
                {
                    "scope": r["scope"],
                    "value": r["spent"] + r["reserved"],
                    "limit": r["limit"],
                    "pressure": r["pressure"],
                    "unit": "usd" if _money_scope(r["scope"]) else "tokens",
                }
                for r in rings
            ]
            out["flags"] = {
                "protection_mode": protection,
                "over_budget": pressure >= 1.0 or self.last_check_failed,
                "blocked": blocked,
                "explore_floor_preserved": self.explore_floor_preserved > 0,
            }
        if extra == "budget":
            out["budget"] = self.budget_view()
        elif extra == "kpi":
            out["kpi"] = {"current": self.kpi_view(), "per_batch": list(self.kpi_batches)}
        return out

    @staticmethod
    def _exhaustion(
        rings: list[dict[str, Any]], window: list[tuple[int, tuple[str, ...]]], finished: bool
    ) -> tuple[float, str] | None:
        """Seconds until the first scope runs out at the current velocity, and which scope.

        Only token scopes that the spend of the last 60 s actually drew on count: each scope's own
        velocity (its share of that spend) divides its remaining tokens. A reserve nobody drew on
        (e.g. an unused expansion scope) or a lane idle in the window cannot run out, so it is
        ignored. ``None`` for a finished run and when nothing was spent in the window."""
        if finished:
            return None
        best: tuple[float, str] | None = None
        for r in rings:
            scope = r["scope"]
            if _money_scope(scope) or _request_scope(scope):
                continue
            rate = sum(n for n, rs in window if scope in rs) / VELOCITY_WINDOW_S
            if rate <= 0:
                continue
            seconds = _round(max(0.0, r["limit"] - r["spent"] - r["reserved"]) / rate)
            if best is None or seconds < best[0]:
                best = (seconds, scope)
        return best

    def _reactor(
        self,
        as_of: float,
        rings: list[dict[str, Any]],
        pressure: float,
        protection: bool,
        blocked: bool,
        finished: bool = False,
    ) -> dict[str, Any]:
        _, lane_tokens, ticks = self._spent()
        window = [(n, rs) for ts, n, rs in ticks if as_of - VELOCITY_WINDOW_S < ts <= as_of]
        velocity = sum(n for n, _ in window) / VELOCITY_WINDOW_S
        exhaustion = self._exhaustion(rings, window, finished)
        if blocked:
            state = "blocked"
        elif pressure >= CRITICAL_PRESSURE:
            state = "critical"
        elif pressure >= WARNING_PRESSURE:
            state = "warning"
        else:
            state = "nominal"
        lane_total = sum(lane_tokens.get(lane, 0) for lane in LANES)
        targets = {"exploit": self.exploit_ratio, "explore": self.explore_ratio}
        lanes = {
            lane: {
                "target_share": targets[lane],
                "actual_share": _round(lane_tokens.get(lane, 0) / lane_total) if lane_total else 0.0,
                "tokens": lane_tokens.get(lane, 0),
                "ideas": self.lane_ideas.get(lane, 0),
            }
            for lane in LANES
        }
        prot = self.protection
        lat = sorted(self.latencies)
        return {
            "pressure": pressure,
            "pressure_by_scope": {r["scope"]: r["pressure"] for r in rings},
            "velocity": {"tokens_per_s": _round(velocity), "window_s": VELOCITY_WINDOW_S},
            "time_to_exhaustion_s": exhaustion[0] if exhaustion else None,
            "exhaustion_scope": exhaustion[1] if exhaustion else None,
            "protection_mode": protection,
            "protection": {
                "window_s": PROTECTION_WINDOW_S,
                "last_event": prot[0] if prot else None,
                "at": prot[1] if prot else None,
                "reason": prot[2] if prot else None,
            },
            "core": {"heat": min(1.0, pressure), "state": state},
            "rings": rings,
            "injections": list(self.injections),
            "pulse": list(self.pulse),
            "lanes": lanes,
            "radar": {"scanning": self._scanning(), "feed": list(self.feed)[-FEED_SHOWN:]},
            "simulation": {
                "in_flight": len(self.in_flight),
                **self.sim_counts,
                "latency_s": {"p50": _quantile(lat, 0.5), "p95": _quantile(lat, 0.95)},
                "best": dict(self.best) if self.best else None,
            },
            "totals": self.totals_view(),
            "kpi": self.kpi_view(),
        }

    def _scanning(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        sectors: dict[str, int] = {}  # unique within this view, starting from the sticky assignment
        for s in self._in_view():
            want = self.sectors.get(s) or sector_for(s)
            taken = set(sectors.values())
            for i in range(SECTORS):
                candidate = (want - 1 + i) % SECTORS + 1
                if candidate not in taken:
                    sectors[s] = candidate
                    break
        for idea_id in reversed(self.active_ideas):  # most recently seen first; stops early
            idea = self.ideas[idea_id]
            for s in idea.subcategories:
                if s not in sectors:
                    continue
                name = subcategory_name(s, self.subcategory_names)
                out.append(
                    {
                        "sector": sectors[s],
                        "subcategory": s,
                        "name": name,
                        "lane": idea.lane,
                        "idea_id": idea_id,
                    }
                )
                if len(out) >= MAX_SCANNING:
                    return out
        return out

    def _series(self) -> dict[str, Any]:
        points = []
        for b in self.buckets:
            tokens = {"exploit": b.tokens.get("exploit", 0), "explore": b.tokens.get("explore", 0)}
            tokens.update((k, v) for k, v in b.tokens.items() if k not in tokens)
            points.append(
                {
                    "t": b.t,
                    "tokens": tokens,
                    "cost": str(b.cost),
                    "pressure": b.pressure,
                    "pressure_by_scope": dict(b.pressure_by_scope),
                }
            )
        return {"bucket_s": self.bucket_s, "points": points}

    def totals_view(self) -> dict[str, Any]:
        t = self.totals
        return {
            "prompt_tokens": t["prompt"],
            "completion_tokens": t["completion"],
            "total_tokens": t["prompt"] + t["completion"],
            "cost": str(self.total_cost),
            "calls": t["calls"],
            "cache_hits": max(t["cache_hits"], t["cache_hit_calls"]),
            "tokens_saved": t["tokens_saved"],
            "fallbacks": t["fallbacks"],
            "blocked": t["blocked"],
            "deferred": t["deferred"],
        }

    def kpi_view(self) -> dict[str, Any]:
        """The latest ``kpi.batch``; before the first one, coverage and novelty of the candidates so far."""
        if self.kpi is not None:
            return dict(self.kpi)
        novelty = _round(len(self._combos) / self.valid_candidates) if self.valid_candidates else 0.0
        seen = len(self._subcategories_seen)
        return {
            "coverage": seen,
            "coverage_share": _round(seen / self.subcategory_total) if self.subcategory_total else 0.0,
            "novelty": novelty,
            "structural_novelty": None,  # needs the store's history: only kpi.batch carries it
        }

    def budget_view(self) -> dict[str, Any]:
        spent_tokens, _, _ = self._spent()
        return {
            "limits": dict(self.limits),
            "config": dict(self.budget_config),
            "spent_tokens": spent_tokens,
            "spent_cost": str(self.spent_cost if self.ledger_seen else self.total_cost),
            "reserved_tokens": sum(t for t, _ in self.reservations.values()),
            "reserved_cost": str(sum((c for _, c in self.reservations.values()), Decimal(0))),
            "open_reservations": len(self.reservations),
            "checks_passed": self.checks["passed"],
            "checks_failed": self.checks["failed"],
            "expansions": self.expansions,
            "source": "ledger_events" if self.ledger_seen else "llm_calls",
        }

    def headline(self, now: float, status: str | None = None) -> dict[str, Any]:
        """The few numbers a run list shows."""
        as_of = self.as_of(now, status)
        rings = self._rings()
        return {
            "events": self.event_count,
            "cursor": self.cursor,
            "last_event_at": self.last_ts,
            "total_tokens": self.totals["prompt"] + self.totals["completion"],
            "cost": str(self.total_cost),
            "calls": self.totals["calls"],
            "candidates": self.candidates,
            "pressure": _overall_pressure(rings),
            "protection_mode": self.protection_active(as_of),
            "best_sharpe": self.best["sharpe"] if self.best else None,
        }

    def simulation_list(self, limit: int) -> list[dict[str, Any]]:
        """The run's simulations in submission order (the newest ``limit``)."""
        items = list(self.simulations.values())
        return [dict(s) for s in items[-limit:]] if limit > 0 else []


# -- event handlers ---------------------------------------------------------------------------
_Handler = Callable[[RunView, Event, Mapping[str, Any]], None]


def _on_metadata(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    raw = p.get("budget")
    budget: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    limits = budget.get("limits")
    if isinstance(limits, Mapping):
        for scope, limit in sorted(limits.items()):  # one order whatever the JSON key order
            if limit is not None and _num(limit) > 0:
                v.limits[str(scope)] = _num(limit)
    pack = p.get("knowledge_pack")
    if isinstance(pack, Mapping):
        v.subcategory_total = _int(pack.get("subcategories"))
    baseline = budget.get("baseline")
    if isinstance(baseline, Mapping):
        v.baseline = {str(k): _num(val) for k, val in baseline.items() if val is not None}
    v.exploit_ratio = _num(budget.get("exploit_ratio"), v.exploit_ratio)
    v.explore_ratio = _num(budget.get("explore_ratio"), v.explore_ratio)
    v.budget_config = {
        k: val
        for k, val in budget.items()
        if k not in ("limits", "baseline") and isinstance(val, int | float | str)
    }
    v.provider, v.model = _str(p.get("provider")), _str(p.get("model"))
    v.feed.append(f"Reactor online · {v.provider or 'llm'}/{v.model or '?'}")


def _on_idea_refined(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    idea = v._idea(e)
    if idea is not None:
        subs = _str_list(p.get("subcategories"))
        if subs:
            idea.subcategories = subs
        v._scan(idea.subcategories)


def _on_pack_built(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    idea = v._idea(e)
    subs = _str_list(p.get("subcategories"))
    names = p.get("subcategory_names")
    if isinstance(names, Mapping):
        v.subcategory_names.update({str(k): str(n) for k, n in names.items() if isinstance(n, str)})
    if idea is not None and subs:
        fresh = [s for s in subs if s not in idea.subcategories]
        idea.subcategories = subs
        v._scan(fresh)


def _on_check(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    if e.name == ev.BUDGET_CHECK_PASSED:  # the admitted prompt (after any fallback), not the rejected one
        v.last_request = (_int(p.get("prompt_tokens")), v.last_request[1])
    failed = e.name == ev.BUDGET_CHECK_FAILED
    v.checks["failed" if failed else "passed"] += 1
    v.last_check_failed = failed
    v._mark_pressure(e.ts)


def _on_fallback(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.totals["fallbacks"] += 1
    reason = f"{_str(p.get('stage')) or 'topk'} {_int(p.get('from_k'))}→{_int(p.get('to_k'))}"
    v._protect(e, reason)
    v.feed.append(f"Fallback: {reason} ({_int(p.get('tokens_before'))}→{_int(p.get('tokens_after'))} tok)")


def _on_floor(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.explore_floor_preserved += 1
    v._protect(e, f"explore floor {_int(p.get('explore_count'))}/{_int(p.get('min_explore'))}")
    deferred = _str(p.get("deferred_idea_id"))
    if deferred:
        v._finish_idea(deferred)
    v.feed.append("Explore floor preserved" + (f" · deferred {deferred}" if deferred else ""))


def _on_blocked(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.totals["blocked"] += 1
    code = _str(p.get("failure_code")) or "BUDGET_BLOCKED"
    v._protect(e, code)
    v.last_blocked_at = e.ts
    if e.idea_id:
        v._finish_idea(e.idea_id)
    v.feed.append(
        f"BLOCKED {code} ({_num(p.get('observed')):g}/{_num(p.get('limit')):g}) → "
        f"{_str(p.get('action')) or 'defer'}"
    )


def _on_deferred(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.totals["deferred"] += 1
    if e.idea_id:
        v._finish_idea(e.idea_id)


def _on_reserved(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.ledger_seen = True
    rid = _str(p.get("reservation_id")) or f"ev{e.id}"
    v.reservations[rid] = (_int(p.get("tokens")), _money(p.get("cost")))
    scopes = p.get("scopes")
    keys = [str(k) for k in scopes] if isinstance(scopes, list) else []
    v.reservation_rings[rid] = tuple(r for r in (_ring_of(k) for k in keys) if r) or _default_rings(e.lane)
    v._mark_pressure(e.ts)


def _on_settled(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.ledger_seen = True
    rid = _str(p.get("reservation_id"))
    rings = _default_rings(e.lane)
    if rid:
        v.reservations.pop(rid, None)
        rings = v.reservation_rings.pop(rid, rings)
    total = p.get("total_tokens")
    tokens = (
        _int(total) if total is not None else _int(p.get("prompt_tokens")) + _int(p.get("completion_tokens"))
    )
    cost = _money(p.get("cost"))
    v.last_request = (v.last_request[0], _int(p.get("completion_tokens")))  # the last call's real output
    v.spent_tokens += tokens
    v.spent_cost += cost
    for ring in rings:
        v.ring_spent[ring] = v.ring_spent.get(ring, 0.0) + (float(cost) if _money_scope(ring) else tokens)
    v._add_spend(e.ts, e.lane, tokens, ledger=True, rings=tuple(rings))
    v._mark_pressure(e.ts)


def _on_released(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.ledger_seen = True
    rid = _str(p.get("reservation_id"))
    if rid:
        v.reservations.pop(rid, None)
        v.reservation_rings.pop(rid, None)
    v._mark_pressure(e.ts)


def _on_expansion(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.expansions += 1
    v.feed.append(
        f"Expansion: {_str(p.get('stage')) or 'topk'} {_int(p.get('from_k'))}→{_int(p.get('to_k'))}"
    )


def _on_llm_call(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    prompt, completion = _int(p.get("prompt_tokens")), _int(p.get("completion_tokens"))
    cost = _money(p.get("cost"))
    v.totals["prompt"] += prompt
    v.totals["completion"] += completion
    v.totals["calls"] += 1
    v.total_cost += cost
    cache_hit = p.get("cache_hit") is True
    if cache_hit:
        v.totals["cache_hit_calls"] += 1
    elif prompt > 0:
        v.injections.append(
            {"event_id": e.id, "ts": e.ts, "tokens": prompt, "lane": e.lane, "idea_id": e.idea_id}
        )
    recent = v._recent_costs
    spike = len(recent) >= 3 and cost > sum(recent, Decimal(0)) / len(recent) * Decimal(str(SPIKE_FACTOR))
    recent.append(cost)
    v.pulse.append(
        {"event_id": e.id, "ts": e.ts, "cost": str(cost), "tokens": prompt + completion, "spike": spike}
    )
    v._bucket(e.ts).cost += cost
    v._add_spend(e.ts, e.lane, prompt + completion, ledger=False, rings=_default_rings(e.lane))
    if not v.ledger_seen:
        v._mark_pressure(e.ts)


def _on_cache_hit(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.totals["cache_hits"] += 1
    v.totals["tokens_saved"] += _int(p.get("tokens_saved"))


def _on_candidate(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v.candidates += 1
    valid = p.get("valid") is True
    if valid:
        v.valid_candidates += 1
    idea = v._idea(e)
    cid = _str(p.get("candidate_id"))
    if cid:
        if e.idea_id:
            _put(v.candidate_idea, cid, e.idea_id, MAX_OPEN_CANDIDATES)
        if idea is not None:
            idea.candidates.add(cid)
        expression = _str(p.get("expression"))
        if expression:
            _put(v.expressions, cid, expression, MAX_OPEN_CANDIDATES)
    if (
        valid and v.kpi is None
    ):  # coverage and novelty of valid candidates (as telemetry/kpi.py), until kpi.batch
        v._subcategories_seen.update(_str_list(p.get("subcategories")))
        v._combos.add(
            (tuple(sorted(_str_list(p.get("operators")))), tuple(sorted(_str_list(p.get("fields")))))
        )


def _on_kpi(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    v._subcategories_seen.clear()  # from now on kpi.batch carries coverage and novelty
    v._combos.clear()
    v.kpi = {
        "coverage": _int(p.get("coverage")),
        "coverage_share": _num(p.get("coverage_share")),
        "novelty": _num(p.get("novelty")),
        "structural_novelty": _num(p.get("structural_novelty")),
    }
    v.kpi_batches.append(
        {
            "event_id": e.id,
            "ts": e.ts,
            "batch_id": _str(p.get("batch_id")),
            "candidates": _int(p.get("candidates")),
            **v.kpi,
        }
    )


def _sim(v: RunView, e: Event, cid: str) -> dict[str, Any]:
    record = v.simulations.get(cid)
    if record is None:
        record = {
            "candidate_id": cid,
            "status": "submitted",
            "backend": None,
            "expression": v.expressions.get(cid),
            "idea_id": e.idea_id,
            "lane": e.lane,
            "submitted_at": e.ts,
            "finished_at": None,
            "progress": 0.0,
        }
        _put(v.simulations, cid, record, MAX_SIMULATIONS)
    return record


def _on_sim_submitted(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    cid = _str(p.get("candidate_id"))
    if not cid:
        return
    record = _sim(v, e, cid)
    record["backend"] = _str(p.get("backend"))
    expression = _str(p.get("expression"))
    if expression:
        record["expression"] = expression
        if cid not in v.expressions:
            _put(v.expressions, cid, expression, MAX_OPEN_CANDIDATES)
    v.in_flight.add(cid)


def _on_sim_progress(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    cid = _str(p.get("candidate_id"))
    if cid and cid in v.simulations and v.simulations[cid]["status"] in ("submitted", "running"):
        v.simulations[cid].update(status="running", progress=_num(p.get("progress")))


def _on_sim_finished(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    cid = _str(p.get("candidate_id")) or f"ev{e.id}"
    record = _sim(v, e, cid)
    v.in_flight.discard(cid)
    if p.get("total_s") is not None:
        v.latencies.append(_num(p.get("total_s")))
    timing = {k: (_num(p.get(k)) if p.get(k) is not None else None) for k in ("queue_s", "run_s", "total_s")}
    record.update(finished_at=e.ts, progress=1.0, **timing)
    if e.name == ev.SIMULATION_FAILED:
        v.sim_counts["errors"] += 1
        record.update(status="failed", error_code=_str(p.get("error_code")), message=_str(p.get("message")))
        v.feed.append(f"Simulation {cid} failed: {_str(p.get('error_code')) or 'error'}")
    else:
        v.sim_counts["done"] += 1
        sharpe = _num(p.get("sharpe"))
        passed = p.get("passed") is True
        v.sim_counts["passed" if passed else "failed"] += 1
        fitness = _num(p.get("fitness")) if p.get("fitness") is not None else None
        record.update(
            status="completed",
            alpha_id=_str(p.get("alpha_id")),
            sharpe=sharpe,
            fitness=fitness,
            turnover=_num(p.get("turnover")) if p.get("turnover") is not None else None,
            returns=_num(p.get("returns")) if p.get("returns") is not None else None,
            passed=passed,
        )
        if v.best is None or sharpe > v.best["sharpe"]:
            v.best = {
                "candidate_id": cid,
                "sharpe": sharpe,
                "fitness": fitness,
                "expression": v.expressions.get(cid, ""),
            }
        v.feed.append(f"Simulation {cid}: Sharpe {sharpe:.2f} {'PASS' if passed else 'FAIL'}")
    v.expressions.pop(cid, None)  # simulated to the end: the record (if kept) holds the expression
    idea_id = v.candidate_idea.pop(cid, None)
    idea = v.ideas.get(idea_id) if idea_id else None
    if idea_id and idea is not None and cid in idea.candidates:
        idea.candidates.discard(cid)
        idea.simulated += 1
        if not idea.candidates:  # every candidate of the idea is simulated to the end
            v._finish_idea(idea_id)


def _on_cycle(v: RunView, e: Event, p: Mapping[str, Any]) -> None:
    status = _str(p.get("status"))
    v.status = status if status in FINISHED else "completed"
    for idea_id in list(v.ideas):
        v._finish_idea(idea_id)
    v.active_ideas.clear()
    v.feed.append(f"Cycle {status or 'completed'} · {_int(p.get('candidates'))} candidates")


_HANDLERS: dict[str, _Handler] = {
    ev.METADATA_SYNC: _on_metadata,
    ev.IDEA_REFINED: _on_idea_refined,
    ev.RETRIEVAL_PACK_BUILT: _on_pack_built,
    ev.BUDGET_CHECK_PASSED: _on_check,
    ev.BUDGET_CHECK_FAILED: _on_check,
    ev.BUDGET_FALLBACK_APPLIED: _on_fallback,
    ev.BUDGET_EXPLORE_FLOOR_PRESERVED: _on_floor,
    ev.BUDGET_BLOCKED: _on_blocked,
    ev.BUDGET_DEFERRED: _on_deferred,
    ev.BUDGET_RESERVED: _on_reserved,
    ev.BUDGET_SETTLED: _on_settled,
    ev.BUDGET_RELEASED: _on_released,
    ev.BUDGET_EXPANSION_APPLIED: _on_expansion,
    ev.LLM_CALL: _on_llm_call,
    ev.LLM_CACHE_HIT: _on_cache_hit,
    ev.CANDIDATE_CREATED: _on_candidate,
    ev.KPI_BATCH: _on_kpi,
    ev.SIMULATION_SUBMITTED: _on_sim_submitted,
    ev.SIMULATION_PROGRESS: _on_sim_progress,
    ev.SIMULATION_COMPLETED: _on_sim_finished,
    ev.SIMULATION_FAILED: _on_sim_finished,
    ev.CYCLE_COMPLETED: _on_cycle,
}
