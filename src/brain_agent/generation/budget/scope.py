"""``ScopeKey``: the one value type for a budget scope, instead of formatted strings.

A scope key is what a charge is booked against in the ledger. Its text form (``str(key)``) is the
ledger's column value and is stable: ``lane:{batch}:{lane}``, ``expansion:{batch}``,
``batch:{batch}``, ``day:{date@tz}``, ``week:{isoweek@tz}``, ``money_day:{date@tz}``,
``money_week:{isoweek@tz}``. :meth:`ScopeKey.parse` is its exact inverse, so nothing outside this
module splits a scope string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScopeKind = Literal["lane", "expansion", "batch", "day", "week", "money_day", "money_week", "request"]
KINDS: tuple[str, ...] = ("lane", "expansion", "batch", "day", "week", "money_day", "money_week", "request")
MONEY_KINDS = frozenset({"money_day", "money_week"})
PERIOD_KINDS = frozenset({"day", "week", "money_day", "money_week"})

_CODES = {
    "lane:exploit": "BUDGET_LANE_EXPLOIT_TOKENS",
    "lane:explore": "BUDGET_LANE_EXPLORE_TOKENS",
    "expansion": "BUDGET_EXPANSION_RESERVE",
    "batch": "BUDGET_BATCH_TOKENS",
    "day": "BUDGET_DAY_TOKENS",
    "week": "BUDGET_WEEK_TOKENS",
    "money_day": "BUDGET_DAY_COST",
    "money_week": "BUDGET_WEEK_COST",
    "request:prompt": "BUDGET_REQUEST_PROMPT_TOKENS",
    "request:completion": "BUDGET_REQUEST_COMPLETION_TOKENS",
}
FAILURE_CODES: tuple[str, ...] = (
    "BUDGET_REQUEST_PROMPT_TOKENS",
    "BUDGET_REQUEST_COMPLETION_TOKENS",
    "BUDGET_LANE_EXPLOIT_TOKENS",
    "BUDGET_LANE_EXPLORE_TOKENS",
    "BUDGET_EXPANSION_RESERVE",
    "BUDGET_BATCH_TOKENS",
    "BUDGET_DAY_TOKENS",
    "BUDGET_WEEK_TOKENS",
    "BUDGET_DAY_COST",
    "BUDGET_WEEK_COST",
)


@dataclass(frozen=True, order=True)
class ScopeKey:
    """One budget scope. ``owner`` is the batch id (lane, expansion, batch), the window key
    (period scopes) or ``prompt`` / ``completion`` (request caps); ``lane`` only for lane scopes."""

    kind: ScopeKind
    owner: str
    lane: str | None = None

    # -- constructors ----------------------------------------------------------------------------
    @classmethod
    def lane_of(cls, batch_id: str, lane: str) -> ScopeKey:
        return cls("lane", batch_id, lane)

    @classmethod
    def expansion(cls, batch_id: str) -> ScopeKey:
        return cls("expansion", batch_id)

    @classmethod
    def batch(cls, batch_id: str) -> ScopeKey:
        return cls("batch", batch_id)

    @classmethod
    def period(cls, kind: ScopeKind, window_key: str) -> ScopeKey:
        if kind not in PERIOD_KINDS:
            raise ValueError(f"{kind!r} is not a period scope")
        return cls(kind, window_key)

    @classmethod
    def request(cls, part: Literal["prompt", "completion"]) -> ScopeKey:
        return cls("request", part)

    @classmethod
    def parse(cls, text: str) -> ScopeKey:
        """The inverse of ``str()``; a ``ValueError`` for anything that is not a scope key."""
        kind, sep, rest = text.partition(":")
        if not sep or kind not in KINDS or not rest:
            raise ValueError(f"not a budget scope key: {text!r}")
        if kind == "lane":
            owner, sep, lane = rest.rpartition(":")
            if not sep or not owner or not lane:
                raise ValueError(f"not a lane scope key: {text!r}")
            return cls("lane", owner, lane)
        return cls(kind, rest)  # type: ignore[arg-type]

    # -- views -----------------------------------------------------------------------------------
    def __str__(self) -> str:
        if self.kind == "lane":
            return f"lane:{self.owner}:{self.lane}"
        return f"{self.kind}:{self.owner}"

    @property
    def is_money(self) -> bool:
        return self.kind in MONEY_KINDS

    @property
    def is_period(self) -> bool:
        """Shared by every run (and, on a shared store, every machine) in the window."""
        return self.kind in PERIOD_KINDS

    @property
    def failure_code(self) -> str:
        if self.kind == "lane":
            return _CODES.get(f"lane:{self.lane}", "BUDGET_LANE_TOKENS")
        if self.kind == "request":
            return _CODES[f"request:{self.owner}"]
        return _CODES[self.kind]
