"""The fast paths give the numbers of the plain computations they replace.

Ranks come from a radix sort in C (or, without it, an int64 sort in numpy) instead of
``bottleneck.nanrankdata``, both implementations tested; group neutralization uses
per-market bins; moving windows run over column slices; the book is one pass over blocks of rows.
Each is compared here with the straightforward whole-array version on panels with NaN, ties,
signed zeros, infinities, lone values and groups that change over time.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable

import bottleneck as bn
import numpy as np
import pytest

from brain_agent.simulation.backend import SimulationSettings
from brain_agent.simulation.local import book as b
from brain_agent.simulation.local import kernels as k
from brain_agent.simulation.local.kernels import _native
from brain_agent.simulation.local.kernels import cross_section as cs
from brain_agent.simulation.local.kernels import timeseries as ts
from brain_agent.simulation.local.kernels._native import native_rank, use_native
from brain_agent.simulation.local.panel import GroupValue, Panel, make_panel
from brain_agent.simulation.metrics import BOOK, DAYS_PER_YEAR, HALF_BOOK, drawdown, sharpe


def _messy(rng: np.random.Generator, t: int, n: int) -> np.ndarray:
    x = rng.normal(size=(t, n))
    x[rng.random((t, n)) < 0.2] = np.nan
    x[3] = np.nan  # an empty row
    x[4, :] = np.nan
    x[4, 2] = 1.5  # a lone value
    x[5, :4] = [0.0, -0.0, 0.0, -0.0]  # signed zeros tie
    x[6, :3] = [np.inf, -np.inf, np.inf]
    x[7, :2] = np.nan, np.copysign(np.nan, -1.0)  # NaNs with either sign bit
    x[8, :2] = 1.0, np.nextafter(1.0, 2.0)  # a near tie: the column bits of the keys must not decide
    x[40:45] = np.round(x[40:45], 0)  # a few rows with many ties
    return x


Ranked = Callable[[np.ndarray, bool], np.ndarray]


def _require_c_kernels() -> None:
    """Skip without the C kernels on a developer machine; fail under CI, where they must be built
    (without them the install silently loses half the simulator's speed)."""
    if native_rank is None:
        if os.environ.get("CI"):
            pytest.fail("the C kernels (_ckernels.c) were not built: is a C compiler installed?")
        pytest.skip("the C kernels were not built (no C compiler at install)")


@pytest.fixture
def native_built() -> None:
    _require_c_kernels()


@pytest.fixture(params=["numpy", "native"])
def ranked(request: pytest.FixtureRequest) -> Ranked:
    """Each implementation of the row rank: numpy's, and the C kernel's (which must be built in CI:
    without it the install silently loses half the simulator's speed)."""
    if request.param == "numpy":
        return cs._ranked_numpy
    _require_c_kernels()
    return cs._ranked_native


def test_rank_rows_equals_bottleneck(ranked: Ranked) -> None:
    rng = np.random.default_rng(1)
    for t, n in ((70, 9), (100, 1), (33, 2)):
        x = _messy(rng, t, n) if n > 7 else rng.normal(size=(t, n))
        np.testing.assert_array_equal(ranked(x, False), bn.nanrankdata(x, axis=1))
    discrete = np.sign(rng.normal(size=(90, 50)))  # mostly tied rows: bottleneck after one block
    discrete[rng.random(discrete.shape) < 0.1] = np.nan
    np.testing.assert_array_equal(ranked(discrete, False), bn.nanrankdata(discrete, axis=1))


def test_rank_rows_near_ties_and_extremes(ranked: Ranked) -> None:
    """Values that single precision cannot tell apart (the C kernel's keys) are still ordered by
    their doubles, in short runs and in runs long enough to be sorted another way; magnitudes beyond
    single precision's range, subnormals and signed zeros keep their order and ties."""
    rng = np.random.default_rng(11)
    n = 300
    rows = [
        1.0 + rng.permutation(n) * 1e-13,  # one run of 300 equal keys, all different values
        np.repeat(1.0 + rng.permutation(10) * 1e-12, n // 10),  # ten values, each tied 30 times
        rng.choice([1e300, -1e300, 3.5e38, 3.4e38, -3.5e38, 1e-310, -1e-310, 5e-324, 0.0, -0.0], n),
        rng.choice([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, 1.4e-45], n),
        np.float32(rng.lognormal(3, 1, n)).astype(np.float64) + rng.choice([0.0, 1e-9, -1e-9], n),
        np.where(rng.random(n) < 0.5, np.nan, rng.normal(size=n)),
    ]
    x = np.vstack(rows)
    for shuffled in (x, x[:, rng.permutation(n)]):
        np.testing.assert_array_equal(ranked(shuffled, False), bn.nanrankdata(shuffled, axis=1))


@pytest.mark.parametrize("threads", [1, 3])
def test_rank_equals_the_plain_formula(threads: int, ranked: Ranked) -> None:
    """``rank`` = (r − 1)/(n − 1) of bottleneck's average ranks, a lone value 0.5, on rows sliced
    over threads (blocks of 32 rows; a slice whose first block mostly ties goes to bottleneck)."""
    rng = np.random.default_rng(5)
    x = np.vstack([_messy(rng, 150, 40), np.sign(rng.normal(size=(100, 40))), _messy(rng, 60, 40)])
    ranks = bn.nanrankdata(x, axis=1)
    n = np.sum(~np.isnan(x), axis=1)[:, None].astype(float)
    with np.errstate(all="ignore"):
        plain = (ranks - 1.0) / (n - 1.0)
    plain[(n[:, 0] == 1)[:, None] & ~np.isnan(x)] = 0.5
    k.set_threads(threads)
    try:
        np.testing.assert_array_equal(ranked(x, True), plain)
        np.testing.assert_array_equal(ranked(x, False), ranks)
    finally:
        k.set_threads(1)


def test_rank_lone_values_and_nan(ranked: Ranked) -> None:
    x = np.array([[np.nan, 2.0, np.nan], [1.0, 2.0, 2.0], [np.nan] * 3])
    np.testing.assert_array_equal(ranked(x, True), [[np.nan, 0.5, np.nan], [0, 0.75, 0.75], [np.nan] * 3])
    assert ranked(np.empty((0, 4)), True).shape == (0, 4)
    assert ranked(np.empty((3, 0)), True).shape == (3, 0)


def _plain_group_neutralize(x: np.ndarray, codes: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    for t in range(x.shape[0]):
        for g in np.unique(codes[t][codes[t] >= 0]):
            cells = (codes[t] == g) & ~np.isnan(x[t])
            if cells.any():
                out[t, cells] = x[t, cells] - np.mean(x[t, cells])
    return out


def test_group_neutralize_equals_the_per_day_loop() -> None:
    rng = np.random.default_rng(2)
    x = _messy(rng, 70, 12)
    x[np.isinf(x)] = np.nan
    codes = rng.integers(-1, 4, size=x.shape)  # groups that change every day, some cells in none
    group = GroupValue(codes=codes, n_groups=4)
    np.testing.assert_allclose(k.group_neutralize(x, group), _plain_group_neutralize(x, codes), atol=1e-12)


@pytest.mark.parametrize("native", [False, True])
def test_moving_windows_over_column_slices_equal_whole_array(native: bool) -> None:
    """With the C kernels off (no compiler, or ``BRAIN_AGENT_SIM_NATIVE=0``) bottleneck runs over
    column slices; on, the C windows run: either way the whole-array numbers."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 3 * k._MOVE_COLUMNS + 5))
    x[rng.random(x.shape) < 0.05] = np.nan
    before = use_native(native)
    try:
        np.testing.assert_array_equal(k.ts_mean(x, 5), bn.move_mean(x, 5, min_count=5, axis=0))
        np.testing.assert_array_equal(k.ts_std_dev(x, 7), bn.move_std(x, 7, min_count=7, axis=0))
        np.testing.assert_array_equal(k.ts_sum(x, 4), bn.move_sum(x, 4, min_count=4, axis=0))
        np.testing.assert_array_equal(k.ts_delta(x, 3)[3:], x[3:] - x[:-3])
        np.testing.assert_array_equal(k.ts_rank(x, 6), (bn.move_rank(x, 6, min_count=6, axis=0) + 1.0) / 2.0)
    finally:
        use_native(before)


@pytest.mark.parametrize("threads", [1, 3])
def test_ts_delta_over_row_slices_equals_whole_array(threads: int) -> None:
    rng = np.random.default_rng(43)
    x = _messy(rng, 400, 30)
    k.set_threads(threads)
    try:
        for d in (1, 5, 130):
            got = k.ts_delta(x, d)
            assert np.isnan(got[:d]).all()
            with np.errstate(all="ignore"):
                np.testing.assert_array_equal(got[d:].view(np.int64), (x[d:] - x[:-d]).view(np.int64))
    finally:
        k.set_threads(1)


@pytest.mark.parametrize("threads", [1, 3])
def test_c_moving_windows_equal_bottleneck(native_built: None, threads: int) -> None:
    """The C moving sum, mean, deviation and rank (all columns of a slice side by side, row-major)
    give bottleneck's numbers bit for bit: NaN coming and going, windows emptying, infinities,
    signed zeros, ties, a large offset (the variance's cancellation), every min_count the operators
    use."""
    rng = np.random.default_rng(17)
    x = _messy(rng, 140, 3 * k._MOVE_COLUMNS + 7)
    x[:, 5] += 1e7  # a column far from zero
    x[60:80, 9:12] = np.nan  # a window that empties and fills again
    x[:, -1] = np.nan  # a column never valid
    x[90:, 20] = 2.5  # a constant run: deviation 0, never negative
    options = ((2, 2), (3, 1), (5, 5), (20, 10), (20, 20), (140, 140))
    assert _native.move() is not None, "the C windows must be the ones compared here"
    k.set_threads(threads)
    try:
        for d, count in options:
            with np.errstate(all="ignore"):
                np.testing.assert_array_equal(
                    ts._move("move_sum", x, d, count), bn.move_sum(x, d, count, axis=0)
                )
                np.testing.assert_array_equal(
                    ts._move("move_mean", x, d, count), bn.move_mean(x, d, count, axis=0)
                )
                mine = ts._move("move_std", x, d, count)
                theirs = bn.move_std(x, d, count, axis=0)
            np.testing.assert_array_equal(mine.view(np.int64), theirs.view(np.int64))  # -0.0 too
            ranked = ts._move("move_rank", x, d, count)
            np.testing.assert_array_equal(
                ranked.view(np.int64), bn.move_rank(x, d, count, axis=0).view(np.int64)
            )
        ties = np.round(x * 2)  # many equal values in a window
        for d in (2, 7, 30):
            np.testing.assert_array_equal(k.ts_rank(ties, d), (bn.move_rank(ties, d, d, axis=0) + 1.0) / 2.0)
        with np.errstate(all="ignore"):  # inf - inf
            np.testing.assert_array_equal(k.ts_av_diff(x, 4), x - _tail_mean(x, 4))
    finally:
        k.set_threads(1)


@pytest.mark.parametrize("threads", [1, 3])
def test_c_linear_decay_equals_numpys(native_built: None, threads: int) -> None:
    """The C linear decay (running sums kept in a ring, columns side by side) gives the numpy
    version's numbers bit for bit: NaN skipped, windows emptying, infinities and overflow, signed
    zeros, every min_rows, a window longer than the dates."""
    rng = np.random.default_rng(61)
    x = _messy(rng, 150, 3 * k._MOVE_COLUMNS + 9)
    x[60:80, 9:12] = np.nan  # a window that empties: NaN, not 0/0 noise
    x[30, :3] = [1e308, -1e308, 1e308]  # sums that overflow
    assert _native.decay() is not None
    k.set_threads(threads)
    try:
        for d, rows in ((2, None), (3, 1), (5, None), (20, 7), (150, None), (400, 1)):
            got = k.decay_linear(x, d, min_rows=rows)
            use_native(False)
            try:
                with np.errstate(all="ignore"):
                    expected = k.decay_linear(x, d, min_rows=rows)
            finally:
                use_native(True)
            np.testing.assert_array_equal(got.view(np.int64), expected.view(np.int64), err_msg=f"{d} {rows}")
    finally:
        k.set_threads(1)


@pytest.mark.parametrize("threads", [1, 3])
def test_fields_pasteurized_in_c_equal_numpys_where(native_built: None, threads: int) -> None:
    """A field in double precision, NaN outside the universe: the C pass gives numpy's ``where``
    bit for bit, from single or double precision, NaN in the field too, and from a strided view."""
    rng = np.random.default_rng(23)
    x = _messy(rng, 300, 77)
    mask = rng.random(x.shape) < 0.7
    assert _native.mask() is not None
    k.set_threads(threads)
    try:
        for raw in (x, x.astype(np.float32), x[:, ::-1], x.astype(np.float32)[::2], np.zeros((0, 5))):
            keep = mask[: raw.shape[0], : raw.shape[1]]
            expected = np.where(keep, raw, np.float64(np.nan))
            got = k.pasteurize(raw, keep)
            assert got.dtype == np.float64 and got.shape == raw.shape
            np.testing.assert_array_equal(got.view(np.int64), expected.view(np.int64))
    finally:
        k.set_threads(1)


def _same_numbers(got: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """NaN in the same cells, every other cell bit for bit (signed zeros too). Which NaN two NaN
    operands give is not compared: the compiler may swap ``a + b`` to ``b + a``, and x86 keeps the
    first operand's NaN (numpy's own choice depends on its SIMD path)."""
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=what)
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(got[numbers].view(np.int64), expected[numbers].view(np.int64), err_msg=what)


def _numpy_then_finite(fn: Callable[..., np.ndarray], *operands: object) -> np.ndarray:
    with np.errstate(all="ignore"):
        out = np.asarray(fn(*operands), dtype=np.float64)
    out[np.isinf(out)] = np.nan
    return out


@pytest.mark.parametrize("threads", [1, 3])
def test_c_arithmetic_equals_numpys_ufunc_then_finite(native_built: None, threads: int) -> None:
    """add, subtract, multiply, divide and negation in one C pass: numpy's ufunc, then ±inf made NaN,
    bit for bit up to which NaN, for array and number operands; results that overflow and
    divisions by zero become NaN. Operands the C pass does not take are left to numpy."""
    rng = np.random.default_rng(31)
    x = _messy(rng, 300, 77)
    y = _messy(rng, 300, 77)
    y[10:20] = 0.0  # x / 0 and 0 / 0
    y[20, :5] = [1e308, -1e308, 1e-308, 5e-324, -0.0]  # overflow to ±inf, subnormals
    x[20, :5] = 1e308
    x[30, :6], y[30, :6] = np.nan, np.copysign(np.nan, -1.0)  # NaN meets NaN of the other sign
    ufuncs = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide}
    k.set_threads(threads)
    try:
        for op, fn in ufuncs.items():
            pairs = ((x, y), (x, 2.5), (-3, y), (x, np.float32(0.1)), (x, 2**53), (x, np.nan), (x, np.inf))
            for a, b_ in pairs:
                got = k.arithmetic(op, a, b_)
                assert got is not None, (op, type(a), type(b_))
                expected = _numpy_then_finite(fn, a, b_)
                _same_numbers(got, expected, op)
        got = k.arithmetic("negate", x)
        assert got is not None
        np.testing.assert_array_equal(got.view(np.int64), _numpy_then_finite(np.negative, x).view(np.int64))
    finally:
        k.set_threads(1)
    # left to numpy: single precision, a strided view, shapes that broadcast, no array, odd numbers
    single = np.ones(x.shape, dtype=np.float32)
    for a, b_ in ((single, y), (x[:, ::2], 1.0), (x, y[:1]), (1.0, 2.0), (x, True), (x, 2**60)):
        assert k.arithmetic("add", a, b_) is None
    assert k.arithmetic("divide", x, np.longdouble(3)) is None


def test_arithmetic_operators_give_the_same_numbers_with_and_without_c(native_built: None) -> None:
    """The operators as the evaluator calls them (the variadic ones with their filter flag), C on
    and off; three operands or filter=true take numpy's path either way."""
    from brain_agent.simulation.local.operators import OPERATORS

    rng = np.random.default_rng(37)
    x, y, z = _messy(rng, 200, 50), _messy(rng, 200, 50), _messy(rng, 200, 50)
    x[30, :6], y[30, :6] = np.nan, np.copysign(np.nan, -1.0)
    calls = [
        ("add", (x, y, False)),
        ("add", (x, y, z, False)),
        ("add", (x, y, True)),
        ("subtract", (x, 1.5, False)),
        ("multiply", (2.0, y, False)),
        ("divide", (x, y)),
        ("divide", (x, 0.0)),
        ("reverse", (x,)),
    ]
    for name, args in calls:
        fn = OPERATORS[name].fn
        with_c = fn(*args)
        use_native(False)
        try:
            without = fn(*args)
        finally:
            use_native(True)
        _same_numbers(with_c, without, name)


@pytest.mark.parametrize("threads", [1, 3])
def test_finite_and_largest_abs_in_c(native_built: None, threads: int) -> None:
    """±inf made NaN in place, and the largest |x| with NaN ignored: as numpy computes them."""
    rng = np.random.default_rng(41)
    x = _messy(rng, 300, 77)
    k.set_threads(threads)
    try:
        fixed = x.copy()
        assert k.finite(fixed) is fixed
        expected = x.copy()
        expected[np.isinf(expected)] = np.nan
        np.testing.assert_array_equal(fixed.view(np.int64), expected.view(np.int64))
        assert k.largest_abs(fixed) == float(np.nanmax(np.abs(fixed)))
        assert k.largest_abs(x) == math.inf
        assert k.largest_abs(np.full((40, 30), np.nan)) == 0.0
        assert k.largest_abs(-np.abs(fixed)) == float(np.nanmax(np.abs(fixed)))
    finally:
        k.set_threads(1)


def _tail_mean(x: np.ndarray, d: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        m = bn.move_mean(x, d, min_count=1, axis=0)
    m[: d - 1] = np.nan
    return m


# -- the book ------------------------------------------------------------------------------------
def _plain_book(alpha: np.ndarray, panel: Panel, settings: SimulationSettings) -> dict[str, float]:
    """The whole-array book: universe, neutralize, unit gross, truncation, PnL, metrics."""
    a = np.where(panel.listed, alpha, np.nan)
    if settings.neutralization == "MARKET":
        a = a - np.nanmean(np.where(np.isnan(a), np.nan, a), axis=1, keepdims=True)
    elif settings.neutralization != "NONE":
        group = panel.get(settings.neutralization.lower())
        assert isinstance(group, GroupValue)
        a = _plain_group_neutralize(a, np.asarray(group.codes))
    w = np.nan_to_num(a, nan=0.0)

    def unit(v: np.ndarray) -> np.ndarray:
        gross = np.abs(v).sum(axis=1, keepdims=True)
        return np.divide(v, gross, out=np.zeros_like(v), where=gross > 0)

    w = unit(w)
    cap = settings.truncation
    for _ in range(20):
        if not 0 < cap < 1 or np.abs(w).max() <= cap * (1 + 1e-9):
            break
        w = unit(np.clip(w, -cap, cap))
    ret = np.nan_to_num(panel.matrix("returns"), nan=0.0)
    daily = np.zeros(w.shape[0])
    daily[1:] = (w[:-1] * ret[1:]).sum(axis=1) * BOOK
    first = int(np.flatnonzero(np.abs(w[:-1]).sum(axis=1) > 0)[0])
    held = w[first:-1]
    traded = np.abs(np.diff(held, axis=0)).sum(axis=1)
    days = daily[first + 1 :]
    return {
        "sharpe": sharpe(days),
        "turnover": float((np.abs(held[0]).sum() + traded.sum()) / held.shape[0]),
        "returns": float(days.mean()) * DAYS_PER_YEAR / HALF_BOOK,
        "drawdown": drawdown(days),
        "pnl": float(days.sum()),
        "long_count": float((held > 0).sum()) / held.shape[0],
        "max_weight": float(np.abs(held).max()),
    }


@pytest.fixture(scope="module")
def market() -> Panel:
    rng = np.random.default_rng(4)
    t, n = 150, 40  # more rows than one block, so blocks and their seams are exercised
    returns = rng.normal(0, 0.02, (t, n))
    returns[0] = np.nan
    close = 10 * np.cumprod(1 + np.nan_to_num(returns), axis=0)
    close[:20, :5] = np.nan  # listed late
    returns[:20, :5] = np.nan
    codes = np.broadcast_to(rng.integers(0, 5, n), (t, n)).copy()
    codes[70:, :8] = (codes[70:, :8] + 1) % 5  # some instruments move group
    codes[:20, :5] = -1
    dates = np.arange("2020-01-01", t, dtype="datetime64[D]")
    return make_panel(
        dates,
        [f"I{i}" for i in range(n)],
        {"close": close, "returns": returns, "subindustry": GroupValue(codes, 5)},
    )


@pytest.mark.parametrize(
    "settings",
    [
        SimulationSettings(),
        SimulationSettings(neutralization="MARKET", truncation=0.05),
        SimulationSettings(neutralization="NONE", truncation=0.0),
    ],
    ids=["subindustry-0.08", "market-0.05", "none"],
)
def test_the_book_pass_equals_the_whole_array_book(market: Panel, settings: SimulationSettings) -> None:
    rng = np.random.default_rng(5)
    alpha = rng.normal(size=market.shape)
    alpha[rng.random(market.shape) < 0.1] = np.nan
    alpha[:, 0] *= 40  # a big name, so truncation has work to do
    plain = _plain_book(alpha, market, settings)
    separate, _ = b.simulate_alpha(alpha, market, market.listed, settings)  # numpy's pass
    books = [separate, b.simulate_book(alpha, market, market.listed, settings, 0.5)[0]]  # C when built
    for book in books:
        for name, value in plain.items():
            assert getattr(book, name) == pytest.approx(value, rel=1e-9, abs=1e-12), name
        assert book.turnover * BOOK == pytest.approx(plain["turnover"] * BOOK, rel=1e-9)
        assert math.isfinite(book.fitness)
    assert b.simulate_book(alpha, market, market.listed, settings, 0.5)[1] is not None


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize(
    "settings",
    [
        SimulationSettings(),
        SimulationSettings(neutralization="MARKET", truncation=0.05, decay=4),
        SimulationSettings(neutralization="NONE", truncation=0.0),
    ],
    ids=["subindustry", "market-decay", "none"],
)
def test_one_pass_for_both_books_equals_the_two_passes(
    market: Panel, settings: SimulationSettings, threads: int
) -> None:
    """``simulate_book`` in numpy (the universe applied block by block, the book and the
    sub-universe book in one pass, rows sliced over threads) gives exactly the two separate passes'
    numbers."""
    rng = np.random.default_rng(6)
    alpha = rng.normal(size=market.shape)
    alpha[rng.random(market.shape) < 0.1] = np.nan
    alpha[:, 0] *= 40
    universe = market.listed & (rng.random(market.shape) < 0.9)
    k.set_threads(threads)
    native = use_native(False)
    try:
        book, sub = b.simulate_book(alpha, market, universe, settings, 0.5)
    finally:
        k.set_threads(1)
        use_native(native)
    separate, prepared = b.simulate_alpha(alpha, market, universe, settings)
    for field in dataclasses.fields(book):  # every field, the dates and daily PnL arrays included
        ours, theirs = getattr(book, field.name), getattr(separate, field.name)
        assert np.array_equal(ours, theirs) if isinstance(ours, np.ndarray) else ours == theirs, field.name
    # the sub-universe book as its own pass over the prepared alpha
    within = b._sub_universe(market, universe, 0.5)
    assert within is not None and sub is not None
    alone = b._pass(prepared, b._returns0(market), 0.0, b._market, within=within, pnl_only=True)
    assert sub == b._book(alone, market.dates).sharpe


@pytest.mark.parametrize(
    "settings",
    [
        SimulationSettings(),
        SimulationSettings(neutralization="MARKET", truncation=0.05, decay=4),
        SimulationSettings(neutralization="INDUSTRY", truncation=0.02),
        SimulationSettings(neutralization="NONE", truncation=0.0),
    ],
    ids=["subindustry", "market-decay", "industry-0.02", "none"],
)
def test_the_c_book_pass_equals_numpys(native_built: None, settings: SimulationSettings) -> None:
    """The C book pass (``book_rows``) gives numpy's numbers to 1e-12 (its sums run in another
    order), and exactly the same numbers on 1 and 3 threads (each slice recomputes the weights of
    the date before it). A market with per-date groups, float32 returns and a partial universe."""
    rng = np.random.default_rng(8)
    t, n = 200, 300
    returns = rng.normal(0, 0.02, (t, n)).astype(np.float32).astype(np.float64)
    returns[:30, :20] = np.nan
    codes = np.broadcast_to(rng.integers(0, 12, n), (t, n)).copy()
    codes[100:, :50] = (codes[100:, :50] + 3) % 12  # instruments move group
    codes[:30, :20] = -1
    panel = make_panel(
        np.arange("2020-01-01", t, dtype="datetime64[D]"),
        [f"I{i}" for i in range(n)],
        {
            "returns": returns,
            "subindustry": GroupValue(codes, 12),
            "industry": GroupValue(codes[0] // 3, 4),  # one row: the same groups every date
        },
    )
    alpha = rng.normal(size=(t, n))
    alpha[rng.random((t, n)) < 0.1] = np.nan
    alpha[:, 0] *= 60  # truncation has work to do
    alpha[50] = np.nan  # a date with nothing to hold
    universe = panel.listed & (rng.random((t, n)) < 0.9)
    native = use_native(False)
    try:
        plain, plain_sub = b.simulate_book(alpha, panel, universe, settings, 0.3)
    finally:
        use_native(native)
    books = []
    for threads in (1, 3):
        k.set_threads(threads)
        try:
            books.append(b.simulate_book(alpha, panel, universe, settings, 0.3))
        finally:
            k.set_threads(1)
    (book, sub), (threaded, threaded_sub) = books
    assert sub is not None and plain_sub is not None and sub == pytest.approx(plain_sub, rel=1e-12)
    assert threaded_sub == sub
    for field in dataclasses.fields(book):
        ours, theirs, other = (getattr(x, field.name) for x in (book, plain, threaded))
        if isinstance(ours, np.ndarray):
            assert np.array_equal(ours, other), field.name
            if ours.dtype.kind == "f":
                np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-6, err_msg=field.name)  # $
            else:
                assert np.array_equal(ours, theirs), field.name
        else:
            assert ours == other, field.name
            assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15), field.name


def test_panel_keeps_derived_arrays_until_a_field_changes(market: Panel) -> None:
    made: list[int] = []

    def make() -> np.ndarray:
        made.append(1)
        return np.zeros(3)

    first = market.derived("probe", make)
    assert market.derived("probe", make) is first and len(made) == 1
    market.put("extra", np.zeros(market.shape), "MATRIX")
    market.derived("probe", make)
    assert len(made) == 2


def test_the_sub_universe_is_made_once_per_universe_array() -> None:
    """Kept on the panel for the universe array it was made from: the same array again gets the kept
    one, an equal copy or a changed field makes it again, with the same cells."""
    panel = make_panel(
        np.arange(30).astype("datetime64[D]"),
        [f"I{i}" for i in range(40)],
        {"close": np.random.default_rng(3).lognormal(size=(30, 40)), "adv20": np.ones((30, 40))},
    )
    universe = panel.universe(30)
    sub = b._sub_universe(panel, universe, 1 / 3)
    assert sub is not None and int(sub.sum(axis=1).max()) == 10
    assert b._sub_universe(panel, universe, 1 / 3) is sub
    assert b._sub_universe(panel, universe, 0.5) is not sub
    copy = universe.copy()
    again = b._sub_universe(panel, copy, 1 / 3)
    assert again is not sub and np.array_equal(again, sub)
    panel.put("extra", np.zeros(panel.shape), "MATRIX")
    fresh = b._sub_universe(panel, universe, 1 / 3)
    assert fresh is not sub and np.array_equal(fresh, sub)
    assert b._sub_universe(panel, np.zeros((30, 40), dtype=bool), 1 / 3) is None


def test_top_of_each_row_equals_the_first_of_a_stable_descending_sort() -> None:
    """The universe's top-``size`` cells per date by a partition: what the first ``size`` of a
    stable sort by descending score pick, ties at the cut going to the leftmost columns (many ties,
    unlisted cells at -inf, fewer scores than ``size``)."""
    from brain_agent.simulation.local.panel import _top

    def by_sort(score: np.ndarray, size: int) -> np.ndarray:
        order = np.argsort(-score, axis=1, kind="stable")[:, :size]
        mask = np.zeros(score.shape, dtype=bool)
        np.put_along_axis(mask, order, True, axis=1)
        return mask

    rng = np.random.default_rng(47)
    for trial in range(120):
        t, n = int(rng.integers(1, 25)), int(rng.integers(1, 50))
        scores = [
            rng.normal(size=(t, n)),
            rng.integers(0, 4, (t, n)).astype(float),
            np.where(rng.random((t, n)) < 0.5, -np.inf, rng.integers(0, 3, (t, n)).astype(float)),
        ]
        for score in scores:
            for size in sorted({0, 1, max(1, n // 3), n}):
                np.testing.assert_array_equal(
                    _top(score, size), by_sort(score, size), err_msg=f"{trial} {size}"
                )


@pytest.mark.parametrize("native", [False, True])
def test_group_rank_equals_the_per_group_loop(native: bool) -> None:
    """Rank within each (date, group): ties averaged, a lone member 0.5, NaN and ungrouped cells
    NaN, groups changing over time; the same numbers as ranking each group's values alone."""
    rng = np.random.default_rng(53)
    t, n, groups = 40, 300, 7
    x = _messy(rng, t, n)
    x[10:20] = np.round(x[10:20] * 2)  # ties within groups
    codes = rng.integers(-1, groups, (t, n)).astype(np.int32)
    codes[25:] = codes[25]  # the same groups for a while
    expected = np.full(x.shape, np.nan)
    for row in range(t):
        for group in range(groups):
            cells = np.flatnonzero((codes[row] == group) & ~np.isnan(x[row]))
            if cells.size == 1:
                expected[row, cells] = 0.5
            elif cells.size > 1:
                ranks = bn.nanrankdata(x[row, cells])
                expected[row, cells] = (ranks - 1.0) / (cells.size - 1.0)
    before = use_native(native)
    try:
        got = k.group_rank(x, GroupValue(codes, groups))
    finally:
        use_native(before)
    np.testing.assert_array_equal(got, expected)


def test_a_universe_is_made_again_when_a_field_changes() -> None:
    panel = make_panel(
        np.arange(10).astype("datetime64[D]"),
        [f"I{i}" for i in range(12)],
        {"close": np.ones((10, 12)), "adv20": np.tile(np.arange(12.0), (10, 1))},
    )
    top = panel.universe(4)
    assert top[5].tolist() == [False] * 8 + [True] * 4  # the most liquid: the last four
    assert panel.universe(4) is top
    panel.put("adv20", np.tile(np.arange(12.0)[::-1], (10, 1)), "MATRIX")
    again = panel.universe(4)
    assert again[5].tolist() == [True] * 4 + [False] * 8
