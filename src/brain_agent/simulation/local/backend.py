"""The local, offline simulation backend: parse → evaluate over a panel → book → BRAIN-shaped result.

Jobs submitted together are evaluated as one batch, sharing repeated sub-expressions. A handle
carries its job (expression, settings, candidate id), so a restarted process can poll a handle it
never saw submitted and get the same result: local simulations are deterministic.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from brain_agent.errors import ExpressionError
from brain_agent.expression.ast import Node
from brain_agent.expression.parser import parse
from brain_agent.knowledge.loader import KnowledgePack
from brain_agent.simulation.backend import Poll, SimulationJob, SimulationOutcome, SimulationSettings
from brain_agent.simulation.errors import EvaluationError
from brain_agent.simulation.local import kernels as k
from brain_agent.simulation.local.book import Book, simulate_book
from brain_agent.simulation.local.cache import SubexpressionCache, process_cache
from brain_agent.simulation.local.evaluator import Evaluator, inline, operator_count
from brain_agent.simulation.local.market import MarketSpec, synthetic_market
from brain_agent.simulation.local.memory import keep_freed_memory
from brain_agent.simulation.local.panel import Panel
from brain_agent.simulation.local.workers import WorkerPool, fork_available, resolve_threads, resolve_workers
from brain_agent.simulation.metrics import BOOK, Limits, standard_checks
from brain_agent.simulation.runner import crash_error

HANDLE_PREFIX = "local:"
ENV_PANEL = "BRAIN_AGENT_SIM_PANEL"
"""A Parquet/CSV long-format panel to simulate on instead of the synthetic market."""
SUB_UNIVERSE = {
    "TOP3000": 1000 / 3000,
    "TOP2500": 1000 / 2500,
    "TOP1200": 400 / 1200,
    "TOP1000": 500 / 1000,
    "TOP800": 400 / 800,
    "TOP500": 200 / 500,
    "TOP400": 200 / 400,
}
"""Share of the universe (the most liquid part) the sub-universe check uses; e.g. TOP3000 → TOP1000."""
DEFAULT_SUB_UNIVERSE = 1 / 3


def encode_handle(job: SimulationJob) -> str:
    body = {
        "c": job.candidate_id,
        "e": job.expression,
        "s": job.settings.model_dump(),
        "r": job.run_id,
        "i": job.idea_id,
    }
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return HANDLE_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")


def decode_handle(handle: str) -> SimulationJob:
    if not handle.startswith(HANDLE_PREFIX):
        raise ValueError(f"not a local simulation handle: {handle[:40]!r}")
    body = json.loads(base64.urlsafe_b64decode(handle[len(HANDLE_PREFIX) :].encode("ascii")))
    return SimulationJob(
        candidate_id=body["c"],
        expression=body["e"],
        settings=SimulationSettings.model_validate(body["s"]),
        run_id=body.get("r"),
        idea_id=body.get("i"),
    )


def alpha_id(expression: str, settings: SimulationSettings, panel_name: str) -> str:
    digest = hashlib.sha256(
        json.dumps([expression, settings.model_dump(), panel_name], sort_keys=True).encode("utf-8")
    ).hexdigest()
    return "L" + digest[:7]


class LocalBackend:
    """``SimulationBackend`` over a panel (default: the synthetic market, built on first use).

    ``cache``: where evaluated sub-expressions are kept (default: the process-wide cache, sized by
    ``$BRAIN_AGENT_SIM_CACHE_MB``); ``workers``: processes a batch is spread over (default
    ``$BRAIN_AGENT_SIM_WORKERS``, else the number of CPUs up to 4; 1 runs everything in this
    process). Workers are forked once, after the market is built, so they share its arrays.
    """

    name = "local"
    max_batch = 10

    def __init__(
        self,
        panel: Panel | None = None,
        *,
        market: MarketSpec | None = None,
        knowledge_pack: KnowledgePack | None = None,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.perf_counter,
        cache: SubexpressionCache | None = None,
        workers: int | None = None,
        threads: int | None = None,
    ) -> None:
        self._panel = panel
        self._market = market
        self._pack = knowledge_pack
        self._limits = limits
        self._clock = clock
        self._pending: dict[str, SimulationJob] = {}
        self._sent: set[str] = set()
        """Handles on the worker processes whose outcomes have not come back yet."""
        self._done: dict[str, tuple[SimulationOutcome, float]] = {}
        self.cache = cache if cache is not None else process_cache()
        self.workers = resolve_workers(workers)
        self.threads = resolve_threads(threads)
        """Threads the kernels may use while this process computes (rows or columns of a matrix at once)."""
        self.max_in_flight = self.max_batch * self.workers
        """The runner keeps this many jobs submitted, so one poll spreads them over the workers."""
        self._pool: WorkerPool | None = None
        self.batches = 0
        self.cache_hits = 0
        keep_freed_memory()

    @property
    def panel(self) -> Panel:
        if self._panel is None and os.environ.get(ENV_PANEL):
            from brain_agent.simulation.local.loader import load_panel

            self._panel = load_panel(os.environ[ENV_PANEL])
        if self._panel is None:
            fields: list[tuple[str, str, str]] = []
            if self._pack is not None:
                fields = [(f.id, f.type, f.dataset) for f in self._pack.fields.values()]
            self._panel = synthetic_market(self._market or MarketSpec.from_env(), fields)
        return self._panel

    def set_workers(self, workers: int | None) -> None:
        """Use ``workers`` processes from the next batch on (``None``: the environment's or default)."""
        self.close()
        self.workers = resolve_workers(workers)
        self.max_in_flight = self.max_batch * self.workers

    def cache_stats(self) -> dict[str, int]:
        """Cache counters summed over this process and its workers (``hits``, ``misses``...)."""
        total = dict(self.cache.stats())
        for stats in self._pool.cache_stats.values() if self._pool is not None else ():
            for key in ("entries", "bytes", "hits", "misses", "evictions"):
                total[key] += stats[key]
        return total

    def close(self) -> None:
        """Stop the worker processes (if any were started)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self._sent.clear()  # their outcomes will not come: a poll runs them again

    # -- protocol ----------------------------------------------------------------------------------
    def submit(self, jobs: Sequence[SimulationJob]) -> list[str]:
        handles = []
        for job in jobs:
            handle = encode_handle(job)
            self._pending[handle] = job
            handles.append(handle)
        if self._pool is not None:  # the workers start on them now, not at the first poll
            self._to_pool(list(self._pending.items()))
            self._pending.clear()
        return handles

    def poll(self, handle: str) -> Poll:
        if handle not in self._done:
            if handle not in self._pending and handle not in self._sent:  # not submitted here
                try:
                    self._pending[handle] = decode_handle(handle)
                except (ValueError, KeyError, json.JSONDecodeError):
                    outcome = SimulationOutcome(
                        candidate_id="",
                        status="ERROR",
                        error={
                            "code": "UNKNOWN_HANDLE",
                            "message": f"unknown local handle {handle[:40]!r}",
                            "location": None,
                        },
                    )
                    return Poll(done=True, progress=1.0, retry_after_s=0.0, outcome=outcome)
            self._run_pending(handle)
        outcome, run_s = self._done.pop(handle)
        return Poll(done=True, progress=1.0, retry_after_s=0.0, outcome=outcome, extra={"run_s": run_s})

    # -- direct use --------------------------------------------------------------------------------
    def simulate(self, jobs: Sequence[SimulationJob]) -> list[SimulationOutcome]:
        """Run ``jobs`` as one batch and return their outcomes in order."""
        handles = self.submit(jobs)
        return [self.poll(h).outcome or _lost(h) for h in handles]

    def _to_pool(self, batch: list[tuple[str, SimulationJob]]) -> None:
        assert self._pool is not None
        self._sent.update(h for h, _ in batch)
        self._pool.put(batch)

    def _run_pending(self, handle: str) -> None:
        """Run what is pending: in this process, or on the worker processes (then wait until
        ``handle``'s outcome is in; the workers go on with the rest meanwhile)."""
        batch = list(self._pending.items())
        self._pending.clear()
        if batch:
            self.batches += 1
        if self._pool is None and self.workers > 1 and len(batch) > 1 and fork_available():
            # the first job runs here: it builds the market, universe and group bins (and fills the
            # cache) before the workers are forked, so they share all of that instead of each
            # building its own
            self.run_jobs(batch[:1])
            batch = batch[1:]
            self._pool = WorkerPool(self, self.workers)
            weakref.finalize(self, self._pool.close)  # a backend dropped without close() stops them too
        if self._pool is not None:
            if batch:
                self._to_pool(batch)
            while handle not in self._done and self._pool.outstanding:
                for done, outcome, run_s in self._pool.take():
                    self._done[done] = (outcome, run_s)
                    self._sent.discard(done)
            return
        self.run_jobs(batch)

    def run_jobs(
        self, batch: Sequence[tuple[str, SimulationJob]], shared: frozenset[int] = frozenset()
    ) -> list[tuple[str, SimulationOutcome, float]]:
        """Simulate ``batch`` in this process (grouped by the settings that change the evaluation);
        outcomes are also kept for ``poll``. Returns ``(handle, outcome, run_s)`` in batch order."""
        k.set_threads(self.threads)
        groups: dict[tuple[str, str, str], list[tuple[str, SimulationJob]]] = {}
        for handle, job in batch:
            s = job.settings
            groups.setdefault((s.universe, s.pasteurization, s.nanHandling), []).append((handle, job))
        for (universe_name, pasteurization, nan_handling), members in groups.items():
            self._run_group(universe_name, pasteurization == "ON", nan_handling == "ON", members, shared)
        return [(handle, *self._done[handle]) for handle, _ in batch]

    def _run_group(
        self,
        universe_name: str,
        pasteurize: bool,
        nan_handling: bool,
        members: list[tuple[str, SimulationJob]],
        shared: frozenset[int] = frozenset(),
    ) -> None:
        panel = self.panel
        universe = panel.universe_for(universe_name)
        evaluator = Evaluator(
            panel,
            universe,
            pasteurize=pasteurize,
            nan_handling=nan_handling,
            cache=self.cache,
            universe_name=universe_name.upper(),
        )
        trees: list[tuple[str, SimulationJob, Node]] = []
        for handle, job in members:
            started = self._clock()
            try:
                trees.append((handle, job, inline(parse(job.expression))))
            except (ExpressionError, RecursionError) as exc:
                first = (
                    (
                        exc.errors[0].to_dict()
                        if exc.errors
                        else {"code": "PARSE_ERROR", "message": exc.message, "location": None}
                    )
                    if isinstance(exc, ExpressionError)
                    else crash_error("PARSE_ERROR", exc)
                )
                self._done[handle] = (
                    SimulationOutcome(job.candidate_id, "ERROR", error=first),
                    self._clock() - started,
                )
        # evaluate one tree at a time so each job's time is its own; the cache spans the batch
        evaluator_trees = [t for _, _, t in trees]
        evaluator.prepare_batch(evaluator_trees, shared)
        try:
            for handle, job, tree in trees:
                started = self._clock()
                outcome = self._one(evaluator, universe, job, tree)
                self._done[handle] = (outcome, self._clock() - started)
        finally:
            evaluator.end_batch()
        self.cache_hits += evaluator.hits

    def _one(
        self, evaluator: Evaluator, universe: np.ndarray[Any, Any], job: SimulationJob, tree: Node
    ) -> SimulationOutcome:
        try:
            alpha = evaluator.alpha(tree)
            _refuse_overflow(alpha)
            fraction = SUB_UNIVERSE.get(job.settings.universe.upper(), DEFAULT_SUB_UNIVERSE)
            book, sub = simulate_book(alpha, self.panel, universe, job.settings, fraction)
        except EvaluationError as exc:
            return SimulationOutcome(job.candidate_id, "ERROR", error=exc.to_error())
        except (MemoryError, ArithmeticError, ValueError, RecursionError) as exc:
            # a poison expression (petabytes of buckets, overflowing ranges): this job's final ERROR
            return SimulationOutcome(job.candidate_id, "ERROR", error=crash_error("SIMULATION_CRASHED", exc))
        limits = self._limits or Limits.for_delay(job.settings.delay)
        checks = standard_checks(
            sharpe_=round(book.sharpe, 2),
            fitness_=round(book.fitness, 2),
            turnover=book.turnover,
            max_weight=book.max_weight,
            sub_universe_sharpe=sub,
            sub_universe_ratio=fraction,
            limits=limits,
        )
        aid = alpha_id(job.expression, job.settings, self.panel.name)
        result = build_result(aid, job, book, checks, operator_count(tree), self.panel)
        return SimulationOutcome(job.candidate_id, "COMPLETE", result=result, alpha_id=aid)


OVERFLOW_LIMIT = 1e100
"""Alpha values beyond this (or infinite) make the book's sums overflow: the simulation is an ERROR
(``NUMERIC_OVERFLOW``), not a NaN PnL."""


def _refuse_overflow(alpha: np.ndarray[Any, Any]) -> None:
    top = k.largest_abs(alpha)  # NaN ignored
    if not top <= OVERFLOW_LIMIT:
        raise EvaluationError(
            f"the alpha's values overflow (largest |value| {top:.3g} > {OVERFLOW_LIMIT:.0e}); "
            "chains of ts_product / power grow without bound",
            error_code="NUMERIC_OVERFLOW",
        )


def _lost(handle: str) -> SimulationOutcome:
    return SimulationOutcome(
        "", "ERROR", error={"code": "LOST", "message": f"no outcome for {handle[:40]}", "location": None}
    )


def _day(d: np.datetime64) -> str:
    return str(np.datetime_as_string(d, unit="D"))


def build_result(
    aid: str, job: SimulationJob, book: Book, checks: list[dict[str, Any]], op_count: int, panel: Panel
) -> dict[str, Any]:
    """A dict in the shape of BRAIN's ``GET /alphas/{id}`` plus the ``pnl`` series."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    dates = panel.dates
    start = min(book.start, len(dates) - 1)
    settings = job.settings.model_dump()
    settings.update(maxPosition="OFF", startDate=_day(dates[0]), endDate=_day(dates[-1]))
    cum = np.cumsum(book.daily_pnl[start:])
    return {
        "id": aid,
        "type": "REGULAR",
        "author": "local",
        "settings": settings,
        "regular": {"code": job.expression, "description": None, "operatorCount": op_count},
        "dateCreated": now,
        "dateSubmitted": None,
        "dateModified": now,
        "name": None,
        "favorite": False,
        "hidden": False,
        "color": None,
        "category": None,
        "tags": [],
        "classifications": [],
        "grade": None,
        "stage": "IS",
        "status": "UNSUBMITTED",
        "is": {
            "pnl": round(book.pnl),
            "bookSize": int(BOOK),
            "longCount": round(book.long_count),
            "shortCount": round(book.short_count),
            "turnover": round(book.turnover, 4),
            "returns": round(book.returns, 4),
            "drawdown": round(book.drawdown, 4),
            "margin": round(book.margin, 6),
            "sharpe": round(book.sharpe, 2),
            "fitness": round(book.fitness, 2),
            "startDate": _day(dates[start]),
            "checks": checks,
        },
        "os": None,
        "train": None,
        "test": None,
        "prod": None,
        "competitions": None,
        "themes": None,
        "pyramids": None,
        "pyramidThemes": None,
        "team": None,
        "osmosisPoints": None,
        "pnl": {
            "dates": np.datetime_as_string(dates[start:], unit="D").tolist(),
            "values": [round(float(v), 2) for v in cum],
        },
        "simulator": {
            "backend": "local",
            "panel": panel.name,
            "instruments": int(panel.shape[1]),
            "days": int(panel.shape[0]),
        },
    }
