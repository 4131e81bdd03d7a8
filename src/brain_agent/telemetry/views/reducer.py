"""The composing reducer: :class:`RunView` routes each event to the parts it concerns (budget,
calls, radar, candidates, simulations, series) and composes their views into the reactor_status
envelope (docs/reactor-contract.md). Each part owns its state; only this module knows how an event
touches several parts. Nothing here does I/O or reads a clock: the caller passes ``now``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from brain_agent.storage import Event
from brain_agent.telemetry import events as ev
from brain_agent.telemetry.views.budget import Budget, exhaustion, gauges, overall_pressure
from brain_agent.telemetry.views.calls import Calls
from brain_agent.telemetry.views.candidates import Candidates
from brain_agent.telemetry.views.common import (
    CRITICAL_PRESSURE,
    FINISHED,
    LANES,
    MAX_ALERTS,
    PROTECTION_WINDOW_S,
    VELOCITY_WINDOW_S,
    WARNING_PRESSURE,
    Extra,
    Format,
    integer,
    num,
    rnd,
    str_list,
    text,
)
from brain_agent.telemetry.views.radar import Radar
from brain_agent.telemetry.views.series import Series
from brain_agent.telemetry.views.simulations import Simulations


class RunView:
    """The incrementally maintained dashboard state of one run. Feed events in id order."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.cursor = 0
        self.event_count = 0
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.status: str | None = None  # from cycle_completed; the caller may know better (runs table)
        self.provider: str | None = None
        self.model: str | None = None
        self.budget = Budget()
        self.calls = Calls()
        self.radar = Radar()
        self.candidates = Candidates()
        self.sims = Simulations()
        self.series = Series()
        self.alerts: deque[dict[str, Any]] = deque(maxlen=MAX_ALERTS)

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
            self.radar.idea(event)
        handler = _HANDLERS.get(event.name)
        if handler is not None:
            handler(self, event, event.payload if isinstance(event.payload, Mapping) else {})

    def _rings(self) -> list[dict[str, Any]]:
        return self.budget.rings(self.calls.tokens, self.calls.cost)

    def _mark_pressure(self, ts: float) -> None:
        self.series.mark_pressure(ts, self._rings())

    # -- handlers: one per event name, each touching only the parts concerned ------------------
    def _on_metadata(self, e: Event, p: Mapping[str, Any]) -> None:
        raw = p.get("budget")
        self.budget.on_metadata(raw if isinstance(raw, Mapping) else {})
        pack = p.get("knowledge_pack")
        if isinstance(pack, Mapping):
            self.candidates.subcategory_total = integer(pack.get("subcategories"))
        self.provider, self.model = text(p.get("provider")), text(p.get("model"))
        self.radar.say(f"Reactor online · {self.provider or 'llm'}/{self.model or '?'}")

    def _on_idea_refined(self, e: Event, p: Mapping[str, Any]) -> None:
        idea = self.radar.idea(e)
        if idea is not None:
            subs = str_list(p.get("subcategories"))
            if subs:
                idea.subcategories = subs
            self.radar.scan(idea.subcategories)

    def _on_pack_built(self, e: Event, p: Mapping[str, Any]) -> None:
        idea = self.radar.idea(e)
        subs = str_list(p.get("subcategories"))
        names = p.get("subcategory_names")
        if isinstance(names, Mapping):
            self.radar.names.update({str(k): str(n) for k, n in names.items() if isinstance(n, str)})
        if idea is not None and subs:
            fresh = [s for s in subs if s not in idea.subcategories]
            idea.subcategories = subs
            self.radar.scan(fresh)

    def _on_check(self, e: Event, p: Mapping[str, Any]) -> None:
        self.budget.on_check(e.name == ev.BUDGET_CHECK_PASSED, p)
        self._mark_pressure(e.ts)

    def _on_fallback(self, e: Event, p: Mapping[str, Any]) -> None:
        self.budget.fallbacks += 1
        reason = f"{text(p.get('stage')) or 'topk'} {integer(p.get('from_k'))}→{integer(p.get('to_k'))}"
        self.budget.protect(e, reason)
        self.radar.say(
            f"Fallback: {reason} ({integer(p.get('tokens_before'))}→{integer(p.get('tokens_after'))} tok)"
        )

    def _on_floor(self, e: Event, p: Mapping[str, Any]) -> None:
        self.budget.explore_floor_preserved += 1
        self.budget.protect(
            e, f"explore floor {integer(p.get('explore_count'))}/{integer(p.get('min_explore'))}"
        )
        deferred = text(p.get("deferred_idea_id"))
        if deferred:
            self.radar.finish(deferred)
        self.radar.say("Explore floor preserved" + (f" · deferred {deferred}" if deferred else ""))

    def _on_blocked(self, e: Event, p: Mapping[str, Any]) -> None:
        self.budget.blocked += 1
        code = text(p.get("failure_code")) or "BUDGET_BLOCKED"
        self.budget.protect(e, code)
        self.budget.last_blocked_at = e.ts
        if e.idea_id:
            self.radar.finish(e.idea_id)
        self.radar.say(
            f"BLOCKED {code} ({num(p.get('observed')):g}/{num(p.get('limit')):g}) → "
            f"{text(p.get('action')) or 'defer'}"
        )

    def _on_deferred(self, e: Event, p: Mapping[str, Any]) -> None:
        self.budget.deferred += 1
        if e.idea_id:
            self.radar.finish(e.idea_id)

    def _on_threshold(self, e: Event, p: Mapping[str, Any]) -> None:
        alert = {
            "event_id": e.id,
            "ts": e.ts,
            "scope": text(p.get("scope")) or "?",
            "scope_key": text(p.get("scope_key")) or "?",
            "unit": "usd" if p.get("unit") == "usd" else "tokens",
            "threshold": num(p.get("threshold")),
            "share": num(p.get("share")),
            "spent": text(p.get("spent")) or "0",
            "limit": text(p.get("limit")) or "0",
            "window_end": text(p.get("window_end")),
        }
        self.alerts.append(alert)
        self.radar.say(f"Budget alert · {alert['scope']} {alert['threshold']:.0%} of its cap reached")

    def _on_reserved(self, e: Event, p: Mapping[str, Any]) -> None:
        self.budget.on_reserved(e, p)
        self._mark_pressure(e.ts)

    def _on_settled(self, e: Event, p: Mapping[str, Any]) -> None:
        tokens = self.budget.on_settled(e, p)
        self.series.add_tokens(e.ts, e.lane or "none", tokens)
        self._mark_pressure(e.ts)

    def _on_released(self, e: Event, p: Mapping[str, Any]) -> None:
        self.budget.on_released(p)
        self._mark_pressure(e.ts)

    def _on_expansion(self, e: Event, p: Mapping[str, Any]) -> None:
        self.budget.expansions += 1
        self.radar.say(
            f"Expansion: {text(p.get('stage')) or 'topk'} {integer(p.get('from_k'))}→{integer(p.get('to_k'))}"
        )

    def _on_llm_call(self, e: Event, p: Mapping[str, Any]) -> None:
        tokens, cost = self.calls.on_call(e, p)
        self.series.add_cost(e.ts, cost)
        self.budget.on_llm_spend(e, tokens)
        if not self.budget.ledger_seen:  # without a ledger, llm.call is the spend
            self.series.add_tokens(e.ts, e.lane or "none", tokens)
            self._mark_pressure(e.ts)

    def _on_cache_hit(self, e: Event, p: Mapping[str, Any]) -> None:
        self.calls.on_cache_hit(p)

    def _on_candidate(self, e: Event, p: Mapping[str, Any]) -> None:
        idea = self.radar.idea(e)
        cid = self.candidates.on_created(e, p)
        if cid and idea is not None:
            idea.candidates.add(cid)

    def _on_kpi(self, e: Event, p: Mapping[str, Any]) -> None:
        self.candidates.on_kpi(e, p)

    def _on_sim_submitted(self, e: Event, p: Mapping[str, Any]) -> None:
        cid = text(p.get("candidate_id"))
        if not cid:
            return
        self.sims.on_submitted(e, cid, p, self.candidates.expressions.get(cid))
        expression = text(p.get("expression"))
        if expression:
            self.candidates.remember_expression(cid, expression)

    def _on_sim_progress(self, e: Event, p: Mapping[str, Any]) -> None:
        cid = text(p.get("candidate_id"))
        if cid:
            self.sims.on_progress(cid, p)

    def _on_sim_finished(self, e: Event, p: Mapping[str, Any]) -> None:
        cid = text(p.get("candidate_id")) or f"ev{e.id}"
        line = self.sims.on_finished(
            e, cid, p, e.name == ev.SIMULATION_FAILED, self.candidates.expressions.get(cid)
        )
        self.radar.say(line)
        idea_id = self.candidates.simulated(cid)
        idea = self.radar.ideas.get(idea_id) if idea_id else None
        if idea_id and idea is not None and cid in idea.candidates:
            idea.candidates.discard(cid)
            idea.simulated += 1
            if not idea.candidates:  # every candidate of the idea is simulated to the end
                self.radar.finish(idea_id)

    def _on_cycle(self, e: Event, p: Mapping[str, Any]) -> None:
        status = text(p.get("status"))
        self.status = status if status in FINISHED else "completed"
        self.radar.finish_all()
        self.radar.say(f"Cycle {status or 'completed'} · {integer(p.get('candidates'))} candidates")

    # -- views -----------------------------------------------------------------------------
    def as_of(self, now: float, status: str | None = None) -> float:
        """``now`` while the run is running; the last event's ``ts`` once it is finished."""
        status = status or self.status or "running"
        if status in FINISHED and self.last_ts is not None:
            return self.last_ts
        return now

    def protection_active(self, as_of: float) -> bool:
        return self.budget.protection_active(as_of)

    def snapshot(
        self, now: float, *, status: str | None = None, fmt: Format = "both", extra: Extra | None = None
    ) -> dict[str, Any]:
        """The reactor_status envelope at ``now`` (``status`` overrides the event-derived status)."""
        status = status or self.status or "running"
        as_of = self.as_of(now, status)
        rings = self._rings()
        pressure = overall_pressure(rings)
        protection = self.budget.protection_active(as_of)
        blocked = self.budget.blocked_recently(as_of)
        out: dict[str, Any] = {"run_id": self.run_id, "status": status, "as_of": as_of, "cursor": self.cursor}
        if fmt in ("both", "reactor"):
            out["reactor"] = self._reactor(as_of, rings, pressure, protection, blocked, status in FINISHED)
        if fmt in ("both", "chart"):
            out["series"] = self.series.view()
            out["gauges"] = gauges(rings)
            out["flags"] = {
                "protection_mode": protection,
                "over_budget": pressure >= 1.0 or self.budget.last_check_failed,
                "blocked": blocked,
                "explore_floor_preserved": self.budget.explore_floor_preserved > 0,
            }
        if extra == "budget":
            out["budget"] = self.budget_view()
        elif extra == "kpi":
            out["kpi"] = {"current": self.kpi_view(), "per_batch": list(self.candidates.kpi_batches)}
        return out

    def _reactor(
        self,
        as_of: float,
        rings: list[dict[str, Any]],
        pressure: float,
        protection: bool,
        blocked: bool,
        finished: bool,
    ) -> dict[str, Any]:
        _, lane_tokens, ticks = self.budget.spent(self.calls.tokens)
        window = [(n, rs) for ts, n, rs in ticks if as_of - VELOCITY_WINDOW_S < ts <= as_of]
        velocity = sum(n for n, _ in window) / VELOCITY_WINDOW_S
        tte = exhaustion(rings, window, finished)
        if blocked:
            state = "blocked"
        elif pressure >= CRITICAL_PRESSURE:
            state = "critical"
        elif pressure >= WARNING_PRESSURE:
            state = "warning"
        else:
            state = "nominal"
        lane_total = sum(lane_tokens.get(lane, 0) for lane in LANES)
        targets = {"exploit": self.budget.exploit_ratio, "explore": self.budget.explore_ratio}
        lanes = {
            lane: {
                "target_share": targets[lane],
                "actual_share": rnd(lane_tokens.get(lane, 0) / lane_total) if lane_total else 0.0,
                "tokens": lane_tokens.get(lane, 0),
                "ideas": self.radar.lane_ideas.get(lane, 0),
            }
            for lane in LANES
        }
        prot = self.budget.protection
        return {
            "pressure": pressure,
            "pressure_by_scope": {r["scope"]: r["pressure"] for r in rings},
            "velocity": {"tokens_per_s": rnd(velocity), "window_s": VELOCITY_WINDOW_S},
            "time_to_exhaustion_s": tte[0] if tte else None,
            "exhaustion_scope": tte[1] if tte else None,
            "protection_mode": protection,
            "protection": {
                "window_s": PROTECTION_WINDOW_S,
                "last_event": prot[0] if prot else None,
                "at": prot[1] if prot else None,
                "reason": prot[2] if prot else None,
            },
            "core": {"heat": min(1.0, pressure), "state": state},
            "rings": rings,
            "injections": list(self.calls.injections),
            "pulse": list(self.calls.pulse),
            "lanes": lanes,
            "radar": self.radar.view(),
            "simulation": self.sims.view(),
            "totals": self.totals_view(),
            "kpi": self.kpi_view(),
            "alerts": list(self.alerts),
        }

    def totals_view(self) -> dict[str, Any]:
        c, b = self.calls, self.budget
        return {
            "prompt_tokens": c.prompt,
            "completion_tokens": c.completion,
            "total_tokens": c.tokens,
            "cost": str(c.cost),
            "calls": c.calls,
            "cache_hits": max(c.cache_hits, c.cache_hit_calls),
            "tokens_saved": c.tokens_saved,
            "fallbacks": b.fallbacks,
            "blocked": b.blocked,
            "deferred": b.deferred,
        }

    def kpi_view(self) -> dict[str, Any]:
        return self.candidates.view()

    def budget_view(self) -> dict[str, Any]:
        return self.budget.view(self.calls.tokens, self.calls.cost)

    def headline(self, now: float, status: str | None = None) -> dict[str, Any]:
        """The few numbers a run list shows."""
        as_of = self.as_of(now, status)
        best = self.sims.best
        return {
            "events": self.event_count,
            "cursor": self.cursor,
            "last_event_at": self.last_ts,
            "total_tokens": self.calls.tokens,
            "cost": str(self.calls.cost),
            "calls": self.calls.calls,
            "candidates": self.candidates.total,
            "pressure": overall_pressure(self._rings()),
            "protection_mode": self.budget.protection_active(as_of),
            "best_sharpe": best["sharpe"] if best else None,
        }

    def simulation_list(self, limit: int) -> list[dict[str, Any]]:
        """The run's kept simulations in submission order (the newest ``limit``)."""
        return self.sims.listing(limit)


_Handler = Callable[[RunView, Event, Mapping[str, Any]], None]

_HANDLERS: dict[str, _Handler] = {
    ev.METADATA_SYNC: RunView._on_metadata,
    ev.IDEA_REFINED: RunView._on_idea_refined,
    ev.RETRIEVAL_PACK_BUILT: RunView._on_pack_built,
    ev.BUDGET_CHECK_PASSED: RunView._on_check,
    ev.BUDGET_CHECK_FAILED: RunView._on_check,
    ev.BUDGET_FALLBACK_APPLIED: RunView._on_fallback,
    ev.BUDGET_EXPLORE_FLOOR_PRESERVED: RunView._on_floor,
    ev.BUDGET_BLOCKED: RunView._on_blocked,
    ev.BUDGET_DEFERRED: RunView._on_deferred,
    ev.BUDGET_RESERVED: RunView._on_reserved,
    ev.BUDGET_THRESHOLD_CROSSED: RunView._on_threshold,
    ev.BUDGET_SETTLED: RunView._on_settled,
    ev.BUDGET_RELEASED: RunView._on_released,
    ev.BUDGET_EXPANSION_APPLIED: RunView._on_expansion,
    ev.LLM_CALL: RunView._on_llm_call,
    ev.LLM_CACHE_HIT: RunView._on_cache_hit,
    ev.CANDIDATE_CREATED: RunView._on_candidate,
    ev.KPI_BATCH: RunView._on_kpi,
    ev.SIMULATION_SUBMITTED: RunView._on_sim_submitted,
    ev.SIMULATION_PROGRESS: RunView._on_sim_progress,
    ev.SIMULATION_COMPLETED: RunView._on_sim_finished,
    ev.SIMULATION_FAILED: RunView._on_sim_finished,
    ev.CYCLE_COMPLETED: RunView._on_cycle,
}
