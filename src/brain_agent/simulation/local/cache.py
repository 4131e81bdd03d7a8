"""A process-wide cache of evaluated sub-expressions, least-recently-used out first, bounded in bytes.

Assignments are inlined and AST nodes compare equal by structure, so ``ts_mean(volume, 20)`` is the
same key in every candidate that contains it. A key also names what the value depends on besides
the expression: the panel (a token that changes whenever the panel's fields change), the universe,
and the pasteurization and NaN-handling settings. Values are marked read-only when stored: a kernel
that tried to write into a shared input would raise instead of corrupting another candidate.

Admission: a value is kept when it is known to be needed again (it occurs more than once in the
batch) or when its key was computed before; a one-off intermediate leaves only its key behind. Only
arrays and groups are kept (numbers and strings cost nothing to recompute). A value larger than
the whole budget is not kept. ``max_bytes = 0`` turns the cache off.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

from brain_agent.errors import ConfigError
from brain_agent.simulation.local.panel import GroupValue, VectorValue

ENV_CACHE_MB = "BRAIN_AGENT_SIM_CACHE_MB"
MAX_GHOSTS = 4096
"""Keys of values computed once and not kept, remembered so that a second computation is kept."""
DEFAULT_CACHE_MB = 96
"""Default budget: three 3000 × 1260 float64 matrices; the fields and motifs most candidates share."""


def nbytes(value: Any) -> int:
    """Bytes a cached value holds (0 for values not worth keeping)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, GroupValue):
        return int(value.codes.nbytes)
    if isinstance(value, VectorValue):
        return int(value.data.nbytes)
    return 0


def _freeze(value: Any) -> None:
    arrays = (
        [value]
        if isinstance(value, np.ndarray)
        else [value.codes]
        if isinstance(value, GroupValue)
        else [value.data]
        if isinstance(value, VectorValue)
        else []
    )
    for array in arrays:
        array.flags.writeable = False


class SubexpressionCache:
    """LRU by bytes. ``hits``/``misses``/``evictions`` count since creation (or ``clear``)."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ConfigError(f"simulation cache size must be ≥ 0 bytes, got {max_bytes}", key="sim_cache_mb")
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._ghosts: OrderedDict[Hashable, None] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @classmethod
    def from_mb(cls, mb: float) -> SubexpressionCache:
        return cls(int(mb * 2**20))

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Any | None:
        found = self._items.get(key)
        if found is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return found[0]

    def put(self, key: Hashable, value: Any, *, shared: bool = False) -> None:
        """Keep ``value`` if it will be asked for again: ``shared`` (it occurs more than once in the
        batch being evaluated) or its key was computed before (a repeat across batches). A value seen
        once only leaves its key behind, so one-off intermediates do not push out the shared ones."""
        size = nbytes(value)
        if size == 0 or size > self.max_bytes or key in self._items:
            return
        if not shared and key not in self._ghosts:
            self._ghosts[key] = None
            if len(self._ghosts) > MAX_GHOSTS:
                self._ghosts.popitem(last=False)
            return
        self._ghosts.pop(key, None)
        _freeze(value)
        self._items[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped
            self.evictions += 1

    def resize(self, max_bytes: int) -> None:
        """A new budget; the least recently used values go until the cache fits."""
        if max_bytes < 0:
            raise ConfigError(f"simulation cache size must be ≥ 0 bytes, got {max_bytes}", key="sim_cache_mb")
        self.max_bytes = int(max_bytes)
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped
            self.evictions += 1

    def clear(self) -> None:
        self._items.clear()
        self._ghosts.clear()
        self.bytes = 0
        self.hits = self.misses = self.evictions = 0

    def stats(self) -> dict[str, int]:
        return {
            "entries": len(self._items),
            "bytes": self.bytes,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
        }


def cache_mb_from_env(default: float = DEFAULT_CACHE_MB) -> float:
    """``$BRAIN_AGENT_SIM_CACHE_MB`` (a number ≥ 0) or ``default``."""
    raw = os.environ.get(ENV_CACHE_MB)
    if raw is None or not raw.strip():
        return default
    try:
        mb = float(raw)
    except ValueError:
        raise ConfigError(
            f"${ENV_CACHE_MB}: expected a number of MiB, got {raw[:40]!r}", key=ENV_CACHE_MB
        ) from None
    if not (mb >= 0 and mb < 2**40):
        raise ConfigError(
            f"${ENV_CACHE_MB}: must be between 0 and 2**40 MiB, got {raw[:40]!r}", key=ENV_CACHE_MB
        )
    return mb


_PROCESS_CACHE: SubexpressionCache | None = None


def process_cache() -> SubexpressionCache:
    """The cache every local backend of this process shares (sized on first use from the environment)."""
    global _PROCESS_CACHE
    if _PROCESS_CACHE is None:
        _PROCESS_CACHE = SubexpressionCache.from_mb(cache_mb_from_env())
    return _PROCESS_CACHE
