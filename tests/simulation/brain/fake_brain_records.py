"""Records the fake BRAIN serves: its operator and data-field catalogue, alpha records with a
realistic ``is`` block and checks, the ``pnl`` recordset, and a shallow expression checker that
answers with BRAIN's error wording and a character location (reference §1.6, §1.8, §1.10)."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from datetime import date, timedelta
from typing import Any


def _op(
    name: str, category: str, definition: str, level: str | None = "ALL", scope: list[str] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "category": category,
        "scope": scope or ["COMBO", "REGULAR"],
        "definition": definition,
        "description": f"{name}: see the BRAIN documentation.",
        "documentation": f"/operators/{name}",
        "level": level,
    }


OPERATORS: list[dict[str, Any]] = [
    _op("add", "Arithmetic", "add(x, y, filter = false), x + y", scope=["COMBO", "REGULAR", "SELECTION"]),
    _op("subtract", "Arithmetic", "subtract(x, y, filter=false), x - y"),
    _op("multiply", "Arithmetic", "multiply(x ,y, ... , filter=false), x * y"),
    _op("divide", "Arithmetic", "divide(x, y), x / y"),
    _op("abs", "Arithmetic", "abs(x)"),
    _op("max", "Arithmetic", "max(x, y, ..)"),
    _op("sigmoid", "Arithmetic", "sigmoid(x)", level=None),
    _op("less", "Logical", "input1 < input2", scope=["COMBO", "REGULAR", "SELECTION"]),
    _op("if_else", "Logical", "if_else(input1, input2, input 3)"),
    _op("ts_mean", "Time Series", "ts_mean(x, d)"),
    _op("ts_delta", "Time Series", "ts_delta(x, d)"),
    _op("ts_rank", "Time Series", "ts_rank(x, d, constant = 0)"),
    _op("ts_decay_linear", "Time Series", "ts_decay_linear(x, d, dense = false)"),
    _op("ts_backfill", "Time Series", "ts_backfill(x,lookback = d, k=1)"),
    _op("ts_step", "Time Series", "ts_step(1)"),
    _op("ts_quantile", "Time Series", 'ts_quantile(x,d, driver="gaussian" )'),
    _op("rank", "Cross Sectional", "rank(x, rate=2)"),
    _op("zscore", "Cross Sectional", "zscore(x)"),
    _op("winsorize", "Cross Sectional", "winsorize(x, std=4)"),
    _op("vec_avg", "Vector", "vec_avg(x)"),
    _op("group_neutralize", "Group", "group_neutralize(x, group)"),
    _op("group_mean", "Group", "group_mean(x, weight, group)"),
    _op("bucket", "Transformational", 'bucket(rank(x), range="0, 1, 0.1", skipBoth=False, NaNGroup=False)'),
    _op("trade_when", "Transformational", "trade_when(x, y, z)"),
    _op("reduce_avg", "Reduce", "reduce_avg(input, threshold=0)", level=None, scope=["COMBO"]),
]

_DATASETS = {
    "pv1": ("Price Volume Data for Equity", ("pv", "Price Volume"), ("pv-price-volume", "Price Volume")),
    "fundamental6": (
        "Company Fundamental Data for Equity",
        ("fundamental", "Fundamental"),
        ("fundamental-fundamental-data", "Fundamental Data"),
    ),
    "analyst4": (
        "Analyst Estimate Data for Equity",
        ("analyst", "Analyst"),
        ("analyst-analyst-estimates", "Analyst Estimates"),
    ),
}


def _field(
    ident: str, dataset: str, description: str, ftype: str = "MATRIX", coverage: float = 1.0
) -> dict[str, Any]:
    name, (cat_id, cat_name), (sub_id, sub_name) = _DATASETS[dataset]
    return {
        "id": ident,
        "description": description,
        "dataset": {"id": dataset, "name": name},
        "category": {"id": cat_id, "name": cat_name},
        "subcategory": {"id": sub_id, "name": sub_name},
        "region": "USA",
        "delay": 1,
        "universe": "TOP3000",
        "type": ftype,
        "dateCoverage": 1.0,
        "coverage": coverage,
        "userCount": 1000,
        "alphaCount": 10000,
        "pyramidMultiplier": 1.1,
        "themes": [],
    }


def default_fields() -> list[dict[str, Any]]:
    out = [_field(f, "pv1", f"Daily {f} price") for f in ("open", "high", "low", "close", "vwap")] + [
        _field("volume", "pv1", "Daily volume"),
        _field("adv20", "pv1", "Average daily volume in past 20 days"),
        _field("returns", "pv1", "Daily returns"),
        _field("cap", "pv1", "Daily market capitalization (in millions)"),
        _field("industry", "pv1", "Industry grouping", "GROUP"),
        _field("subindustry", "pv1", "Subindustry grouping", "GROUP"),
        _field("sector", "pv1", "Sector grouping", "GROUP"),
        _field("univ_top3000", "pv1", "Universe membership", "UNIVERSE"),
    ]
    out += [
        _field(f"fnd6_item{i:03d}", "fundamental6", f"Fundamental item {i}", coverage=0.5 + i / 400)
        for i in range(80)
    ]
    out += [_field("fnd6_capxs", "fundamental6", "Capital expenditure segments", "VECTOR", 0.4)]
    out += [_field(f"anl4_est{i:02d}", "analyst4", f"Analyst estimate {i}", coverage=0.7) for i in range(25)]
    return out


_KEYWORDS = {"true", "false", "nan", "inf", "NaN"}


def check_expression(expr: str, operators: set[str], fields: set[str]) -> tuple[str, dict[str, Any]] | None:
    """BRAIN-like error (message, location) for an expression, or None. Deliberately shallow."""
    depth = 0
    for ch in expr:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            break
    if depth != 0:
        n = len(expr)
        return "Unexpected end of input", {"line": 1, "start": n, "end": n, "property": "regular"}
    assigned = set(re.findall(r"([A-Za-z_]\w*)\s*=(?!=)", expr))
    for m in re.finditer(r"(?<![\w.\"])([A-Za-z_]\w*)", expr):
        name, rest = m.group(1), expr[m.end() :].lstrip()
        inside_string = expr[: m.start()].count('"') % 2 == 1
        if (
            inside_string
            or name in _KEYWORDS
            or name in assigned
            or (rest.startswith("=") and not rest.startswith("=="))
        ):
            continue
        if rest.startswith("("):
            if name not in operators:
                loc = {"line": 1, "start": m.start(), "end": m.end(), "property": "regular"}
                return f'Attempted to use inaccessible or unknown operator "{name}"', loc
        elif name not in fields:
            loc = {"line": 1, "start": m.start(), "end": m.end(), "property": "regular"}
            return f'Attempted to use unknown variable "{name}"', loc
    return None


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _block(rng: random.Random, scale: float = 1.0) -> dict[str, Any]:
    sharpe = round(rng.uniform(-0.8, 2.6) * scale, 2)
    turnover = round(rng.uniform(0.02, 0.8), 4)
    returns = round(abs(sharpe) * rng.uniform(0.02, 0.06) * (1 if sharpe >= 0 else -1), 4)
    fitness = round(sharpe * math.sqrt(abs(returns) / max(turnover, 0.125)), 2)
    return {
        "pnl": int(returns * 10_000_000 * 5),
        "bookSize": 20_000_000,
        "longCount": rng.randint(1200, 1600),
        "shortCount": rng.randint(1200, 1600),
        "turnover": turnover,
        "returns": returns,
        "drawdown": round(rng.uniform(0.02, 0.4), 4),
        "margin": round(returns / (2 * 252 * turnover), 6),
        "sharpe": sharpe,
        "fitness": fitness,
    }


def make_alpha(alpha_id: str, expr: str, settings: dict[str, Any]) -> dict[str, Any]:
    """An alpha record in the shape of ``GET /alphas/{id}`` (reference §1.8)."""
    rng = random.Random(digest(expr + json.dumps(settings, sort_keys=True)))
    is_block: dict[str, Any] = {**_block(rng), "startDate": "2019-01-01"}
    is_block["investabilityConstrained"] = _block(rng, 0.8)
    is_block["riskNeutralized"] = _block(rng, 0.7)
    sharpe, fitness, turnover = is_block["sharpe"], is_block["fitness"], is_block["turnover"]
    checks: list[dict[str, Any]] = [
        {
            "name": "LOW_SHARPE",
            "result": "PASS" if sharpe >= 1.25 else "FAIL",
            "limit": 1.25,
            "value": sharpe,
        },
        {
            "name": "LOW_FITNESS",
            "result": "PASS" if fitness >= 1.0 else "FAIL",
            "limit": 1.0,
            "value": fitness,
        },
        {
            "name": "LOW_TURNOVER",
            "result": "PASS" if turnover >= 0.01 else "FAIL",
            "limit": 0.01,
            "value": turnover,
        },
        {
            "name": "HIGH_TURNOVER",
            "result": "PASS" if turnover < 0.7 else "FAIL",
            "limit": 0.7,
            "value": turnover,
        },
        {"name": "CONCENTRATED_WEIGHT", "result": "PASS"},
        {
            "name": "LOW_SUB_UNIVERSE_SHARPE",
            "result": "PASS",
            "limit": round(0.5 * sharpe, 2),
            "value": round(0.8 * sharpe, 2),
        },
        {
            "name": "IS_LADDER_SHARPE",
            "result": "WARNING",
            "year": 2,
            "startDate": "2022-01-01",
            "endDate": "2023-12-31",
            "limit": 1.58,
            "value": round(sharpe * 0.9, 2),
        },
        {"name": "SELF_CORRELATION", "result": "PENDING"},
        {
            "name": "MATCHES_COMPETITION",
            "result": "PENDING",
            "competitions": [{"id": "AIACv2", "name": "AI Alphas Competition 2.0"}],
        },
    ]
    if re.search(r"close\s*\+\s*volume|volume\s*\+\s*close", expr):
        checks.append(
            {
                "name": "UNITS",
                "result": "WARNING",
                "message": 'Incompatible unit for input of "add" at index 1, expected "Unit[CSPrice:1]", '
                'found "Unit[]"',
            }
        )
    is_block["checks"] = checks
    return {
        "id": alpha_id,
        "type": "REGULAR",
        "author": "U000001",
        "settings": {**settings, "maxPosition": "OFF", "startDate": "2019-01-01", "endDate": "2023-12-31"},
        "regular": {"code": expr, "description": None, "operatorCount": len(re.findall(r"\w+\s*\(", expr))},
        "dateCreated": "2026-02-15T03:13:01-05:00",
        "dateSubmitted": None,
        "dateModified": "2026-02-15T03:13:01-05:00",
        "name": None,
        "favorite": False,
        "hidden": False,
        "color": None,
        "category": None,
        "tags": [],
        "classifications": [{"id": "DATA_USAGE:SINGLE_DATA_SET", "name": "Single Data Set Alpha"}],
        "grade": None,
        "stage": "IS",
        "status": "UNSUBMITTED",
        "is": is_block,
        "os": None,
        "train": None,
        "test": None,
        "prod": None,
        "competitions": None,
        "themes": None,
        "pyramids": None,
        "pyramidThemes": None,
        "team": None,
        "osmosisPoints": None,
    }


def make_pnl(alpha: dict[str, Any]) -> dict[str, Any]:
    """The ``pnl`` recordset: cumulative dollars per business day over the IS window."""
    rng = random.Random(alpha["id"])
    start, end = date(2019, 1, 1), date(2023, 12, 31)
    days = [start + timedelta(n) for n in range((end - start).days + 1)]
    days = [d for d in days if d.weekday() < 5]
    total = float(alpha["is"]["pnl"])
    mu = total / len(days)
    sigma = abs(mu) * math.sqrt(252) / max(abs(alpha["is"]["sharpe"]), 0.2) + 1.0
    cumulative, records = 0.0, []
    for d in days:
        cumulative += mu + sigma * rng.gauss(0.0, 1.0)
        records.append([d.isoformat(), round(cumulative, 2)])
    return {
        "schema": {
            "name": "pnl",
            "title": "PnL",
            "properties": [
                {"name": "date", "title": "Date", "type": "date"},
                {"name": "pnl", "title": "PnL", "type": "amount"},
            ],
        },
        "records": records,
    }
