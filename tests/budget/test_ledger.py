"""The ledger in one process: atomic all-or-nothing holds, idempotent settle/release, leases,
window attribution, honest overruns."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from brain_agent.errors import BudgetBlockedError
from brain_agent.generation.budget import BudgetGate, CallContext, FakeClock
from brain_agent.llm.base import Usage
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
