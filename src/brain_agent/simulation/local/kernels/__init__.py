"""Vectorised operator kernels over ``(T, N)`` panels (dates × instruments), numpy + bottleneck.

Conventions (also in ``docs/simulation.md``):

- time-series operators need a full window: the first ``d - 1`` rows are NaN, and a window with a
  NaN in it gives NaN (bottleneck ``min_count = d``), except where noted (``ts_decay_linear``,
  ``ts_av_diff``, ``ts_backfill``, ``kth_element``, ``ts_count_nans`` skip NaN);
- standard deviations, variances and covariances are population ones (``ddof = 0``);
- cross-sectional operators work on one date (row) at a time and ignore NaN cells;
- ``rank`` maps to ``[0, 1]`` evenly spaced, ties share their average rank, a lone value gets 0.5;
- every kernel silences numpy's warnings for all-NaN slices and divisions by zero, and returns NaN
  for undefined cells (never ±inf).
"""

from brain_agent.simulation.local.kernels._shared import ArgumentError as ArgumentError
from brain_agent.simulation.local.kernels._shared import by_columns as by_columns
from brain_agent.simulation.local.kernels._shared import by_rows as by_rows
from brain_agent.simulation.local.kernels._shared import finite as finite
from brain_agent.simulation.local.kernels._shared import in_slices as in_slices
from brain_agent.simulation.local.kernels._shared import pasteurize as pasteurize
from brain_agent.simulation.local.kernels._shared import quiet as quiet
from brain_agent.simulation.local.kernels._shared import set_threads as set_threads
from brain_agent.simulation.local.kernels.cross_section import inverse_normal_cdf as inverse_normal_cdf
from brain_agent.simulation.local.kernels.cross_section import normalize as normalize
from brain_agent.simulation.local.kernels.cross_section import quantile as quantile
from brain_agent.simulation.local.kernels.cross_section import rank as rank
from brain_agent.simulation.local.kernels.cross_section import rank_rows as rank_rows
from brain_agent.simulation.local.kernels.cross_section import scale as scale
from brain_agent.simulation.local.kernels.cross_section import ts_quantile as ts_quantile
from brain_agent.simulation.local.kernels.cross_section import vector_neut as vector_neut
from brain_agent.simulation.local.kernels.cross_section import vector_proj as vector_proj
from brain_agent.simulation.local.kernels.cross_section import winsorize as winsorize
from brain_agent.simulation.local.kernels.cross_section import zscore as zscore
from brain_agent.simulation.local.kernels.elementwise import arithmetic as arithmetic
from brain_agent.simulation.local.kernels.elementwise import largest_abs as largest_abs
from brain_agent.simulation.local.kernels.groups import MAX_BUCKETS as MAX_BUCKETS
from brain_agent.simulation.local.kernels.groups import bucket as bucket
from brain_agent.simulation.local.kernels.groups import densify as densify
from brain_agent.simulation.local.kernels.groups import group_backfill as group_backfill
from brain_agent.simulation.local.kernels.groups import group_cartesian_product as group_cartesian_product
from brain_agent.simulation.local.kernels.groups import group_count as group_count
from brain_agent.simulation.local.kernels.groups import group_demean as group_demean
from brain_agent.simulation.local.kernels.groups import group_extra as group_extra
from brain_agent.simulation.local.kernels.groups import group_keys as group_keys
from brain_agent.simulation.local.kernels.groups import group_max as group_max
from brain_agent.simulation.local.kernels.groups import group_mean as group_mean
from brain_agent.simulation.local.kernels.groups import group_min as group_min
from brain_agent.simulation.local.kernels.groups import group_neutralize as group_neutralize
from brain_agent.simulation.local.kernels.groups import group_rank as group_rank
from brain_agent.simulation.local.kernels.groups import group_scale as group_scale
from brain_agent.simulation.local.kernels.groups import group_stats as group_stats
from brain_agent.simulation.local.kernels.groups import group_std_dev as group_std_dev
from brain_agent.simulation.local.kernels.groups import group_sum as group_sum
from brain_agent.simulation.local.kernels.groups import group_zscore as group_zscore
from brain_agent.simulation.local.kernels.groups import matrix_to_group as matrix_to_group
from brain_agent.simulation.local.kernels.timeseries import _MOVE_COLUMNS as _MOVE_COLUMNS
from brain_agent.simulation.local.kernels.timeseries import days_from_last_change as days_from_last_change
from brain_agent.simulation.local.kernels.timeseries import decay_linear as decay_linear
from brain_agent.simulation.local.kernels.timeseries import hump as hump
from brain_agent.simulation.local.kernels.timeseries import kth_element as kth_element
from brain_agent.simulation.local.kernels.timeseries import last_diff_value as last_diff_value
from brain_agent.simulation.local.kernels.timeseries import trade_when as trade_when
from brain_agent.simulation.local.kernels.timeseries import ts_arg_max as ts_arg_max
from brain_agent.simulation.local.kernels.timeseries import ts_arg_min as ts_arg_min
from brain_agent.simulation.local.kernels.timeseries import ts_av_diff as ts_av_diff
from brain_agent.simulation.local.kernels.timeseries import ts_backfill as ts_backfill
from brain_agent.simulation.local.kernels.timeseries import ts_corr as ts_corr
from brain_agent.simulation.local.kernels.timeseries import ts_count_nans as ts_count_nans
from brain_agent.simulation.local.kernels.timeseries import ts_covariance as ts_covariance
from brain_agent.simulation.local.kernels.timeseries import ts_decay_exp_window as ts_decay_exp_window
from brain_agent.simulation.local.kernels.timeseries import ts_decay_linear as ts_decay_linear
from brain_agent.simulation.local.kernels.timeseries import ts_delay as ts_delay
from brain_agent.simulation.local.kernels.timeseries import ts_delta as ts_delta
from brain_agent.simulation.local.kernels.timeseries import ts_ir as ts_ir
from brain_agent.simulation.local.kernels.timeseries import ts_kurtosis as ts_kurtosis
from brain_agent.simulation.local.kernels.timeseries import ts_max as ts_max
from brain_agent.simulation.local.kernels.timeseries import ts_max_diff as ts_max_diff
from brain_agent.simulation.local.kernels.timeseries import ts_mean as ts_mean
from brain_agent.simulation.local.kernels.timeseries import ts_median as ts_median
from brain_agent.simulation.local.kernels.timeseries import ts_min as ts_min
from brain_agent.simulation.local.kernels.timeseries import ts_min_diff as ts_min_diff
from brain_agent.simulation.local.kernels.timeseries import ts_min_max_cps as ts_min_max_cps
from brain_agent.simulation.local.kernels.timeseries import ts_min_max_diff as ts_min_max_diff
from brain_agent.simulation.local.kernels.timeseries import ts_moment as ts_moment
from brain_agent.simulation.local.kernels.timeseries import ts_product as ts_product
from brain_agent.simulation.local.kernels.timeseries import ts_rank as ts_rank
from brain_agent.simulation.local.kernels.timeseries import ts_regression as ts_regression
from brain_agent.simulation.local.kernels.timeseries import ts_returns as ts_returns
from brain_agent.simulation.local.kernels.timeseries import ts_scale as ts_scale
from brain_agent.simulation.local.kernels.timeseries import ts_skewness as ts_skewness
from brain_agent.simulation.local.kernels.timeseries import ts_std_dev as ts_std_dev
from brain_agent.simulation.local.kernels.timeseries import ts_step as ts_step
from brain_agent.simulation.local.kernels.timeseries import ts_sum as ts_sum
from brain_agent.simulation.local.kernels.timeseries import ts_zscore as ts_zscore
from brain_agent.simulation.local.kernels.vectors import vec_reduce as vec_reduce
