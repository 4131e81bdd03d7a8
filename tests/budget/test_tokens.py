"""Token estimation: rough vs exact, calibration learned from provider usage and persisted."""

from __future__ import annotations

import json
from collections.abc import Callable

from brain_agent.generation.budget import BudgetGate, TokenEstimator, rough_tokens
from brain_agent.llm.base import Usage
from brain_agent.llm.tokenizer import count_tokens

PROSE = (
    "Stocks that fell hard over the last week on heavy volume tend to recover part of the move, "
    "because liquidity providers demand a premium and prices overshoot before they mean-revert. "
) * 6
EXPRESSION = "group_neutralize(rank(-ts_delta(close, 5) / ts_std_dev(returns, 20)), subindustry)\n" * 8
PACK = json.dumps(
    [
        {"id": f"fnd6_field_{i}", "description": "quarterly operating income", "coverage": 0.93}
        for i in range(20)
    ],
    indent=2,
)


def test_rough_is_much_closer_than_chars_over_four() -> None:
    for text in (PROSE, EXPRESSION, PACK):
        exact = count_tokens(text)
        rough_err = abs(rough_tokens(text) - exact) / exact
        c4_err = abs(len(text) / 4 - exact) / exact
        assert rough_err < 0.15, (text[:30], rough_err)
        assert rough_err < c4_err


def test_exact_for_openai_models_and_no_margin() -> None:
    est = TokenEstimator("exact").estimate(PROSE, "gpt-4o-mini")
    assert est.exact and est.tokens == count_tokens(PROSE)


def test_calibration_corrects_models_without_a_public_tokenizer() -> None:
    estimator = TokenEstimator("exact", safety_margin=0.0)
    raw = count_tokens(PROSE)
    true = int(raw * 1.18)  # a model whose tokenizer splits 18 % finer
    before = estimator.estimate(PROSE, "claude-sonnet-4-5")
    assert not before.exact and before.tokens == raw
    for _ in range(5):
        estimator.observe(PROSE, "claude-sonnet-4-5", true)
    after = estimator.estimate(PROSE, "claude-sonnet-4-5")
    assert abs(after.tokens - true) / true < 0.01


def test_rough_calibration_learns_and_is_persisted(gate_factory: Callable[..., BudgetGate]) -> None:
    gate = gate_factory(estimator="rough", prompt_safety_margin=0.0)
    exact = count_tokens(EXPRESSION)
    gate.learn(EXPRESSION, "llama3.1:8b", Usage(uncached_input=exact, output=3))
    gate.learn(EXPRESSION, "llama3.1:8b", Usage(uncached_input=exact, output=3))
    reopened = BudgetGate.open(gate.config, gate.store, gate.prices, gate.clock)
    est = reopened.estimator.estimate(EXPRESSION, "llama3.1:8b")
    assert est.factor != 1.0
    assert abs(est.tokens - exact) <= 1


def test_estimated_usage_is_not_learned(gate_factory: Callable[..., BudgetGate]) -> None:
    gate = gate_factory(estimator="rough")
    gate.learn(PROSE, "llama3.1:8b", Usage(uncached_input=999_999, raw={"estimated": True}))
    assert gate.ledger.load_calibration() == []
