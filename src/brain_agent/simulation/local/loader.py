"""Load a user's own panel from Parquet or CSV in long format: one row per (date, instrument),
columns ``date``, ``instrument`` and one column per field.

Numeric columns become MATRIX fields; text columns and the known group names (sector, industry,
subindustry, market, country, exchange, currency) become GROUP fields. ``close`` is required;
``returns`` is computed as ``close / close[t−1] − 1`` when missing, ``adv20`` from ``volume``.
Parquet needs the optional ``pyarrow`` package (``pip install brain-agent[parquet]``).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from brain_agent.errors import InputError
from brain_agent.simulation.local.panel import FieldValue, GroupValue, Panel, make_panel

GROUP_NAMES = {"sector", "industry", "subindustry", "market", "country", "exchange", "currency"}


def _columns_from_csv(path: Path) -> dict[str, list[Any]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        cols: dict[str, list[Any]] = {name: [] for name in reader.fieldnames or []}
        for row in reader:
            for name in cols:
                cols[name].append(row.get(name))
    return cols


def _columns_from_parquet(path: Path) -> dict[str, list[Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            f"{path}: reading Parquet needs pyarrow (pip install 'brain-agent[parquet]')"
        ) from None
    table = pq.read_table(path)
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _numeric(values: list[Any]) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if v is None or v == "":
            out[i] = np.nan
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            return None
    return out


def load_panel(path: str | Path) -> Panel:
    """Read ``path`` (``.parquet``/``.pq`` or ``.csv``) into a :class:`Panel`."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: panel file does not exist", file=str(p))
    cols = _columns_from_parquet(p) if p.suffix.lower() in (".parquet", ".pq") else _columns_from_csv(p)
    for required in ("date", "instrument", "close"):
        if required not in cols:
            raise InputError(f"{p}: missing column {required!r} (long format: date, instrument, fields...)")
    try:
        dates_raw = np.array([str(d)[:10] for d in cols["date"]], dtype="datetime64[D]")
    except ValueError as exc:
        raise InputError(f"{p}: column 'date' must hold ISO dates: {exc}") from None
    inst_raw = np.array([str(i) for i in cols["instrument"]])
    dates, t_idx = np.unique(dates_raw, return_inverse=True)
    instruments, i_idx = np.unique(inst_raw, return_inverse=True)
    shape = (len(dates), len(instruments))
    values: dict[str, FieldValue] = {}
    for name, column in cols.items():
        if name in ("date", "instrument"):
            continue
        numbers = None if name in GROUP_NAMES else _numeric(column)
        if numbers is None:
            labels = np.array(["" if v is None else str(v) for v in column])
            uniq, codes = np.unique(labels, return_inverse=True)
            grid = np.full(shape, -1, dtype=np.int64)
            grid[t_idx, i_idx] = np.where(labels == "", -1, codes)
            values[name] = GroupValue(codes=grid, n_groups=max(len(uniq), 1))
        else:
            grid_f = np.full(shape, np.nan)
            grid_f[t_idx, i_idx] = numbers
            values[name] = grid_f
    close = values["close"]
    if not isinstance(close, np.ndarray):
        raise InputError(f"{p}: column 'close' must be numeric")
    if "returns" not in values:
        ret = np.full(shape, np.nan)
        with np.errstate(all="ignore"):
            ret[1:] = close[1:] / close[:-1] - 1.0
        values["returns"] = ret
    return make_panel(dates, instruments, values, listed=np.isfinite(close), name=f"file({p.name})")
