"""The shipped knowledge pack (data/meta/index) and how the loader reports a broken copy of it."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from brain_agent.errors import EXIT_BAD_INPUT, KnowledgePackError
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack
from brain_agent.settings import repo_root

PACK_DIR = repo_root() / "data" / "meta" / "index"

# The base-level operators of the BRAIN operator catalogue (66 on a free account).
REFERENCE_BASE = {
    "arithmetic": [
        "add", "subtract", "multiply", "divide", "abs", "log", "sqrt", "sign", "inverse", "reverse",
        "power", "signed_power", "max", "min", "densify",
    ],
    "logical": [
        "and", "or", "not", "less", "less_equal", "equal", "not_equal", "greater", "greater_equal",
        "if_else", "is_nan",
    ],
    "time_series": [
        "ts_mean", "ts_sum", "ts_std_dev", "ts_delta", "ts_delay", "ts_rank", "ts_zscore", "ts_scale",
        "ts_corr", "ts_covariance", "ts_regression", "ts_decay_linear", "ts_product", "ts_arg_max",
        "ts_arg_min", "ts_av_diff", "ts_backfill", "ts_count_nans", "ts_quantile", "ts_step",
        "days_from_last_change", "last_diff_value", "kth_element", "hump",
    ],
    "cross_sectional": ["rank", "zscore", "scale", "normalize", "quantile", "winsorize"],
    "vector": ["vec_avg", "vec_sum"],
    "transformational": ["trade_when", "bucket"],
    "group": [
        "group_neutralize", "group_rank", "group_zscore", "group_scale", "group_mean", "group_backfill",
    ],
}  # fmt: skip

REFERENCE_GENIUS = [
    "sigmoid", "tanh", "arc_tan", "pasteurize", "purify", "round", "floor", "nan_out", "is_not_nan",
    "is_finite", "ts_returns", "ts_ir", "ts_kurtosis", "ts_skewness", "ts_entropy", "ts_moment",
    "ts_max_diff", "ts_min_diff", "ts_min_max_diff", "ts_min_max_cps", "ts_co_kurtosis",
    "ts_co_skewness", "ts_theilsen", "ts_poly_regression", "ts_decay_exp_window", "ts_weighted_decay",
    "hump_decay", "ts_target_tvr_decay", "ts_target_tvr_hump", "ts_target_tvr_delta_limit",
    "vector_proj", "regression_proj", "rank_gmean_amean_diff", "vec_max", "vec_min", "vec_count",
    "vec_stddev", "vec_range", "vec_kurtosis", "vec_skewness", "tail", "group_cartesian_product",
    "group_extra", "group_count", "group_sum", "group_std_dev", "group_vector_proj", "inst_pnl",
]  # fmt: skip

INFIX = {
    "+": "add", "-": "subtract", "*": "multiply", "/": "divide", "^": "power",
    "<": "less", "<=": "less_equal", "==": "equal", "!=": "not_equal", ">": "greater",
    ">=": "greater_equal", "&&": "and", "||": "or",
}  # fmt: skip

PV1_MATRIX = [
    "open", "high", "low", "close", "vwap", "volume", "adv20", "returns", "cap", "sharesout",
    "dividend", "split",
]  # fmt: skip
PV1_GROUP = ["industry", "subindustry", "sector", "market", "country", "exchange"]

FUNDAMENTAL_CORE = [
    "assets", "assets_curr", "liabilities", "liabilities_curr", "equity", "debt", "debt_lt",
    "debt_st", "cash", "cash_st", "cashflow", "cashflow_op", "cashflow_invst", "cashflow_fin",
    "cashflow_dividends", "capex", "cogs", "sales", "revenue", "sales_growth", "sales_ps", "ebit",
    "ebitda", "eps", "income", "income_beforeextra", "income_tax", "pretax_income",
    "operating_income", "operating_expense", "sga_expense", "rd_expense", "interest_expense",
    "depre_amort", "inventory", "inventory_turnover", "receivable", "goodwill", "ppent",
    "retained_earnings", "working_capital", "invested_capital", "enterprise_value", "bookvalue_ps",
    "current_ratio", "return_assets", "return_equity", "employee",
]  # fmt: skip


@pytest.fixture(scope="module")
def pack() -> KnowledgePack:
    return load_knowledge_pack(PACK_DIR)


# ---- the shipped pack -------------------------------------------------------------------------


def test_shipped_pack_loads_with_a_digest(pack: KnowledgePack) -> None:
    summary = pack.summary()
    assert summary["operators"] == len(pack.operators) > 0
    assert len(summary["digest"]) == 16
    for name in ("operators.json", "fields.json", "subcategories.json"):
        doc = json.loads((PACK_DIR / name).read_text(encoding="utf-8"))
        assert set(doc) == {"version", "source", "items"}
        assert doc["version"] and doc["source"]


def test_counts(pack: KnowledgePack) -> None:
    levels = [op.level for op in pack.operators.values()]
    assert levels.count("BASE") >= 66
    assert levels.count("GENIUS") >= 40
    assert len(pack.fields) >= 200
    assert len(pack.subcategories) >= 12
    assert len({f.subcategory for f in pack.fields.values()}) >= 12
    assert len({f.dataset for f in pack.fields.values()}) >= 12


@pytest.mark.parametrize("category", sorted(REFERENCE_BASE))
def test_reference_base_operators_are_present_at_base_level(pack: KnowledgePack, category: str) -> None:
    for name in REFERENCE_BASE[category]:
        assert name in pack.operators, name
        op = pack.operators[name]
        assert op.level == "BASE", name
        assert op.category == category, name


def test_base_level_is_exactly_the_reference_base_set(pack: KnowledgePack) -> None:
    expected = {name for names in REFERENCE_BASE.values() for name in names}
    assert len(expected) == 66
    assert {n for n, op in pack.operators.items() if op.level == "BASE"} == expected


def test_reference_genius_operators_are_present(pack: KnowledgePack) -> None:
    missing = [n for n in REFERENCE_GENIUS if n not in pack.operators]
    assert not missing
    assert all(pack.operators[n].level == "GENIUS" for n in REFERENCE_GENIUS)


def test_infix_spellings(pack: KnowledgePack) -> None:
    assert {sym: op.name for sym, op in pack.infix.items()} == INFIX
    for name in INFIX.values():
        assert len([a for a in pack.operators[name].args if not a.optional]) == 2


def test_operator_categories_are_known(pack: KnowledgePack) -> None:
    known = set(REFERENCE_BASE) | {"special", "reduce"}
    assert {op.category for op in pack.operators.values()} == known


@pytest.mark.parametrize(
    ("name", "signature"),
    [
        ("ts_rank", "ts_rank(x, d, constant=0)"),
        ("add", "add(x, y, ..., filter=false)"),
        ("rank", "rank(x, rate=2)"),
        ("divide", "divide(x, y)"),
        ("ts_corr", "ts_corr(x, y, d)"),
        ("winsorize", "winsorize(x, std=4)"),
        ("group_neutralize", "group_neutralize(x, group)"),
        ("if_else", "if_else(input1, input2, input3)"),
    ],
)
def test_signature_renders(pack: KnowledgePack, name: str, signature: str) -> None:
    assert pack.operators[name].signature == signature


def test_argument_details(pack: KnowledgePack) -> None:
    ops = pack.operators
    add = ops["add"]
    assert add.variadic
    filt = add.args[-1]
    assert (filt.name, filt.kind, filt.default, filt.optional, filt.keyword_only) == (
        "filter",
        "bool",
        False,
        True,
        True,
    )
    constant = ops["ts_rank"].args[2]
    assert (constant.kind, constant.optional, constant.default) == ("number", True, 0)
    assert ops["max"].variadic and ops["min"].variadic and ops["multiply"].variadic
    assert not ops["divide"].variadic
    bucket = ops["bucket"]
    assert bucket.returns == "group"
    assert {a.name for a in bucket.args if a.keyword_only} >= {"range", "buckets", "skipBoth", "NaNGroup"}
    assert all(a.kind == "string" for a in bucket.args if a.name in ("range", "buckets"))
    assert [a.kind for a in ops["densify"].args] == ["group"] and ops["densify"].returns == "group"
    assert ops["group_cartesian_product"].returns == "group"
    returns_group = {n for n, op in ops.items() if op.returns == "group"}
    assert returns_group == {"bucket", "densify", "group_cartesian_product"}


def test_time_series_lookbacks_are_lookback_kind(pack: KnowledgePack) -> None:
    for name, op in pack.operators.items():
        if name.startswith("ts_") and any(a.name == "d" for a in op.args):
            assert next(a for a in op.args if a.name == "d").kind == "lookback", name


def test_vector_and_group_operators_take_the_right_kinds(pack: KnowledgePack) -> None:
    for name, op in pack.operators.items():
        kinds = [a.kind for a in op.args]
        if name.startswith("vec_"):
            assert kinds == ["vector"], name
        elif "vector" in kinds:
            pytest.fail(f"{name} takes a vector but is not a vec_* operator")
        if name.startswith("group_"):
            assert "group" in kinds, name


def test_scopes(pack: KnowledgePack) -> None:
    for name, op in pack.operators.items():
        assert op.scope, name
        assert set(op.scope) <= {"REGULAR", "COMBO", "SELECTION"}, name
        if op.category == "reduce":
            assert op.scope == ["COMBO"], name
        else:
            assert {"REGULAR", "COMBO"} <= set(op.scope), name
    assert "SELECTION" in pack.operators["add"].scope
    assert "SELECTION" not in pack.operators["ts_mean"].scope


def test_optional_arguments_follow_required_ones(pack: KnowledgePack) -> None:
    for name, op in pack.operators.items():
        flags = [a.optional or a.keyword_only for a in op.args]
        assert flags == sorted(flags), name
        for arg in op.args:
            if arg.keyword_only:
                assert arg.optional, f"{name}.{arg.name}"
            if arg.default is not None:
                assert arg.optional, f"{name}.{arg.name}"
        assert len({a.name for a in op.args}) == len(op.args), name


def test_every_field_subcategory_exists_and_matches_its_category(pack: KnowledgePack) -> None:
    for f in pack.fields.values():
        sub = pack.subcategories.get(f.subcategory)
        assert sub is not None, f.id
        assert f.category == sub.category, f.id
        assert f.subcategory.startswith(f"{sub.category}-"), f.id
    used = {f.subcategory for f in pack.fields.values()}
    assert set(pack.subcategories) == used, "a subcategory has no fields"


def test_reference_subcategory_ids(pack: KnowledgePack) -> None:
    for ident in (
        "pv-price-volume",
        "analyst-analyst-estimates",
        "model-valuation-models",
        "option-option-analytics",
    ):
        assert ident in pack.subcategories


def test_pv1_fields(pack: KnowledgePack) -> None:
    for fid in PV1_MATRIX:
        f = pack.fields[fid]
        assert (f.dataset, f.subcategory, f.type) == ("pv1", "pv-price-volume", "MATRIX"), fid
        assert f.coverage >= 0.95, fid
    for fid in PV1_GROUP:
        f = pack.fields[fid]
        assert (f.dataset, f.type) == ("pv1", "GROUP"), fid
        assert f.coverage >= 0.95, fid
    for fid in ("currency", "sedol", "cusip", "isin", "ticker"):
        f = pack.fields[fid]
        assert (f.type, f.coverage) == ("GROUP", 0.0), fid
    assert len([f for f in pack.fields.values() if f.dataset == "pv1"]) == 23


def test_fundamental_core_fields(pack: KnowledgePack) -> None:
    for fid in FUNDAMENTAL_CORE:
        f = pack.fields[fid]
        assert (f.dataset, f.category, f.type) == ("fundamental6", "fundamental", "MATRIX"), fid
        assert 0.5 <= f.coverage < 1.0, fid


def test_field_types_and_coverage(pack: KnowledgePack) -> None:
    fields = list(pack.fields.values())
    vectors = [f for f in fields if f.type == "VECTOR"]
    groups = [f for f in fields if f.type == "GROUP"]
    assert len(vectors) >= 8
    assert len({f.dataset for f in vectors}) >= 4
    assert {"fnd6_capxs", "scl12_alltype_buzzvec"} <= {f.id for f in vectors}
    assert len([f for f in groups if f.coverage > 0]) >= 10
    assert any(f.dataset == "pv13" for f in groups)
    for f in fields:
        assert (f.region, f.delay) == ("USA", 1), f.id
    news = [f.coverage for f in fields if f.category == "news"]
    assert news and max(news) < 0.8 and min(news) > 0.2


def test_names_do_not_collide(pack: KnowledgePack) -> None:
    assert not set(pack.fields) & set(pack.operators)
    assert not set(pack.fields) & {"nan", "true", "false", "inf"}


def test_descriptions_are_distinct_sentences(pack: KnowledgePack) -> None:
    descriptions = [f.description for f in pack.fields.values()]
    assert len(set(descriptions)) == len(descriptions)
    for text in descriptions + [op.description for op in pack.operators.values()]:
        assert (text[0].isupper() or text[0].isdigit()) and text.endswith("."), text


# ---- a broken copy ----------------------------------------------------------------------------

Mutation = Callable[[list[dict[str, Any]]], str]
"""Corrupts the item list in place and returns the name of the entry it broke."""


def _bad_type(items: list[dict[str, Any]]) -> str:
    items[3]["type"] = "MATRIXX"
    return str(items[3]["id"])


def _no_description(items: list[dict[str, Any]]) -> str:
    op = next(i for i in items if i["name"] == "ts_rank")
    del op["description"]
    return "ts_rank"


def _duplicate_id(items: list[dict[str, Any]]) -> str:
    items.append(dict(items[0]))
    return f"entry {len(items) - 1}: duplicate id '{items[0]['id']}'"


def _unknown_subcategory(items: list[dict[str, Any]]) -> str:
    items[5]["subcategory"] = "no-such-subcategory"
    return str(items[5]["id"])


def _bad_arg_kind(items: list[dict[str, Any]]) -> str:
    op = next(i for i in items if i["name"] == "ts_mean")
    op["args"][1]["kind"] = "days"
    return "ts_mean"


def _subcategory_without_name(items: list[dict[str, Any]]) -> str:
    del items[2]["name"]
    return str(items[2]["id"])


def _extra_key(items: list[dict[str, Any]]) -> str:
    items[0]["units"] = "USD"
    return str(items[0]["id"])


@pytest.mark.parametrize(
    ("file", "mutate", "key"),
    [
        ("fields.json", _bad_type, "type"),
        ("operators.json", _no_description, "description"),
        ("fields.json", _duplicate_id, "id"),
        ("fields.json", _unknown_subcategory, "subcategory"),
        ("operators.json", _bad_arg_kind, "args.1.kind"),
        ("subcategories.json", _subcategory_without_name, "name"),
        ("fields.json", _extra_key, "units"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else str(v),
)
def test_broken_entry_is_reported_by_file_entry_and_key(
    tmp_path: Path, file: str, mutate: Mutation, key: str
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(PACK_DIR, copy)
    load_knowledge_pack(copy)  # the untouched copy is fine
    path = copy / file
    doc = json.loads(path.read_text(encoding="utf-8"))
    entry = mutate(doc["items"])
    path.write_text(json.dumps(doc), encoding="utf-8")

    with pytest.raises(KnowledgePackError) as caught:
        load_knowledge_pack(copy)

    err = caught.value
    assert str(path) in err.message
    assert entry in err.message
    assert re.search(rf"\b{re.escape(key)}\b", err.message)
    assert err.details["file"] == str(path)
    assert err.details["key"] == key
    assert err.exit_code == EXIT_BAD_INPUT


def test_invalid_json_names_the_file_and_position(tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(PACK_DIR, copy)
    path = copy / "operators.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"name": "ts_delta"', '"name" "ts_delta"', 1), encoding="utf-8")
    line = text[: text.index('"name": "ts_delta"')].count("\n") + 1

    with pytest.raises(KnowledgePackError) as caught:
        load_knowledge_pack(copy)

    assert str(path) in caught.value.message
    assert f"line {line}" in caught.value.message
    assert caught.value.details["file"] == str(path)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(PACK_DIR, copy)
    (copy / "subcategories.json").unlink()
    with pytest.raises(KnowledgePackError, match=r"subcategories\.json.*missing"):
        load_knowledge_pack(copy)


def test_field_named_like_an_operator_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(PACK_DIR, copy)
    path = copy / "fields.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["items"][0]["id"] = "rank"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(KnowledgePackError, match=r"\['rank'\]"):
        load_knowledge_pack(copy)
