"""A small knowledge pack written to disk and loaded the real way (``load_knowledge_pack``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from brain_agent.knowledge import KnowledgePack, load_knowledge_pack


def _arg(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, **extra}


def _op(name: str, args: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "category": extra.pop("category", "Arithmetic"),
        "args": args,
        "description": f"{name} operator",
        **extra,
    }


X, Y = _arg("x", "expr"), _arg("y", "expr")
D = _arg("d", "lookback")
GROUP = _arg("group", "group")
FILTER = _arg("filter", "bool", optional=True, default=False, keyword_only=True)

OPERATORS = [
    _op("add", [X, Y, FILTER], variadic=True, infix="+"),
    _op("subtract", [X, Y, FILTER], infix="-"),
    _op("multiply", [X, Y, FILTER], variadic=True, infix="*"),
    _op("divide", [X, Y], infix="/"),
    _op("power", [X, Y], infix="^"),
    _op("less", [X, Y], infix="<", category="Logical"),
    _op("less_equal", [X, Y], infix="<=", category="Logical"),
    _op("equal", [X, Y], infix="==", category="Logical"),
    _op("not_equal", [X, Y], infix="!=", category="Logical"),
    _op("greater", [X, Y], infix=">", category="Logical"),
    _op("greater_equal", [X, Y], infix=">=", category="Logical"),
    _op("and", [X, Y], infix="&&", category="Logical"),
    _op("or", [X, Y], infix="||", category="Logical"),
    _op("if_else", [X, Y, _arg("z", "expr")], category="Logical"),
    _op("is_nan", [X], category="Logical"),
    _op("abs", [X]),
    _op("max", [X, Y], variadic=True),
    _op(
        "rank",
        [X, _arg("rate", "number", optional=True, default=2, keyword_only=True)],
        category="Cross Sectional",
    ),
    _op("winsorize", [X, _arg("std", "number", optional=True, default=4)], category="Cross Sectional"),
    _op(
        "quantile",
        [
            X,
            _arg("driver", "string", optional=True, default="gaussian"),
            _arg("sigma", "number", optional=True, default=1.0),
        ],
        category="Cross Sectional",
    ),
    _op("ts_mean", [X, D], category="Time Series"),
    _op("ts_delta", [X, D], category="Time Series"),
    _op("ts_zscore", [X, D], category="Time Series"),
    _op("ts_corr", [X, Y, D], category="Time Series"),
    _op(
        "ts_decay_linear", [X, D, _arg("dense", "bool", optional=True, default=False)], category="Time Series"
    ),
    _op(
        "ts_backfill",
        [X, _arg("lookback", "lookback"), _arg("k", "int", optional=True, default=1)],
        category="Time Series",
    ),
    _op(
        "kth_element",
        [X, D, _arg("k", "int"), _arg("ignore", "string", optional=True, default="NaN")],
        category="Time Series",
    ),
    _op("group_neutralize", [X, GROUP], category="Group"),
    _op("group_rank", [X, GROUP], category="Group"),
    _op(
        "bucket",
        [
            X,
            _arg("range", "string", optional=True, keyword_only=True, default="0,1,0.1"),
            _arg("buckets", "string", optional=True, keyword_only=True),
        ],
        category="Transformational",
        returns="group",
    ),
    _op("densify", [GROUP], returns="group"),
    _op("vec_avg", [_arg("x", "vector")], category="Vector"),
    _op("trade_when", [X, Y, _arg("z", "expr")], category="Transformational"),
]


def _field(ident: str, kind: str = "MATRIX", sub: str = "pv-price-volume") -> dict[str, Any]:
    category = sub.split("-")[0]
    return {
        "id": ident,
        "description": f"{ident} field",
        "dataset": f"{category}1",
        "category": category,
        "subcategory": sub,
        "type": kind,
        "coverage": 0.9,
    }


FIELDS = [
    *(_field(name) for name in ("open", "close", "volume", "adv20", "returns", "cap", "vwap")),
    _field("industry", "GROUP"),
    _field("sector", "GROUP"),
    _field("some_vector_field", "VECTOR", "fundamental-fundamental-data"),
    _field("assets", "MATRIX", "fundamental-fundamental-data"),
    _field("est_eps", "MATRIX", "analyst-analyst-estimates"),
    _field("etz_eps", "MATRIX", "analyst-analyst-estimates"),
]

SUBCATEGORIES = [
    {"id": "pv-price-volume", "name": "Price Volume", "category": "pv"},
    {"id": "fundamental-fundamental-data", "name": "Fundamental Data", "category": "fundamental"},
    {"id": "analyst-analyst-estimates", "name": "Analyst Estimates", "category": "analyst"},
]


def write_pack(directory: Path) -> KnowledgePack:
    directory.mkdir(parents=True, exist_ok=True)
    for name, items in (("operators", OPERATORS), ("fields", FIELDS), ("subcategories", SUBCATEGORIES)):
        (directory / f"{name}.json").write_text(json.dumps({"version": "test", "items": items}))
    return load_knowledge_pack(directory)


@pytest.fixture(scope="session")
def pack(tmp_path_factory: pytest.TempPathFactory) -> KnowledgePack:
    return write_pack(tmp_path_factory.mktemp("pack"))
