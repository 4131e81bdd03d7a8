"""Cached and parallel simulation give exactly what serial, uncached simulation gives; the cache's
budget and admission rules hold; worker processes really run the jobs."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from brain_agent.errors import ConfigError
from brain_agent.simulation.backend import SimulationJob, SimulationOutcome, SimulationSettings
from brain_agent.simulation.local.backend import LocalBackend
from brain_agent.simulation.local.cache import SubexpressionCache, cache_mb_from_env
from brain_agent.simulation.local.corpus import llm_style_alphas
from brain_agent.simulation.local.evaluator import Evaluator, inline
from brain_agent.simulation.local.panel import Panel
from brain_agent.simulation.local.workers import fork_available, resolve_workers

BATCH = 30


def _jobs(n: int, settings: SimulationSettings | None = None) -> list[SimulationJob]:
    s = settings or SimulationSettings()
    exprs = [*llm_style_alphas(n - 2), "rank(nope)", "rank(close) +"]  # two errors ride along
    return [SimulationJob(f"c{i:02d}", e, s) for i, e in enumerate(exprs)]


def _comparable(outcome: SimulationOutcome) -> tuple[Any, ...]:
    result = dict(outcome.result or {})
    result.pop("dateCreated", None)
    result.pop("dateModified", None)
    return (outcome.candidate_id, outcome.status, result, outcome.error, outcome.alpha_id)


def _serial(market: Panel, jobs: list[SimulationJob]) -> list[tuple[Any, ...]]:
    """What one process without a cache gives: the reference every parallel set-up must equal."""
    return [
        _comparable(o) for o in LocalBackend(market, cache=SubexpressionCache(0), workers=1).simulate(jobs)
    ]


def _run(backend: LocalBackend, jobs: list[SimulationJob], chunk: int) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    try:
        for a in range(0, len(jobs), chunk):
            out.extend(_comparable(o) for o in backend.simulate(jobs[a : a + chunk]))
    finally:
        backend.close()
    return out


def test_llm_style_corpus_is_fixed_distinct_and_shares_subexpressions() -> None:
    first, again = llm_style_alphas(100), llm_style_alphas(100)
    assert first == again and len(set(first)) == 100
    assert llm_style_alphas(100, seed=1) != first
    shared = sum(1 for e in first if "ts_delta(close" in e)
    assert shared >= 10  # near-duplicates, as LLM batches have


@pytest.mark.parametrize(
    "settings",
    [SimulationSettings(), SimulationSettings(neutralization="MARKET", decay=4, nanHandling="ON")],
)
def test_parallel_and_cached_results_equal_serial_uncached(
    small_market: Panel, settings: SimulationSettings
) -> None:
    jobs = _jobs(BATCH, settings)
    serial = _run(LocalBackend(small_market, cache=SubexpressionCache(0), workers=1, threads=1), jobs, 10)
    assert sum(1 for r in serial if r[1] == "COMPLETE") == BATCH - 2
    assert {r[3]["code"] for r in serial if r[1] == "ERROR"} == {"UNKNOWN_FIELD", "PARSE_UNEXPECTED_END"}

    cache = SubexpressionCache.from_mb(64)
    cached_backend = LocalBackend(small_market, cache=cache, workers=1)
    cached = _run(cached_backend, jobs, 10)
    assert cached == serial
    assert cache.hits > 0 and cached_backend.cache_hits > 0
    # a second pass over the same batch is served from the cache and still identical
    again = _run(LocalBackend(small_market, cache=cache, workers=1), jobs, 10)
    assert again == serial

    # rows, columns and book slices on 3 threads (504 dates × 300 instruments: every kernel splits)
    threaded = _run(LocalBackend(small_market, cache=SubexpressionCache(0), workers=1, threads=3), jobs, 10)
    assert threaded == serial

    if fork_available():
        parallel_backend = LocalBackend(small_market, cache=SubexpressionCache.from_mb(64), workers=2)
        parallel = _run(parallel_backend, jobs, 20)
        assert parallel == serial
        # jobs fed one at a time to 3 workers, submitted in small chunks while others are running
        fed = LocalBackend(small_market, cache=SubexpressionCache.from_mb(64), workers=3)
        try:
            handles = fed.submit(jobs[:4])
            got = {handles[0]: fed.poll(handles[0]).outcome}  # the first poll starts the workers
            assert fed._pool is not None
            for a in range(4, len(jobs), 4):
                handles += fed.submit(jobs[a : a + 4])  # straight to the workers, while others run
                got[handles[a - 3]] = fed.poll(handles[a - 3]).outcome
            for h in reversed(handles):  # answers arrive in any order; each is kept until asked for
                got.setdefault(h, fed.poll(h).outcome)
            streamed = [_comparable(got[h]) for h in handles]  # type: ignore[arg-type]
        finally:
            fed.close()
        assert streamed == serial


@pytest.mark.skipif(not fork_available(), reason="worker processes need fork")
def test_workers_are_separate_processes_forked_once(small_market: Panel) -> None:
    backend = LocalBackend(small_market, cache=SubexpressionCache.from_mb(32), workers=2)
    try:
        backend.simulate(_jobs(6))
        pool = backend._pool
        assert pool is not None and len(pool._procs) == 2
        pids = [p.pid for p in pool._procs]
        assert os.getpid() not in pids and all(p.is_alive() for p in pool._procs)
        backend.simulate(_jobs(6))
        assert [p.pid for p in pool._procs] == pids  # the same workers serve the next batch
        assert set(pool.cache_stats) <= set(pids) and pool.cache_stats
    finally:
        backend.close()
    assert backend._pool is None


@pytest.mark.skipif(not fork_available(), reason="worker processes need fork")
def test_each_job_goes_to_the_workers_once(small_market: Panel) -> None:
    """Once the pool exists, jobs go to it at submit; polling one still being computed waits for
    it instead of sending it again (which computed it twice and left the extra outcome behind)."""
    jobs = _jobs(8)
    serial = _serial(small_market, jobs)
    backend = LocalBackend(small_market, cache=SubexpressionCache.from_mb(32), workers=2)
    try:
        backend.simulate(_jobs(4))  # forks the pool
        pool = backend._pool
        assert pool is not None
        assert [_comparable(o) for o in backend.simulate(jobs)] == serial
        assert pool.outstanding == 0 and not backend._done and not backend._sent
    finally:
        backend.close()


@pytest.mark.skipif(not fork_available(), reason="worker processes need fork")
def test_a_killed_worker_is_replaced_before_the_next_batch(small_market: Panel) -> None:
    jobs = _jobs(8)
    serial = _serial(small_market, jobs)
    backend = LocalBackend(small_market, cache=SubexpressionCache.from_mb(32), workers=2)
    try:
        backend.simulate(_jobs(4))
        pool = backend._pool
        assert pool is not None
        victim = pool._procs[0]
        victim.kill()
        victim.join(timeout=10)
        outcomes = [_comparable(o) for o in backend.simulate(jobs)]
        assert outcomes == serial  # nothing lost: the pool was replaced before work was sent
        assert victim.pid not in [p.pid for p in pool._procs]
        assert all(p.is_alive() for p in pool._procs)
    finally:
        backend.close()


def test_cache_budget_admission_and_read_only_values(small_market: Panel) -> None:
    matrix = np.zeros(small_market.shape)
    cache = SubexpressionCache(int(2.5 * matrix.nbytes))
    cache.put("a", matrix.copy())  # seen once: only its key is remembered
    assert len(cache) == 0
    cache.put("a", matrix.copy())  # computed again: kept
    cache.put("b", matrix.copy(), shared=True)  # known to be shared in the batch: kept at once
    assert len(cache) == 2 and cache.bytes == 2 * matrix.nbytes
    assert cache.get("a") is not None  # "a" is now the most recently used
    cache.put("c", matrix.copy(), shared=True)  # over budget: "b", the least recently used, goes
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.evictions == 1 and cache.bytes <= cache.max_bytes
    kept = cache.get("c")
    assert isinstance(kept, np.ndarray)
    with pytest.raises(ValueError):
        kept[0, 0] = 1.0  # shared values are read-only
    big = np.zeros((small_market.shape[0], small_market.shape[1] * 3))
    cache.put("big", big, shared=True)  # larger than the whole budget: not kept
    assert cache.get("big") is None
    off = SubexpressionCache(0)
    off.put("x", matrix, shared=True)
    assert len(off) == 0


def test_cache_keys_separate_universes_and_settings(small_market: Panel) -> None:
    from brain_agent.expression.parser import parse

    cache = SubexpressionCache.from_mb(64)
    tree = inline(parse("rank(close)"))
    values = {}
    for universe, pasteurize in (("TOP200", True), ("TOP3000", True), ("TOP200", False)):
        mask = small_market.universe_for(universe)
        evaluator = Evaluator(small_market, mask, pasteurize=pasteurize, cache=cache, universe_name=universe)
        evaluator.prepare_batch([tree, tree])
        values[(universe, pasteurize)] = evaluator.alpha(tree)
        plain = Evaluator(small_market, mask, pasteurize=pasteurize).alpha(tree)
        np.testing.assert_array_equal(values[(universe, pasteurize)], plain)
    assert not np.array_equal(values[("TOP200", True)], values[("TOP3000", True)], equal_nan=True)
    assert not np.array_equal(values[("TOP200", True)], values[("TOP200", False)], equal_nan=True)


def test_bad_cache_and_worker_settings_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAIN_AGENT_SIM_CACHE_MB", "lots")
    with pytest.raises(ConfigError, match="BRAIN_AGENT_SIM_CACHE_MB"):
        cache_mb_from_env()
    monkeypatch.setenv("BRAIN_AGENT_SIM_CACHE_MB", "-1")
    with pytest.raises(ConfigError, match="between 0"):
        cache_mb_from_env()
    monkeypatch.setenv("BRAIN_AGENT_SIM_CACHE_MB", "12.5")
    assert cache_mb_from_env() == 12.5
    monkeypatch.setenv("BRAIN_AGENT_SIM_WORKERS", "two")
    with pytest.raises(ConfigError, match="BRAIN_AGENT_SIM_WORKERS"):
        resolve_workers(None)
    with pytest.raises(ConfigError, match="between 1 and 64"):
        resolve_workers(0)
    monkeypatch.setenv("BRAIN_AGENT_SIM_WORKERS", "1")
    assert resolve_workers(None) == 1


@pytest.mark.skipif(not fork_available(), reason="worker processes need fork")
def test_a_worker_found_dead_while_holding_jobs_gives_them_an_outcome(small_market: Panel) -> None:
    """A worker killed with jobs sent to it and found dead when more work is sent: those jobs end
    WORKER_DIED (every handle still gets an outcome), the rest are what one process gives."""
    jobs = _jobs(10)
    serial = {c[0]: c for c in _serial(small_market, jobs)}  # by candidate id
    backend = LocalBackend(small_market, cache=SubexpressionCache.from_mb(32), workers=2)
    try:
        handles = backend.submit(jobs[:4])
        first = backend.poll(handles[0]).outcome  # runs here, starts the workers, sends them the rest
        pool = backend._pool
        # worker 0 got two of the other three jobs, worker 1 one: it has room for more and a job
        # nobody has answered yet
        assert pool is not None and len(pool._sent[1]) == 1
        victim = pool._procs[1]
        victim.kill()
        victim.join(timeout=10)
        handles += backend.submit(jobs[4:])  # sending more work finds the victim dead
        outcomes = [first, *(backend.poll(h).outcome for h in handles[1:])]
    finally:
        backend.close()
    died = [o for o in outcomes if o is not None and o.status == "ERROR" and o.error["code"] == "WORKER_DIED"]
    assert died
    for o in outcomes:
        assert o is not None
        assert o in died or _comparable(o) == serial[o.candidate_id]


def test_as_many_slices_run_at_once_as_threads_allowed() -> None:
    """``set_threads(n)`` lets n slices of a matrix run at the same time (the calling thread and
    n − 1 helpers), also beyond the 8 a fixed pool once allowed; each slice here waits for all."""
    import threading

    from brain_agent.simulation.local import kernels as k

    for n in (3, 10):
        barrier = threading.Barrier(n, timeout=20)
        seen: list[tuple[int, int]] = []

        def part(
            a: int, b: int, barrier: threading.Barrier = barrier, seen: list[tuple[int, int]] = seen
        ) -> None:
            barrier.wait()  # raises BrokenBarrierError if fewer than n slices run at once
            seen.append((a, b))

        k.set_threads(n)
        try:
            k.in_slices(part, 32 * n, 32)
        finally:
            k.set_threads(1)
        assert sorted(seen) == [(32 * i, 32 * (i + 1)) for i in range(n)]
