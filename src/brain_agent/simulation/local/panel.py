"""The panel: a dates × instruments market the local simulator evaluates expressions over.

Every MATRIX field is a float64 array shaped ``(T, N)`` (dates on axis 0, instruments on axis 1),
GROUP fields are integer codes ``(T, N)`` with ``-1`` for "no group", VECTOR fields are float64
``(T, N, K)`` (a few values per cell, reduced by the ``vec_*`` operators).

Fields may be materialised lazily: a ``FieldSource`` is asked for a field the first time an
expression names it, so a market can offer hundreds of fields without holding them all in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from brain_agent.simulation.local.kernels.timeseries import ts_mean
from brain_agent.simulation.local.types import BoolArray as BoolArray
from brain_agent.simulation.local.types import FieldSource as FieldSource
from brain_agent.simulation.local.types import FieldValue as FieldValue
from brain_agent.simulation.local.types import FloatArray as FloatArray
from brain_agent.simulation.local.types import GroupValue as GroupValue
from brain_agent.simulation.local.types import IntArray as IntArray
from brain_agent.simulation.local.types import Kind as Kind
from brain_agent.simulation.local.types import VectorValue as VectorValue

_D = TypeVar("_D")

REQUIRED_FIELDS = ("close", "returns")
"""A panel needs at least these (``returns`` for PnL, ``close`` for sanity); ``adv20`` is derived
from ``volume`` when missing. Universes rank instruments by ``adv20 × close``."""

UNIVERSE_SIZES = {
    "TOP3000": 3000,
    "TOP2500": 2500,
    "TOP1200": 1200,
    "TOP1000": 1000,
    "TOP800": 800,
    "TOP500": 500,
    "TOP400": 400,
    "TOP200": 200,
}


@dataclass
class Panel:
    """Dates × instruments data. ``listed`` marks cells where an instrument trades at all."""

    dates: NDArray[np.datetime64]
    instruments: NDArray[np.str_]
    listed: BoolArray
    kinds: dict[str, Kind]
    _values: dict[str, FieldValue] = field(default_factory=dict)
    _source: FieldSource | None = None
    _universes: dict[int, BoolArray] = field(default_factory=dict)
    name: str = "panel"
    _derived: dict[str, object] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.dates), len(self.instruments))

    def has(self, name: str) -> bool:
        return name in self.kinds

    def kind(self, name: str) -> Kind | None:
        return self.kinds.get(name)

    def get(self, name: str) -> FieldValue:
        """The field's values (materialised on first use). ``KeyError`` if the panel has no such field."""
        value = self._values.get(name)
        if value is not None:
            return value
        if name not in self.kinds or self._source is None:
            raise KeyError(name)
        made = self._source(name)
        if made is None:
            raise KeyError(name)
        self._values[name] = made
        return made

    def matrix(self, name: str) -> FloatArray:
        """A MATRIX field in double precision (a copy when the panel keeps it in single)."""
        value = self.get(name)
        if not isinstance(value, np.ndarray):
            raise TypeError(f"field {name!r} is not a MATRIX field")
        return np.asarray(value, dtype=np.float64)

    def put(self, name: str, value: FieldValue, kind: Kind) -> None:
        """Add or replace a field; the derived arrays and the universes (made from ``adv20`` and
        ``close``) are made again on next use."""
        self._values[name] = value
        self.kinds[name] = kind
        self._derived.clear()
        self._universes.clear()

    def derived(self, key: str, make: Callable[[], _D]) -> _D:
        """A per-panel array derived from fields (group keys, NaN-free returns…), made on first use
        and kept: it depends on the market only, not on the expression. ``put`` forgets them all."""
        if key not in self._derived:
            self._derived[key] = make()
        return cast(_D, self._derived[key])

    def field_names(self) -> list[str]:
        return sorted(self.kinds)

    def universe(self, size: int) -> BoolArray:
        """The top ``size`` listed instruments each day by yesterday's ``adv20 × close`` (dollar volume).

        When the panel has no more than ``size`` instruments, that is every listed cell.
        """
        n = self.shape[1]
        if size >= n:
            return self.listed
        cached = self._universes.get(size)
        if cached is not None:
            return cached
        liq = self.matrix("adv20") if self.has("adv20") else np.ones(self.shape)
        if self.has("close"):
            liq = liq * self.matrix("close")  # dollar volume
        lag = np.empty_like(liq)
        lag[0] = liq[0]
        lag[1:] = liq[:-1]  # membership decided on yesterday's liquidity
        score = np.where(self.listed & np.isfinite(lag), lag, -np.inf)
        mask = _top(score, size) & self.listed
        self._universes[size] = mask
        return mask

    def universe_for(self, name: str) -> BoolArray:
        size = UNIVERSE_SIZES.get(name.upper())
        return self.listed if size is None else self.universe(size)


def _top(score: FloatArray, size: int) -> BoolArray:
    """Each row's ``size`` largest scores, ties at the cut going to the leftmost columns: the first
    ``size`` of a stable sort by descending score, without sorting (a partition finds each row's cut
    value; 0.35 → 0.07 s at 3000 × 1260)."""
    if size <= 0:
        return np.zeros(score.shape, dtype=bool)
    cut = -np.partition(-score, size - 1, axis=1)[:, size - 1 : size]
    above = score > cut
    tied = score == cut
    room = size - np.count_nonzero(above, axis=1, keepdims=True)
    top: BoolArray = above | (tied & (np.cumsum(tied, axis=1) <= room))
    return top


def make_panel(
    dates: Iterable[np.datetime64] | NDArray[np.datetime64],
    instruments: Iterable[str] | NDArray[np.str_],
    values: dict[str, FieldValue],
    *,
    listed: BoolArray | None = None,
    kinds: dict[str, Kind] | None = None,
    source: FieldSource | None = None,
    name: str = "panel",
) -> Panel:
    """Build a panel from arrays; kinds are inferred from the value types unless given."""
    d = np.asarray(list(dates) if not isinstance(dates, np.ndarray) else dates, dtype="datetime64[D]")
    inst = np.asarray(
        list(instruments) if not isinstance(instruments, np.ndarray) else instruments, dtype=str
    )
    shape = (len(d), len(inst))
    inferred: dict[str, Kind] = {}
    for key, value in values.items():
        if isinstance(value, GroupValue):
            inferred[key] = "GROUP"
        elif isinstance(value, VectorValue):
            inferred[key] = "VECTOR"
        else:
            if value.shape != shape:
                raise ValueError(f"field {key!r} has shape {value.shape}, expected {shape}")
            inferred[key] = "MATRIX"
    inferred.update(kinds or {})
    if listed is None:
        close = values.get("close")
        listed = np.isfinite(close) if isinstance(close, np.ndarray) else np.ones(shape, dtype=bool)
    panel = Panel(dates=d, instruments=inst, listed=listed, kinds=inferred, _source=source, name=name)
    for key, value in values.items():
        panel._values[key] = value
    volume = values.get("volume")
    if "adv20" not in panel.kinds and isinstance(volume, np.ndarray):
        panel.put("adv20", ts_mean(np.asarray(volume, dtype=np.float64), 20), "MATRIX")
    return panel
