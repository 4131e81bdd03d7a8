"""The budget configuration (``configs/llm_budget.json``, spec §3.1), validated once at start.

Every field is documented in the model (``brain-agent budget schema`` publishes the JSON Schema).
A bad file is a :class:`~brain_agent.errors.ConfigError` (exit 2) that names the key and the value.
"""

from __future__ import annotations

import itertools
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from brain_agent.errors import ConfigError, InputError
from brain_agent.jsonio import parse_json

CONFIG_FILE_NAME = "llm_budget.json"
MIN_LEASE_SECONDS = 5.0
MAX_LEASE_SECONDS = 3600.0
MAX_TOKENS = 10**12
MAX_USD = Decimal(10**9)
RATIO_TOLERANCE = 1e-9
EXPLORE_RECOMMENDED = (0.2, 0.3)
MAX_ALERT_THRESHOLDS = 20


class BudgetConfigWarning(UserWarning):
    """A legal but unusual setting (e.g. an explore share outside the recommended 20–30 %)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FallbackSteps(_Strict):
    """Top-K values the ladder steps down through, per dimension, largest first (spec §4 order:
    fields, then operators, then subcategories). A step larger than the current K is skipped."""

    fields: tuple[int, ...] = Field(default=(40, 30, 20, 12, 8, 5), description="fields Top-K steps")
    operators: tuple[int, ...] = Field(default=(30, 20, 12, 8, 5), description="operators Top-K steps")
    subcategories: tuple[int, ...] = Field(default=(5, 4, 3, 2, 1), description="subcategory count steps")

    @field_validator("fields", "operators", "subcategories")
    @classmethod
    def _descending_positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("needs at least one step")
        if any(v < 1 for v in value):
            raise ValueError("steps must be >= 1")
        if any(a <= b for a, b in itertools.pairwise(value)):
            raise ValueError("steps must be strictly decreasing")
        return value


class BudgetConfig(_Strict):
    """Token and money caps, the fallback ladder, lanes and the expansion reserve."""

    version: Literal[1] = Field(default=1, description="schema version of this file (only 1 exists)")
    max_prompt_tokens: int = Field(
        strict=True,
        le=MAX_TOKENS,
        default=12_000,
        ge=256,
        description="per-request prompt cap (spec: 8k–16k)",
    )
    max_completion_tokens: int = Field(
        strict=True,
        le=MAX_TOKENS,
        default=1_500,
        ge=16,
        description="per-request completion cap, sent as max_tokens (spec: 1k–2k)",
    )
    max_tokens_per_batch: int = Field(
        strict=True,
        le=MAX_TOKENS,
        default=120_000,
        ge=1,
        description="hard cap on one batch (one run-batch run), reserve included",
    )
    max_tokens_per_day: int = Field(
        strict=True, le=MAX_TOKENS, default=1_000_000, ge=1, description="hard cap per calendar day"
    )
    max_tokens_per_week: int | None = Field(
        strict=True,
        le=MAX_TOKENS,
        default=5_000_000,
        ge=1,
        description="hard cap per ISO week (Monday start); null = no cap",
    )
    max_cost_per_day: Decimal | None = Field(
        default=Decimal("5.00"),
        ge=0,
        le=MAX_USD,
        allow_inf_nan=False,
        description="USD cap per day; null = none",
    )
    max_cost_per_week: Decimal | None = Field(
        default=Decimal("25.00"),
        ge=0,
        le=MAX_USD,
        allow_inf_nan=False,
        description="USD cap per week; null = none",
    )
    fallback_topk_steps: FallbackSteps = Field(default_factory=FallbackSteps)
    exploit_ratio: float = Field(
        allow_inf_nan=False, default=0.7, ge=0.0, le=1.0, description="exploit share of the batch"
    )
    explore_ratio: float = Field(
        allow_inf_nan=False, default=0.3, ge=0.0, le=1.0, description="explore share of the batch"
    )
    min_explore_candidates_per_batch: int = Field(
        strict=True,
        le=MAX_TOKENS,
        default=2,
        ge=0,
        description="explore ideas a shrinking batch keeps before it defers them",
    )
    expansion_reserve_tokens: int = Field(
        strict=True,
        le=MAX_TOKENS,
        default=12_000,
        ge=0,
        description="part of the batch cap kept for Top-K expansion on repeated errors",
    )
    repeat_error_threshold: int = Field(
        strict=True,
        le=MAX_TOKENS,
        default=2,
        ge=1,
        description="same validation error this many times in a row → expand instead of shrink",
    )
    max_attempts_per_idea: int = Field(
        strict=True, le=MAX_TOKENS, default=3, ge=1, description="LLM attempts per idea, expansion included"
    )
    prompt_safety_margin: float = Field(
        allow_inf_nan=False,
        default=0.05,
        ge=0.0,
        le=1.0,
        description="extra share reserved on top of a non-exact prompt estimate",
    )
    estimator: Literal["exact", "rough"] = Field(
        default="exact",
        description="exact = offline BPE count (+ calibration); rough = heuristic (+ calibration)",
    )
    on_blocked: Literal["defer", "discard"] = Field(
        default="defer",
        description="what happens to an idea nothing fits: carried to the next batch or dropped",
    )
    lease_seconds: float = Field(
        default=300.0,
        ge=MIN_LEASE_SECONDS,
        le=MAX_LEASE_SECONDS,
        allow_inf_nan=False,
        description="a hold expires this long after its last heartbeat; live calls renew it every "
        "third of it, so only the holds of dead processes lapse (5 s … 1 h)",
    )
    uncalibrated_prompt_factor: float = Field(
        default=4.0,
        ge=1.0,
        le=100.0,
        allow_inf_nan=False,
        description="prompt estimate multiplier for a (provider, endpoint, model) whose billed usage has "
        "not been seen yet; its first settled call calibrates it",
    )
    timezone: str = Field(default="UTC", max_length=64, description="IANA zone for the day and week windows")
    alert_thresholds: tuple[float, ...] = Field(
        default=(),
        max_length=MAX_ALERT_THRESHOLDS,
        description="shares of a day / week / money cap (0 < t ≤ 1, strictly increasing) whose crossing "
        "emits budget.threshold_crossed once per window and threshold; [] = no alerts",
    )
    alert_webhook_url: str | None = Field(
        default=None,
        max_length=2048,
        description="http(s) URL each budget.threshold_crossed payload is POSTed to as JSON (a failed "
        "POST is a warning, never a stop); null = off",
    )
    price_table: str = Field(
        default="prices.json", max_length=1024, description="price file, relative to this file's folder"
    )

    @field_validator("alert_thresholds", mode="before")
    @classmethod
    def _strict_shares(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of numbers")
        for item in value:  # strict: no strings, no booleans, no NaN
            if isinstance(item, bool) or not isinstance(item, int | float) or item != item:
                raise ValueError(f"must hold numbers only (got {item!r})")
        return value

    @field_validator("alert_thresholds")
    @classmethod
    def _shares(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0.0 < v <= 1.0 for v in value):
            raise ValueError("every threshold must be a share of the cap: 0 < t ≤ 1")
        if any(a >= b for a, b in itertools.pairwise(value)):
            raise ValueError("thresholds must be strictly increasing")
        return value

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown IANA time zone") from None
        return value

    @model_validator(mode="after")
    def _ratios(self) -> BudgetConfig:
        if abs(self.exploit_ratio + self.explore_ratio - 1.0) > RATIO_TOLERANCE:
            raise ValueError(
                f"exploit_ratio + explore_ratio must be 1 (got {self.exploit_ratio} + {self.explore_ratio})"
            )
        if self.expansion_reserve_tokens >= self.max_tokens_per_batch:
            raise ValueError("expansion_reserve_tokens must be below max_tokens_per_batch")
        floor = self.min_explore_candidates_per_batch * self.max_completion_tokens
        if floor and self.lane_limit("explore") < floor:
            raise ValueError(
                f"the explore share cannot hold the explore floor: explore_ratio × (max_tokens_per_batch − "
                f"expansion_reserve_tokens) = {self.lane_limit('explore')} tokens, but "
                f"min_explore_candidates_per_batch {self.min_explore_candidates_per_batch} × "
                f"max_completion_tokens {self.max_completion_tokens} = {floor} before any prompt"
            )
        return self

    # -- derived -----------------------------------------------------------------------------------
    @property
    def lane_pool_tokens(self) -> int:
        """The batch cap minus the expansion reserve: what the two lanes share."""
        return self.max_tokens_per_batch - self.expansion_reserve_tokens

    def lane_limit(self, lane: str) -> int:
        ratio = self.explore_ratio if lane == "explore" else self.exploit_ratio
        return int(self.lane_pool_tokens * ratio)

    def lane_ratio(self) -> dict[str, float]:
        return {"exploit": self.exploit_ratio, "explore": self.explore_ratio}

    def warnings(self) -> list[str]:
        """Legal but unusual settings, as messages."""
        out = []
        low, high = EXPLORE_RECOMMENDED
        if not low - RATIO_TOLERANCE <= self.explore_ratio <= high + RATIO_TOLERANCE:
            out.append(
                f"explore_ratio {self.explore_ratio} is outside the recommended "
                f"{low:.0%}–{high:.0%} (spec §2.1)"
            )
        if not 8_000 <= self.max_prompt_tokens <= 16_000:
            out.append(
                f"max_prompt_tokens {self.max_prompt_tokens} is outside the recommended 8k–16k (spec §2.2)"
            )
        if not 1_000 <= self.max_completion_tokens <= 2_000:
            out.append(
                f"max_completion_tokens {self.max_completion_tokens} is outside "
                "the recommended 1k–2k (spec §2.2)"
            )
        return out

    def limits(self) -> dict[str, Any]:
        """The caps by scope (for ``metadata_sync`` and status views); money as strings."""
        return {
            "request_prompt": self.max_prompt_tokens,
            "request_completion": self.max_completion_tokens,
            "batch": self.max_tokens_per_batch,
            "lane_exploit": self.lane_limit("exploit"),
            "lane_explore": self.lane_limit("explore"),
            "expansion": self.expansion_reserve_tokens,
            "day": self.max_tokens_per_day,
            "week": self.max_tokens_per_week,
            "money_day": None if self.max_cost_per_day is None else str(self.max_cost_per_day),
            "money_week": None if self.max_cost_per_week is None else str(self.max_cost_per_week),
        }


def budget_schema() -> dict[str, Any]:
    """The published JSON Schema of ``llm_budget.json``."""
    schema = BudgetConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "brain-agent llm_budget.json"
    return schema


def parse_budget_config(data: Any, source: str = "<config>", *, warn: bool = False) -> BudgetConfig:
    """Validate ``data``; the error names ``source``, the key and the value. ``warn`` turns
    :meth:`BudgetConfig.warnings` into :class:`BudgetConfigWarning` warnings (the CLI prints them)."""
    try:
        config = BudgetConfig.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        value = first.get("input")
        if not loc:  # a model-level rule (ratios, reserve): name the keys involved
            loc, value = _model_rule_key(first["msg"], data)
        if loc == "alert_webhook_url" and isinstance(value, str):  # never echo credentials
            value = redact_url(value)
        shown = "{…}" if isinstance(value, dict) else _short(repr(value))
        msg = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{source}: key '{loc}': {msg} (value: {shown})", file=source, key=loc) from None
    if warn:
        for message in config.warnings():
            warnings.warn(f"{source}: {message}", BudgetConfigWarning, stacklevel=2)
    return config


def redact_url(url: str) -> str:
    """The URL without user, password, query or fragment: safe to print or log."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
    except ValueError:
        return "<unparseable URL>"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _short(text: str, limit: int = 80) -> str:
    """A bad value as shown in a message: never the whole of a huge input."""
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _model_rule_key(message: str, data: Any) -> tuple[str, Any]:
    for key in ("min_explore_candidates_per_batch", "expansion_reserve_tokens", "explore_ratio"):
        if key in message and isinstance(data, dict):
            return key, data.get(key)
    return "(top level)", None


def load_budget_config(path: str | Path, *, warn: bool = False) -> BudgetConfig:
    """Read and validate a budget file (exit 2 on any problem)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: budget config file does not exist", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read budget config: {exc}", file=str(p)) from None
    try:
        data = parse_json(text, str(p), "budget config")
    except InputError as exc:  # depth limit, non-finite or huge numbers, bad JSON: a config error
        raise ConfigError(exc.message, file=str(p)) from None
    return parse_budget_config(data, str(p), warn=warn)


def default_budget_config_path() -> Path:
    from brain_agent.settings import default_configs_dir

    return default_configs_dir() / CONFIG_FILE_NAME
