"""SELF_CORRELATION, decided for every backend: a new daily PnL against the earlier completed results
in the store (the newest ``WINDOW`` rows of other candidates), as a few array operations instead of
one ``pnl_correlation`` call per earlier result.

- **Same answer.** ``decide`` returns exactly the check that ``self_correlation_check`` gives for the
  ``pnl_correlation`` of every pair (same overlap rule: common dates, at least ``min_days``; same
  None for a flat series; same NaN). Every correlation is first computed at once on a dates-aligned
  matrix (two-pass, centred, like ``np.std``: within ~1e-13 of ``pnl_correlation``); the ones that
  can change the check (within ``TOLERANCE`` of the largest or of the limit) are then recomputed
  exactly (``exact_correlation``: ``pnl_correlation``'s arithmetic on the same arrays, bit for bit),
  as are pairs the matrix cannot stand for (a near-flat or badly scaled series); pairs with duplicate
  dates, dates and values of different lengths, non-numbers or non-finite values go to
  ``pnl_correlation`` itself.
- **Parsed once.** ``PnlCache`` keeps each earlier result's PnL as arrays (row id → series), one cache
  per store object, LRU within a byte budget. Invalidation: the window itself (ids, ``finished_at``,
  Sharpe) is read from the store for every new alpha, so rows added by other processes are seen and
  rows gone are not used; a cached series is used only while its row's ``finished_at`` is unchanged
  (a row's result is written only by ``SimulationStore.finish``, which sets ``finished_at``).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brain_agent.simulation.metrics import SELF_CORRELATION_LIMIT, pnl_correlation, self_correlation_check
from brain_agent.storage.simulation_store import SimulationStore

WINDOW = 200
"""How many earlier completed results a new PnL is compared with (newest first)."""
MIN_DAYS = 20
TOLERANCE = 1e-9
"""Correlations this close to the largest one or to the limit are recomputed exactly."""
DEFAULT_BUDGET_BYTES = 32 * 2**20

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Dates:
    """One distinct date list, shared by every series that has it; ``ords`` numbers each date in the
    table's calendar ``epoch`` (equal dates, equal numbers; never renumbered), so aligning two lists
    of one epoch is array indexing."""

    values: tuple[Any, ...]
    unique: bool
    ords: NDArray[np.intp]
    epoch: int


@dataclass(frozen=True, eq=False)
class Series:
    """A cumulative PnL ready for correlation. ``daily`` is None when only ``pnl_correlation`` may
    handle it (then ``cum`` is the values as given)."""

    dates: Dates | None
    raw_dates: Sequence[Any]
    cum: Any
    daily: FloatArray | None

    @property
    def nbytes(self) -> int:
        arrays = sum(a.nbytes for a in (self.cum, self.daily) if isinstance(a, np.ndarray))
        return arrays + 8 * len(self.raw_dates) + 200


class DatesTable:
    """Interned date lists (one tuple per distinct list) and the calendar numbering their dates. A
    calendar past ``max_dates`` dates is replaced by a new one (a new epoch) instead of growing."""

    def __init__(self, max_dates: int = 100_000) -> None:
        self._by_value: dict[tuple[Any, ...], Dates] = {}
        self._calendar: dict[Any, int] = {}
        self._epoch = 0
        self.max_dates = max_dates

    def intern(self, dates: Sequence[Any]) -> Dates | None:
        try:
            key = tuple(dates)
            found = self._by_value.get(key)
        except TypeError:  # unhashable dates: pnl_correlation decides (and fails) as it always did
            return None
        if found is None:
            if len(self._calendar) + len(key) > self.max_dates:
                self._calendar, self._epoch, self._by_value = {}, self._epoch + 1, {}
            calendar = self._calendar
            ords = np.fromiter(
                (calendar.setdefault(d, len(calendar)) for d in key), dtype=np.intp, count=len(key)
            )
            found = self._by_value[key] = Dates(key, len(set(key)) == len(key), ords, self._epoch)
        return found

    def __len__(self) -> int:
        return len(self._by_value)

    def keep_only(self, live: Sequence[Dates]) -> None:
        """Forget every date list but ``live`` (the ones cached series still use); numbers stay."""
        self._by_value = {d.values: d for d in live if d.epoch == self._epoch}


def align(a: Dates, b: Dates) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """``(cols, picks)``: b's dates at positions ``picks`` are a's dates at positions ``cols`` (in b's
    order)."""
    if a.epoch != b.epoch:  # numbered in different calendars: match the dates themselves
        where = {d: i for i, d in enumerate(a.values)}
        found = np.fromiter((where.get(d, -1) for d in b.values), dtype=np.intp, count=len(b.values))
    else:
        size = max(int(a.ords.max(initial=-1)), int(b.ords.max(initial=-1))) + 1
        pos = np.full(size, -1, dtype=np.intp)
        pos[a.ords] = np.arange(a.ords.size)
        found = pos[b.ords]
    picks = np.flatnonzero(found >= 0)
    return found[picks], picks


def prepare(dates: Sequence[Any], values: Sequence[Any], table: DatesTable) -> Series:
    """The series for ``(dates, values)`` (cumulative PnL), as ``pnl_correlation`` reads them."""
    interned = table.intern(dates)
    raw_dates: Sequence[Any] = interned.values if interned is not None else dates
    if interned is None or not interned.unique or len(dates) != len(values):
        return Series(interned, raw_dates, values, None)
    try:
        cum = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return Series(interned, raw_dates, values, None)
    if cum.ndim != 1:
        return Series(interned, raw_dates, values, None)
    with np.errstate(all="ignore"):  # inf - inf: such a series goes to pnl_correlation below
        daily = np.diff(cum, prepend=0.0)  # = metrics.daily_from_cumulative
    if not np.isfinite(daily).all():
        return Series(interned, raw_dates, cum, None)
    return Series(interned, raw_dates, cum, daily)


def exact_correlation(a: Series, b: Series, min_days: int = MIN_DAYS) -> float | None:
    """``pnl_correlation`` of the two series, bit for bit. For well-formed series (unique dates, as
    many values, finite) the same arithmetic on the same arrays, without its dictionaries."""
    if a.daily is None or b.daily is None or a.dates is None or b.dates is None:
        return pnl_correlation(a.raw_dates, a.cum, b.raw_dates, b.cum, min_days=min_days)
    cols, picks = align(a.dates, b.dates)
    if cols.size < min_days:
        return None
    order = np.argsort(cols, kind="stable")  # the common dates in a's order, as pnl_correlation
    x = a.daily[cols[order]]
    y = b.daily[picks[order]]
    sx, sy = float(np.std(x)), float(np.std(y))
    if sx == 0 or sy == 0:
        return None
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))


def approximate_correlations(
    a: Series, others: Sequence[Series], min_days: int = MIN_DAYS
) -> tuple[list[float | None], list[int]]:
    """Every correlation at once (within ~1e-13 of ``pnl_correlation``), and the indexes of the pairs
    the arrays cannot stand for (to be computed exactly). None where the overlap is too short."""
    k = len(others)
    out: list[float | None] = [None] * k
    exact: list[int] = []
    if a.daily is None or a.dates is None:
        return out, list(range(k))
    x = a.daily
    n = x.shape[0]
    rows: list[int] = []
    groups: dict[int, tuple[Dates, list[int], list[FloatArray]]] = {}  # by id(dates)
    for i, b in enumerate(others):
        if b.daily is None or b.dates is None:
            exact.append(i)
            continue
        group = groups.setdefault(id(b.dates), (b.dates, [], []))
        group[1].append(len(rows))
        group[2].append(b.daily)
        rows.append(i)
    if not rows:
        return out, exact
    mask = np.zeros((len(rows), n))
    y = np.zeros((len(rows), n))
    for dates, members, dailies in groups.values():
        cols, picks = align(a.dates, dates)
        if cols.size == 0:
            continue
        where = np.ix_(np.asarray(members, dtype=np.intp), cols)
        y[where] = np.stack(dailies)[:, picks]
        mask[where] = 1.0
    count = mask.sum(axis=1)
    ok = count >= min_days
    safe_count = np.where(ok, count, 1.0)
    mx = (mask @ x) / safe_count
    my = y.sum(axis=1) / safe_count
    xc = (x[None, :] - mx[:, None]) * mask
    yc = y - my[:, None] * mask
    with np.errstate(all="ignore"):
        vx = np.einsum("ij,ij->i", xc, xc) / safe_count
        vy = np.einsum("ij,ij->i", yc, yc) / safe_count
        cov = np.einsum("ij,ij->i", xc, yc) / safe_count
        corr = cov / (np.sqrt(vx) * np.sqrt(vy))
        # the arrays stand for pnl_correlation only on well-scaled, clearly non-flat data
        scaled = (vx > 1e-200) & (vx < 1e200) & (vy > 1e-200) & (vy < 1e200)
        steady = (mx * mx <= 1e4 * vx) & (my * my <= 1e4 * vy)
        trusted = scaled & steady & np.isfinite(corr)
    for r, i in enumerate(rows):
        if not ok[r]:
            continue
        if trusted[r]:
            out[i] = float(corr[r])
        else:
            exact.append(i)
    return out, sorted(exact)


def decide(
    a: Series,
    sharpe: float,
    earlier: Sequence[tuple[Series, float]],
    *,
    limit: float = SELF_CORRELATION_LIMIT,
    min_days: int = MIN_DAYS,
) -> dict[str, Any]:
    """``self_correlation_check(sharpe, [(pnl_correlation(a, b), b_sharpe) for b in earlier])``, the
    correlations computed at once and only the decisive ones one by one."""
    others = [s for s, _ in earlier]
    values, exact = approximate_correlations(a, others, min_days)
    for i in exact:
        values[i] = exact_correlation(a, others[i], min_days)
    done = set(exact)
    known = [v for v in values if v is not None and v == v]
    if known:
        top = max(known)
        for i, v in enumerate(values):
            if i not in done and v is not None and (v >= top - TOLERANCE or abs(v - limit) <= TOLERANCE):
                values[i] = exact_correlation(a, others[i], min_days)
    pairs = [(v, s) for v, (_, s) in zip(values, earlier, strict=True) if v is not None]
    return self_correlation_check(sharpe, pairs, limit)


class PnlCache:
    """Earlier results' PnLs, parsed once: row id → (finished_at, series or None when the result has
    no PnL), least recently used dropped past ``budget_bytes``."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES, max_dates: int = 100_000) -> None:
        self.budget_bytes = budget_bytes
        self.dates = DatesTable(max_dates)
        self._entries: OrderedDict[int, tuple[float | None, Series | None]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.RLock()
        self.parsed = 0
        """Results parsed from the store so far (a measure of the cache's use)."""

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """What the cached series are charged (arrays and date references; ≤ the budget)."""
        return self._bytes

    def prepare(self, dates: Sequence[Any], values: Sequence[Any]) -> Series:
        with self._lock:
            return prepare(dates, values, self.dates)

    def put(self, row_id: int, finished_at: float | None, series: Series | None) -> None:
        """Keep ``series`` (None: the row's result has no PnL) for this row as of ``finished_at``."""
        with self._lock:
            old = self._entries.pop(row_id, None)
            if old is not None:
                self._bytes -= _charge(old[1])
            self._entries[row_id] = (finished_at, series)
            self._bytes += _charge(series)
            while self._bytes > self.budget_bytes and len(self._entries) > 1:
                _, (_, gone) = self._entries.popitem(last=False)
                self._bytes -= _charge(gone)
            if len(self.dates) > 2 * len(self._entries) + 64:
                self.dates.keep_only([s.dates for _, s in self._entries.values() if s and s.dates])

    def put_result(
        self, row_id: int, finished_at: float, result: dict[str, Any], series: Series | None
    ) -> None:
        """Keep what parsing this row's stored ``result`` back would give, without parsing it: ``series``
        (prepared from the validated PnL) stands for the stored one when the result's dates are strings
        and its values plain numbers, which JSON keeps as they are; otherwise nothing is kept."""
        pnl = result.get("pnl")
        if not (isinstance(pnl, dict) and pnl.get("dates")):
            self.put(row_id, finished_at, None)
            return
        dates, values = pnl["dates"], pnl.get("values")
        if series is None or not isinstance(dates, list) or not isinstance(values, list):
            return
        kinds = set(map(type, values))
        plain = set(map(type, dates)) == {str} and kinds <= {float, int}
        if plain and int in kinds:
            plain = all(abs(v) < 2**53 for v in values if type(v) is int)
        if plain:
            self.put(row_id, finished_at, series)

    def earlier(
        self, sims: SimulationStore, *, exclude_id: int, exclude_candidate: str, limit: int = WINDOW
    ) -> list[tuple[Series, float]]:
        """``(series, sharpe)`` of the results ``sims.earlier_pnls`` would give, in its order."""
        with self._lock:
            return self._earlier(sims, exclude_id, exclude_candidate, limit)

    def _earlier(
        self, sims: SimulationStore, exclude_id: int, exclude_candidate: str, limit: int
    ) -> list[tuple[Series, float]]:
        window = sims.earlier_completed(
            exclude_id=exclude_id, exclude_candidate=exclude_candidate, limit=limit
        )
        wanted: dict[int, Series | None] = {}
        missing = []
        for row_id, finished_at, _ in window:
            entry = self._entries.get(row_id)
            if entry is not None and entry[0] == finished_at:
                self._entries.move_to_end(row_id)
                wanted[row_id] = entry[1]
            else:
                missing.append(row_id)
        for row_id, finished_at, pnl in sims.pnls(missing) if missing else ():
            series = None if pnl is None else self.prepare(pnl["dates"], pnl["values"])
            self.parsed += 1
            self.put(row_id, finished_at, series)
            wanted[row_id] = series
        return [
            (series, float(sharpe or 0.0))
            for row_id, _, sharpe in window
            if (series := wanted.get(row_id)) is not None
        ]


def _charge(series: Series | None) -> int:
    return series.nbytes if series is not None else 64


_CACHES: weakref.WeakKeyDictionary[SimulationStore, PnlCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(sims: SimulationStore) -> PnlCache:
    """The process's PnL cache for this store object (dropped with it)."""
    with _CACHES_LOCK:
        found = _CACHES.get(sims)
        if found is None:
            found = _CACHES[sims] = PnlCache()
        return found
