"""``BrainBackend``: the SimulationBackend that runs jobs on the real BRAIN platform.

``submit`` posts one simulation per job, or a multi-simulation (list body, ≤ 10) for jobs that share
instrument type, region, universe, delay and language. It returns one opaque handle per job; a handle
holds the progress path, the child index and the candidate id, so a fresh process can resume polling
after a restart. ``poll`` reads progress and, once done, returns the ``GET /alphas/{id}`` JSON (plus a
``pnl`` series) or an ERROR outcome with BRAIN's message and location (the repair loop's input).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from brain_agent.errors import InputError, ProviderError
from brain_agent.simulation.backend import Poll, SimulationJob, SimulationOutcome
from brain_agent.simulation.brain.api import BrainApi, Progress, Started
from brain_agent.simulation.brain.clock import Clock
from brain_agent.simulation.brain.credentials import SessionStore, load_credentials, session_path
from brain_agent.simulation.brain.session import (
    BrainSession,
    ConcurrencyLimitError,
    Notify,
    WaitForUser,
    default_base_url,
    stderr_notify,
)
from brain_agent.simulation.brain.throttle import ConcurrencyWindow, RetryPolicy

log = logging.getLogger("brain_agent.simulation.brain")

HANDLE_PREFIX = "brain:"
EXPRESSION_ERROR = "BRAIN_EXPRESSION_ERROR"
SIMULATION_FAILED = "BRAIN_SIMULATION_FAILED"
CANCELLED = "BRAIN_CANCELLED"
REJECTED = "BRAIN_REJECTED"
_DONE_OK = ("COMPLETE", "WARNING")
_GROUP_KEYS = ("instrumentType", "region", "universe", "delay", "language")


def simulation_body(job: SimulationJob) -> dict[str, Any]:
    """The ``POST /simulations`` item for one job: every settings key, always (reference §1.3)."""
    return {"type": "REGULAR", "settings": job.settings.model_dump(mode="json"), "regular": job.expression}


def expression_digest(expression: str) -> str:
    return hashlib.sha256(expression.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Handle:
    """What a handle string carries (``brain:`` + compact JSON)."""

    candidate_id: str
    location: str | None = None
    child: int | None = None
    digest: str | None = None
    error: dict[str, Any] | None = None

    def encode(self) -> str:
        doc: dict[str, Any] = {"v": 1, "cid": self.candidate_id}
        if self.location is not None:
            doc["loc"] = self.location
        if self.child is not None:
            doc["i"] = self.child
        if self.digest is not None:
            doc["x"] = self.digest
        if self.error is not None:
            doc["err"] = self.error
        return HANDLE_PREFIX + json.dumps(doc, separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> Handle:
        try:
            if not text.startswith(HANDLE_PREFIX):
                raise ValueError("prefix")
            doc = json.loads(text[len(HANDLE_PREFIX) :])
            if doc.get("v") != 1 or not isinstance(doc.get("cid"), str):
                raise ValueError("version")
            if doc.get("loc") is None and doc.get("err") is None:
                raise ValueError("empty")
        except (ValueError, AttributeError):
            raise InputError(f"not a BRAIN simulation handle: {text[:80]!r}") from None
        return cls(doc["cid"], doc.get("loc"), doc.get("i"), doc.get("x"), doc.get("err"))


def _flatten_errors(errors: Any, prefix: str = "") -> list[str]:
    """DRF-style error bodies (``{"settings": {"region": ["..."]}}``) as ``settings.region: ...`` lines."""
    if isinstance(errors, dict):
        out: list[str] = []
        for key, value in errors.items():
            out.extend(_flatten_errors(value, f"{prefix}{key}."))
        return out
    if isinstance(errors, list):
        return [line for item in errors for line in _flatten_errors(item, prefix)]
    if errors in (None, ""):
        return []
    return [f"{prefix.rstrip('.')}: {errors}" if prefix else str(errors)]


def _rejected(errors: Any, status: int) -> dict[str, Any]:
    lines = _flatten_errors(errors) or [f"HTTP {status}"]
    return {
        "code": REJECTED,
        "message": "BRAIN rejected the simulation: " + "; ".join(lines),
        "location": None,
    }


class BrainBackend:
    """Simulate on BRAIN. Implements ``brain_agent.simulation.backend.SimulationBackend``."""

    name = "brain"
    max_batch = 10

    def __init__(
        self,
        session: BrainSession,
        *,
        fetch_pnl: bool = True,
        window: ConcurrencyWindow | None = None,
        multi_simulation: bool = True,
    ) -> None:
        self.session = session
        self.api = BrainApi(session)
        self.fetch_pnl = fetch_pnl
        self.window = window or ConcurrencyWindow()
        self.multi_simulation = multi_simulation
        self._in_flight: dict[str, datetime] = {}
        """Progress paths of parents this process started and has not yet seen finish."""
        self._parent_done: dict[str, dict[str, Any]] = {}
        self._parent_seen: dict[str, tuple[datetime, Progress]] = {}

    @classmethod
    def from_options(
        cls,
        base_url: str | None = None,
        interactive_login: bool = False,
        db_path: Path | None = None,
        *,
        notify: Notify = stderr_notify,
        wait_for_user: WaitForUser | None = None,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> BrainBackend:
        """The backend the CLI builds: base URL from ``$BRAIN_API_URL`` (else the public API),
        credentials from the environment or the 0600 credentials file, the session cookie next to
        ``db_path`` (or ``$BRAIN_SESSION_FILE`` / ``~/.config/brain-agent/session.json``)."""
        session = BrainSession(
            base_url or default_base_url(),
            credentials=load_credentials,
            store=SessionStore(session_path(os.environ, db_path)),
            clock=clock,
            policy=policy,
            interactive_login=interactive_login,
            notify=notify,
            wait_for_user=wait_for_user or press_enter,
            transport=transport,
        )
        return cls(session)

    def __repr__(self) -> str:
        return f"BrainBackend({self.session.base_url!r}, window={self.window.limit})"

    def __enter__(self) -> BrainBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def login(self) -> None:
        """Log in now (or reuse the saved session): credential problems surface before any work."""
        self.session.ensure()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    # -- submit ---------------------------------------------------------------------------------

    def submit(self, jobs: Sequence[SimulationJob]) -> list[str]:
        if len(jobs) > self.max_batch:
            raise InputError(f"BRAIN takes at most {self.max_batch} simulations per batch (got {len(jobs)})")
        handles: list[str | None] = [None] * len(jobs)
        groups: dict[tuple[Any, ...], list[int]] = {}
        for index, job in enumerate(jobs):
            key = tuple(getattr(job.settings, k) for k in _GROUP_KEYS)
            groups.setdefault(key, []).append(index)
        for indexes in groups.values():
            for index, handle in zip(indexes, self._submit_group([jobs[i] for i in indexes]), strict=True):
                handles[index] = handle
        return [h for h in handles if h is not None]

    def _submit_group(self, jobs: list[SimulationJob], *, retry_rejected: bool = True) -> list[str]:
        if len(jobs) > 1 and not self.multi_simulation:
            return [h for job in jobs for h in self._submit_group([job])]
        multi = len(jobs) > 1
        bodies = [simulation_body(job) for job in jobs]
        started = self._start(bodies if multi else bodies[0])
        if started.location is not None:
            return [
                Handle(
                    job.candidate_id,
                    started.location,
                    i if multi else None,
                    expression_digest(job.expression),
                ).encode()
                for i, job in enumerate(jobs)
            ]
        if multi and started.status == 403:
            log.info("BRAIN refused a multi-simulation (403); submitting one by one")
            self.multi_simulation = False
            return [h for job in jobs for h in self._submit_group([job])]
        errors = started.errors
        if multi and isinstance(errors, list) and len(errors) == len(jobs) and any(not e for e in errors):
            out: list[str | None] = [None] * len(jobs)
            good = [i for i, e in enumerate(errors) if not e]
            for i, e in enumerate(errors):
                if e:
                    out[i] = Handle(jobs[i].candidate_id, error=_rejected(e, started.status)).encode()
            if retry_rejected and good:
                again = self._submit_group([jobs[i] for i in good], retry_rejected=False)
            else:
                again = [
                    Handle(jobs[i].candidate_id, error=_rejected(errors, started.status)).encode()
                    for i in good
                ]
            for i, handle in zip(good, again, strict=True):
                out[i] = handle
            return [h for h in out if h is not None]
        return [Handle(job.candidate_id, error=_rejected(errors, started.status)).encode() for job in jobs]

    def _start(self, body: dict[str, Any] | list[dict[str, Any]]) -> Started:
        policy = self.session.policy
        refusals = 0
        while True:
            self._wait_for_slot()
            try:
                started = self.api.start(body)
            except ConcurrencyLimitError as exc:
                refusals += 1
                self.window.on_limit(len(self._in_flight) or None)
                log.info("BRAIN: concurrency limit hit; window now %d", self.window.limit)
                if refusals > policy.concurrency_waits:
                    raise ProviderError(
                        f"BRAIN kept refusing new simulations (429 concurrency limit) after {refusals} tries"
                    ) from None
                if not self._in_flight:
                    delay = exc.retry_after_s or self.session.backoff(min(refusals, 8))
                    self.session.wait(delay, "concurrency limit, nothing of ours in flight")
                continue
            if started.location is not None:
                self.window.on_success()
                self._in_flight[started.location] = self.session.clock.now()
            return started

    def _wait_for_slot(self) -> None:
        while len(self._in_flight) >= self.window.limit:
            shortest: float | None = None
            for location in list(self._in_flight):
                seen = self._parent_progress(location)
                if not seen.done:
                    shortest = seen.retry_after_s if shortest is None else min(shortest, seen.retry_after_s)
            if len(self._in_flight) >= self.window.limit:
                self.session.wait(shortest or 1.0, f"{len(self._in_flight)} simulations in flight")

    # -- poll -----------------------------------------------------------------------------------

    def _parent_progress(self, location: str) -> Progress:
        """Progress of a simulation, cached until its Retry-After runs out (children share a parent)."""
        done = self._parent_done.get(location)
        if done is not None:
            return Progress(done=True, body=done)
        now = self.session.clock.now()
        seen = self._parent_seen.get(location)
        if seen is not None:
            left = (seen[0] + timedelta(seconds=seen[1].retry_after_s) - now).total_seconds()
            if left > 0:
                return replace(seen[1], retry_after_s=left)
        progress = self.api.progress(location)
        if progress.done:
            self._parent_done[location] = progress.body
            self._parent_seen.pop(location, None)
            self._in_flight.pop(location, None)
        else:
            self._parent_seen[location] = (now, progress)
        return progress

    def poll(self, handle: str) -> Poll:
        h = Handle.decode(handle)
        if h.error is not None:
            return Poll(
                done=True,
                retry_after_s=0.0,
                outcome=SimulationOutcome(h.candidate_id, "ERROR", error=h.error),
            )
        assert h.location is not None
        top = self._parent_progress(h.location)
        if not top.done:
            return Poll(done=False, progress=top.progress, retry_after_s=top.retry_after_s)
        if h.child is None:
            return self._finish(h, top.body)
        children = top.body.get("children")
        if not isinstance(children, list) or h.child >= len(children):
            return self._failed(h, top.body)
        child_id = self._match_child(h, [str(c) for c in children])
        child = self._parent_progress(f"/simulations/{child_id}")
        if not child.done:
            return Poll(done=False, progress=child.progress, retry_after_s=child.retry_after_s)
        return self._finish(h, child.body)

    def wait(self, handles: Sequence[str]) -> list[SimulationOutcome]:
        """Poll until every handle is done, sleeping each round's shortest Retry-After (clock seam)."""
        outcomes: dict[int, SimulationOutcome] = {}
        for _ in range(self.session.policy.max_poll_waits):
            shortest: float | None = None
            for index, handle in enumerate(handles):
                if index in outcomes:
                    continue
                poll = self.poll(handle)
                if poll.done and poll.outcome is not None:
                    outcomes[index] = poll.outcome
                else:
                    shortest = poll.retry_after_s if shortest is None else min(shortest, poll.retry_after_s)
            if len(outcomes) == len(handles):
                return [outcomes[i] for i in range(len(handles))]
            self.session.wait(shortest or 1.0, f"{len(handles) - len(outcomes)} simulations running")
        raise ProviderError(
            f"BRAIN simulations still running after {self.session.policy.max_poll_waits} polling rounds"
        )

    def _match_child(self, h: Handle, children: list[str]) -> str:
        """``children[i]`` is assumed to be request ``i``; check the echoed expression when we can."""
        assert h.child is not None
        first = children[h.child]
        if h.digest is None:
            return first
        body = self._parent_progress(f"/simulations/{first}").body
        echoed = body.get("regular")
        if not isinstance(echoed, str) or expression_digest(echoed) == h.digest:
            return first
        for other in children:
            body = self._parent_progress(f"/simulations/{other}").body
            if isinstance(body.get("regular"), str) and expression_digest(body["regular"]) == h.digest:
                log.info("BRAIN: child order differs from request order; matched by expression")
                return other
        return first

    def _finish(self, h: Handle, body: dict[str, Any]) -> Poll:
        status = str(body.get("status") or "")
        alpha_id = body.get("alpha")
        extra = {"simulation_id": body.get("id"), "brain_status": status}
        if status in _DONE_OK and isinstance(alpha_id, str) and alpha_id:
            result = self.api.alpha(alpha_id)
            if self.fetch_pnl:
                result = {**result, **self._pnl(alpha_id)}
            outcome = SimulationOutcome(h.candidate_id, "COMPLETE", result=result, alpha_id=alpha_id)
            return Poll(done=True, progress=1.0, retry_after_s=0.0, outcome=outcome, extra=extra)
        return self._failed(h, body, extra)

    def _pnl(self, alpha_id: str) -> dict[str, Any]:
        """The optional PnL follow-up: on failure (404, 5xx after retries, a malformed recordset) the
        result keeps its metrics, already paid for with quota, and says ``pnl_unavailable``."""
        try:
            return {"pnl": pnl_series(self.api.recordset(alpha_id, "pnl"))}
        except ProviderError as exc:
            log.warning("BRAIN: pnl of alpha %s unavailable: %s", alpha_id, exc.message)
            return {"pnl": None, "pnl_unavailable": exc.message}

    def _failed(self, h: Handle, body: dict[str, Any], extra: dict[str, Any] | None = None) -> Poll:
        status = str(body.get("status") or "")
        message = body.get("message")
        location = body.get("location") if isinstance(body.get("location"), dict) else None
        if status == "CANCELLED":
            error = {
                "code": CANCELLED,
                "message": "BRAIN cancelled this simulation because another one in the same batch failed",
                "location": None,
            }
        elif isinstance(message, str) and message:
            error = {"code": EXPRESSION_ERROR, "message": message, "location": location}
        else:
            error = {
                "code": SIMULATION_FAILED,
                "message": f"BRAIN simulation ended with status {status or 'unknown'} and no message",
                "location": None,
            }
        outcome = SimulationOutcome(h.candidate_id, "ERROR", error=error)
        return Poll(
            done=True, retry_after_s=0.0, outcome=outcome, extra=extra or {"brain_status": status or None}
        )


def pnl_series(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The ``pnl`` recordset as ``{"dates": [...], "values": [...]}`` (cumulative dollars), the
    ``PnlSeries`` shape of ``brain_agent.simulation.result``."""
    dates: list[str] = []
    values: list[float] = []
    for row in rows:
        date, value = row.get("date"), row.get("pnl")
        if isinstance(date, str) and isinstance(value, int | float):
            dates.append(date)
            values.append(float(value))
    return {"dates": dates, "values": values}


def press_enter() -> None:
    """The CLI's wait: the person presses Enter after the browser check (EOF just goes on)."""
    print("Press Enter once the check in the browser is done... ", end="", file=sys.stderr, flush=True)
    with contextlib.suppress(OSError, ValueError):
        sys.stdin.readline()
