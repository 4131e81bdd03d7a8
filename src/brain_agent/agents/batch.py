"""``run-batch``: N ideas through lanes → retrieval → gate/ladder → budgeted LLM → validation →
expansion / repair hand-off, under one ``run_id``, ending with KPIs and ``cycle_completed``.

The run is one batch (``batch_id == run_id``). Ideas deferred by an earlier batch are claimed first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from brain_agent.agents.pipeline import Pipeline, RunContext
from brain_agent.errors import BrainAgentError, BudgetBlockedError, ConfigError
from brain_agent.generation.alpha_maker import Candidate, make_candidate
from brain_agent.generation.budget import (
    BudgetConfig,
    BudgetedProvider,
    BudgetGate,
    CallContext,
    Clock,
    PlannedIdea,
    PriceTable,
    SystemClock,
    Violation,
    emit_decision,
    gated_provider,
    ladder_sequence,
    plan_lanes,
    policy,
)
from brain_agent.generation.budget.alerts import Alerter
from brain_agent.generation.budget.attempts import (
    after_attempt,
    after_lost_race,
    after_refusal,
    violation_of,
)
from brain_agent.generation.budget.gate import blocked_payload
from brain_agent.generation.budget.lanes import explore_floor_tokens
from brain_agent.generation.budget.scope import ScopeKey
from brain_agent.generation.prompt import SYSTEM_PROMPT, render_alpha_prompt
from brain_agent.ideas import IdeaSpec
from brain_agent.knowledge import KnowledgePack
from brain_agent.llm.base import LLMProvider, LLMRequest
from brain_agent.llm.calllog import request_key
from brain_agent.retrieval import RetrievalPack, TopK, build_retrieval_pack
from brain_agent.simulation.result import validate_result
from brain_agent.storage import Store
from brain_agent.storage.run_queries import run_candidates
from brain_agent.telemetry import events as ev
from brain_agent.telemetry.alpha_yield import Spend, Yield, compute_yield, outcome_of, rank_key
from brain_agent.telemetry.kpi import batch_kpis

LANES = ("exploit", "explore")


@dataclass
class SimulationTotals:
    simulated: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    best_sharpe: float | None = None
    best_fitness: float | None = None

    def add(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            if record.get("status") == "SKIPPED":
                continue
            self.simulated += 1
            result = record.get("result")
            if record.get("status") != "COMPLETE" or not isinstance(result, dict):
                self.errors += 1
                continue
            alpha = validate_result(result)
            if alpha.passed:
                self.passed += 1
            else:
                self.failed += 1
            sharpe, fitness = alpha.is_.sharpe, alpha.is_.fitness
            if sharpe is not None and (  # one candidate's Sharpe and fitness: the best by rank_key
                self.best_sharpe is None
                or rank_key(sharpe, fitness) > rank_key(self.best_sharpe, self.best_fitness)
            ):
                self.best_sharpe, self.best_fitness = sharpe, fitness

    def to_dict(self) -> dict[str, Any]:
        return {
            "simulated": self.simulated,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "best_sharpe": self.best_sharpe,
            "best_fitness": self.best_fitness,
        }


@dataclass
class LaneTotals:
    ideas: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "ideas": self.ideas,
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens": self.tokens,
            "cost": str(self.cost),
        }


@dataclass
class BatchReport:
    run_id: str = ""
    status: str = "running"
    lanes: dict[str, LaneTotals] = field(default_factory=lambda: {lane: LaneTotals() for lane in LANES})
    ideas: int = 0
    candidates: int = 0
    valid: int = 0
    fallbacks: int = 0
    deferred: int = 0
    discarded: int = 0
    blocked: int = 0
    blocked_codes: list[str] = field(default_factory=list)
    cache_hits: int = 0
    tokens_saved: int = 0
    expansions: int = 0
    needs_repair: int = 0
    errors: int = 0
    floor_protections: int = 0
    kpi: dict[str, Any] = field(default_factory=dict)
    simulation: SimulationTotals = field(default_factory=lambda: SimulationTotals())
    alerts: list[dict[str, Any]] = field(default_factory=list)
    """``budget.threshold_crossed`` payloads this batch fired (each window and threshold fires once)."""
    alert_warnings: list[str] = field(default_factory=list)
    carried_over: list[str] = field(default_factory=list)
    """Ids of ideas deferred by earlier batches that this batch picked up (counted in ``ideas``)."""
    yields: Yield = field(default_factory=Yield)
    """Tokens and cost per valid candidate and per passing alpha by lane, and the best alpha
    (``telemetry.alpha_yield``, the same computation as ``runs show``)."""

    def summary(self) -> dict[str, Any]:
        """The ``cycle_completed`` payload (docs/events.md) plus the per-lane split."""
        prompt = sum(t.prompt_tokens for t in self.lanes.values())
        completion = sum(t.completion_tokens for t in self.lanes.values())
        ran = sum(t.ideas for t in self.lanes.values())
        return {
            "ideas": self.ideas,
            "ideas_run": ran,
            "ideas_not_run": self.ideas - ran,
            "alerts": list(self.alerts),
            "carried_over": len(self.carried_over),
            "carried_over_ids": list(self.carried_over),
            "candidates": self.candidates,
            "valid": self.valid,
            "deferred": self.deferred,
            "discarded": self.discarded,
            "blocked": self.blocked,
            "blocked_codes": sorted(set(self.blocked_codes)),
            "cache_hits": self.cache_hits,
            "tokens_saved": self.tokens_saved,
            "tokens": {"prompt": prompt, "completion": completion, "total": prompt + completion},
            "cost": str(sum((t.cost for t in self.lanes.values()), Decimal(0))),
            "fallbacks": self.fallbacks,
            "expansions": self.expansions,
            "needs_repair": self.needs_repair,
            "errors": self.errors,
            "explore_floor_preserved": self.floor_protections,
            "simulation": self.simulation.to_dict(),
            "coverage": self.kpi.get("coverage", 0),
            "coverage_share": self.kpi.get("coverage_share", 0.0),
            "novelty": self.kpi.get("novelty", 0.0),
            "structural_novelty": self.kpi.get("structural_novelty", 0.0),
            "lanes": {lane: t.to_dict() for lane, t in self.lanes.items()},
            "yield": self.yields.to_dict(),
        }

    def compute_yield(self, candidates: list[dict[str, Any]]) -> Yield:
        """The run's yield from its candidates (each with its newest ``simulation``, as
        ``storage.run_queries.run_candidates`` returns them) and this report's spend per lane."""
        spend = {lane: Spend(t.tokens, t.cost) for lane, t in self.lanes.items()}
        self.yields = compute_yield((outcome_of(c, c.get("simulation")) for c in candidates), spend)
        return self.yields


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    idea_id: str
    lane: str
    outcome: str


@dataclass
class BatchOptions:
    config: BudgetConfig
    prices: PriceTable
    knowledge_pack: KnowledgePack
    provider: LLMProvider
    clock: Clock = field(default_factory=SystemClock)
    pace_s: float = 0.0
    seed: int = 0
    claim_deferred: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    on_progress: Callable[[Progress], None] | None = None
    on_start: Callable[[str, int], None] | None = None
    """Called with (run_id, number of ideas) once the plan is known."""
    on_alert: Callable[[str], None] | None = None
    """Called with a one-line description of each budget alert as it fires."""
    on_carried: Callable[[list[str]], None] | None = None
    """Called with the ids of deferred ideas from earlier batches that join this one (if any)."""
    operator_level: Literal["BASE", "GENIUS"] = "BASE"
    """The account's BRAIN level: which operators retrieval may offer."""
    exploration_counts: tuple[dict[str, int], dict[str, int]] | None = None
    """Field and subcategory usage the explore lane ranks against; None = the store's now. A resumed
    batch passes the counts its first run recorded, so its prompts (and cache keys) are the same."""
    simulate: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    """Simulates a list of candidates (``simulation.runner.simulate_candidates`` bound to a backend);
    called after each idea with its new valid candidates, so simulation events interleave live."""


@dataclass
class _IdeaWork:
    idea: IdeaSpec
    pack: RetrievalPack
    cached: tuple[TopK, str] | None = None
    """A configuration whose prompt was answered before (largest first): served from the cache."""


class _Batch:
    def __init__(self, store: Store, opts: BatchOptions, run: RunContext) -> None:
        self.store, self.opts, self.run = store, opts, run
        self.config = opts.config
        self.gate = BudgetGate.open(opts.config, store, opts.prices, opts.clock)
        self.ledger = store.ledger
        base = CallContext(run_id=run.run_id, batch_id=run.run_id, lane="exploit", purpose="alpha")
        self.llm = gated_provider(opts.provider, self.gate, base, emit=run.emit)
        self.report = BatchReport(run_id=run.run_id)
        self.exploration = opts.exploration_counts or store.usage_counts()
        self.batch_id = run.run_id
        self.alerter = Alerter(
            store,
            opts.config.alert_thresholds,
            webhook_url=opts.config.alert_webhook_url,
            run_id=run.run_id,
            emit=lambda payload: self.run.emit(ev.BUDGET_THRESHOLD_CROSSED, payload, step="budget"),
            warn=self.report.alert_warnings.append,
        )

    def check_alerts(self) -> None:
        """Fire the budget alerts the spend so far crossed (cheap when none is configured)."""
        if not self.config.alert_thresholds:
            return
        for crossing in self.alerter.check(self.gate.status(self.batch_id), self.opts.clock.now()):
            self.report.alerts.append(crossing.payload())
            if self.opts.on_alert is not None:
                self.opts.on_alert(crossing.describe())

    # -- helpers -------------------------------------------------------------------------------
    def ctx(self, idea: IdeaSpec, *, expansion: bool = False) -> CallContext:
        return replace(self.llm.ctx, lane=idea.lane, idea_id=idea.id, expansion=expansion)

    def render(self, work: _IdeaWork, feedback: list[str]) -> Callable[[TopK], str]:
        return lambda k: SYSTEM_PROMPT + render_alpha_prompt(work.idea, work.pack, k, feedback=feedback)

    def block(self, idea: IdeaSpec, violation: Violation, reason: str, *, emit_blocked: bool = True) -> None:
        action = self.config.on_blocked
        self.report.blocked += 1
        self.report.blocked_codes.append(violation.failure_code)
        kw: dict[str, Any] = {"step": "budget", "idea_id": idea.id, "lane": idea.lane}
        if emit_blocked:
            self.run.emit(ev.BUDGET_BLOCKED, blocked_payload(violation, action), **kw)
        self.ledger.defer_idea(
            idea.id,
            idea.model_dump(),
            lane=idea.lane,
            from_run=self.run.run_id,
            reason=reason,
            failure_code=violation.failure_code,
            now=self.opts.clock.now(),
            discard=action == "discard",
        )
        if action == "discard":
            self.report.discarded += 1
        else:
            self.report.deferred += 1
            self.run.emit(
                ev.BUDGET_DEFERRED, {"reason": reason, "failure_code": violation.failure_code}, **kw
            )

    # -- planning ------------------------------------------------------------------------------
    def plan(self, ideas: list[IdeaSpec]) -> list[_IdeaWork]:
        fields_used, subs_used = self.exploration
        works: dict[str, _IdeaWork] = {}
        planned: list[PlannedIdea] = []
        completion = self.config.max_completion_tokens
        for idea in ideas:
            pack = build_retrieval_pack(
                idea,
                self.opts.knowledge_pack,
                field_usage=fields_used,
                subcategory_usage=subs_used,
                operator_level=self.opts.operator_level,
            )
            work = _IdeaWork(idea, pack)
            works[idea.id] = work
            start = pack.default_topk.as_topk()
            self.run.emit(
                ev.RETRIEVAL_PACK_BUILT,
                {
                    "topk": start.to_dict(),
                    "subcategories": [s.id for s in pack.subcategories[: start.subcategories]],
                    "subcategory_names": {s.id: s.name for s in pack.subcategories[: start.subcategories]},
                },
                step="retrieval",
                idea_id=idea.id,
                lane=idea.lane,
            )
            sequence = [k for _, k in ladder_sequence(start, self.config.fallback_topk_steps)]
            work.cached = self.cached_configuration(work, sequence)
            if work.cached is not None:  # a cache hit costs no tokens
                planned.append(PlannedIdea(idea.id, idea.lane, idea.priority, 0))
                continue
            est = self.gate.estimate(self.render(work, [])(sequence[-1]), self.ctx(idea))
            planned.append(PlannedIdea(idea.id, idea.lane, idea.priority, est.tokens + completion))
        floor = explore_floor_tokens(planned, self.config.min_explore_candidates_per_batch)
        if floor > self.config.lane_limit("explore"):
            raise ConfigError(
                f"the explore floor cannot be kept: min_explore_candidates_per_batch "
                f"{self.config.min_explore_candidates_per_batch} explore ideas need {floor} tokens at the "
                f"smallest Top-K, but the explore share (explore_ratio × (max_tokens_per_batch − "
                f"expansion_reserve_tokens)) is {self.config.lane_limit('explore')}",
                key="min_explore_candidates_per_batch",
            )
        status = {s.scope: s for s in self.gate.status(self.batch_id) if s.unit == "tokens"}
        shared = {
            str(ScopeKey.batch(self.batch_id)): _int(status["batch"].remaining)
            - _int(status["expansion"].remaining)
        }
        limits = {str(ScopeKey.batch(self.batch_id)): self.config.lane_pool_tokens}
        for kind in ("day", "week"):
            if status[kind].remaining is not None:
                shared[status[kind].scope_key] = _int(status[kind].remaining)
                limits[status[kind].scope_key] = _int(status[kind].limit)
        lane_left: dict[str, int] = {}
        for s in self.gate.status(self.batch_id):
            if s.scope == "lane":
                lane_left[ScopeKey.parse(s.scope_key).lane or ""] = _int(s.remaining)
        plan = plan_lanes(
            planned,
            shared_available=shared,
            lane_available=lane_left,
            min_explore=self.config.min_explore_candidates_per_batch,
        )
        for p in plan.protections:
            self.report.floor_protections += 1
            protected = works[p.protected_idea_id].idea
            self.run.emit(
                ev.BUDGET_EXPLORE_FLOOR_PRESERVED,
                {
                    "explore_count": p.explore_count,
                    "min_explore": p.min_explore,
                    "deferred_idea_id": p.deferred_idea_id,
                    "protected_idea_id": p.protected_idea_id,
                },
                step="budget",
                idea_id=protected.id,
                lane=protected.lane,
            )
        for d in plan.deferred:
            idea = works[d.idea_id].idea
            if d.reason == "lane_share":
                key = str(ScopeKey.lane_of(self.batch_id, d.scope))
                limit, left = self.config.lane_limit(d.scope), lane_left[d.scope]
            else:
                key, limit, left = d.scope, limits[d.scope], shared[d.scope]
            used = limit - left  # spent + held before this batch's plan
            self.block(idea, policy.violation_for(key, limit, used + d.needed), d.reason)
        return [works[i] for i in plan.order]

    def cached_configuration(self, work: _IdeaWork, sequence: list[TopK]) -> tuple[TopK, str] | None:
        provider = self.opts.provider
        for topk in sequence:
            prompt = render_alpha_prompt(work.idea, work.pack, topk)
            request = LLMRequest(
                prompt=prompt,
                system=SYSTEM_PROMPT,
                max_tokens=self.config.max_completion_tokens,
                seed=self.opts.seed,
                purpose="alpha",
            )
            if self.store.cached_response(request_key(provider.name, provider.model, request)) is not None:
                return topk, prompt
        return None

    # -- one idea ------------------------------------------------------------------------------
    def run_idea(self, work: _IdeaWork) -> str:
        idea, cfg = work.idea, self.config
        lane = self.report.lanes[idea.lane]
        lane.ideas += 1
        topk = work.pack.default_topk.as_topk()
        feedback: list[str] = []
        codes: list[str | None] = []
        expanded = False
        last: Candidate | None = None
        for attempt in range(1, cfg.max_attempts_per_idea + 1):
            ctx = self.ctx(idea, expansion=expanded)
            provider = self.llm.bind(**_ctx_fields(ctx))
            if attempt == 1 and work.cached is not None:
                # answered before: the wrapper serves it from the cache at zero tokens, no budget check
                chosen, cached_prompt = work.cached
                last = self.ask(provider, work, chosen, cached_prompt)
            else:
                got = self.attempt(work, ctx, provider, topk, feedback)
                if isinstance(got, str):
                    if got == "hand_off":
                        return self.hand_off(idea, last, codes, attempt - 1, "expansion reserve exhausted")
                    return got
                chosen, last = got
            self.account(idea.lane, provider, last)
            self.pace()
            if not last.valid:
                codes.append(last.error_code)
                message = last.diagnostics[0]["message"] if last.diagnostics else ""
                feedback.append(f"{last.error_code}: {message}")
            step = after_attempt(
                cfg,
                valid=last.valid,
                codes=codes,
                chosen=chosen,
                expanded=expanded,
                attempt=attempt,
                maximum=work.pack.max_topk,
            )
            if step.kind == "done":
                return "valid"
            if step.kind == "hand_off":
                return self.hand_off(idea, last, codes, attempt, step.reason)
            assert step.topk is not None
            topk = step.topk
            if step.kind == "expand":
                assert step.expansion is not None
                expanded = True
                self.report.expansions += 1
                left = next(s for s in self.gate.status(self.batch_id) if s.scope == "expansion").remaining
                grown = step.expansion
                self.run.emit(
                    ev.BUDGET_EXPANSION_APPLIED,
                    {
                        "error_code": grown.error_code,
                        "stage": grown.stage,
                        "from_k": grown.from_k,
                        "to_k": grown.to_k,
                        "tokens": self.gate.estimate(self.render(work, feedback)(topk), ctx).tokens,
                        "reserve_left": left,
                    },
                    step="budget",
                    idea_id=idea.id,
                    lane=idea.lane,
                )
        return self.hand_off(idea, last, codes, cfg.max_attempts_per_idea, "attempts exhausted")

    def attempt(
        self, work: _IdeaWork, ctx: CallContext, provider: BudgetedProvider, topk: TopK, feedback: list[str]
    ) -> tuple[TopK, Candidate] | str:
        """Plan (ladder) → reserve → call, re-planning when another process took the room between
        the plan and the reservation. Returns the configuration used and the candidate, or
        ``blocked`` / ``error`` / ``hand_off`` (an expansion whose reserve ran out)."""
        idea = work.idea
        races_lost = 0
        while True:
            decision = self.gate.plan(ctx, topk, self.render(work, feedback), shrink=not ctx.expansion)
            emit_decision(self.run.emit, decision, self.config)
            self.report.fallbacks += len(decision.outcome.steps)
            if decision.blocked:
                assert decision.violation is not None
                if after_refusal(expanded=ctx.expansion) == "hand_off":
                    return "hand_off"
                self.block(idea, decision.violation, "budget", emit_blocked=False)
                return "blocked"
            assert decision.prompt is not None and decision.outcome.chosen is not None
            chosen = decision.outcome.chosen
            try:
                return chosen, self.ask(provider, work, chosen, decision.prompt[len(SYSTEM_PROMPT) :])
            except BudgetBlockedError as exc:  # another process took the headroom between test and hit
                races_lost += 1
                if after_lost_race(races_lost) == "block":
                    self.block(idea, violation_of(exc), "budget")
                    return "blocked"
            except BrainAgentError:  # provider failure: the wrapper released the hold and logged it
                self.report.errors += 1
                return "error"

    def ask(self, provider: BudgetedProvider, work: _IdeaWork, topk: TopK, prompt: str) -> Candidate:
        return make_candidate(
            provider,
            work.idea,
            work.pack,
            self.opts.knowledge_pack,
            topk,
            store=self.store,
            run_id=self.run.run_id,
            prompt=prompt,
            max_tokens=self.config.max_completion_tokens,
            seed=self.opts.seed,
        )

    def account(self, lane_name: str, provider: BudgetedProvider, candidate: Candidate) -> None:
        lane = self.report.lanes[lane_name]
        self.report.candidates += 1
        self.report.valid += int(candidate.valid)
        self.report.cache_hits += provider.cache_hits
        self.report.tokens_saved += provider.tokens_saved
        if not candidate.llm.get("cache_hit"):
            lane.calls += 1
            lane.prompt_tokens += int(candidate.usage.get("prompt_tokens", 0))
            lane.completion_tokens += int(candidate.usage.get("completion_tokens", 0))
            lane.cost += self.opts.prices.cost(str(candidate.llm.get("model", "")), _usage(candidate))

    def hand_off(
        self, idea: IdeaSpec, cand: Candidate | None, codes: list[str | None], attempts: int, why: str
    ) -> str:
        self.report.needs_repair += 1
        code = next((c for c in reversed(codes) if c), None)
        cid = cand.candidate_id if cand is not None else None
        self.ledger.enqueue_repair(
            run_id=self.run.run_id,
            idea_id=idea.id,
            candidate_id=cid,
            error_code=code,
            attempts=attempts,
            payload={"reason": why, "codes": codes, "expression": cand.expression if cand else None},
            now=self.opts.clock.now(),
        )
        if cid is not None:
            self.store.set_candidate_status(cid, "needs_repair")
        self.run.emit(
            ev.CANDIDATE_NEEDS_REPAIR,
            {"candidate_id": cid, "error_code": code, "attempts": attempts, "reason": why},
            step="alpha",
            idea_id=idea.id,
            lane=idea.lane,
        )
        return "needs_repair"

    def pace(self) -> None:
        if self.opts.pace_s > 0:
            time.sleep(self.opts.pace_s)

    def kpis(self, started_wall: float) -> None:
        batch = self.store.list_candidates(self.run.run_id)
        history = [
            c for c in self.store.list_candidates(before=started_wall) if c.get("run_id") != self.run.run_id
        ]
        k = batch_kpis(batch, history, len(self.opts.knowledge_pack.subcategories))
        now = self.opts.clock.now()
        self.ledger.save_kpis(self.run.run_id, self.batch_id, "batch", k, now=now)
        self.ledger.save_kpis(self.run.run_id, self.run.run_id, "run", k, now=now)
        self.report.kpi = k
        self.run.emit(
            ev.KPI_BATCH,
            {
                "batch_id": self.batch_id,
                "coverage": k["coverage"],
                "coverage_share": k["coverage_share"],
                "novelty": k["novelty"],
                "structural_novelty": k["structural_novelty"],
                "candidates": k["candidates"],
                "valid": k["valid"],
                "mean_largest_shared_subtree": k["mean_largest_shared_subtree"],
            },
            step="kpi",
        )


def _ctx_fields(ctx: CallContext) -> dict[str, Any]:
    return {"lane": ctx.lane, "idea_id": ctx.idea_id, "expansion": ctx.expansion}


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | Decimal) else 0


def _usage(candidate: Candidate) -> Any:
    from brain_agent.llm.base import Usage

    u = candidate.usage
    return Usage(
        uncached_input=int(u.get("uncached_input", 0)),
        cached_input=int(u.get("cached_input", 0)),
        cache_write=int(u.get("cache_write", 0)),
        output=int(u.get("output", 0)),
        reasoning=int(u.get("reasoning", 0)),
    )


def _period_baseline(store: Store, opts: BatchOptions) -> dict[str, int | str]:
    """Day / week usage (spent + reserved) before this run starts: earlier runs and other processes.
    The dashboard adds it to the run's own spend so the period rings show the whole window."""
    out: dict[str, int | str] = {}
    for row in BudgetGate.open(opts.config, store, opts.prices, opts.clock).status():
        if row.scope in ("day", "week", "money_day", "money_week"):
            used = row.spent + row.reserved
            out[row.scope] = str(used) if isinstance(used, Decimal) else int(used)
    return out


def run_batch(store: Store, ideas: list[IdeaSpec], opts: BatchOptions) -> BatchReport:
    """Run one batch; returns its report (also stored as the run summary and ``cycle_completed``)."""
    pipeline = Pipeline(store)
    counts = opts.exploration_counts or store.usage_counts()
    opts = replace(opts, exploration_counts=counts)
    metadata = {
        **opts.metadata,
        "exploration_counts": {"fields": counts[0], "subcategories": counts[1]},
        "provider": opts.provider.name,
        "model": opts.provider.model,
        "batch_size": len(ideas),
        "budget": {
            "limits": opts.config.limits(),
            "exploit_ratio": opts.config.exploit_ratio,
            "explore_ratio": opts.config.explore_ratio,
            "min_explore_candidates_per_batch": opts.config.min_explore_candidates_per_batch,
            "expansion_reserve_tokens": opts.config.expansion_reserve_tokens,
            "price_table": opts.prices.version,
            "baseline": _period_baseline(store, opts),
        },
    }
    started_wall = time.time()
    with pipeline.run("batch", metadata, knowledge_pack=opts.knowledge_pack) as run:
        batch = _Batch(store, opts, run)
        claimed: list[IdeaSpec] = []
        if opts.claim_deferred:
            claimed = [
                IdeaSpec.model_validate(d)
                for d in batch.ledger.claim_deferred(run.run_id, now=opts.clock.now())
            ]
        given = {i.id for i in ideas}
        carried = [c for c in claimed if c.id not in given]
        all_ideas = [*carried, *ideas]
        batch.report.ideas = len(all_ideas)
        batch.report.carried_over = [c.id for c in carried]
        if carried and opts.on_carried is not None:
            opts.on_carried(batch.report.carried_over)
        try:
            order = batch.plan(all_ideas)
            if opts.on_start is not None:
                opts.on_start(run.run_id, len(order))
            simulated: set[str] = set()
            batch.check_alerts()  # earlier batches' spend may have crossed one already
            for n, work in enumerate(order, start=1):
                outcome = batch.run_idea(work)
                batch.check_alerts()
                if opts.simulate is not None:
                    fresh = [
                        c
                        for c in store.list_candidates(run.run_id)
                        if c["valid"] and c["candidate_id"] not in simulated
                    ]
                    simulated.update(c["candidate_id"] for c in fresh)
                    if fresh:
                        batch.report.simulation.add(opts.simulate(fresh))
                if opts.on_progress is not None:
                    opts.on_progress(Progress(n, len(order), work.idea.id, work.idea.lane, outcome))
            batch.kpis(started_wall)
            batch.report.status = "completed"
        finally:
            batch.report.compute_yield(run_candidates(store, run.run_id))
            run.summary.update(batch.report.summary())
    return batch.report
