"""Budget test fixtures: a real store file, the shipped price table, a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from brain_agent.generation.budget import (
    BudgetConfig,
    BudgetGate,
    FakeClock,
    PriceTable,
    load_price_table,
    parse_budget_config,
)
from brain_agent.llm.base import LLMRequest, LLMResponse, Usage
from brain_agent.storage import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
PRICES = REPO / "configs" / "prices.json"
BUDGET = REPO / "configs" / "llm_budget.json"


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "budget.db")


@pytest.fixture
def prices() -> PriceTable:
    return load_price_table(PRICES)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_764_000_000.0)  # 2025-11-24 16:00 UTC, a Monday


def make_config(**overrides: Any) -> BudgetConfig:
    return parse_budget_config({"max_cost_per_day": None, "max_cost_per_week": None, **overrides})


@pytest.fixture
def gate_factory(store: SQLiteStore, prices: PriceTable, clock: FakeClock) -> Callable[..., BudgetGate]:
    def make(**overrides: Any) -> BudgetGate:
        return BudgetGate.open(make_config(**overrides), store, prices, clock)

    return make


class FixedProvider:
    """A real fake provider: answers with fixed text and reports the usage it is told to."""

    name = "fake"

    def __init__(
        self, model: str = "gpt-4o-mini", prompt_tokens: int | None = None, output: int = 50
    ) -> None:
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.output = output
        self.calls = 0

    def complete(self, request: LLMRequest) -> LLMResponse:
        from brain_agent.llm.tokenizer import count_tokens

        self.calls += 1
        prompt = (
            self.prompt_tokens
            if self.prompt_tokens is not None
            else count_tokens((request.system or "") + request.prompt)
        )
        usage = Usage(uncached_input=prompt, output=min(self.output, request.max_tokens))
        return LLMResponse("```\nrank(close)\n```\nok", usage, 0.001, self.name, self.model)


class FailingProvider:
    name = "broken"
    model = "gpt-4o-mini"

    def complete(self, request: LLMRequest) -> LLMResponse:
        from brain_agent.errors import ProviderError

        raise ProviderError("upstream 503")
