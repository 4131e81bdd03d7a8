"""The chart series: tokens by lane, cost and pressure per time bucket, at most 120 points."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from brain_agent.telemetry.views.common import SERIES_BASE_BUCKET_S, SERIES_MAX_POINTS


@dataclass
class Bucket:
    t: float
    tokens: dict[str, int] = field(default_factory=dict)
    cost: Decimal = Decimal(0)
    pressure: float = 0.0
    pressure_by_scope: dict[str, float] = field(default_factory=dict)


class Series:
    """5 s buckets, widened (10 s, 20 s, …) so there are never more than ``SERIES_MAX_POINTS``."""

    def __init__(self) -> None:
        self.bucket_s = SERIES_BASE_BUCKET_S
        self.buckets: list[Bucket] = []

    def bucket(self, ts: float) -> Bucket:
        t = math.floor(ts / self.bucket_s) * self.bucket_s
        if not self.buckets or t > self.buckets[-1].t:
            self.buckets.append(Bucket(t=float(t)))
            if len(self.buckets) > SERIES_MAX_POINTS:
                self._widen()
                return self.bucket(ts)
            return self.buckets[-1]
        for b in reversed(self.buckets):  # out-of-order ts: the bucket it falls in, else the oldest
            if b.t <= t:
                return b
        return self.buckets[0]

    def _widen(self) -> None:
        self.bucket_s *= 2
        merged: list[Bucket] = []
        for b in self.buckets:
            t = float(math.floor(b.t / self.bucket_s) * self.bucket_s)
            if not merged or merged[-1].t != t:
                merged.append(Bucket(t=t, pressure=b.pressure, pressure_by_scope=dict(b.pressure_by_scope)))
            m = merged[-1]
            for lane, n in b.tokens.items():
                m.tokens[lane] = m.tokens.get(lane, 0) + n
            m.cost += b.cost
            m.pressure, m.pressure_by_scope = b.pressure, dict(b.pressure_by_scope)
        self.buckets = merged

    def add_tokens(self, ts: float, lane_key: str, tokens: int) -> None:
        b = self.bucket(ts)
        b.tokens[lane_key] = b.tokens.get(lane_key, 0) + tokens

    def add_cost(self, ts: float, cost: Decimal) -> None:
        self.bucket(ts).cost += cost

    def mark_pressure(self, ts: float, rings: list[dict[str, Any]]) -> None:
        b = self.bucket(ts)
        b.pressure_by_scope = {r["scope"]: r["pressure"] for r in rings}
        b.pressure = max(b.pressure_by_scope.values(), default=0.0)

    def view(self) -> dict[str, Any]:
        points = []
        for b in self.buckets:
            tokens = {"exploit": b.tokens.get("exploit", 0), "explore": b.tokens.get("explore", 0)}
            tokens.update((k, v) for k, v in b.tokens.items() if k not in tokens)
            points.append(
                {
                    "t": b.t,
                    "tokens": tokens,
                    "cost": str(b.cost),
                    "pressure": b.pressure,
                    "pressure_by_scope": dict(b.pressure_by_scope),
                }
            )
        return {"bucket_s": self.bucket_s, "points": points}
