"""How the mock model writes an alpha for an idea: read the idea's intent, pick the fields and operators
that fit it, and build the expression a quant would try first.

- **intent** comes from the prompt's ``## Idea`` section (title, hypothesis, tags) by keywords:
  reversal, momentum, value, quality, liquidity, volatility, sentiment, revisions, squeeze;
- **fields** are the prompt's (retrieval put the idea's target subcategories first), preferring
  those whose id or description fit the intent (prices for reversal and momentum, book / sales /
  earnings per share for value...);
- **construction** fits the intent: reversal → ``rank(-ts_delta(close, 5))`` or ``-ts_sum(returns,
  5)``; momentum → ``ts_mean`` / ``ts_rank`` over months; value → a ratio to price
  (``bookvalue_ps / close``, ``equity / cap``); the rest → a ranked time-series z-score or change of
  the best-fitting field, sometimes neutralised within a group.

The exploit lane writes that; a prompt without a recognisable idea gets a free composition of the
pack's operators (``write_expression``); the explore lane tries something less obvious: half of the
time a free composition, otherwise the intent's construction on a field further down the list.
Every expression uses only the pack's fields and operators.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from brain_agent.llm.providers.prompt_pack import PromptField, PromptPack

Writer = Callable[[PromptPack, random.Random], str | None]

EXPLORE_WANDER = 0.5
"""Share of explore-lane answers that are a free composition rather than the intent's construction."""

# intent → keywords (checked against the idea's title, hypothesis and tags, lower-cased)
INTENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("reversal", ("reversal", "revert", "reversion", "overshoot", "overreact")),
    ("momentum", ("momentum", "outperforming", "trend", "persist", "winners")),
    ("value", ("value", "cheap", "valuation", "book", "fundamentals relative to price")),
    ("quality", ("quality", "profitab", "leverage")),
    ("liquidity", ("liquidity", "volume", "turnover")),
    ("volatility", ("volatil", "implied", "risk")),
    ("sentiment", ("sentiment", "news", "social", "buzz")),
    ("revisions", ("revision", "analyst", "estimate", "surprise")),
    ("squeeze", ("squeeze", "shorted", "short interest", "borrow")),
)
# intent → words that make a field fit it (id or description)
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "quality": ("return on", "margin", "profit", "income", "quality", "debt", "leverage"),
    "liquidity": ("volume", "adv", "turnover", "shares"),
    "volatility": ("volatility", "implied", "beta", "risk"),
    "sentiment": ("sentiment", "buzz", "news", "positive", "score"),
    "revisions": ("revision", "estimate", "surprise", "target", "recommendation"),
    "squeeze": ("short interest", "days to cover", "borrow", "utilization", "on loan"),
}
PRICE_FIELDS = ("close", "vwap")
VALUE_PER_SHARE = ("bookvalue_ps", "sales_ps", "eps")
VALUE_TOTALS = ("equity", "assets", "sales", "revenue", "ebitda", "ebit", "income", "cashflow_op", "cash")
_GROUP_PREFERENCE = ("subindustry", "industry", "sector")


def intent_of(text: str) -> str | None:
    """The idea's intent (see ``INTENTS``): the one with the most keyword hits, the earlier on ties."""
    low = text.lower()
    best, hits = None, 0
    for name, words in INTENTS:
        n = sum(low.count(w) for w in words)
        if n > hits:
            best, hits = name, n
    return best


class _Kit:
    """What a construction may use: the pack's fields and operators, with fallbacks."""

    def __init__(self, pack: PromptPack, rng: random.Random, *, tail: bool) -> None:
        self.pack, self.rng = pack, rng
        self.ops = {op.name for op in pack.operators}
        matrix = [f for f in pack.fields if f.type == "MATRIX"]
        # the explore lane looks further down the list, past the obvious fields
        self.matrix = matrix[len(matrix) // 3 :] if tail and len(matrix) >= 3 else matrix
        self.all_matrix = {f.id for f in matrix}
        self.groups = [g for g in _GROUP_PREFERENCE if g in pack.fields_of("GROUP")] or pack.fields_of(
            "GROUP"
        )

    def has(self, *names: str) -> bool:
        return all(n in self.ops for n in names)

    def price(self) -> str | None:
        found = [p for p in PRICE_FIELDS if p in self.all_matrix]
        return self.rng.choice(found) if found else None

    def fitting(self, words: tuple[str, ...]) -> list[PromptField]:
        return [f for f in self.matrix if any(w in f"{f.id} {f.description}".lower() for w in words)]

    def pick(self, words: tuple[str, ...] = ()) -> str | None:
        fits = self.fitting(words) if words else []
        pool = fits or self.matrix
        if not pool:
            return None
        return self.rng.choice(pool[:4]).id  # the best-ranked few, as a person would

    def cross(self, inner: str) -> str:
        """A cross-sectional wrapper the pack offers: rank, else zscore / normalize / quantile."""
        for name in ("rank", "zscore", "normalize", "quantile"):
            if name in self.ops:
                return f"{name}({inner})"
        return inner

    def maybe_neutral(self, expr: str, share: float = 0.35) -> str:
        if self.groups and self.has("group_neutralize") and self.rng.random() < share:
            return f"group_neutralize({expr}, {self.rng.choice(self.groups)})"
        return expr

    def change(self, x: str, d: int) -> str | None:
        if self.has("ts_delta"):
            return f"ts_delta({x}, {d})"
        if self.has("ts_av_diff"):
            return f"ts_av_diff({x}, {d})"
        return None

    def level(self, x: str, d: int) -> str | None:
        for name in ("ts_mean", "ts_rank", "ts_sum"):
            if name in self.ops:
                return f"{name}({x}, {d})"
        return None


def _neg(expr: str) -> str:
    return f"-{expr}"


def _reversal(k: _Kit) -> str | None:
    d = k.rng.choice((3, 5, 5, 5, 10))
    if "returns" in k.all_matrix and k.has("ts_sum") and k.rng.random() < 0.4:
        return k.maybe_neutral(_neg(k.cross(f"ts_sum(returns, {d})")))
    x = k.price() or k.pick(("price", "return"))
    inner = k.change(x, d) if x else None
    return None if inner is None else k.maybe_neutral(k.cross(_neg(inner)))


def _momentum(k: _Kit) -> str | None:
    d = k.rng.choice((126, 231, 252, 252))
    if "returns" in k.all_matrix and k.has("ts_mean") and k.rng.random() < 0.6:
        return k.maybe_neutral(k.cross(f"ts_mean(returns, {d})"))
    x = k.price()
    if x is not None and k.has("ts_delta"):
        return k.maybe_neutral(k.cross(f"ts_delta({x}, {d})"))
    x = x or k.pick(("momentum", "return", "price"))
    inner = k.level(x, d) if x else None
    return None if inner is None else k.cross(inner)


def _value(k: _Kit) -> str | None:
    per_share = [f for f in VALUE_PER_SHARE if f in k.all_matrix]
    totals = [f for f in VALUE_TOTALS if f in k.all_matrix]
    price = k.price() if per_share else None
    if per_share and price is not None:
        ratio = f"{k.rng.choice(per_share)} / {price}"
    elif totals and "cap" in k.all_matrix:
        ratio = f"{k.rng.choice(totals)} / cap"
    else:
        x = k.pick(("value", "book", "fair", "yield", "cheap"))
        if x is None:
            return None
        ratio = x
    return k.maybe_neutral(k.cross(ratio), share=0.25)


def _generic(k: _Kit, words: tuple[str, ...], sign: float) -> str | None:
    x = k.pick(words)
    if x is None:
        return None
    d = k.rng.choice((20, 60, 120))
    if k.has("ts_zscore") and k.rng.random() < 0.5:
        inner = f"ts_zscore({x}, {d})"
    else:
        inner = k.change(x, d) or k.level(x, d) or x
    return k.maybe_neutral(k.cross(inner if sign > 0 else _neg(inner)))


_CONSTRUCTIONS: dict[str, Callable[[_Kit], str | None]] = {
    "reversal": _reversal,
    "momentum": _momentum,
    "value": _value,
}


def write_for_idea(pack: PromptPack, rng: random.Random, fallback: Writer) -> tuple[str | None, str]:
    """An expression for the idea in ``pack`` and the intent it followed (``free`` for a free
    composition by ``fallback``)."""
    explore = pack.lane == "explore"
    if explore and rng.random() < EXPLORE_WANDER:
        return fallback(pack, rng), "free"
    intent = intent_of(pack.idea_text)
    if intent is None:  # no idea to follow (or none the mock understands): compose freely
        return fallback(pack, rng), "free"
    kit = _Kit(pack, rng, tail=explore)
    construct = _CONSTRUCTIONS.get(intent)
    if construct is not None:
        expression = construct(kit)
    else:
        sign = 1.0 if intent in ("quality", "revisions", "squeeze") else rng.choice((1.0, -1.0))
        expression = _generic(kit, FIELD_WORDS.get(intent, ()), sign)
    if expression is None:
        return fallback(pack, rng), "free"
    return expression, intent


def rationale(intent: str) -> str:
    return {
        "reversal": "recent losers tend to bounce back, so the signal leans against the last few days' move.",
        "momentum": "the medium-term winners keep winning, so the signal follows returns over months.",
        "value": "cheap stocks earn a premium, so it ranks a fundamental value against the price.",
        "free": "an untried combination of the listed operators and fields.",
    }.get(intent, f"the {intent} effect, measured on the best-fitting field and compared across stocks.")
