"""Budget rings and pressure, velocity and the exhaustion forecast, and the protections.

Definitions in docs/api.md. Spend is attributed to rings through the scope keys each
``budget.reserved`` lists; a run without ledger events counts ``llm.call`` tokens (given by the
caller as ``llm_tokens`` / ``llm_cost``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from brain_agent.storage import Event
from brain_agent.telemetry.views.common import (
    PROTECTION_WINDOW_S,
    VELOCITY_WINDOW_S,
    integer,
    money,
    num,
    rnd,
    text,
)

_RING_PREFIXES = {
    "batch": "batch",
    "expansion": "expansion",
    "day": "day",
    "week": "week",
    "money_day": "money_day",
    "money_week": "money_week",
}

Tick = tuple[float, int, tuple[str, ...]]  # (ts, tokens, rings drawn on)


def money_scope(scope: str) -> bool:
    return scope.startswith("money") or scope.endswith("_usd") or "cost" in scope


def gauges(rings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chart format's gauges: one per ring, value = spent + reserved, with its unit."""
    return [
        {
            "scope": r["scope"],
            "value": r["spent"] + r["reserved"],
            "limit": r["limit"],
            "pressure": r["pressure"],
            "unit": "usd" if money_scope(r["scope"]) else "tokens",
        }
        for r in rings
    ]


def request_scope(scope: str) -> bool:
    return scope in ("request", "request_prompt", "request_completion")


def overall_pressure(rings: list[dict[str, Any]]) -> float:
    """The core's heat: the max over the cumulative scopes (batch, lanes, expansion, periods, money).
    Request scopes measure one call's size, not budget burn, so they have rings but don't heat the core."""
    return max((r["pressure"] for r in rings if not request_scope(r["scope"])), default=0.0)


def ring_of(scope_key: str) -> str | None:
    """``lane:{batch}:exploit`` → ``lane_exploit``, ``day:2026-11-25@UTC`` → ``day``, …"""
    head = scope_key.split(":", 1)[0]
    if head == "lane":
        return f"lane_{scope_key.rsplit(':', 1)[-1]}"
    return _RING_PREFIXES.get(head)


def default_rings(lane: str | None) -> tuple[str, ...]:
    base = ("batch", "day", "week")
    return (*base, f"lane_{lane}") if lane in ("exploit", "explore") else base


def exhaustion(
    rings: list[dict[str, Any]], window: list[tuple[int, tuple[str, ...]]], finished: bool
) -> tuple[float, str] | None:
    """Seconds until the first scope runs out at the current velocity, and which scope.

    Only token scopes that the spend of the last 60 s actually drew on count: each scope's own
    velocity (its share of that spend) divides its remaining tokens. A reserve nobody drew on (e.g. an
    unused expansion scope) or a lane idle in the window cannot run out, so it is ignored. ``None`` for
    a finished run and when nothing was spent in the window."""
    if finished:
        return None
    best: tuple[float, str] | None = None
    for r in rings:
        scope = r["scope"]
        if money_scope(scope) or request_scope(scope):
            continue
        rate = sum(n for n, rs in window if scope in rs) / VELOCITY_WINDOW_S
        if rate <= 0:
            continue
        seconds = rnd(max(0.0, r["limit"] - r["spent"] - r["reserved"]) / rate)
        if best is None or seconds < best[0]:
            best = (seconds, scope)
    return best


class Budget:
    def __init__(self) -> None:
        # configuration (metadata_sync)
        self.limits: dict[str, float] = {}
        self.config: dict[str, Any] = {}
        self.exploit_ratio = 0.7
        self.explore_ratio = 0.3
        self.baseline: dict[str, float] = {}
        # the ledger
        self.ledger_seen = False
        self.spent_tokens = 0
        self.spent_cost = Decimal(0)
        self.reservations: dict[str, tuple[int, Decimal]] = {}
        self.reservation_rings: dict[str, tuple[str, ...]] = {}
        self.ring_spent: dict[str, float] = {}
        self.lane_tokens: dict[str, int] = {}
        self.last_request = (0, 0)  # (latest admitted prompt, last call's real completion)
        self.checks = {"passed": 0, "failed": 0}
        self.last_check_failed = False
        self.expansions = 0
        # spend without ledger events (llm.call)
        self.llm_lane_tokens: dict[str, int] = {}
        self._spend_ticks: deque[Tick] = deque()
        self._llm_ticks: deque[Tick] = deque()
        # protections: what the budget did
        self.protection: tuple[str, float, str | None] | None = None  # (event name, ts, reason)
        self.last_blocked_at: float | None = None
        self.explore_floor_preserved = 0
        self.fallbacks = 0
        self.blocked = 0
        self.deferred = 0

    # -- folding -----------------------------------------------------------------------------
    def on_metadata(self, budget: Mapping[str, Any]) -> None:
        limits = budget.get("limits")
        if isinstance(limits, Mapping):
            for scope, limit in sorted(limits.items()):  # one order whatever the JSON key order
                if limit is not None and num(limit) > 0:
                    self.limits[str(scope)] = num(limit)
        baseline = budget.get("baseline")
        if isinstance(baseline, Mapping):
            self.baseline = {str(k): num(val) for k, val in baseline.items() if val is not None}
        self.exploit_ratio = num(budget.get("exploit_ratio"), self.exploit_ratio)
        self.explore_ratio = num(budget.get("explore_ratio"), self.explore_ratio)
        self.config = {
            k: val
            for k, val in budget.items()
            if k not in ("limits", "baseline") and isinstance(val, int | float | str)
        }

    def on_check(self, passed: bool, p: Mapping[str, Any]) -> None:
        if passed:  # the admitted prompt (after any fallback), not the rejected one
            self.last_request = (integer(p.get("prompt_tokens")), self.last_request[1])
        self.checks["passed" if passed else "failed"] += 1
        self.last_check_failed = not passed

    def protect(self, e: Event, reason: str | None) -> None:
        self.protection = (e.name, e.ts, reason)

    def on_reserved(self, e: Event, p: Mapping[str, Any]) -> None:
        self.ledger_seen = True
        rid = text(p.get("reservation_id")) or f"ev{e.id}"
        self.reservations[rid] = (integer(p.get("tokens")), money(p.get("cost")))
        scopes = p.get("scopes")
        keys = [str(k) for k in scopes] if isinstance(scopes, list) else []
        self.reservation_rings[rid] = tuple(r for r in (ring_of(k) for k in keys) if r) or default_rings(
            e.lane
        )

    def on_settled(self, e: Event, p: Mapping[str, Any]) -> int:
        """Settle a reservation; returns the tokens spent."""
        self.ledger_seen = True
        rid = text(p.get("reservation_id"))
        rings = default_rings(e.lane)
        if rid:
            self.reservations.pop(rid, None)
            rings = self.reservation_rings.pop(rid, rings)
        total = p.get("total_tokens")
        tokens = (
            integer(total)
            if total is not None
            else integer(p.get("prompt_tokens")) + integer(p.get("completion_tokens"))
        )
        cost = money(p.get("cost"))
        self.last_request = (self.last_request[0], integer(p.get("completion_tokens")))
        self.spent_tokens += tokens
        self.spent_cost += cost
        for ring in rings:
            self.ring_spent[ring] = self.ring_spent.get(ring, 0.0) + (
                float(cost) if money_scope(ring) else tokens
            )
        self._tick(e.ts, e.lane, tokens, ledger=True, rings=tuple(rings))
        return tokens

    def on_released(self, p: Mapping[str, Any]) -> None:
        self.ledger_seen = True
        rid = text(p.get("reservation_id"))
        if rid:
            self.reservations.pop(rid, None)
            self.reservation_rings.pop(rid, None)

    def on_llm_spend(self, e: Event, tokens: int) -> None:
        self._tick(e.ts, e.lane, tokens, ledger=False, rings=default_rings(e.lane))

    def _tick(
        self, ts: float, lane: str | None, tokens: int, *, ledger: bool, rings: tuple[str, ...]
    ) -> None:
        ticks = self._spend_ticks if ledger else self._llm_ticks
        ticks.append((ts, tokens, rings))
        while ticks and ticks[0][0] < ts - VELOCITY_WINDOW_S:
            ticks.popleft()
        lanes = self.lane_tokens if ledger else self.llm_lane_tokens
        key = lane or "none"
        lanes[key] = lanes.get(key, 0) + tokens

    # -- derived -----------------------------------------------------------------------------
    def spent(self, llm_tokens: int) -> tuple[int, dict[str, int], deque[Tick]]:
        """(spent tokens, tokens per lane, the velocity window's ticks): the ledger's, else llm.call's."""
        if self.ledger_seen:
            return self.spent_tokens, self.lane_tokens, self._spend_ticks
        return llm_tokens, self.llm_lane_tokens, self._llm_ticks

    def rings(self, llm_tokens: int, llm_cost: Decimal) -> list[dict[str, Any]]:
        """One ring per configured scope. Day / week rings add ``budget.baseline`` (usage by earlier
        runs and other processes when this run started)."""
        spent_tokens, _, _ = self.spent(llm_tokens)
        out = []
        for scope, limit in self.limits.items():
            if not limit > 0:
                continue
            if request_scope(scope):
                prompt, completion = self.last_request
                spent: float = {"request_prompt": prompt, "request_completion": completion}.get(
                    scope, prompt + completion
                )
                reserved: float = 0
            else:
                is_money = money_scope(scope)
                reserved = 0.0
                for rid, (tokens, cost) in self.reservations.items():
                    if scope in self.reservation_rings.get(rid, ()):
                        reserved += float(cost) if is_money else tokens
                if self.ledger_seen:
                    spent = self.ring_spent.get(scope, 0.0)
                elif is_money:
                    spent = float(llm_cost)
                elif scope.startswith("lane_"):
                    spent = self.llm_lane_tokens.get(scope.removeprefix("lane_"), 0)
                elif scope == "expansion":
                    spent = 0
                else:
                    spent = spent_tokens
                spent += self.baseline.get(scope, 0.0)
            out.append(
                {
                    "scope": scope,
                    "spent": spent,
                    "reserved": reserved,
                    "limit": limit,
                    "pressure": rnd((spent + reserved) / limit),
                }
            )
        return out

    def protection_active(self, as_of: float) -> bool:
        return self.protection is not None and 0 <= as_of - self.protection[1] <= PROTECTION_WINDOW_S

    def blocked_recently(self, as_of: float) -> bool:
        return self.last_blocked_at is not None and 0 <= as_of - self.last_blocked_at <= PROTECTION_WINDOW_S

    def view(self, llm_tokens: int, llm_cost: Decimal) -> dict[str, Any]:
        spent_tokens, _, _ = self.spent(llm_tokens)
        return {
            "limits": dict(self.limits),
            "config": dict(self.config),
            "spent_tokens": spent_tokens,
            "spent_cost": str(self.spent_cost if self.ledger_seen else llm_cost),
            "reserved_tokens": sum(t for t, _ in self.reservations.values()),
            "reserved_cost": str(sum((c for _, c in self.reservations.values()), Decimal(0))),
            "open_reservations": len(self.reservations),
            "checks_passed": self.checks["passed"],
            "checks_failed": self.checks["failed"],
            "expansions": self.expansions,
            "source": "ledger_events" if self.ledger_seen else "llm_calls",
        }
