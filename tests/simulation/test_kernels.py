"""Operator kernels on small hand-computed panels (rows = dates, columns = instruments)."""

from __future__ import annotations

import numpy as np
import pytest

from brain_agent.simulation.local import kernels as k
from brain_agent.simulation.local.panel import GroupValue

nan = np.nan


def col(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)[:, None]


def test_ts_mean_sum_delay_delta_need_a_full_window() -> None:
    x = col(1, 2, 3, 4, 5)
    np.testing.assert_allclose(k.ts_mean(x, 3)[:, 0], [nan, nan, 2, 3, 4])
    np.testing.assert_allclose(k.ts_sum(x, 2)[:, 0], [nan, 3, 5, 7, 9])
    np.testing.assert_allclose(k.ts_delay(x, 2)[:, 0], [nan, nan, 1, 2, 3])
    np.testing.assert_allclose(k.ts_delta(x, 1)[:, 0], [nan, 1, 1, 1, 1])
    # a NaN inside the window makes the window NaN
    y = col(1, nan, 3, 4, 5)
    np.testing.assert_allclose(k.ts_mean(y, 2)[:, 0], [nan, nan, nan, 3.5, 4.5])


def test_ts_std_dev_is_population() -> None:
    x = col(1, 3, 5)
    np.testing.assert_allclose(k.ts_std_dev(x, 3)[:, 0], [nan, nan, np.sqrt(8 / 3)])


def test_ts_rank_and_zscore_and_scale() -> None:
    x = col(3, 1, 2, 5)
    # last 3 values [1, 2, 5]: 5 is the largest → 1; [3, 1, 2]: 2 is in the middle → 0.5
    np.testing.assert_allclose(k.ts_rank(x, 3)[:, 0], [nan, nan, 0.5, 1.0])
    np.testing.assert_allclose(k.ts_scale(x, 3)[:, 0], [nan, nan, 0.5, 1.0])
    z = k.ts_zscore(col(1, 2, 3), 3)[:, 0]
    np.testing.assert_allclose(z, [nan, nan, (3 - 2) / np.sqrt(2 / 3)])


def test_ts_decay_linear_weights_newest_most() -> None:
    x = col(1, 2, 3, 4)
    np.testing.assert_allclose(k.ts_decay_linear(x, 3)[:, 0], [nan, nan, 14 / 6, 20 / 6])
    # NaN cells drop out and the weights renormalise: (1·1 + 3·3) / (1 + 3)
    y = col(1, nan, 3, 4)
    np.testing.assert_allclose(k.ts_decay_linear(y, 3)[2, 0], 10 / 4)


def test_ts_corr_covariance_regression() -> None:
    x = col(1, 2, 3, 4, 5)
    y = 2 * x + 1
    np.testing.assert_allclose(k.ts_corr(x, y, 3)[2:, 0], [1, 1, 1])
    np.testing.assert_allclose(k.ts_corr(x, -y, 3)[2:, 0], [-1, -1, -1])
    np.testing.assert_allclose(k.ts_covariance(y, x, 3)[2:, 0], [4 / 3] * 3)
    np.testing.assert_allclose(k.ts_regression(y, x, 3, rettype=2)[2:, 0], [2, 2, 2])
    np.testing.assert_allclose(k.ts_regression(y, x, 3, rettype=1)[2:, 0], [1, 1, 1])
    np.testing.assert_allclose(k.ts_regression(y, x, 3, rettype=0)[2:, 0], [0, 0, 0], atol=1e-9)


def test_ts_product_arg_max_count_nans() -> None:
    x = col(2, -1, 3, 0, 4)
    np.testing.assert_allclose(k.ts_product(x, 2)[:, 0], [nan, -2, -3, 0, 0])
    np.testing.assert_allclose(k.ts_product(x, 3)[:, 0], [nan, nan, -6, 0, 0])
    np.testing.assert_allclose(k.ts_arg_max(col(1, 5, 2, 3), 3)[:, 0], [nan, nan, 1, 2])
    np.testing.assert_allclose(k.ts_count_nans(col(1, nan, nan, 2), 2)[:, 0], [nan, 1, 2, 1])


def test_ts_backfill_kth_element_and_changes() -> None:
    x = col(1, nan, nan, nan, 5)
    np.testing.assert_allclose(k.ts_backfill(x, 3)[:, 0], [1, 1, 1, nan, 5])
    np.testing.assert_allclose(k.kth_element(col(1, 2, nan, 4), 3, 2)[:, 0], [nan, 1, 1, 2])
    y = col(1, 1, 2, 2, 2)
    np.testing.assert_allclose(k.days_from_last_change(y)[:, 0], [0, 1, 0, 1, 2])
    np.testing.assert_allclose(k.last_diff_value(y, 5)[:, 0], [nan, nan, 1, 1, 1])


def test_hump_holds_small_changes_and_limits_large_ones() -> None:
    x = np.array([[1.0, -1.0], [1.05, -1.0], [2.0, -1.0]])
    # limit = 0.1 · Σ|x| of the day: 0.205 on row 1 (change 0.05 held), 0.3 on row 2 (1 → 1.3)
    out = k.hump(x, 0.1)
    np.testing.assert_allclose(out, [[1, -1], [1, -1], [1.3, -1]])


def test_trade_when_enters_holds_and_exits() -> None:
    trigger = col(1, 0, 0, 1, 0)
    alpha = col(10, 20, 30, 40, 50)
    exit_ = col(0, 0, 1, 0, 0)
    np.testing.assert_allclose(k.trade_when(trigger, alpha, exit_)[:, 0], [10, 10, nan, 40, 40])


def test_rank_zscore_scale_normalize_winsorize_rows() -> None:
    x = np.array([[3.0, 1.0, nan, 2.0], [1.0, 1.0, 2.0, nan]])
    np.testing.assert_allclose(k.rank(x), [[1, 0, nan, 0.5], [0.25, 0.25, 1, nan]])
    np.testing.assert_allclose(k.zscore(x)[0], [1.224744871, -1.224744871, nan, 0])
    np.testing.assert_allclose(k.scale(x)[0], [0.5, 1 / 6, nan, 1 / 3])
    np.testing.assert_allclose(k.scale(np.array([[2.0, 1.0, -1.0]]), 1.0, 2.0, 1.0), [[4 / 3, 2 / 3, -1]])
    np.testing.assert_allclose(k.normalize(x)[0], [1, -1, nan, 0])
    w = k.winsorize(np.array([[0.0, 0.0, 0.0, 0.0, 10.0]]), std=1.0)
    np.testing.assert_allclose(w, [[0, 0, 0, 0, 2 + 4]])
    assert np.isnan(k.rank(np.array([[nan, nan]]))).all()


def test_quantile_is_monotone_and_symmetric() -> None:
    q = k.quantile(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(q[0], [-0.967421566, 0.0, 0.967421566], atol=1e-7)
    np.testing.assert_allclose(k.inverse_normal_cdf(np.array([0.975])), [1.959963985], atol=1e-8)


GROUPS = GroupValue(codes=np.array([[0, 0, 1, 1, 1]]), n_groups=2)


def test_group_neutralize_rank_zscore_scale_mean() -> None:
    x = np.array([[1.0, 3.0, 1.0, 2.0, 6.0]])
    np.testing.assert_allclose(k.group_neutralize(x, GROUPS), [[-1, 1, -2, -1, 3]])
    np.testing.assert_allclose(k.group_rank(x, GROUPS), [[0, 1, 0, 0.5, 1]])
    np.testing.assert_allclose(k.group_scale(x, GROUPS), [[0, 1, 0, 0.2, 1]])
    np.testing.assert_allclose(k.group_zscore(x, GROUPS)[0, :2], [-1, 1])
    np.testing.assert_allclose(k.group_mean(x, np.ones_like(x), GROUPS), [[2, 2, 3, 3, 3]])
    np.testing.assert_allclose(k.group_count(x, GROUPS), [[2, 2, 3, 3, 3]])
    np.testing.assert_allclose(k.group_sum(x, GROUPS), [[4, 4, 9, 9, 9]])
    tie = np.array([[1.0, 1.0, 5.0, 5.0, 5.0]])
    np.testing.assert_allclose(k.group_rank(tie, GROUPS), [[0.5, 0.5, 0.5, 0.5, 0.5]])


def test_group_backfill_fills_from_the_group() -> None:
    x = np.array([[1.0, 3.0, nan, 10.0, 20.0], [nan, 5.0, nan, 30.0, nan]])
    g = GroupValue(codes=np.array([[0, 0, 0, 1, 1]]).repeat(2, axis=0), n_groups=2)
    out = k.group_backfill(x, g, 2, std=10.0)
    # row 1, group 0: values over the last 2 days {1, 3, 5} → mean 3; group 1: {10, 20, 30} → 20
    np.testing.assert_allclose(out[1], [3, 5, 3, 30, 20])


def test_bucket_and_densify_and_cartesian_product() -> None:
    x = np.array([[0.05, 0.15, 0.95, 1.0, nan]])
    b = k.bucket(x, range_="0,1,0.1")
    assert b.codes.tolist() == [[0, 1, 9, 9, -1]] and b.n_groups == 10
    b2 = k.bucket(np.array([[1.0, 2.0, 5.5, 11.0]]), buckets="2,5,10")
    assert b2.codes.tolist() == [[0, 1, 2, 3]]
    assert k.bucket(x, range_="0,1,0.5", nan_group=True).codes.tolist() == [[0, 0, 1, 1, 2]]
    d = k.densify(GroupValue(codes=np.array([[5, 9, 5, -1]]), n_groups=10))
    assert d.codes.tolist() == [[0, 1, 0, -1]] and d.n_groups == 2
    p = k.group_cartesian_product(GroupValue(np.array([[0, 0, 1]]), 2), GroupValue(np.array([[0, 1, 1]]), 2))
    assert p.codes.tolist() == [[0, 1, 2]]


def test_vector_reductions() -> None:
    v = np.array([[[1.0, 2.0, nan], [nan, nan, nan]]])
    np.testing.assert_allclose(k.vec_reduce("vec_avg", v), [[1.5, nan]])
    np.testing.assert_allclose(k.vec_reduce("vec_sum", v), [[3, nan]])
    np.testing.assert_allclose(k.vec_reduce("vec_count", v), [[2, 0]])
    np.testing.assert_allclose(k.vec_reduce("vec_range", v), [[1, nan]])


def test_bad_arguments_are_reported() -> None:
    with pytest.raises(k.ArgumentError, match="lookback"):
        k.ts_mean(col(1, 2), 0)
    with pytest.raises(k.ArgumentError, match="rettype"):
        k.ts_regression(col(1, 2, 3), col(1, 2, 3), 2, rettype=9)
    with pytest.raises(k.ArgumentError, match="range"):
        k.bucket(col(1.0), range_="1,0,0.1")
