"""Response models: they make the OpenAPI schema real (``docs/openapi.json``, the HUD's TS types)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Strict):
    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(_Strict):
    error: ErrorBody


class Velocity(_Strict):
    tokens_per_s: float
    window_s: int


class Protection(_Strict):
    window_s: int
    last_event: str | None
    at: float | None
    reason: str | None


class Core(_Strict):
    heat: float
    state: Literal["nominal", "warning", "critical", "blocked"]


class Ring(_Strict):
    scope: str
    spent: float
    reserved: float
    limit: float
    pressure: float


class Injection(_Strict):
    event_id: int
    ts: float
    tokens: int
    lane: str | None
    idea_id: str | None


class PulsePoint(_Strict):
    event_id: int
    ts: float
    cost: str
    tokens: int
    spike: bool


class LaneShare(_Strict):
    target_share: float
    actual_share: float
    tokens: int
    ideas: int


class Lanes(_Strict):
    exploit: LaneShare
    explore: LaneShare


class RadarScan(_Strict):
    sector: int
    subcategory: str
    name: str
    lane: str | None
    idea_id: str | None


class Radar(_Strict):
    scanning: list[RadarScan]
    feed: list[str]


class Latency(_Strict):
    p50: float | None
    p95: float | None


class BestResult(_Strict):
    candidate_id: str
    sharpe: float
    fitness: float | None
    expression: str


class SimulationSummary(_Strict):
    in_flight: int
    done: int = Field(description="Completed simulations: passed + failed.")
    passed: int = Field(description="Completed and passing the checks.")
    failed: int = Field(description="Completed but not passing (below the thresholds).")
    errors: int = Field(description="Could not be scored (simulation.failed).")
    latency_s: Latency
    best: BestResult | None


class Totals(_Strict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: str
    calls: int
    cache_hits: int
    tokens_saved: int
    fallbacks: int
    blocked: int
    deferred: int


class Kpi(_Strict):
    coverage: int
    coverage_share: float
    novelty: float
    structural_novelty: float | None = Field(
        description="From kpi.batch only; null before the run's first kpi.batch."
    )


class BudgetAlert(_Strict):
    """A ``budget.threshold_crossed``: a cumulative scope reached a configured share of its cap."""

    event_id: int
    ts: float
    scope: str = Field(description="day, week, money_day or money_week.")
    scope_key: str = Field(description="The ledger scope, with its window (e.g. day:2026-12-07).")
    unit: Literal["tokens", "usd"]
    threshold: float = Field(description="The configured share crossed (0.8 = 80 %).")
    share: float = Field(description="spent / limit when it fired.")
    spent: str = Field(description="Tokens (an integer) or USD (a decimal), as a string.")
    limit: str = Field(description="The scope's cap, in the same unit.")
    window_end: str | None = Field(description="When the window resets (ISO time); null if unknown.")


class Reactor(_Strict):
    pressure: float
    pressure_by_scope: dict[str, float]
    velocity: Velocity
    time_to_exhaustion_s: float | None = Field(
        description="Seconds until exhaustion_scope runs out at its current velocity; null when "
        "finished or idle."
    )
    exhaustion_scope: str | None = Field(description="The scope the forecast is about.")
    protection_mode: bool
    protection: Protection
    core: Core
    rings: list[Ring]
    injections: list[Injection]
    pulse: list[PulsePoint]
    lanes: Lanes
    radar: Radar
    simulation: SimulationSummary
    totals: Totals
    kpi: Kpi
    alerts: list[BudgetAlert] = Field(
        description="The run's newest budget alerts (at most 10, newest last); in the fleet view, "
        "every running run's."
    )


class SeriesPoint(_Strict):
    t: float
    tokens: dict[str, int]
    cost: str
    pressure: float
    pressure_by_scope: dict[str, float]


class Series(_Strict):
    bucket_s: int
    points: list[SeriesPoint]


class Gauge(_Strict):
    scope: str
    value: float
    limit: float
    pressure: float
    unit: Literal["tokens", "usd"]


class Flags(_Strict):
    protection_mode: bool
    over_budget: bool
    blocked: bool
    explore_floor_preserved: bool


class BudgetView(_Strict):
    limits: dict[str, float]
    config: dict[str, float | int | str]
    spent_tokens: int
    spent_cost: str
    reserved_tokens: int
    reserved_cost: str
    open_reservations: int
    checks_passed: int
    checks_failed: int
    expansions: int
    source: Literal["ledger_events", "llm_calls"]


class KpiBatch(_Strict):
    event_id: int
    ts: float
    batch_id: str | None
    candidates: int
    coverage: int
    coverage_share: float
    novelty: float
    structural_novelty: float


class LaneYield(_Strict):
    lane: str = Field(description='"exploit", "explore", "unassigned" (calls without an idea) or "all".')
    tokens: int = Field(description="LLM tokens the lane spent (cache hits count none).")
    cost: str = Field(description="USD the lane spent (a decimal string).")
    candidates: int
    valid: int = Field(description="Candidates that parsed and type-checked.")
    passing: int = Field(description="Simulated alphas that passed every check.")
    tokens_per_valid: float | None = Field(description="tokens / valid; null when nothing is valid.")
    cost_per_valid: str | None = Field(
        description="cost / valid (USD, 10 significant digits); null when nothing is valid."
    )
    tokens_per_passing: float | None = Field(description="tokens / passing; null when nothing passed.")
    cost_per_passing: str | None = Field(description="cost / passing (USD); null when nothing passed.")


class BestAlpha(_Strict):
    candidate_id: str
    lane: str
    expression: str | None
    sharpe: float | None
    fitness: float | None
    turnover: float | None = Field(description="A fraction of the book per day (0.25 = 25 %).")
    returns: float | None = Field(description="A fraction (0.05 = 5 %).")
    passed: bool | None
    failed_checks: list[str]


class YieldView(_Strict):
    """Tokens and cost per valid candidate and per passing alpha, by lane, and the best alpha
    (``telemetry/alpha_yield.py``: the figures ``run-batch`` and ``runs show`` print)."""

    source: Literal["cycle_completed", "store"] = Field(
        description="cycle_completed: the finished run's closing figures (what run-batch printed); "
        "store: computed now from the store's candidates, simulations and LLM calls (a run in progress)."
    )
    lanes: dict[str, LaneYield]
    total: LaneYield
    best: BestAlpha | None = Field(
        description="The simulated candidate with the highest Sharpe (ties: higher fitness, then the "
        "earlier one), passing or not; null before any simulation completed."
    )


class KpiView(_Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    current: Kpi
    per_batch: list[KpiBatch]
    yield_: YieldView | None = Field(
        alias="yield",
        description="The run's yield (docs/api.md); null under ?at= before the run had finished.",
    )


class ReactorStatus(_Strict):
    """The envelope of /reactor_status, /budget and /kpi. Parts absent per ``format``."""

    run_id: str
    status: str
    as_of: float
    cursor: int
    reactor: Reactor | None = None
    series: Series | None = None
    gauges: list[Gauge] | None = None
    flags: Flags | None = None
    budget: BudgetView | None = None
    kpi: KpiView | None = None
    at: int | None = Field(default=None, description="Replay: the event id asked for with ?at=.")


class LiveRun(_Strict):
    run_id: str
    holder: str | None = Field(description="`host:pid` of the process running it.")
    pressure: float
    tokens_per_s: float


class LiveStatus(_Strict):
    """The fleet view: one reactor over every running run (``run_id`` is ``"live"``). Period scopes
    (day, week, money) are the shared ledger windows; batch, lane and request rings are the most
    pressed run's; velocity is the sum over the runs. ``reactor`` is null when nothing runs."""

    run_id: Literal["live"]
    status: Literal["running", "idle"]
    as_of: float
    cursor: int
    runs: list[LiveRun]
    reactor: Reactor | None = None
    gauges: list[Gauge] | None = None
    flags: Flags | None = None


class Headline(_Strict):
    events: int
    cursor: int
    last_event_at: float | None
    total_tokens: int
    cost: str
    calls: int
    candidates: int
    pressure: float
    protection_mode: bool
    best_sharpe: float | None


class RunSummary(_Strict):
    run_id: str
    kind: str
    status: str
    started_at: float | None
    finished_at: float | None
    holder: str | None = Field(
        default=None,
        description="Who runs it: `host:pid` of the process that created the run (null for runs "
        "from before holders were recorded). With a shared PostgreSQL store, tells machines apart.",
    )
    headline: Headline


class RunDetail(RunSummary):
    config: dict[str, Any]
    summary: dict[str, Any]


class RunList(_Strict):
    runs: list[RunSummary]
    follow: str | None = Field(
        default=None,
        description='The run "follow latest" shows: the newest batch run (estimate runs are never followed).',
    )


class EventOut(_Strict):
    id: int
    run_id: str
    ts: float
    name: str
    step: str | None
    idea_id: str | None
    lane: str | None
    payload: dict[str, Any]


class EventsPage(_Strict):
    run_id: str
    events: list[EventOut]
    next_cursor: int
    has_more: bool


class CandidateOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    candidate_id: str
    status: str
    valid: bool
    error_code: str | None
    created_at: float


class CandidateList(_Strict):
    run_id: str
    candidates: list[CandidateOut]


class CheckOut(_Strict):
    name: str
    result: str = Field(description="PASS, FAIL, WARNING, PENDING or ERROR.")
    limit: float | None = None
    value: float | None = None


class PnlOut(_Strict):
    dates: list[str] = Field(description="ISO days.")
    values: list[float] = Field(description="Cumulative PnL in dollars, one per date.")


class SimulationDetail(_Strict):
    id: int
    backend: str
    status: str = Field(description="SUBMITTED, RUNNING, COMPLETE, ERROR or SKIPPED.")
    alpha_id: str | None
    sharpe: float | None
    fitness: float | None
    turnover: float | None = Field(description="A fraction of the book per day (0.25 = 25 %).")
    returns: float | None = Field(description="A fraction (0.05 = 5 %).")
    passed: bool | None
    finished_at: float | None
    checks: list[CheckOut]
    failed_checks: list[str] = Field(description="Names of the checks that FAILed.")
    pnl: PnlOut | None
    pnl_unavailable: str | None = Field(
        description="Why there is no PnL series (BRAIN without its recordset); null when pnl is there."
    )
    error_code: str | None
    message: str | None


class CandidateDetail(_Strict):
    run_id: str
    candidate: CandidateOut
    simulation: SimulationDetail | None = Field(
        description="Its newest simulation (this run's first); null when never simulated."
    )


class SimulationOut(_Strict):
    candidate_id: str
    status: Literal["submitted", "running", "completed", "failed"]
    backend: str | None = None
    expression: str | None = None
    idea_id: str | None = None
    lane: str | None = None
    submitted_at: float
    finished_at: float | None = None
    progress: float
    queue_s: float | None = None
    run_s: float | None = None
    total_s: float | None = None
    alpha_id: str | None = None
    sharpe: float | None = None
    fitness: float | None = None
    turnover: float | None = None
    returns: float | None = None
    passed: bool | None = None
    error_code: str | None = None
    message: str | None = None


class SimulationList(_Strict):
    run_id: str
    simulations: list[SimulationOut]
    summary: SimulationSummary


class Health(_Strict):
    status: Literal["ok"]
    version: str
    cursor: int
    poller: bool
    runs_cached: int
    subscribers: int


# -- WebSocket messages (not routes: published as components so the HUD's types are generated) ------
class StreamSnapshot(_Strict):
    """First message on ``/api/runs/{run_id}/stream`` and ``/api/stream/latest`` (and after a run switch)."""

    type: Literal["snapshot"]
    cursor: int
    run_id: str | None
    truncated: bool = Field(description="Older events were left out: page them with GET .../events.")
    status: ReactorStatus | None
    events: list[EventOut]


class StreamUpdate(_Strict):
    """Coalesced events since the previous message, with the status after them."""

    type: Literal["update"]
    cursor: int
    run_id: str | None
    truncated: bool
    status: ReactorStatus | None
    events: list[EventOut]


class StreamRun(_Strict):
    """``/api/stream/latest``: a newer batch started; a snapshot of it follows."""

    type: Literal["run"]
    run_id: str


class StreamLive(_Strict):
    """``/api/stream/live``: the fleet view, sent when any run's events land (at most every
    stream interval) and at least every heartbeat."""

    type: Literal["live"]
    status: LiveStatus


class StreamError(_Strict):
    type: Literal["error"]
    error: ErrorBody


class ReplaySeek(_Strict):
    """Client → server on ``/api/runs/{run_id}/replay``."""

    at: int = Field(ge=0, description="An event id: the view right after it is sent back.")


class ReplayFrame(_Strict):
    """Server → client on ``/api/runs/{run_id}/replay``: exactly ``reactor_status?at=``."""

    type: Literal["replay"]
    run_id: str
    at: int
    status: ReactorStatus


STREAM_MODELS: tuple[type[BaseModel], ...] = (
    StreamSnapshot,
    StreamUpdate,
    StreamRun,
    StreamLive,
    StreamError,
    ReplaySeek,
    ReplayFrame,
)
