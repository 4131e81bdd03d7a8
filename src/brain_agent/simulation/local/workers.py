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
ENV_THREADS = "BRAIN_AGENT_SIM_THREADS"
MAX_WORKERS = 64
DEFAULT_MAX_WORKERS = 4

Result = tuple[str, SimulationOutcome, float]


def fork_available() -> bool:
    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()


def _count(given: int | None, env: str, what: str, key: str) -> int:
    """``given`` if set, else ``$env``, else the CPUs (at most 4); between 1 and ``MAX_WORKERS``."""
    if given is None:
        raw = os.environ.get(env, "").strip()
        if raw:
            try:
                given = int(raw)
            except ValueError:
                raise ConfigError(
                    f"${env}: expected a whole number of {what}, got {raw[:40]!r}", key=env
                ) from None
        else:
            given = min(DEFAULT_MAX_WORKERS, os.cpu_count() or 1)
    if not 1 <= given <= MAX_WORKERS:
        raise ConfigError(f"simulation {key} must be between 1 and {MAX_WORKERS}, got {given}", key=key)
    return given


def resolve_workers(workers: int | None) -> int:
    """``workers`` if given, else ``$BRAIN_AGENT_SIM_WORKERS``, else the CPUs (at most 4); 1 without fork."""
    n = _count(workers, ENV_WORKERS, "worker processes", "workers")
    return n if fork_available() else 1


def resolve_threads(threads: int | None) -> int:
    """``threads`` if given, else ``$BRAIN_AGENT_SIM_THREADS``, else the CPUs (at most 4)."""
    return _count(threads, ENV_THREADS, "threads", "threads")


def _serve(backend: LocalBackend, conn: Connection, share: int) -> None:
    """A worker's loop: a job in, its result out, until told to stop (``None``) or the pipe closes.
    The worker's cache gets ``1/share`` of the budget, so all workers together stay within it."""
    backend.cache.resize(backend.cache.max_bytes // share)
    backend.threads = max(1, (os.cpu_count() or 1) // share)  # the workers share the cores
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        handle, job, shared = message
        backend._done.clear()
        results = backend.run_jobs([(handle, job)], shared=shared)
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


class _Queued:
    """A job waiting for a worker: its sub-tree hashes and those it shares with other jobs."""

    __slots__ = ("handle", "job", "shared", "signature")

    def __init__(self, handle: str, job: SimulationJob, signature: frozenset[int]) -> None:
        self.handle, self.job, self.signature = handle, job, signature
        self.shared: frozenset[int] = frozenset()


class WorkerPool:
    """``size`` forked copies of a backend, fed one job at a time as they become free.

    Each worker has at most ``depth`` jobs sent to it (one computing, the next waiting in its pipe), so
    no worker idles while the others work and the caller can handle results while the workers
    compute. A free worker gets, among the first few queued jobs, the one sharing most sub-trees with
    the jobs it has already run (its cache holds them); sub-trees shared by jobs queued together are
    kept in the cache at once (``shared``), as a batch in one process would keep them.
    """

    LOOKAHEAD = 8
    """Queued jobs a free worker chooses from."""

    def __init__(self, backend: LocalBackend, size: int, depth: int = 2) -> None:
        self._backend = weakref.ref(backend)  # the backend owns the pool, not the other way round
        self.size = size
        self.depth = depth
        self._procs: list[Any] = [None] * size
        self._conns: list[Any] = [None] * size
        self._seen: list[set[int]] = [set() for _ in range(size)]
        self._sent: list[list[tuple[str, SimulationJob]]] = [[] for _ in range(size)]
        self._queue: list[_Queued] = []
        self._ready: list[Result] = []
        """Outcomes not yet handed out (jobs of a worker found dead while sending work)."""
        self.cache_stats: dict[int, dict[str, int]] = {}
        """Each worker's cache counters, as of its last job."""
        for w in range(size):
            self._start(w)

    def _start(self, w: int) -> None:
        backend = self._backend()
        if backend is None:
            raise RuntimeError("the local backend of this worker pool is gone")
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        with warnings.catch_warnings():
            # Python ≥ 3.12 warns about fork in a threaded process; the worker only computes
            # and talks over its pipe, it takes none of the locks other threads may hold
            warnings.simplefilter("ignore", DeprecationWarning)
            proc = ctx.Process(target=_serve, args=(backend, child, self.size), daemon=True)
            proc.start()
        child.close()
        self._procs[w], self._conns[w], self._seen[w], self._sent[w] = proc, parent, set(), []

    @property
    def outstanding(self) -> int:
        """Jobs queued or sent and not yet answered."""
        return len(self._queue) + len(self._ready) + sum(len(s) for s in self._sent)

    def put(self, batch: Sequence[tuple[str, SimulationJob]]) -> None:
        """Queue ``batch`` and send what the workers have room for."""
        queued = [_Queued(handle, job, _signature(job.expression)) for handle, job in batch]
        counts: dict[int, int] = {}
        for q in queued:
            for h in q.signature:
                counts[h] = counts.get(h, 0) + 1
        for q in queued:
            q.shared = frozenset(h for h in q.signature if counts[h] > 1)
        self._queue.extend(queued)
        self._dispatch()

    def _dispatch(self) -> None:
        """Send queued jobs to the workers with room; a dead worker's jobs become ``WORKER_DIED``
        outcomes (handed out by ``take``) and a new worker takes its place."""
        for w in range(self.size):
            while self._queue and len(self._sent[w]) < self.depth:
                if not self._procs[w].is_alive():
                    self._ready.extend(self._lost(w))
                    continue
                window = self._queue[: self.LOOKAHEAD]
                best = max(range(len(window)), key=lambda i: (len(window[i].signature & self._seen[w]), -i))
                q = self._queue.pop(best)
                try:
                    self._conns[w].send((q.handle, q.job, q.shared))
                except (OSError, ValueError):
                    self._ready.extend(self._lost(w, extra=[(q.handle, q.job)]))
                    continue
                self._sent[w].append((q.handle, q.job))
                self._seen[w] |= q.signature

    def _lost(self, w: int, extra: Sequence[tuple[str, SimulationJob]] = ()) -> list[Result]:
        """Worker ``w`` died: its jobs become ``WORKER_DIED`` errors and a new worker takes its place."""
        lost = _died([*self._sent[w], *extra])
        proc = self._procs[w]
        if proc is not None and proc.is_alive():
            proc.kill()
        if proc is not None:
            proc.join(timeout=5)
        self._conns[w].close()
        self._start(w)
        return lost

    def take(self) -> list[Result]:
        """Wait for at least one answer (or a worker's death); send the freed workers more work.
        Returns the results that came in."""
        from multiprocessing.connection import wait

        self._dispatch()
        results, self._ready = self._ready, []
        busy = {self._conns[w]: w for w in range(self.size) if self._sent[w]}
        if results or not busy:
            return results
        for conn in wait(list(busy), timeout=None):
            w = busy[conn]
            try:
                answer, stats = self._conns[w].recv()
            except (EOFError, OSError):
                results.extend(self._lost(w))
                continue
            results.extend(answer)
            done = {handle for handle, _, _ in answer}
            self._sent[w] = [item for item in self._sent[w] if item[0] not in done]
            self.cache_stats[self._procs[w].pid] = stats
        self._dispatch()
        results.extend(self._ready)
        self._ready = []
        return results

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(None)
                conn.close()
            except (OSError, ValueError, AttributeError):
                pass
        for proc in self._procs:
            if proc is None:
                continue
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        self._procs, self._conns, self._queue = [], [], []
