"""The fleet view: one reactor over every running run (``GET /api/live/reactor_status``).

Several processes (on several machines, with a PostgreSQL store) each run a batch against one shared
ledger. Their day, week and money scopes are the *same* rows, so the fleet's period rings are the
shared ledger windows (the caller passes their usage, read from the store, in ``shared``); the batch,
lane and request scopes belong to each run, so the fleet shows the most pressed run's ring. Velocity
is the sum of the runs' velocities; the core's heat is the max pressure over all of it. Pure: no
I/O, no clock (the caller passes ``now``). Definitions in docs/api.md ("The fleet view").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from brain_agent.telemetry.alpha_yield import rank_key
from brain_agent.telemetry.views.budget import gauges, money_scope, overall_pressure
from brain_agent.telemetry.views.common import (
    CRITICAL_PRESSURE,
    FEED_SHOWN,
    LANES,
    MAX_ALERTS,
    MAX_INJECTIONS,
    MAX_PULSE,
    MAX_SCANNING,
    VELOCITY_WINDOW_S,
    WARNING_PRESSURE,
    money,
    rnd,
)

PERIOD_SCOPES = ("day", "week", "money_day", "money_week")
"""Scopes whose counters every run on one store shares."""

FLEET_ID = "live"


@dataclass(frozen=True)
class Member:
    """One running run: its id, holder (``host:pid``) and reactor_status (``format=both``)."""

    run_id: str
    holder: str | None
    status: Mapping[str, Any]


@dataclass(frozen=True)
class Shared:
    """A period scope's shared usage, read from the ledger (money scopes in USD)."""

    spent: float
    reserved: float


def _rings(members: Sequence[Member], shared: Mapping[str, Shared]) -> list[dict[str, Any]]:
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for m in members:
        for ring in m.status["reactor"]["rings"]:
            by_scope.setdefault(ring["scope"], []).append(ring)
    out: list[dict[str, Any]] = []
    for scope in sorted(by_scope):
        rings = by_scope[scope]
        if scope in PERIOD_SCOPES:
            limit = min(r["limit"] for r in rings)  # the tightest cap any run holds
            if scope in shared:
                spent, reserved = shared[scope].spent, shared[scope].reserved
            else:  # no ledger reading: the run that has seen the most of the window
                top = max(rings, key=lambda r: r["spent"] + r["reserved"])
                spent, reserved = top["spent"], top["reserved"]
            out.append(
                {
                    "scope": scope,
                    "spent": spent,
                    "reserved": reserved,
                    "limit": limit,
                    "pressure": rnd((spent + reserved) / limit) if limit > 0 else 0.0,
                }
            )
        else:
            out.append(dict(max(rings, key=lambda r: r["pressure"])))
    return out


def _exhaustion(
    rings: list[dict[str, Any]], members: Sequence[Member], velocity: float
) -> tuple[float, str] | None:
    """The first scope to run out: a shared token scope at the fleet's velocity, or a run's own
    forecast, whichever comes first."""
    best: tuple[float, str] | None = None
    for m in members:
        r = m.status["reactor"]
        if r["time_to_exhaustion_s"] is not None and r["exhaustion_scope"] not in PERIOD_SCOPES:
            cand = (float(r["time_to_exhaustion_s"]), str(r["exhaustion_scope"]))
            best = cand if best is None or cand[0] < best[0] else best
    if velocity > 0:
        for ring in rings:
            if ring["scope"] in PERIOD_SCOPES and not money_scope(ring["scope"]):
                left = max(0.0, ring["limit"] - ring["spent"] - ring["reserved"])
                cand = (rnd(left / velocity), str(ring["scope"]))
                best = cand if best is None or cand[0] < best[0] else best
    return best


def _sum_keys(parts: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    return {k: sum(int(p[k]) for p in parts) for k in keys}


def _simulation(members: Sequence[Member]) -> dict[str, Any]:
    sims = [m.status["reactor"]["simulation"] for m in members]
    out = _sum_keys(sims, ("in_flight", "done", "passed", "failed", "errors"))
    p50 = [s["latency_s"]["p50"] for s in sims if s["latency_s"]["p50"] is not None]
    p95 = [s["latency_s"]["p95"] for s in sims if s["latency_s"]["p95"] is not None]
    out["latency_s"] = {"p50": max(p50, default=None), "p95": max(p95, default=None)}
    bests = [s["best"] for s in sims if s["best"] is not None]
    out["best"] = max(bests, key=lambda b: rank_key(b["sharpe"], b["fitness"]), default=None)
    return out


def _totals(members: Sequence[Member]) -> dict[str, Any]:
    totals = [m.status["reactor"]["totals"] for m in members]
    keys = (
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "calls",
        "cache_hits",
        "tokens_saved",
        "fallbacks",
        "blocked",
        "deferred",
    )
    out = _sum_keys(totals, keys)
    out["cost"] = str(sum((money(t["cost"]) for t in totals), Decimal(0)))
    return out


def _lanes(members: Sequence[Member]) -> dict[str, Any]:
    lanes = [m.status["reactor"]["lanes"] for m in members]
    tokens = {lane: sum(int(ln[lane]["tokens"]) for ln in lanes) for lane in LANES}
    total = sum(tokens.values())
    return {
        lane: {
            "target_share": lanes[0][lane]["target_share"],
            "actual_share": rnd(tokens[lane] / total) if total else 0.0,
            "tokens": tokens[lane],
            "ideas": sum(int(ln[lane]["ideas"]) for ln in lanes),
        }
        for lane in LANES
    }


def fleet_status(
    members: Sequence[Member], shared: Mapping[str, Shared], now: float, cursor: int
) -> dict[str, Any]:
    """The reactor_status envelope of the whole fleet (``run_id`` ``"live"``), plus ``runs``: each
    member's id, holder, pressure and velocity. With no running run: status ``idle``, reactor null."""
    runs = [
        {
            "run_id": m.run_id,
            "holder": m.holder,
            "pressure": m.status["reactor"]["pressure"],
            "tokens_per_s": m.status["reactor"]["velocity"]["tokens_per_s"],
        }
        for m in members
    ]
    out: dict[str, Any] = {
        "run_id": FLEET_ID,
        "status": "running" if members else "idle",
        "as_of": now,
        "cursor": cursor,
        "runs": runs,
    }
    if not members:
        return out
    reactors = [m.status["reactor"] for m in members]
    rings = _rings(members, shared)
    pressure = overall_pressure(rings)
    velocity = rnd(sum(float(r["velocity"]["tokens_per_s"]) for r in reactors))
    tte = _exhaustion(rings, members, velocity)
    blocked = any(m.status.get("flags", {}).get("blocked") for m in members)
    if blocked:
        state = "blocked"
    elif pressure >= CRITICAL_PRESSURE:
        state = "critical"
    elif pressure >= WARNING_PRESSURE:
        state = "warning"
    else:
        state = "nominal"
    protections = [r["protection"] for r in reactors if r["protection"]["at"] is not None]
    widest = max(reactors, key=lambda r: r["kpi"]["coverage"])
    out["reactor"] = {
        "pressure": pressure,
        "pressure_by_scope": {r["scope"]: r["pressure"] for r in rings},
        "velocity": {"tokens_per_s": velocity, "window_s": VELOCITY_WINDOW_S},
        "time_to_exhaustion_s": tte[0] if tte else None,
        "exhaustion_scope": tte[1] if tte else None,
        "protection_mode": any(r["protection_mode"] for r in reactors),
        "protection": max(protections, key=lambda p: p["at"])
        if protections
        else {**reactors[0]["protection"], "last_event": None, "at": None, "reason": None},
        "core": {"heat": pressure, "state": state},
        "rings": rings,
        "injections": sorted((i for r in reactors for i in r["injections"]), key=lambda i: i["ts"])[
            -MAX_INJECTIONS:
        ],
        "pulse": sorted((p for r in reactors for p in r["pulse"]), key=lambda p: p["ts"])[-MAX_PULSE:],
        "lanes": _lanes(members),
        "radar": {
            "scanning": [s for r in reactors for s in r["radar"]["scanning"]][:MAX_SCANNING],
            "feed": [line for r in reactors for line in r["radar"]["feed"][-FEED_SHOWN:]][-FEED_SHOWN:],
        },
        "simulation": _simulation(members),
        "totals": _totals(members),
        "kpi": dict(widest["kpi"]),
        # a crossing fires once across every process sharing the store: one run carries each
        "alerts": sorted((a for r in reactors for a in r.get("alerts", [])), key=lambda a: a["ts"])[
            -MAX_ALERTS:
        ],
    }
    out["gauges"] = gauges(rings)
    out["flags"] = {
        "protection_mode": out["reactor"]["protection_mode"],
        "over_budget": pressure >= 1.0 or any(m.status.get("flags", {}).get("over_budget") for m in members),
        "blocked": blocked,
        "explore_floor_preserved": any(
            m.status.get("flags", {}).get("explore_floor_preserved") for m in members
        ),
    }
    return out


__all__ = ["FLEET_ID", "PERIOD_SCOPES", "Member", "Shared", "fleet_status"]
