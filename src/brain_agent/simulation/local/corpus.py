"""A fixed, seeded set of LLM-style alphas for benchmarks and equality tests.

LLM batches are full of near-duplicates: the same ``ts_mean(volume, 20)`` or ``rank(close)`` turns
up in many candidates, wrapped differently, with a window changed here and there. This generator
imitates that: a few dozen "motifs" (signals over the core price/volume fields) drawn with
Zipf-like popularity, a window drawn from the usual 5/10/20/60, then one of a dozen wrappers
(rank, ratio, decay, group neutralization...). The same seed always gives the same list.
"""

from __future__ import annotations

import random

_WINDOWS = (5, 10, 20, 60)
_SHORT = (3, 5, 10)
_MOTIFS: tuple[str, ...] = (
    "-ts_delta(close, {d})",
    "ts_mean(volume, {d}) / adv20",
    "-returns",
    "ts_std_dev(returns, {d})",
    "close / ts_mean(close, {d}) - 1",
    "(vwap - close) / close",
    "-ts_rank(volume, {d})",
    "-ts_corr(close, volume, {d})",
    "(high - low) / close",
    "-ts_sum(returns, {d})",
    "ts_zscore(close, {d})",
    "volume / adv20",
    "-(close - open) / open",
    "ts_mean(returns, {d})",
    "-ts_delta(vwap, {s})",
    "log(cap)",
    "ts_decay_linear(-returns, {s})",
    "ts_min(low, {d}) / close",
    "ts_max(high, {d}) / close",
    "-ts_av_diff(close, {d}) / close",
)
_WRAPPERS: tuple[str, ...] = (
    "rank({a})",
    "rank({a})",
    "-rank({a})",
    "rank({a}) * rank({b})",
    "rank({a}) - rank({b})",
    "group_neutralize(rank({a}), subindustry)",
    "ts_decay_linear(rank({a}), {s})",
    "zscore({a}) + zscore({b})",
    "ts_rank(rank({a}), {d})",
    "rank(ts_mean({a}, {s}))",
    "group_rank({a}, industry)",
    "scale(rank({a}) - 0.5)",
    "rank({a}) * (1 - rank(volume / adv20))",
    "ts_mean(rank({a}), {s}) / ts_std_dev(rank({b}), {d})",
)


def _pick(rng: random.Random, items: tuple[str, ...], skew: float) -> str:
    weights = [1.0 / (i + 1) ** skew for i in range(len(items))]
    return rng.choices(items, weights=weights, k=1)[0]


def _fill(rng: random.Random, template: str) -> str:
    return template.format(d=rng.choice(_WINDOWS), s=rng.choice(_SHORT))


def llm_style_alphas(n: int = 100, seed: int = 20240607) -> list[str]:
    """``n`` distinct expressions over the core fields, with realistic sharing of sub-expressions."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        a = _fill(rng, _pick(rng, _MOTIFS, 1.1))
        b = _fill(rng, _pick(rng, _MOTIFS, 1.1))
        wrapper = _pick(rng, _WRAPPERS, 0.6)
        expression = wrapper.format(a=a, b=b, d=rng.choice(_WINDOWS), s=rng.choice(_SHORT))
        if expression not in seen:
            seen.add(expression)
            out.append(expression)
    return out
