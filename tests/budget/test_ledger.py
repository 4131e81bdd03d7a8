"""The ledger in one process: atomic all-or-nothing holds, idempotent settle/release, leases,
window attribution, honest overruns."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brain_agent.errors import BudgetBlockedError
from brain_agent.generation.budget import BudgetGate, CallContext, FakeClock
from brain_agent.llm.base import Usage
from brain_agent.storage import SQLiteStore
from brain_agent.storage.ledger_store import Charge, LedgerStore

CTX = CallContext(run_id="r1", batch_id="b1", lane="exploit", idea_id="i1", model="gpt-4o-mini")


def _usage(gate: BudgetGate) -> dict[str, tuple[int, int]]:
    return {s.scope_key: (int(s.spent), int(s.reserved)) for s in gate.status("b1") if s.unit == "tokens"}


def test_reserve_is_all_or_nothing(store: object, clock: FakeClock) -> None:
    ledger = LedgerStore(store)  # type: ignore[arg-type]
    ok = ledger.reserve("a", [Charge("x", 60, 100), Charge("y", 60, 1000)], now=clock.now(), lease_seconds=60)
    assert ok is None
    refused = ledger.reserve(
        "b", [Charge("y", 60, 1000), Charge("x", 60, 100)], now=clock.now(), lease_seconds=60
    )
    assert refused is not None and refused.scope_key == "x" and refused.observed == 120
    usage = ledger.usage(["x", "y"], now=clock.now())
    assert usage["y"].reserved == 60  # b's y charge was not kept
    assert (
        ledger.reserve("a", [Charge("x", 60, 100)], now=clock.now(), lease_seconds=60) is None
    )  # idempotent


def test_settle_and_release_are_idempotent(gate_factory: Callable[..., BudgetGate]) -> None:
    gate = gate_factory()
    hold = gate.reserve(CTX, 1000, 500)
    assert gate.settle(hold, Usage(uncached_input=1000, output=200), Decimal("0.001"))
    assert not gate.settle(hold, Usage(uncached_input=1000, output=200), Decimal("0.001"))
    assert not gate.release(hold, "late failure")  # never undoes a settle
    assert _usage(gate)["batch:b1"] == (1200, 0)
    other = gate.reserve(CTX, 100, 100)
    assert gate.release(other, "failed") and not gate.release(other, "again")
    assert _usage(gate)["batch:b1"] == (1200, 0)


def test_cap_refuses_with_a_named_failure(gate_factory: Callable[..., BudgetGate]) -> None:
    gate = gate_factory(max_tokens_per_day=3000, max_tokens_per_batch=100_000)
    gate.reserve(CTX, 1000, 1000)
    with pytest.raises(BudgetBlockedError) as info:
        gate.reserve(CTX, 1000, 1000)
    err = info.value
    assert (err.failure_code, err.scope, err.limit, err.observed) == ("BUDGET_DAY_TOKENS", "day", 3000, 4000)
    assert err.exit_code == 3


def test_request_caps_and_lane_share(gate_factory: Callable[..., BudgetGate]) -> None:
    gate = gate_factory(max_tokens_per_batch=20_000, expansion_reserve_tokens=0, max_prompt_tokens=8000)
    with pytest.raises(BudgetBlockedError) as info:
        gate.reserve(CTX, 9000)
    assert info.value.failure_code == "BUDGET_REQUEST_PROMPT_TOKENS"
    gate.reserve(CTX, 8000, 1500)  # 9500 of the 14000 exploit share
    with pytest.raises(BudgetBlockedError) as info:
        gate.reserve(CTX, 4000, 1500)  # would be 15000 > 14000: exploit cannot spend the explore share
    assert info.value.failure_code == "BUDGET_LANE_EXPLOIT_TOKENS"
    explore = CallContext(run_id="r1", batch_id="b1", lane="explore", model="gpt-4o-mini")
    gate.reserve(explore, 4000, 1500)  # the explore share is still there


def test_money_cap(gate_factory: Callable[..., BudgetGate]) -> None:
    gate = gate_factory(max_cost_per_day="0.001")
    with pytest.raises(BudgetBlockedError) as info:
        gate.reserve(CTX, 8000, 1500)  # 8000 × 0.15 + 1500 × 0.60 per 1M = $0.0021
    assert info.value.failure_code == "BUDGET_DAY_COST"
    assert info.value.limit == pytest.approx(0.001)


def test_expired_holds_stop_counting_and_late_settle_is_honest(
    gate_factory: Callable[..., BudgetGate], clock: FakeClock
) -> None:
    gate = gate_factory(lease_seconds=30)
    hold = gate.reserve(CTX, 1000, 1000)
    assert _usage(gate)["day:2025-11-24@UTC"] == (0, 2000)
    clock.advance(31)
    assert _usage(gate)["day:2025-11-24@UTC"] == (0, 0)
    assert gate.ledger.expire(now=clock.now()) == 1
    assert gate.settle(hold, Usage(uncached_input=900, output=100), Decimal(0))
    row = gate.ledger.reservation(hold.reservation_id)
    assert row is not None and row.late and row.state == "settled"
    assert _usage(gate)["day:2025-11-24@UTC"] == (1000, 0)


def test_heartbeat_keeps_a_long_call_alive(gate_factory: Callable[..., BudgetGate], clock: FakeClock) -> None:
    gate = gate_factory(lease_seconds=30)
    hold = gate.reserve(CTX, 1000, 1000)
    clock.advance(20)
    assert gate.ledger.heartbeat([hold.reservation_id], now=clock.now(), lease_seconds=30) == 1
    clock.advance(20)
    assert _usage(gate)["batch:b1"] == (0, 2000)


def test_call_is_charged_to_the_window_of_its_reservation(
    gate_factory: Callable[..., BudgetGate], clock: FakeClock
) -> None:
    gate = gate_factory()
    clock.t = 1_764_028_799.0  # 23:59:59 UTC
    hold = gate.reserve(CTX, 100, 100)
    clock.advance(5)  # settles after midnight
    gate.settle(hold, Usage(uncached_input=100, output=50), Decimal(0))
    assert gate.ledger.usage(["day:2025-11-24@UTC"], now=clock.now())["day:2025-11-24@UTC"].spent == 150
    assert gate.ledger.usage(["day:2025-11-25@UTC"], now=clock.now())["day:2025-11-25@UTC"].spent == 0


def test_overrun_is_recorded(gate_factory: Callable[..., BudgetGate]) -> None:
    gate = gate_factory()
    hold = gate.reserve(CTX, 100, 100)
    gate.settle(hold, Usage(uncached_input=150, output=100), Decimal(0))
    row = gate.ledger.reservation(hold.reservation_id)
    assert row is not None and row.overrun_tokens == 50


def test_time_zone_windows() -> None:
    from brain_agent.generation.budget import day_window, week_window

    day = day_window(1_764_000_000.0, "Asia/Seoul")  # 2025-11-25 01:00 KST
    assert day.key == "2025-11-25@Asia/Seoul" and day.end - day.start == 86_400
    week = week_window(1_764_000_000.0, "UTC")
    assert week.key == "2025-W48@UTC" and week.end - week.start == 7 * 86_400


# -- counters stay exact ------------------------------------------------------------------------
_OPS = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "settle", "release", "advance", "heartbeat", "expire"]),
        st.integers(min_value=1, max_value=400),
        st.integers(min_value=0, max_value=30),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_counter_rows_equal_the_charge_history(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int, int]]
) -> None:
    """Whatever the sequence of reserve / settle / release / lease lapse / heartbeat, the counter
    rows a reservation reads equal the sums over the charge rows (the definition they replace), and
    spent + live holds never pass a cap."""
    store = SQLiteStore(tmp_path_factory.mktemp("ctr") / "c.db")
    ledger = LedgerStore(store)
    clock = FakeClock()
    live: list[str] = []
    caps = {"a": 2_000, "b": 5_000}
    for n, (op, amount, pick) in enumerate(ops):
        now = clock.now()
        if op == "reserve":
            rid = f"r{n}"
            charges = [Charge("a", amount, caps["a"]), Charge("b", amount, caps["b"])]
            if ledger.reserve(rid, charges, now=now, lease_seconds=10) is None:
                live.append(rid)
        elif op in ("settle", "release") and live:
            rid = live.pop(pick % len(live))
            if op == "settle":
                ledger.settle(rid, {"a": amount // 2, "b": amount}, now=now, tokens=amount, pico=0)
            else:
                ledger.release(rid, now=now, reason="test")
        elif op == "advance":
            clock.advance(pick)
        elif op == "heartbeat":
            ledger.heartbeat(live, now=now, lease_seconds=10)
        elif op == "expire":
            ledger.expire(now=now)
        now = clock.now()
        usage = ledger.usage(["a", "b"], now=now)
        for key in ("a", "b"):
            spent, held = store.conn.execute(
                "SELECT COALESCE(SUM(CASE WHEN state = 'settled' THEN spent ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN state = 'held' AND lease_expires > ? THEN reserved ELSE 0 END), 0) "
                "FROM budget_charges WHERE scope_key = ?",
                (now, key),
            ).fetchone()
            assert (usage[key].spent, usage[key].reserved) == (spent, held), (op, key)
            assert held + spent <= caps[key]  # settles here never exceed their holds
    store.close()
