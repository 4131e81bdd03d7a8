"""Pure throttling policy: retry counts, back-off delays, the AIMD concurrency window.

No I/O here; the session and the backend ask these objects how long to wait and how many
simulations may be in flight, then do the waiting through the clock seam.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry a failing BRAIN request."""

    max_retries: int = 4
    """Retries after the first attempt for 5xx, network errors and plain 429s."""
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 120.0
    jitter: float = 0.2
    """Each back-off is stretched by up to this fraction (0 = deterministic)."""
    renew_margin_s: float = 2000.0
    """Log in again when the session has less than this left (ace_lib uses 2000 s of 14400 s)."""
    persona_attempts: int = 60
    persona_interval_s: float = 5.0
    concurrency_waits: int = 60
    """How many times a submission waits for a free simulation slot before giving up."""
    daily_limit: Literal["wait", "stop"] = "wait"
    """``wait``: pause until midnight New York time and go on; ``stop``: raise DailyLimitError."""
    daily_margin_s: float = 60.0
    """Extra wait after New York midnight before trying again."""
    max_poll_waits: int = 600
    """How many Retry-After rounds a blocking GET (alpha record, recordset) may take."""


def parse_retry_after(value: str | None) -> float | None:
    """BRAIN sends seconds as a float string (``"5.0"``); anything else is ignored."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds


def backoff_s(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Exponential back-off for retry number ``attempt`` (1-based), capped, with optional jitter."""
    delay = float(min(policy.backoff_cap_s, policy.backoff_base_s * (2.0 ** max(0, attempt - 1))))
    if policy.jitter > 0:
        delay *= 1.0 + policy.jitter * (rng or random.Random()).random()
    return delay


@dataclass
class ConcurrencyWindow:
    """Additive-increase / multiplicative-decrease limit on simulations in flight.

    A 429 ``CONCURRENT_SIMULATION_LIMIT_EXCEEDED`` halves the window; every accepted submission
    grows it by ``1 / window`` (about +1 per window's worth of successes), up to ``ceiling``.
    """

    ceiling: int = 8
    floor: int = 1
    window: float = field(default=0.0)

    def __post_init__(self) -> None:
        if self.ceiling < self.floor or self.floor < 1:
            raise ValueError(
                f"concurrency window needs 1 <= floor <= ceiling (got {self.floor}, {self.ceiling})"
            )
        if self.window <= 0:
            self.window = float(self.ceiling)

    @property
    def limit(self) -> int:
        return max(self.floor, min(self.ceiling, math.floor(self.window)))

    def on_success(self) -> None:
        self.window = min(float(self.ceiling), self.window + 1.0 / max(1.0, self.window))

    def on_limit(self, in_flight: int | None = None) -> None:
        """Shrink: half of the current window (or of what was really in flight, if smaller)."""
        base = self.window if in_flight is None else min(self.window, float(max(in_flight, 1)))
        self.window = max(float(self.floor), math.floor(base / 2.0))
