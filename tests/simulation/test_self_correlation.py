"""SELF_CORRELATION all at once (``simulation/self_correlation.py``) against the one-pair-at-a-time
reference (``metrics.pnl_correlation`` + ``self_correlation_check``, as the runner computed it before):
the same check, byte for byte, on generated PnLs with gaps, different date ranges, short overlaps,
flat, constant, duplicated, scaled and negated series, NaN and infinities; the cache of parsed PnLs
against ``SimulationStore.earlier_pnls`` under eviction and rewrites; and the runner on both store
backends while another OS process adds and rewrites results."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brain_agent.simulation.backend import Poll, SimulationJob, SimulationOutcome, SimulationSettings
from brain_agent.simulation.metrics import pnl_correlation, self_correlation_check
from brain_agent.simulation.runner import simulate_candidates
from brain_agent.simulation.self_correlation import (
    DatesTable,
    PnlCache,
    Series,
    approximate_correlations,
    decide,
    exact_correlation,
    prepare,
)
from brain_agent.storage import open_store
from brain_agent.storage.simulation_store import Finish, SimulationStore

CALENDAR = [f"2021-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(120)]

Pnl = tuple[list[Any], list[Any]]


def random_pnl(rng: np.random.Generator, base: list[float] | None = None, weird: bool = True) -> Pnl:
    """A cumulative PnL on a random stretch of the calendar with random gaps; sometimes built from
    ``base`` (a daily series on the whole calendar) so that correlations are high, exactly 1 or -1."""
    start = int(rng.integers(0, 60))
    end = int(rng.integers(start + 1, len(CALENDAR) + 1))
    idx = [i for i in range(start, end) if rng.random() > float(rng.choice([0.0, 0.1, 0.5]))]
    if not idx:
        idx = [start]
    kind = int(rng.integers(0, 10)) if weird else int(rng.integers(0, 5))
    noise = rng.normal(0.0, 1e4, len(CALENDAR))
    daily = np.asarray(base, dtype=float) if base is not None else noise
    if kind == 1:
        daily = daily * float(rng.choice([3.0, -1.0, 0.5]))  # correlation ±1
    elif kind == 2:
        daily = daily + noise * float(rng.choice([0.3, 0.7, 1.0, 1.5]))  # somewhere around the limit
    elif kind == 3:
        daily = daily + 1e6  # a large mean: badly conditioned for one-pass sums
    elif kind == 5:
        daily = np.full(len(CALENDAR), float(rng.choice([0.0, 0.1, 1234.5678])))  # flat
    elif kind == 6:
        daily = daily.copy()
        daily[int(rng.integers(0, len(CALENDAR)))] = float(rng.choice([np.nan, np.inf, -np.inf]))
    dates: list[Any] = [CALENDAR[i] for i in idx]
    values: list[Any] = [round(float(v), 2) for v in np.cumsum(daily[idx])]
    if kind == 7 and len(dates) > 2:
        dates[1] = dates[0]  # a duplicated date
    elif kind == 8:
        values = values[:-1] if rng.random() < 0.5 else [*values, 1.0]  # lengths differ
    elif kind == 9:
        values = [int(v) for v in values] if all(math.isfinite(v) for v in values) else values
    return dates, values


def reference(
    new: Pnl, sharpe: float, earlier: Sequence[tuple[Pnl, float]], limit: float = 0.7
) -> dict[str, Any]:
    """The runner's SELF_CORRELATION before this module: one ``pnl_correlation`` per pair."""
    pairs = []
    with np.errstate(all="ignore"):  # inf - inf in a poisoned series
        for (dates, values), s in earlier:
            corr = pnl_correlation(new[0], new[1], dates, values)
            if corr is not None:
                pairs.append((corr, s))
    return self_correlation_check(sharpe, pairs, limit)


def fast(new: Pnl, sharpe: float, earlier: Sequence[tuple[Pnl, float]], limit: float = 0.7) -> dict[str, Any]:
    table = DatesTable()
    a = prepare(new[0], new[1], table)
    with np.errstate(all="ignore"):  # the exact recomputations meet the same poisoned series
        return decide(a, sharpe, [(prepare(d, v, table), s) for (d, v), s in earlier], limit=limit)


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # NaN spelled alike


def generated_case(seed: int) -> tuple[Pnl, float, list[tuple[Pnl, float]]]:
    rng = np.random.default_rng(seed)
    base = list(rng.normal(0.0, 1e4, len(CALENDAR)))
    new = random_pnl(rng, base if rng.random() < 0.7 else None)
    if len(new[0]) != len(new[1]) or len(set(new[0])) != len(new[0]):  # a validated result's PnL
        new = ([CALENDAR[i] for i in range(10, 90)], [float(v) for v in np.cumsum(base[10:90])])
    earlier = [
        (random_pnl(rng, base if rng.random() < 0.6 else None), round(float(rng.normal(1.0, 1.0)), 2))
        for _ in range(int(rng.integers(0, 40)))
    ]
    return new, round(float(rng.normal(1.0, 1.0)), 2), earlier


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_decide_equals_the_pairwise_reference(seed: int) -> None:
    new, sharpe, earlier = generated_case(seed)
    assert same(fast(new, sharpe, earlier), reference(new, sharpe, earlier))


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pick=st.integers(0, 1000))
def test_decide_at_a_limit_equal_to_one_of_the_correlations(seed: int, pick: int) -> None:
    """A limit exactly at a correlation (the ≥ comparison's edge) still decides alike."""
    new, sharpe, earlier = generated_case(seed)
    with np.errstate(all="ignore"):
        corrs = [c for (d, v), _ in earlier if (c := pnl_correlation(new[0], new[1], d, v)) is not None]
    limit = corrs[pick % len(corrs)] if corrs else 0.7
    if not math.isfinite(limit):
        limit = 0.7
    assert same(fast(new, sharpe, earlier, limit), reference(new, sharpe, earlier, limit))


def test_the_generated_cases_cover_every_branch() -> None:
    """The generator is not vacuous: PASS and FAIL, None pairs, exact-path pairs, NaN tops, and
    correlations of exactly ±1 all occur."""
    seen: set[str] = set()
    for seed in range(300):
        new, sharpe, earlier = generated_case(seed)
        check = reference(new, sharpe, earlier)
        seen.add(check["result"])
        value = check.get("value", 0.0)
        if value != value:
            seen.add("nan top")
        elif abs(value) == 1.0:
            seen.add("top 1")
        table = DatesTable()
        a = prepare(new[0], new[1], table)
        others = [prepare(d, v, table) for (d, v), _ in earlier]
        approx, exact = approximate_correlations(a, others)
        seen |= {"exact path"} if exact else set()
        seen |= {"too short"} if any(v is None for i, v in enumerate(approx) if i not in exact) else set()
    assert {"PASS", "FAIL", "nan top", "top 1", "exact path", "too short"} <= seen


def test_approximations_are_within_1e_12_of_the_reference() -> None:
    """Where the arrays are trusted, they agree with ``pnl_correlation`` far inside ``TOLERANCE``."""
    worst = 0.0
    trusted = 0
    for seed in range(200):
        new, _, earlier = generated_case(seed)
        table = DatesTable()
        a = prepare(new[0], new[1], table)
        others = [prepare(d, v, table) for (d, v), _ in earlier]
        approx, exact = approximate_correlations(a, others)
        for i, ((d, v), _) in enumerate(earlier):
            if i in exact:
                continue
            with np.errstate(all="ignore"):
                ref = pnl_correlation(new[0], new[1], d, v)
            assert (approx[i] is None) == (ref is None)
            if ref is not None and approx[i] is not None:
                worst = max(worst, abs(approx[i] - ref))
                trusted += 1
    assert trusted > 500 and worst < 1e-12


# -- the cache against the store ----------------------------------------------------------------------
def alpha_result(rid: str, pnl: Pnl | None, sharpe: float) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": rid,
        "type": "REGULAR",
        "settings": {},
        "dateCreated": "2024-01-01T00:00:00+00:00",
        "status": "UNSUBMITTED",
        "is": {
            "pnl": 0,
            "bookSize": 20000000,
            "longCount": 1,
            "shortCount": 1,
            "turnover": 0.1,
            "returns": 0.1,
            "drawdown": 0.01,
            "margin": 0.001,
            "sharpe": sharpe,
            "fitness": 1.0,
            "checks": [{"name": "SELF_CORRELATION", "result": "PENDING", "limit": 0.7}],
        },
    }
    if pnl is not None:
        result["pnl"] = {"dates": pnl[0], "values": pnl[1]}
    return result


def add_complete(sims: SimulationStore, cid: str, pnl: Pnl | None, sharpe: float, at: float) -> int:
    row = sims.create(
        candidate_id=cid,
        run_id=None,
        idea_id=None,
        lane=None,
        backend="replay",
        expression=f"x_{cid}",
        settings_key="k",
        settings={},
        status="QUEUED",
        created_at=at,
    )
    finish(sims, row, pnl, sharpe, at)
    return row


def finish(sims: SimulationStore, row: int, pnl: Pnl | None, sharpe: float, at: float) -> None:
    sims.finish(
        row,
        Finish(
            status="COMPLETE",
            finished_at=at,
            queue_s=0.0,
            run_s=0.0,
            total_s=0.0,
            result=alpha_result(f"r{row}", pnl, sharpe),
            sharpe=sharpe,
        ),
    )


def as_reference(sims: SimulationStore, row: int, cid: str) -> list[tuple[list[Any], list[Any], float]]:
    return [
        (o["pnl"]["dates"], o["pnl"]["values"], float(o["sharpe"] or 0.0))
        for o in sims.earlier_pnls(exclude_id=row, exclude_candidate=cid)
    ]


def as_cached(
    cache: PnlCache, sims: SimulationStore, row: int, cid: str
) -> list[tuple[list[Any], list[Any], float]]:
    return [
        (list(s.raw_dates), [float(v) for v in s.cum], sharpe)
        for s, sharpe in cache.earlier(sims, exclude_id=row, exclude_candidate=cid)
    ]


@pytest.mark.parametrize("budget", [1, 40_000, 10**9])
def test_cache_gives_what_earlier_pnls_gives(tmp_path: Any, budget: int) -> None:
    """Through additions past the 200-row window, rows without a PnL, same-candidate rows, rewrites
    of a row's result and evictions: the cache's window equals ``earlier_pnls`` every time."""
    store = open_store(str(tmp_path / "s.db"))
    sims = store.simulations
    cache = PnlCache(budget_bytes=budget)
    rng = np.random.default_rng(5)
    rows: list[int] = []
    for i in range(260):
        pnl = None if i % 17 == 3 else random_pnl(rng, weird=False)
        rows.append(add_complete(sims, f"c{i % 50}", pnl, float(i), at=1000.0 + i))
        if i % 13 == 0:  # another writer rewrites an earlier row's result
            finish(sims, rows[i // 2], random_pnl(rng, weird=False), -float(i), at=5000.0 + i)
        if i % 7 == 0 or i > 240:
            cid = f"c{int(rng.integers(0, 60))}"
            ref = as_reference(sims, -1, cid)
            got = as_cached(cache, sims, -1, cid)
            assert [(d, [float(x) for x in v], s) for d, v, s in ref] == got
        assert cache.nbytes <= max(budget, 200_000)
    if budget == 10**9:
        assert cache.parsed < 400  # each version of a row parsed once
    store.close()


# -- the runner, both store backends, another process adding results ------------------------------------
class ReplayBackend:
    """Answers each job at once with a crafted result, and records what the pairwise reference decides
    from the store at that moment (the runner decides from the same store state)."""

    name = "replay"
    max_batch = 3

    def __init__(self, results: dict[str, dict[str, Any]], sims: SimulationStore) -> None:
        self.results = results
        self.sims = sims
        self.expected: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, str] = {}

    def submit(self, jobs: Sequence[SimulationJob]) -> list[str]:
        for job in jobs:
            self.pending[f"h{job.candidate_id}"] = job.candidate_id
        return [f"h{job.candidate_id}" for job in jobs]

    def poll(self, handle: str) -> Poll:
        cid = self.pending.pop(handle)
        result = json.loads(json.dumps(self.results[cid]))
        pnl = result["pnl"]
        earlier = [((d, v), s) for d, v, s in as_reference(self.sims, -1, cid)]
        self.expected[cid] = reference((pnl["dates"], pnl["values"]), result["is"]["sharpe"], earlier)
        return Poll(
            done=True, outcome=SimulationOutcome(cid, "COMPLETE", result=result, alpha_id=result["id"])
        )


OTHER_PROCESS = """
import json, sys
from brain_agent.storage import open_store
from brain_agent.storage.simulation_store import Finish
store = open_store(sys.argv[1])
sims = store.simulations
for item in json.loads(sys.argv[2]):
    row = item.get("row")
    if row is None:
        row = sims.create(candidate_id=item["cid"], run_id=None, idea_id=None, lane=None, backend="other",
                          expression="x", settings_key="k", settings={}, status="QUEUED",
                          created_at=item["at"])
    sims.finish(row, Finish(status="COMPLETE", finished_at=item["at"], queue_s=0.0, run_s=0.0, total_s=0.0,
                            result=item["result"], sharpe=item["result"]["is"]["sharpe"]))
store.close()
"""


def other_process(url: str, items: list[dict[str, Any]]) -> None:
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, url, json.dumps(items)], check=True, timeout=60)


def test_runner_decides_as_the_reference_while_another_process_writes(store_url: str) -> None:
    store = open_store(store_url)
    sims = store.simulations
    rng = np.random.default_rng(3)
    base = list(rng.normal(0.0, 1e4, len(CALENDAR)))

    def batch(tag: str, n: int) -> dict[str, dict[str, Any]]:
        return {
            f"{tag}{i}": alpha_result(
                f"{tag}{i}", random_pnl(rng, base, weird=False), round(float(rng.normal(1.5, 1)), 2)
            )
            for i in range(n)
        }

    def run(results: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], ReplayBackend]:
        backend = ReplayBackend(results, sims)
        candidates = [{"candidate_id": cid, "expression": f"x_{cid}", "valid": True} for cid in results]
        records = simulate_candidates(store, candidates, backend, SimulationSettings())
        for r in records:
            found = next(c for c in r["result"]["is"]["checks"] if c["name"] == "SELF_CORRELATION")
            assert same(found, backend.expected[r["candidate_id"]]), r["candidate_id"]
        return records, backend

    run(batch("a", 12))
    # another process adds a result identical to the next batch's first alpha, with a far lower Sharpe
    # and so a FAIL only if it is seen, and rewrites the PnL of one of the first batch's rows
    following = batch("b", 8)
    twin = json.loads(json.dumps(following["b0"]))
    twin["is"]["sharpe"] = following["b0"]["is"]["sharpe"] + 5.0
    first_rows = [r["id"] for r in sims.list_rows() if r["candidate_id"].startswith("a")]
    rewritten = alpha_result("rw", random_pnl(rng, base, weird=False), 9.0)
    now = time.time()
    other_process(
        store_url,
        [
            {"cid": "other_twin", "at": now, "result": twin},
            {"row": first_rows[0], "at": now + 1, "result": rewritten},
        ],
    )
    records, _ = run(following)
    b0 = next(c for c in records[0]["result"]["is"]["checks"] if c["name"] == "SELF_CORRELATION")
    assert b0["result"] == "FAIL" and b0["value"] == 1.0
    store.close()


def test_a_new_series_is_cached_as_the_store_would_give_it(tmp_path: Any) -> None:
    """After a run, the cached series of each new row equal what parsing the stored result gives."""
    store = open_store(str(tmp_path / "s.db"))
    sims = store.simulations
    rng = np.random.default_rng(9)
    results = {f"n{i}": alpha_result(f"n{i}", random_pnl(rng, weird=False), 1.0) for i in range(5)}
    results["n4"]["pnl"]["values"] = [int(v) for v in results["n4"]["pnl"]["values"]]
    backend = ReplayBackend(results, sims)
    candidates = [{"candidate_id": cid, "expression": cid, "valid": True} for cid in results]
    simulate_candidates(store, candidates, backend, SimulationSettings())
    fresh = PnlCache()
    from brain_agent.simulation.self_correlation import cache_for

    warm = cache_for(sims)
    assert warm.parsed == 0  # every earlier series came from the run itself
    got = [
        (list(s.raw_dates), list(s.cum), x)
        for s, x in warm.earlier(sims, exclude_id=-1, exclude_candidate="-")
    ]
    want = [
        (list(s.raw_dates), list(s.cum), x)
        for s, x in fresh.earlier(sims, exclude_id=-1, exclude_candidate="-")
    ]
    assert got == want and len(got) == 5
    store.close()


def test_series_that_only_the_reference_may_handle() -> None:
    table = DatesTable()
    assert prepare(["d1", "d1"], [1.0, 2.0], table).daily is None  # duplicate dates
    assert prepare(["d1", "d2"], [1.0], table).daily is None  # lengths differ
    assert prepare(["d1", "d2"], [1.0, float("nan")], table).daily is None
    assert prepare(["d1", "d2"], ["x", 1.0], table).cum == ["x", 1.0]  # kept as given
    assert prepare([["d1"], ["d2"]], [1.0, 2.0], table).dates is None  # unhashable dates
    ok: Series = prepare(["d1", "d2"], [1, 3], table)
    assert ok.daily is not None and list(ok.daily) == [1.0, 2.0]
    assert prepare(["d1", "d2"], [5.0, 6.0], table).dates is ok.dates  # one tuple per date list


def test_a_correlation_the_arrays_put_just_below_the_limit_is_decided_exactly() -> None:
    """Where the matrix gives a correlation a few ulps below ``pnl_correlation``'s and the limit is
    exactly the latter, the reference FAILs (correlated, lower Sharpe): so must ``decide``."""
    found = 0
    for seed in range(400):
        new, _, earlier = generated_case(seed)
        table = DatesTable()
        a = prepare(new[0], new[1], table)
        others = [prepare(d, v, table) for (d, v), _ in earlier]
        approx, exact = approximate_correlations(a, others)
        for i, (pnl, _) in enumerate(earlier):
            ref = pnl_correlation(new[0], new[1], *pnl) if i not in exact else None
            if ref is None or approx[i] is None or not approx[i] < ref:  # type: ignore[operator]
                continue
            want = reference(new, 0.0, [(pnl, 1.0)], limit=ref)
            assert want["result"] == "FAIL"
            assert same(fast(new, 0.0, [(pnl, 1.0)], limit=ref), want)
            found += 1
    assert found >= 5


def test_exact_correlation_is_pnl_correlation_bit_for_bit() -> None:
    checked = 0
    for seed in range(150):
        new, _, earlier = generated_case(seed)
        table = DatesTable()
        a = prepare(new[0], new[1], table)
        for pnl, _ in earlier:
            b = prepare(*pnl, table)
            with np.errstate(all="ignore"):
                want = pnl_correlation(new[0], new[1], *pnl)
                got = exact_correlation(a, b)
            assert repr(got) == repr(want)
            checked += b.daily is not None and want is not None
    assert checked > 500


@pytest.mark.parametrize("max_dates", [50, 100_000])
def test_decide_stays_right_while_the_cache_prunes_and_renumbers(tmp_path: Any, max_dates: int) -> None:
    """A new series prepared before the cache parses (and prunes, or starts a new calendar) is still
    aligned right with every earlier one."""
    store = open_store(str(tmp_path / "s.db"))
    sims = store.simulations
    rng = np.random.default_rng(21)
    base = list(rng.normal(0.0, 1e4, len(CALENDAR)))
    for i in range(150):  # many distinct date lists
        add_complete(sims, f"c{i}", random_pnl(rng, base, weird=False), float(i % 3), at=1.0 + i)
    for budget in (1, 300_000, 10**9):
        cache = PnlCache(budget_bytes=budget, max_dates=max_dates)
        for j in range(6):
            new = random_pnl(rng, base, weird=False)
            a = cache.prepare(*new)
            earlier = cache.earlier(sims, exclude_id=-1, exclude_candidate=f"c{j}")
            want = reference(new, 1.0, [((d, v), s) for d, v, s in as_reference(sims, -1, f"c{j}")])
            assert same(decide(a, 1.0, earlier), want)
    store.close()
