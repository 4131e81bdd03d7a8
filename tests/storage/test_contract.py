"""One store contract, run on both backends (a SQLite file and a real PostgreSQL server): records,
events in order, the call log and cache, candidates, the ledger, flights, KPIs, simulations."""

from __future__ import annotations

import random
import time

import pytest

from brain_agent.errors import BrainAgentError, InputError, NotFoundError
from brain_agent.storage import LLMCallRecord, open_store
from brain_agent.storage.ledger_store import Charge, LedgerStore
from brain_agent.storage.simulation_store import SimulationStore


def test_runs_events_and_cursor(store_url: str) -> None:
    store = open_store(store_url)
    run = store.create_run("batch", {"k": 1})
    ids = [store.append_event(run, "test.tick", {"i": i}, step="t") for i in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert [e.payload["i"] for e in store.events(run, after=ids[1])] == [2, 3, 4]
    assert store.last_event_id(run) == ids[-1]
    assert [e.name for e in store.events(run, names=["test.tick"], limit=2)] == ["test.tick"] * 2
    store.finish_run(run, "completed", {"ideas": 3})
    got = store.get_run(run)
    assert (got["status"], got["config"], got["summary"]) == ("completed", {"k": 1}, {"ideas": 3})
    assert store.list_runs(5)[0]["run_id"] == run
    with pytest.raises(NotFoundError):
        store.get_run("nope")


def test_call_log_and_cache(store_url: str) -> None:
    store = open_store(store_url)
    first = store.record_llm_call(
        LLMCallRecord(
            provider="p",
            model="m",
            purpose="alpha",
            uncached_input=10,
            output=5,
            request_key="k1",
            response_text="answer",
            cost="0.001",
        )
    )
    failed = store.record_llm_call(
        LLMCallRecord(provider="p", model="m", purpose="alpha", request_key="k2", error="E: boom")
    )
    assert failed > first
    cached = store.cached_response("k1")
    assert cached is not None and cached["response_text"] == "answer" and cached["id"] == first
    assert store.cached_response("k2") is None
    assert [c["cache_hit"] for c in store.llm_calls()] == [False, False]


def test_candidates_upsert_and_usage_counts(store_url: str) -> None:
    store = open_store(store_url)
    run = store.create_run("batch")
    cand = {
        "candidate_id": "c1",
        "run_id": run,
        "idea_id": "i",
        "lane": "explore",
        "expression": "rank(x)",
        "status": "valid",
        "valid": True,
        "fields": ["close"],
        "subcategories": ["s1"],
    }
    store.save_candidate(cand)
    store.save_candidate({**cand, "status": "simulated"})
    assert store.get_candidate("c1")["status"] == "simulated"
    assert len(store.list_candidates(run)) == 1
    assert store.usage_counts() == ({}, {})  # the run is not completed yet
    store.finish_run(run, "completed")
    assert store.usage_counts() == ({"close": 1}, {"s1": 1})


def test_ledger_contract(store_url: str) -> None:
    store = open_store(store_url)
    ledger = LedgerStore(store)
    now = time.time()
    assert (
        ledger.reserve("a", [Charge("x", 60, 100), Charge("y", 60, 1000)], now=now, lease_seconds=60) is None
    )
    refused = ledger.reserve("b", [Charge("y", 60, 1000), Charge("x", 60, 100)], now=now, lease_seconds=60)
    assert refused is not None and (refused.scope_key, refused.observed) == ("x", 120)
    assert ledger.usage(["x", "y"], now=now)["y"].reserved == 60  # all or nothing: b holds no y
    assert ledger.reserve("a", [Charge("x", 60, 100)], now=now, lease_seconds=60) is None  # idempotent
    assert ledger.settle("a", {"x": 50, "y": 50}, now=now, tokens=50, pico=0)
    assert not ledger.settle("a", {"x": 50, "y": 50}, now=now, tokens=50, pico=0)
    assert not ledger.release("a", now=now, reason="late")  # never undoes a settle
    usage = ledger.usage(["x"], now=now)["x"]
    assert (usage.spent, usage.reserved) == (50, 0)
    # a lapsed hold stops counting, is expired once, and a late settle is still booked honestly
    assert ledger.reserve("c", [Charge("x", 40, 100)], now=now, lease_seconds=10) is None
    assert ledger.usage(["x"], now=now + 11)["x"].reserved == 0
    assert ledger.expire(now=now + 11) == 1
    assert ledger.settle("c", {"x": 45}, now=now + 12, tokens=45, pico=0)
    row = ledger.reservation("c")
    assert row is not None and row.late and row.overrun_tokens == 5
    assert ledger.usage(["x"], now=now + 12)["x"].spent == 95
    # heartbeats keep a hold past its first lease
    assert ledger.reserve("d", [Charge("z", 10, 100)], now=now, lease_seconds=10) is None
    assert ledger.heartbeat(["d"], now=now + 8, lease_seconds=10) == 1
    assert ledger.usage(["z"], now=now + 15)["z"].reserved == 10
    assert ledger.release("d", now=now + 15, reason="done")
    assert ledger.usage(["z"], now=now + 15)["z"].reserved == 0
    assert ledger.overruns(since=now - 1, until=now + 100) == (1, 5)


def test_flights_calibration_deferred_repair_kpis(store_url: str) -> None:
    store = open_store(store_url)
    ledger = LedgerStore(store)
    now = time.time()
    assert ledger.claim_flight("k", now=now, lease_seconds=30)
    assert not ledger.claim_flight("k", now=now, lease_seconds=30)
    assert ledger.claim_flight("k", now=now + 31, lease_seconds=30)  # a dead holder's claim lapses
    ledger.finish_flight("k")
    assert not ledger.flight_live("k", now=now)
    ledger.save_calibration("openai@x/m", "exact", 1, 1.38, now=now)
    ledger.save_calibration("openai@x/m", "exact", 2, 1.39, now=now)
    assert ledger.load_calibration() == [("openai@x/m", "exact", 2, 1.39)]
    first = ledger.defer_idea(
        "i1",
        {"id": "i1"},
        lane="exploit",
        from_run=None,
        reason="budget",
        failure_code="BUDGET_DAY_TOKENS",
        now=now,
    )
    assert first > 0 and ledger.claim_deferred("r2", now=now) == [{"id": "i1"}]
    assert ledger.claim_deferred("r3", now=now) == []
    assert (
        ledger.enqueue_repair(
            run_id="r",
            idea_id="i",
            candidate_id=None,
            error_code="ARITY",
            attempts=2,
            payload={"a": 1},
            now=now,
        )
        > 0
    )
    kpis = {"candidates": 2, "coverage": 1, "coverage_share": 0.5, "novelty": 0.5, "structural_novelty": 0.25}
    ledger.save_kpis("r", "b", "batch", kpis, now=now)
    ledger.save_kpis("r", "b", "batch", {**kpis, "candidates": 3}, now=now)
    assert [k["candidates"] for k in ledger.kpis("r")] == [3]


def test_simulation_rows(store_url: str) -> None:
    store = open_store(store_url)
    sims = SimulationStore(store)
    row_id = sims.create(
        candidate_id="c1",
        run_id=None,
        idea_id=None,
        lane=None,
        backend="local",
        expression="rank(x)",
        settings_key="k",
        settings={},
        status="QUEUED",
        created_at=time.time(),
    )
    assert row_id > 0


def test_counters_stay_exact_under_random_operations(store_url: str) -> None:
    store = open_store(store_url)
    ledger = LedgerStore(store)
    rng = random.Random(7)
    now = time.time()
    live: list[str] = []
    for n in range(150):
        op = rng.choice(["reserve", "reserve", "settle", "release", "advance", "expire"])
        if op == "reserve":
            rid = f"r{n}"
            if (
                ledger.reserve(rid, [Charge("a", rng.randint(1, 300), 2_000)], now=now, lease_seconds=10)
                is None
            ):
                live.append(rid)
        elif op in ("settle", "release") and live:
            rid = live.pop(rng.randrange(len(live)))
            if op == "settle":
                ledger.settle(rid, {"a": rng.randint(0, 200)}, now=now, tokens=1, pico=0)
            else:
                ledger.release(rid, now=now, reason="t")
        elif op == "advance":
            now += rng.randint(0, 6)
        else:
            ledger.expire(now=now)
        spent, held = store.conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN state = 'settled' THEN spent ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN state = 'held' AND lease_expires > ? THEN reserved ELSE 0 END), 0) "
            "FROM budget_charges WHERE scope_key = 'a'",
            (now,),
        ).fetchone()
        usage = ledger.usage(["a"], now=now)["a"]
        assert (usage.spent, usage.reserved) == (int(spent), int(held)), (n, op)


@pytest.mark.parametrize("url", ["mysql://u@h/db", "http://example/x", "redis://h:1", "postgresql://"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError):
        open_store(url)


def test_unreachable_server_fails_closed_without_the_password() -> None:
    with pytest.raises(BrainAgentError) as info:
        open_store("postgresql://alice:s3cret@127.0.0.1:1/brain")
    assert info.value.exit_code == 6
    assert "s3cret" not in info.value.message and "127.0.0.1:1" in info.value.message


def test_nothing_outside_storage_knows_the_database() -> None:
    """The seam: no module outside ``storage/`` imports a database driver or names a backend."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src" / "brain_agent"
    offenders = []
    pattern = re.compile(
        r"\bimport sqlite3\b|\bimport psycopg\b|\bSQLiteStore\b|\bPostgresStore\b|\bsqlite_store\b"
    )
    for path in src.rglob("*.py"):
        if "storage" in path.relative_to(src).parts[:1]:
            continue
        offenders += [
            f"{path.relative_to(src)}:{n}"
            for n, line in enumerate(path.read_text().splitlines(), 1)
            if pattern.search(line)
        ]
    assert offenders == []
