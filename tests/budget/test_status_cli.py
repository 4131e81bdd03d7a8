"""``budget status``: a unit column, money with its currency, full scope names, "resets in"."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from brain_agent.cli import run
from brain_agent.jsonio import write_json

from .conftest import PRICES

OLD_KEYS = {"scope", "scope_key", "unit", "limit", "spent", "reserved", "remaining", "window_end"}


def _batch(tmp_path: Path, db: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = run(["run-batch", "--generate", "3", "--db", str(db), "--config", str(config), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    run_id: str = json.loads(out)["run_id"]
    return run_id


def _status(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert run(["budget", "status", *args]) == 0
    return capsys.readouterr().out


def _first_column(text: str) -> str:
    """The table's first column, its wrapped pieces joined (rows are not separated: substrings)."""
    return "".join(line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_json(
        tmp_path / "llm_budget.json",
        {"price_table": str(PRICES), "max_cost_per_day": "1.5", "max_cost_per_week": "12"},
    )


def test_json_keeps_every_old_key_and_adds_resets_in(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    run_id = _batch(tmp_path, db, config, capsys)
    doc: dict[str, Any] = json.loads(
        _status(capsys, "--db", str(db), "--config", str(config), "--run", run_id, "--json")
    )
    assert {"scopes", "overruns"} <= set(doc)
    scopes = {s["scope"]: s for s in doc["scopes"]}
    assert all(set(s) >= OLD_KEYS for s in doc["scopes"])
    assert scopes["money_day"]["limit"] == "1.5" and scopes["money_day"]["unit"] == "usd"
    assert scopes["day"]["spent"] > 0 and isinstance(scopes["day"]["spent"], int)
    for kind in ("day", "money_day"):
        assert 0 < scopes[kind]["resets_in_s"] <= 86_400
    for kind in ("week", "money_week"):
        assert 0 < scopes[kind]["resets_in_s"] <= 7 * 86_400
    assert scopes["batch"]["resets_in_s"] is None and scopes["batch"]["window_end"] is None


def test_text_has_units_currency_full_names_and_resets(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    run_id = _batch(tmp_path, db, config, capsys)
    doc = json.loads(_status(capsys, "--db", str(db), "--config", str(config), "--run", run_id, "--json"))
    text = _status(capsys, "--db", str(db), "--config", str(config), "--run", run_id)
    assert max(len(line) for line in text.splitlines()) <= 80  # the test console is 80 columns wide
    names = _first_column(text)
    for scope in doc["scopes"]:
        assert scope["scope_key"] in names, scope["scope_key"]  # wrapped, never cut
    assert "…" not in text
    assert "$1.50" in text and "$12.00" in text  # limits with a currency and cents
    spent = Decimal(next(s for s in doc["scopes"] if s["scope"] == "money_day")["spent"])
    assert 0 < spent < 1 and f"${spent:.4f}" in text  # fractions of a cent keep four decimals
    assert "USD" in text and "tokens" in text and "resets in" in text
    day = next(s for s in doc["scopes"] if s["scope"] == "day")
    hours = day["resets_in_s"] // 3600
    assert f"{hours}h " in text or (hours == 0 and "m" in text)
    week = next(s for s in doc["scopes"] if s["scope"] == "week")
    if week["resets_in_s"] >= 86_400:
        assert f"{week['resets_in_s'] // 86_400}d " in text
