"""The simulation runner: candidates → a backend → stored results and ``simulation.*`` events.

- Candidates that failed validation are not simulated: a SKIPPED row and a ``simulation.failed``
  event (``error_code`` ``CANDIDATE_INVALID``) record them.
- Jobs go to the backend ``max_batch`` at a time, with at most ``max_in_flight`` in flight. Each
  job's handle and status are committed *before* the first poll, so a run interrupted while polling
  resumes those rows after a restart instead of submitting them again. A candidate whose identical
  simulation (backend, settings, expression) already COMPLETEd is not simulated again.
- Polling honours each answer's ``retry_after_s`` through an injectable :class:`Clock`.
- Timings per job: ``queue_s`` (submitted → started), ``run_s`` (started → finished), ``total_s``.
- A backend that raises while submitting or polling (a bug, an expression asking for more memory
  than there is) ends its jobs with a final ERROR (``SUBMIT_FAILED``, ``SIMULATION_CRASHED`` or
  ``OUT_OF_MEMORY``): a row never stays QUEUED or SUBMITTED because a simulation crashed.
- SELF_CORRELATION is decided here for every backend: the new daily PnL against earlier completed
  results in the store (``self_correlation``: all at once, earlier PnLs parsed once per process).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError as PydanticValidationError

from brain_agent.errors import BrainAgentError, InputError, ProviderError
from brain_agent.simulation.backend import (
    SimulationBackend,
    SimulationJob,
    SimulationOutcome,
    SimulationSettings,
)
from brain_agent.simulation.result import AlphaResult
from brain_agent.simulation.self_correlation import Series, cache_for, decide
from brain_agent.storage import Store
from brain_agent.storage.simulation_store import Finish
from brain_agent.telemetry import events as ev

STEP = "simulation"
FINAL = ("COMPLETE", "ERROR", "SKIPPED")
MAX_POLL_RETRIES = 5


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class ProgressUpdate:
    done: int
    total: int
    candidate_id: str
    status: str
    """QUEUED, SUBMITTED, RUNNING, COMPLETE, ERROR or SKIPPED."""


ProgressCallback = Callable[[ProgressUpdate], None]


def settings_key(settings: SimulationSettings) -> str:
    raw = json.dumps(settings.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def candidate_is_valid(candidate: dict[str, Any]) -> bool:
    if candidate.get("valid") is False:
        return False
    validation = candidate.get("validation")
    if isinstance(validation, dict) and (validation.get("ok") is False or validation.get("valid") is False):
        return False
    return bool(candidate.get("expression"))


@dataclass
class _Job:
    row_id: int
    candidate: dict[str, Any]
    run_id: str
    submitted_at: float = 0.0
    handle: str = ""
    started_at: float | None = None
    progress: float | None = None
    next_poll: float = 0.0
    poll_failures: int = 0


class _Runner:
    def __init__(
        self,
        store: Store,
        backend: SimulationBackend,
        settings: SimulationSettings,
        clock: Clock,
        progress: ProgressCallback | None,
        max_in_flight: int | None,
    ) -> None:
        self.store = store
        self.sims = store.simulations
        self.pnls = cache_for(self.sims)
        self.backend = backend
        self.settings = settings
        self.key = settings_key(settings)
        self.clock = clock
        self.progress = progress
        self.max_batch = max(1, int(backend.max_batch))
        self.max_in_flight = max(
            self.max_batch, max_in_flight or int(getattr(backend, "max_in_flight", self.max_batch))
        )
        self.records: dict[str, dict[str, Any]] = {}
        self._finished: set[str] = set()
        """Candidates whose record is final (COMPLETE, ERROR, SKIPPED): the progress count."""
        self.total = 0
        self._default_run: str | None = None

    # -- helpers -----------------------------------------------------------------------------------
    def run_id_for(self, candidate: dict[str, Any]) -> str:
        run_id = candidate.get("run_id")
        if isinstance(run_id, str) and run_id:
            return run_id
        if self._default_run is None:
            self._default_run = self.store.create_run("simulate", {"backend": self.backend.name})
        return self._default_run

    def emit(
        self, job_or_cand: _Job | dict[str, Any], run_id: str, name: str, payload: dict[str, Any]
    ) -> None:
        cand = job_or_cand.candidate if isinstance(job_or_cand, _Job) else job_or_cand
        self.store.append_event(
            run_id, name, payload, step=STEP, idea_id=cand.get("idea_id"), lane=cand.get("lane")
        )

    def report(self, candidate_id: str, status: str) -> None:
        if self.progress is not None:
            self.progress(
                ProgressUpdate(
                    done=len(self._finished), total=self.total, candidate_id=candidate_id, status=status
                )
            )

    def set_record(self, candidate_id: str, record: dict[str, Any]) -> None:
        self.records[candidate_id] = record
        if record["status"] in FINAL:
            self._finished.add(candidate_id)
        else:
            self._finished.discard(candidate_id)

    def record(self, cand: dict[str, Any], run_id: str, row: dict[str, Any]) -> None:
        timings = {k: row.get(k) for k in ("queue_s", "run_s", "total_s")}
        self.set_record(
            cand["candidate_id"],
            {
                "candidate_id": cand["candidate_id"],
                "run_id": run_id,
                "idea_id": cand.get("idea_id"),
                "lane": cand.get("lane"),
                "expression": cand.get("expression"),
                "backend": self.backend.name,
                "simulation_id": row.get("id"),
                "status": row["status"],
                "alpha_id": row.get("alpha_id"),
                "result": row.get("result"),
                "error": row.get("error"),
                "timings": timings,
            },
        )

    # -- the run -----------------------------------------------------------------------------------
    def run(self, candidates: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        order: list[str] = []
        to_submit: list[_Job] = []
        in_flight: list[_Job] = []
        for cand in candidates:
            cid = cand.get("candidate_id")
            if not isinstance(cid, str) or not cid:
                raise InputError("every candidate needs a non-empty 'candidate_id'", key="candidate_id")
            if cid in order:
                continue
            order.append(cid)
        self.total = len(order)
        seen: set[str] = set()
        for cand in candidates:
            cid = cand["candidate_id"]
            if cid in seen:
                continue
            seen.add(cid)
            self._admit(cand, to_submit, in_flight)
        while to_submit or in_flight:
            self._submit_some(to_submit, in_flight)
            if in_flight:
                self._poll_due(in_flight)
        return [self.records[cid] for cid in order]

    def _admit(self, cand: dict[str, Any], to_submit: list[_Job], in_flight: list[_Job]) -> None:
        cid = cand["candidate_id"]
        run_id = self.run_id_for(cand)
        expression = str(cand.get("expression") or "")
        if not candidate_is_valid(cand):
            error = {
                "code": "CANDIDATE_INVALID",
                "message": f"candidate failed validation ({cand.get('error_code') or 'no expression'}); "
                "not simulated",
                "location": None,
            }
            now = self.clock.now()
            row_id = self.sims.create(
                candidate_id=cid,
                run_id=run_id,
                idea_id=cand.get("idea_id"),
                lane=cand.get("lane"),
                backend=self.backend.name,
                expression=expression,
                settings_key=self.key,
                settings=self.settings.model_dump(),
                status="SKIPPED",
                created_at=now,
                error=error,
            )
            self.emit(
                cand,
                run_id,
                ev.SIMULATION_FAILED,
                {
                    "candidate_id": cid,
                    "error_code": error["code"],
                    "message": error["message"],
                    "location": None,
                    "queue_s": 0.0,
                    "run_s": 0.0,
                    "total_s": 0.0,
                },
            )
            self.record(cand, run_id, self.sims.get(row_id) or {"status": "SKIPPED"})
            self.report(cid, "SKIPPED")
            return
        existing = self.sims.latest(cid, self.backend.name, self.key, expression)
        if existing is not None and existing["status"] == "COMPLETE":
            self.record(cand, run_id, existing)
            self.report(cid, "COMPLETE")
            return
        if existing is not None and existing["status"] in ("SUBMITTED", "RUNNING") and existing.get("handle"):
            job = _Job(
                existing["id"],
                cand,
                run_id,
                submitted_at=existing["submitted_at"] or self.clock.now(),
                handle=existing["handle"],
                started_at=existing.get("started_at"),
                progress=existing.get("progress"),
            )
            in_flight.append(job)
            self.set_record(cid, {"status": existing["status"]})
            return
        if existing is not None and existing["status"] == "QUEUED":
            row_id = int(existing["id"])
        else:
            row_id = self.sims.create(
                candidate_id=cid,
                run_id=run_id,
                idea_id=cand.get("idea_id"),
                lane=cand.get("lane"),
                backend=self.backend.name,
                expression=expression,
                settings_key=self.key,
                settings=self.settings.model_dump(),
                status="QUEUED",
                created_at=self.clock.now(),
            )
        to_submit.append(_Job(row_id, cand, run_id))
        self.set_record(cid, {"status": "QUEUED"})

    def _submit_some(self, to_submit: list[_Job], in_flight: list[_Job]) -> None:
        while to_submit and len(in_flight) < self.max_in_flight:
            room = min(self.max_batch, self.max_in_flight - len(in_flight))
            chunk, to_submit[:] = to_submit[:room], to_submit[room:]
            jobs = [
                SimulationJob(
                    candidate_id=j.candidate["candidate_id"],
                    expression=str(j.candidate["expression"]),
                    settings=self.settings,
                    run_id=j.run_id,
                    idea_id=j.candidate.get("idea_id"),
                )
                for j in chunk
            ]
            submitted_at = self.clock.now()
            try:
                handles = self.backend.submit(jobs)
                if len(handles) != len(jobs):
                    raise ProviderError(
                        f"backend {self.backend.name} returned {len(handles)} handles for {len(jobs)} jobs"
                    )
            except BrainAgentError as exc:
                for job in chunk:
                    self._fail(
                        job, {"code": "SUBMIT_FAILED", "message": exc.message, "location": None}, submitted_at
                    )
                continue
            except Exception as exc:  # a backend bug must not leave the rows QUEUED
                for job in chunk:
                    self._fail(job, crash_error("SUBMIT_FAILED", exc), submitted_at)
                continue
            self.sims.mark_submitted(
                [(j.row_id, h) for j, h in zip(chunk, handles, strict=True)], submitted_at
            )
            for job, handle in zip(chunk, handles, strict=True):
                job.handle, job.submitted_at, job.next_poll = handle, submitted_at, submitted_at
                self.emit(
                    job,
                    job.run_id,
                    ev.SIMULATION_SUBMITTED,
                    {
                        "candidate_id": job.candidate["candidate_id"],
                        "backend": self.backend.name,
                        "expression": job.candidate["expression"],
                        "simulation_id": job.row_id,
                    },
                )
                self.set_record(job.candidate["candidate_id"], {"status": "SUBMITTED"})
                self.report(job.candidate["candidate_id"], "SUBMITTED")
            in_flight.extend(chunk)

    def _poll_due(self, in_flight: list[_Job]) -> None:
        now = self.clock.now()
        due = [j for j in in_flight if j.next_poll <= now]
        if not due:
            self.clock.sleep(max(0.0, min(j.next_poll for j in in_flight) - now))
            return
        for job in due:
            try:
                poll = self.backend.poll(job.handle)
            except ProviderError as exc:
                job.poll_failures += 1
                if job.poll_failures <= MAX_POLL_RETRIES:
                    job.next_poll = self.clock.now() + min(60.0, 2.0**job.poll_failures)
                    continue
                in_flight.remove(job)
                self._fail(
                    job, {"code": "POLL_FAILED", "message": exc.message, "location": None}, self.clock.now()
                )
                continue
            except Exception as exc:  # the simulation itself raised: a final ERROR, never left SUBMITTED
                in_flight.remove(job)
                self._fail(job, crash_error("SIMULATION_CRASHED", exc), self.clock.now())
                continue
            now = self.clock.now()
            if not poll.done:
                if job.started_at is None and poll.progress is not None and poll.progress > 0:
                    job.started_at = now
                if poll.progress is not None and poll.progress != job.progress:
                    job.progress = poll.progress
                    self.sims.mark_running(job.row_id, job.started_at or now, poll.progress)
                    self.emit(
                        job,
                        job.run_id,
                        ev.SIMULATION_PROGRESS,
                        {"candidate_id": job.candidate["candidate_id"], "progress": poll.progress},
                    )
                    self.set_record(job.candidate["candidate_id"], {"status": "RUNNING"})
                    self.report(job.candidate["candidate_id"], "RUNNING")
                job.next_poll = now + max(0.0, float(poll.retry_after_s))
                continue
            in_flight.remove(job)
            run_s = poll.extra.get("run_s")
            started = now - float(run_s) if isinstance(run_s, int | float) else (job.started_at or now)
            outcome = poll.outcome
            if outcome is None:
                self._fail(
                    job,
                    {
                        "code": "NO_OUTCOME",
                        "message": "backend finished without an outcome",
                        "location": None,
                    },
                    now,
                    started,
                )
            elif outcome.status == "COMPLETE" and outcome.result is not None:
                self._complete(job, outcome, now, started)
            else:
                error = outcome.error or {
                    "code": "SIMULATION_ERROR",
                    "message": "simulation failed",
                    "location": None,
                }
                self._fail(job, error, now, started)

    def _timings(
        self, job: _Job, finished: float, started: float | None
    ) -> tuple[float, float, float, float]:
        start = started if started is not None else finished
        start = max(start, job.submitted_at) if job.submitted_at else start
        queue_s = max(0.0, start - job.submitted_at) if job.submitted_at else 0.0
        run_s = max(0.0, finished - start)
        total_s = max(0.0, finished - job.submitted_at) if job.submitted_at else run_s
        return start, round(queue_s, 6), round(run_s, 6), round(total_s, 6)

    def _complete(
        self, job: _Job, outcome: SimulationOutcome, finished: float, started: float | None
    ) -> None:
        assert outcome.result is not None
        try:
            result = AlphaResult.model_validate(outcome.result)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            self._fail(
                job,
                {
                    "code": "RESULT_INVALID",
                    "message": f"result key '{where}': {first['msg']}",
                    "location": None,
                },
                finished,
                started,
            )
            return
        data = outcome.result
        series = self._self_correlation(job, result, data)
        start, queue_s, run_s, total_s = self._timings(job, finished, started)
        metrics = result.is_
        passed = all(c["result"] != "FAIL" for c in data["is"]["checks"])
        alpha_id = outcome.alpha_id or result.id
        self.sims.finish(
            job.row_id,
            Finish(
                status="COMPLETE",
                finished_at=finished,
                started_at=start,
                queue_s=queue_s,
                run_s=run_s,
                total_s=total_s,
                alpha_id=alpha_id,
                result=data,
                sharpe=metrics.sharpe,
                fitness=metrics.fitness,
                turnover=metrics.turnover,
                returns=metrics.returns,
                passed=passed,
            ),
        )
        self.pnls.put_result(job.row_id, finished, data, series)
        cid = job.candidate["candidate_id"]
        self.emit(
            job,
            job.run_id,
            ev.SIMULATION_COMPLETED,
            {
                "candidate_id": cid,
                "alpha_id": alpha_id,
                "sharpe": metrics.sharpe,
                "fitness": metrics.fitness,
                "turnover": metrics.turnover,
                "returns": metrics.returns,
                "passed": passed,
                "queue_s": queue_s,
                "run_s": run_s,
                "total_s": total_s,
            },
        )
        self.store.set_candidate_status(cid, "simulated")
        self.record(job.candidate, job.run_id, self.sims.get(job.row_id) or {"status": "COMPLETE"})
        self.report(cid, "COMPLETE")

    def _self_correlation(self, job: _Job, result: AlphaResult, data: dict[str, Any]) -> Series | None:
        """Decide SELF_CORRELATION in ``data`` against the earlier results (``self_correlation``);
        returns the new PnL as a series for the cache."""
        if result.pnl is None:
            return None
        series = self.pnls.prepare(result.pnl.dates, result.pnl.values)
        earlier = self.pnls.earlier(
            self.sims, exclude_id=job.row_id, exclude_candidate=job.candidate["candidate_id"]
        )
        decided = decide(series, float(result.is_.sharpe or 0.0), earlier)
        checks = [c for c in data["is"]["checks"] if c.get("name") != "SELF_CORRELATION"]
        checks.append(decided)
        data["is"]["checks"] = checks
        return series

    def _fail(self, job: _Job, error: dict[str, Any], finished: float, started: float | None = None) -> None:
        start, queue_s, run_s, total_s = self._timings(job, finished, started)
        self.sims.finish(
            job.row_id,
            Finish(
                status="ERROR",
                finished_at=finished,
                started_at=start if job.submitted_at else None,
                queue_s=queue_s,
                run_s=run_s,
                total_s=total_s,
                error=error,
            ),
        )
        cid = job.candidate["candidate_id"]
        self.emit(
            job,
            job.run_id,
            ev.SIMULATION_FAILED,
            {
                "candidate_id": cid,
                "error_code": error.get("code"),
                "message": error.get("message"),
                "location": error.get("location"),
                "queue_s": queue_s,
                "run_s": run_s,
                "total_s": total_s,
            },
        )
        self.store.set_candidate_status(cid, "simulation_failed")
        self.record(job.candidate, job.run_id, self.sims.get(job.row_id) or {"status": "ERROR"})
        self.report(cid, "ERROR")


MAX_MESSAGE = 300
"""Longest exception text copied into an error message (a poison value must not flood the store)."""


def crash_error(code: str, exc: BaseException) -> dict[str, Any]:
    """The ``{"code", "message", "location"}`` error for an exception a backend raised: ``OUT_OF_MEMORY``
    for a ``MemoryError`` (e.g. an expression asking for petabytes), ``code`` otherwise."""
    text = str(exc)
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + "…"
    if isinstance(exc, MemoryError):
        return {
            "code": "OUT_OF_MEMORY",
            "message": f"the simulation needed more memory than there is ({text or 'MemoryError'})",
            "location": None,
        }
    return {"code": code, "message": f"{type(exc).__name__}: {text}", "location": None}


def simulate_candidates(
    store: Store,
    candidates: Sequence[dict[str, Any]],
    backend: SimulationBackend,
    settings: SimulationSettings,
    *,
    progress: ProgressCallback | None = None,
    clock: Clock | None = None,
    max_in_flight: int | None = None,
) -> list[dict[str, Any]]:
    """Simulate ``candidates`` (dicts with ``candidate_id``, ``expression``, ``run_id``, ``idea_id``,
    ``lane``, ``valid``...) and return one record per distinct candidate, in input order:
    ``{candidate_id, run_id, idea_id, lane, expression, backend, simulation_id, status (COMPLETE |
    ERROR | SKIPPED), alpha_id, result (AlphaResult JSON or None), error, timings{queue_s, run_s,
    total_s}}``."""
    runner = _Runner(store, backend, settings, clock or SystemClock(), progress, max_in_flight)
    try:
        records = runner.run(candidates)
    except BaseException as exc:
        if runner._default_run is not None:  # the "simulate" run this call opened ends with it
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            store.finish_run(runner._default_run, status)
        raise
    if runner._default_run is not None:
        statuses = [str(r.get("status")) for r in records]
        summary = {s.lower(): statuses.count(s) for s in ("COMPLETE", "ERROR", "SKIPPED")}
        store.finish_run(runner._default_run, "completed", {"candidates": len(records), **summary})
    return records
