"""Worker processes for the local simulator: a batch spread over several cores.

The workers are forked from the process that built the market, once, and live as long as the
backend: they share the market's arrays with it (copy-on-write pages that nobody writes), so the
market is built once, not per worker. Each worker keeps its own sub-expression cache (an equal share
of the budget); a batch's jobs are routed to the worker that has already seen most of their
sub-expressions (balanced so no worker gets more than its share), so repeated ``ts_mean(volume, 20)``
stay on one core and are computed once.

Results are the same as in one process: every job is computed the same way wherever it runs. A worker
that dies (killed, out of memory) turns its jobs into ``WORKER_DIED`` errors and is replaced on the
next batch. Where ``fork`` is not available (Windows, macOS default), everything runs in-process.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import warnings
import weakref
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from brain_agent.errors import ConfigError
from brain_agent.expression.ast import Node
from brain_agent.simulation.backend import SimulationJob, SimulationOutcome

if TYPE_CHECKING:
    from brain_agent.simulation.local.backend import LocalBackend

ENV_WORKERS = "BRAIN_AGENT_SIM_WORKERS"
MAX_WORKERS = 64
DEFAULT_MAX_WORKERS = 4

Result = tuple[str, SimulationOutcome, float]


def fork_available() -> bool:
    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()


def resolve_workers(workers: int | None) -> int:
    """``workers`` if given, else ``$BRAIN_AGENT_SIM_WORKERS``, else the CPUs (at most 4); 1 without fork."""
    if workers is None:
        raw = os.environ.get(ENV_WORKERS, "").strip()
        if raw:
            try:
                workers = int(raw)
            except ValueError:
                raise ConfigError(
                    f"${ENV_WORKERS}: expected a whole number of worker processes, got {raw[:40]!r}",
                    key=ENV_WORKERS,
                ) from None
        else:
            workers = min(DEFAULT_MAX_WORKERS, os.cpu_count() or 1)
    if not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(
            f"simulation workers must be between 1 and {MAX_WORKERS}, got {workers}", key="workers"
        )
    return workers if fork_available() else 1


def _serve(backend: LocalBackend, conn: Connection, share: int) -> None:
    """A worker's loop: a batch in, its results out, until told to stop (``None``) or the pipe closes.
    The worker's cache gets ``1/share`` of the budget, so all workers together stay within it."""
    backend.cache.resize(backend.cache.max_bytes // share)
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        backend._done.clear()
        results = backend.run_jobs(batch)
        backend._done.clear()
        conn.send((results, backend.cache.stats()))


def _signature(expression: str) -> frozenset[int]:
    """Hashes of the expression's sub-trees (what a worker's cache would hold after running it)."""
    from brain_agent.errors import ExpressionError
    from brain_agent.expression.parser import parse
    from brain_agent.simulation.local.evaluator import _CACHEABLE, inline, walk

    try:
        tree: Node = inline(parse(expression))
    except (ExpressionError, RecursionError):
        return frozenset()
    return frozenset(hash(n) for n in walk(tree) if isinstance(n, _CACHEABLE))


def _died(part: Sequence[tuple[str, SimulationJob]]) -> list[Result]:
    error = {
        "code": "WORKER_DIED",
        "message": "the simulation worker process died (killed or out of memory)",
        "location": None,
    }
    return [
        (handle, SimulationOutcome(job.candidate_id, "ERROR", error=dict(error)), 0.0) for handle, job in part
    ]


class WorkerPool:
    """``size`` forked copies of ``backend`` answering batches over pipes."""

    def __init__(self, backend: LocalBackend, size: int) -> None:
        self._backend = weakref.ref(backend)  # the backend owns the pool, not the other way round
        self.size = size
        self._procs: list[Any] = []
        self._conns: list[Connection] = []
        self._seen: list[set[int]] = []
        self.cache_stats: dict[int, dict[str, int]] = {}
        """Each worker's cache counters, as of its last batch."""
        self._start()

    def _start(self) -> None:
        backend = self._backend()
        if backend is None:
            raise RuntimeError("the local backend of this worker pool is gone")
        ctx = multiprocessing.get_context("fork")
        for _ in range(self.size):
            parent, child = ctx.Pipe()
            with warnings.catch_warnings():
                # Python ≥ 3.12 warns about fork in a threaded process; the worker only computes
                # and talks over its pipe, it takes none of the locks other threads may hold
                warnings.simplefilter("ignore", DeprecationWarning)
                proc = ctx.Process(target=_serve, args=(backend, child, self.size), daemon=True)
                proc.start()
            child.close()
            self._procs.append(proc)
            self._conns.append(parent)
            self._seen.append(set())

    def _route(self, batch: Sequence[tuple[str, SimulationJob]]) -> list[list[tuple[str, SimulationJob]]]:
        """Each job to the worker whose past jobs share most of its sub-trees, none over its share."""
        share = math.ceil(len(batch) / self.size)
        parts: list[list[tuple[str, SimulationJob]]] = [[] for _ in range(self.size)]
        for item in batch:
            sig = _signature(item[1].expression)
            best = min(
                (w for w in range(self.size) if len(parts[w]) < share),
                key=lambda w: (-len(sig & self._seen[w]), len(parts[w]), w),
            )
            parts[best].append(item)
            self._seen[best] |= sig
        return parts

    def _restart(self) -> None:
        self.close()
        self._procs, self._conns, self._seen, self.cache_stats = [], [], [], {}
        self._start()

    def run(self, batch: Sequence[tuple[str, SimulationJob]]) -> list[Result]:
        if not all(p.is_alive() for p in self._procs):
            self._restart()  # a worker died between batches: replace the pool before sending work
        parts = self._route(batch)
        sent: list[int] = []
        results: list[Result] = []
        dead = False
        for w, part in enumerate(parts):
            if not part:
                continue
            try:
                self._conns[w].send(part)
                sent.append(w)
            except (OSError, ValueError):
                dead = True
                results.extend(_died(part))
        for w in sent:
            try:
                answer, stats = self._conns[w].recv()
                results.extend(answer)
                self.cache_stats[self._procs[w].pid] = stats
            except (EOFError, OSError):
                dead = True
                results.extend(_died(parts[w]))
        if dead:
            self._restart()
        return results

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(None)
                conn.close()
            except (OSError, ValueError):
                pass
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        self._procs, self._conns = [], []
