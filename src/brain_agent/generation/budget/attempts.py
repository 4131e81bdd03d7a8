"""What an idea does next, pure: the decisions the batch driver used to make inline.

- :func:`after_attempt`: after a candidate came back, stop (valid), retry (keep what fitted; the
  ladder may shrink further), expand (the same error repeated: widen the dimension it points at,
  paid from the expansion reserve), or hand the idea to repair (spec §4.1).
- :func:`after_refusal`: after the gate refused, defer/discard the idea (a normal block) or hand it
  to repair (the expansion reserve ran out mid-expansion).
- :func:`after_lost_race`: after a reservation lost the race to another process, plan again, up to
  ``MAX_RACE_RETRIES`` times; then the idea is blocked like any other.
- :func:`violation_of`: the :class:`Violation` a :class:`BudgetBlockedError` carries, rebuilt from
  its fields, never by splitting its message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from brain_agent.errors import BudgetBlockedError
from brain_agent.generation.budget.config import BudgetConfig
from brain_agent.generation.budget.expansion import Expansion, expand, repeated_error
from brain_agent.generation.budget.policy import Violation
from brain_agent.generation.budget.scope import ScopeKey
from brain_agent.retrieval import TopK

MAX_RACE_RETRIES = 3

NextKind = Literal["done", "retry", "expand", "hand_off"]


@dataclass(frozen=True)
class Next:
    kind: NextKind
    topk: TopK | None = None
    """The configuration of the next attempt (``retry`` and ``expand``)."""
    expansion: Expansion | None = None
    reason: str = ""
    """Why the idea goes to repair (``hand_off``)."""


def after_attempt(
    config: BudgetConfig,
    *,
    valid: bool,
    codes: Sequence[str | None],
    chosen: TopK,
    expanded: bool,
    attempt: int,
    maximum: TopK,
) -> Next:
    """``codes`` are the error codes of every failed attempt so far, this one included."""
    if valid:
        return Next("done")
    if expanded:
        return Next("hand_off", reason="still failing after expansion")
    code = repeated_error(codes, config.repeat_error_threshold)
    if code is not None:
        grown = expand(chosen, code, maximum)
        if grown is None or config.expansion_reserve_tokens == 0:
            return Next("hand_off", reason="nothing left to expand")
        if attempt >= config.max_attempts_per_idea:
            return Next("hand_off", reason="attempts exhausted")
        return Next("expand", topk=grown.topk, expansion=grown)
    if attempt >= config.max_attempts_per_idea:
        return Next("hand_off", reason="attempts exhausted")
    return Next("retry", topk=chosen)


def after_refusal(*, expanded: bool) -> Literal["block", "hand_off"]:
    """A refused plan: an expansion whose reserve ran out goes to repair; anything else is blocked."""
    return "hand_off" if expanded else "block"


def after_lost_race(races_lost: int) -> Literal["replan", "block"]:
    return "replan" if races_lost < MAX_RACE_RETRIES else "block"


def violation_of(exc: BudgetBlockedError) -> Violation:
    """The violation behind a refusal; the scope comes from the error's ``scope_key`` detail."""
    key_text = str(exc.details.get("scope_key", exc.scope))
    try:
        key = ScopeKey.parse(key_text)
        money = key.is_money
    except ValueError:  # a request cap ("request:prompt") or an unknown key: keep what it says
        money = exc.scope.startswith("money")
    limit: int | Decimal = Decimal(str(exc.limit)) if money else int(exc.limit)
    observed: int | Decimal = Decimal(str(exc.observed)) if money else int(exc.observed)
    return Violation(exc.failure_code, exc.scope, key_text, limit, observed)
