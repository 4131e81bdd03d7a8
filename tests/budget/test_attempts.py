"""The pure decisions of an idea's attempts, and the ScopeKey value type."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brain_agent.errors import BudgetBlockedError
from brain_agent.generation.budget import ScopeKey, parse_budget_config
from brain_agent.generation.budget.attempts import (
    MAX_RACE_RETRIES,
    after_attempt,
    after_lost_race,
    after_refusal,
    violation_of,
)
from brain_agent.retrieval import TopK

CONFIG = parse_budget_config({"repeat_error_threshold": 2, "max_attempts_per_idea": 4})
START = TopK(fields=12, operators=8, subcategories=3)
MAXIMUM = TopK(fields=40, operators=30, subcategories=5)


def test_valid_is_done() -> None:
    step = after_attempt(
        CONFIG, valid=True, codes=[], chosen=START, expanded=False, attempt=1, maximum=MAXIMUM
    )
    assert step.kind == "done"


def test_a_new_error_retries_with_what_fitted() -> None:
    step = after_attempt(
        CONFIG, valid=False, codes=["ARITY"], chosen=START, expanded=False, attempt=1, maximum=MAXIMUM
    )
    assert (step.kind, step.topk) == ("retry", START)


def test_a_repeated_error_expands_the_dimension_it_points_at() -> None:
    step = after_attempt(
        CONFIG,
        valid=False,
        codes=["UNKNOWN_OPERATOR", "UNKNOWN_OPERATOR"],
        chosen=START,
        expanded=False,
        attempt=2,
        maximum=MAXIMUM,
    )
    assert step.kind == "expand" and step.expansion is not None
    assert step.expansion.stage == "operators" and step.topk == TopK(12, 16, 3)


def test_failing_after_expansion_goes_to_repair() -> None:
    step = after_attempt(
        CONFIG, valid=False, codes=["ARITY"] * 3, chosen=START, expanded=True, attempt=3, maximum=MAXIMUM
    )
    assert (step.kind, step.reason) == ("hand_off", "still failing after expansion")


def test_nothing_to_expand_or_no_reserve_goes_to_repair() -> None:
    full = after_attempt(
        CONFIG,
        valid=False,
        codes=["ARITY", "ARITY"],
        chosen=MAXIMUM,
        expanded=False,
        attempt=2,
        maximum=MAXIMUM,
    )
    assert (full.kind, full.reason) == ("hand_off", "nothing left to expand")
    no_reserve = parse_budget_config({"expansion_reserve_tokens": 0})
    step = after_attempt(
        no_reserve, valid=False, codes=["ARITY"] * 2, chosen=START, expanded=False, attempt=2, maximum=MAXIMUM
    )
    assert step.kind == "hand_off"


@given(
    codes=st.lists(st.sampled_from(["ARITY", "UNKNOWN_FIELD", None]), min_size=1, max_size=6),
    expanded=st.booleans(),
    valid=st.booleans(),
)
def test_every_decision_is_well_formed(codes: list[str | None], expanded: bool, valid: bool) -> None:
    attempt = len(codes)
    step = after_attempt(
        CONFIG, valid=valid, codes=codes, chosen=START, expanded=expanded, attempt=attempt, maximum=MAXIMUM
    )
    if valid:
        assert step.kind == "done"
    elif expanded or attempt >= CONFIG.max_attempts_per_idea:
        assert step.kind == "hand_off" and step.reason
    if step.kind in ("retry", "expand"):
        assert step.topk is not None and attempt < CONFIG.max_attempts_per_idea
    if step.kind == "expand":
        assert step.expansion is not None and step.topk != START


def test_refusals_and_races() -> None:
    assert after_refusal(expanded=True) == "hand_off"
    assert after_refusal(expanded=False) == "block"
    assert [after_lost_race(n) for n in range(1, MAX_RACE_RETRIES + 1)][-1] == "block"
    assert after_lost_race(1) == "replan"


def test_violation_of_a_refusal_keeps_scope_and_units() -> None:
    exc = BudgetBlockedError(
        "x",
        failure_code="BUDGET_DAY_COST",
        scope="money_day",
        limit=0.5,
        observed=0.75,
        scope_key="money_day:2026-12-07@UTC",
    )
    v = violation_of(exc)
    assert (v.scope_key, v.limit, v.observed) == ("money_day:2026-12-07@UTC", Decimal("0.5"), Decimal("0.75"))
    tokens = BudgetBlockedError(
        "x",
        failure_code="BUDGET_WEEK_TOKENS",
        scope="week",
        limit=100,
        observed=130,
        scope_key="week:2026-W50@UTC",
    )
    assert violation_of(tokens).limit == 100


_owner = st.text(alphabet="abcdefghij0123456789-_@:.", min_size=1, max_size=20)


@given(batch=_owner.filter(lambda s: not s.endswith(":")), lane=st.sampled_from(["exploit", "explore"]))
def test_scope_keys_round_trip(batch: str, lane: str) -> None:
    for key in (ScopeKey.lane_of(batch, lane), ScopeKey.batch(batch), ScopeKey.expansion(batch)):
        assert ScopeKey.parse(str(key)) == key
    assert (
        ScopeKey.parse(str(ScopeKey.lane_of(batch, lane))).failure_code
        == f"BUDGET_LANE_{lane.upper()}_TOKENS"
    )


@pytest.mark.parametrize("text", ["", "day", "nope:1", "lane:onlybatch", "lane::x"])
def test_scope_key_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        ScopeKey.parse(text)
