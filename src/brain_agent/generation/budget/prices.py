"""A versioned price table (``configs/prices.json``): USD per 1M tokens per model, as ``Decimal``.

Ledger amounts for money scopes are integers in pico-USD (1e-12 USD), so sums in the store are exact;
prices may therefore carry at most 6 decimals (per 1M tokens → 1e-12 per token).
"""

from __future__ import annotations

import fnmatch
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from brain_agent.errors import ConfigError, InputError
from brain_agent.jsonio import read_json, validate_model
from brain_agent.llm.base import Usage

PICO = Decimal(10) ** 12
MILLION = Decimal(1_000_000)


class ModelPrice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input: Decimal = Field(ge=0, description="uncached input, USD per 1M tokens")
    cached_input: Decimal | None = Field(default=None, ge=0, description="cache reads; default = input")
    cache_write: Decimal | None = Field(default=None, ge=0, description="cache writes; default = input")
    output: Decimal = Field(ge=0, description="output and reasoning, USD per 1M tokens")

    @field_validator("input", "cached_input", "cache_write", "output")
    @classmethod
    def _six_decimals(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value != value.quantize(Decimal("0.000001")):
            raise ValueError("at most 6 decimals per 1M tokens")
        return value

    def cost(self, usage: Usage) -> Decimal:
        cached = self.cached_input if self.cached_input is not None else self.input
        write = self.cache_write if self.cache_write is not None else self.input
        total = (
            usage.uncached_input * self.input
            + usage.cached_input * cached
            + usage.cache_write * write
            + (usage.output + usage.reasoning) * self.output
        )
        return total / MILLION

    def estimate(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        return (prompt_tokens * self.input + completion_tokens * self.output) / MILLION


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    currency: str = "USD"
    unit: str = "USD per 1M tokens"
    note: str = ""
    models: dict[str, ModelPrice]

    def price_for(self, model: str) -> ModelPrice | None:
        """Exact name first, then the bare name after a ``provider/`` prefix, then glob patterns."""
        bare = model.rsplit("/", 1)[-1]
        for name in (model, bare):
            if name in self.models:
                return self.models[name]
        for pattern, price in self.models.items():
            if any(ch in pattern for ch in "*?[") and fnmatch.fnmatchcase(bare, pattern):
                return price
        return None

    def cost(self, model: str, usage: Usage) -> Decimal:
        price = self.price_for(model)
        return Decimal(0) if price is None else price.cost(usage)

    def estimate(self, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        price = self.price_for(model)
        return Decimal(0) if price is None else price.estimate(prompt_tokens, completion_tokens)


def to_pico(amount: Decimal) -> int:
    """USD → integer pico-USD, rounded up (a reservation never under-counts)."""
    scaled = amount * PICO
    whole = int(scaled)
    return whole + (1 if scaled > whole else 0)


def from_pico(amount: int) -> Decimal:
    return Decimal(amount) / PICO


def load_price_table(path: str | Path) -> PriceTable:
    """Read and validate a price file; any problem is a ConfigError (exit 2) naming key and value."""
    try:
        return validate_model(PriceTable, read_json(path, "price table"), str(path))
    except InputError as exc:
        raise ConfigError(exc.message, **exc.details) from None
