"""Budget config: defaults, the shipped file, the schema, and named errors."""

from __future__ import annotations

import warnings
from decimal import Decimal

import pytest

from brain_agent.errors import ConfigError
from brain_agent.generation.budget import (
    BudgetConfigWarning,
    budget_schema,
    load_budget_config,
    parse_budget_config,
)

from .conftest import BUDGET


def test_defaults_follow_the_spec() -> None:
    config = parse_budget_config({})
    assert 8_000 <= config.max_prompt_tokens <= 16_000
    assert 1_000 <= config.max_completion_tokens <= 2_000
    assert (config.exploit_ratio, config.explore_ratio) == (0.7, 0.3)
    assert config.warnings() == []


def test_shipped_file_is_valid() -> None:
    config = load_budget_config(BUDGET)
    assert config.max_cost_per_day == Decimal("5.00")
    assert config.lane_limit("exploit") + config.lane_limit("explore") <= config.lane_pool_tokens


@pytest.mark.parametrize(
    ("data", "key", "value"),
    [
        ({"exploit_ratio": 0.6, "explore_ratio": 0.3}, "explore_ratio", "0.3"),
        ({"max_prompt_tokens": -5}, "max_prompt_tokens", "-5"),
        ({"timezone": "Mars/Olympus"}, "timezone", "'Mars/Olympus'"),
        ({"fallback_topk_steps": {"fields": [5, 10]}}, "fallback_topk_steps.fields", "[5, 10]"),
        ({"expansion_reserve_tokens": 200_000}, "expansion_reserve_tokens", "200000"),
        ({"max_tokens_per_dya": 5}, "max_tokens_per_dya", "5"),
    ],
)
def test_bad_values_name_key_and_value(data: dict[str, object], key: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_budget_config(data, "cfg.json")
    assert info.value.exit_code == 2
    assert f"key '{key}'" in info.value.message
    assert value in info.value.message


def test_explore_outside_recommended_band_warns() -> None:
    config = parse_budget_config({"exploit_ratio": 0.9, "explore_ratio": 0.1})
    assert any("explore_ratio" in w for w in config.warnings())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parse_budget_config({"exploit_ratio": 0.9, "explore_ratio": 0.1}, warn=True)
    assert any(issubclass(w.category, BudgetConfigWarning) for w in caught)


def test_schema_lists_the_spec_fields() -> None:
    props = budget_schema()["properties"]
    for key in (
        "max_prompt_tokens",
        "max_completion_tokens",
        "max_tokens_per_batch",
        "max_tokens_per_day",
        "fallback_topk_steps",
        "exploit_ratio",
        "explore_ratio",
        "min_explore_candidates_per_batch",
        "expansion_reserve_tokens",
        "max_tokens_per_week",
        "max_cost_per_day",
        "repeat_error_threshold",
        "timezone",
    ):
        assert key in props, key
