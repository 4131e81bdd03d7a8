"""A request the cache can answer costs no tokens, so an exhausted budget must not block it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brain_agent.cli import run
from brain_agent.storage import SQLiteStore

REPO = Path(__file__).resolve().parents[2]


def _ideas(tmp: Path) -> Path:
    ideas = [
        {
            "id": f"rev-{n}",
            "title": f"Reversal {n}",
            "hypothesis": "Short-term losers rebound.",
            "target_subcategories": ["pv-price-volume"],
            "lane": "exploit",
            "priority": 5,
        }
        for n in range(3)
    ]
    path = tmp / "ideas.json"
    path.write_text(json.dumps(ideas))
    return path


def _config(tmp: Path, day_cap: int) -> Path:
    config = json.loads((REPO / "configs" / "demo_budget.json").read_text())
    config["max_tokens_per_day"] = day_cap
    (tmp / "prices.json").write_text((REPO / "configs" / "prices.json").read_text())
    path = tmp / f"budget_{day_cap}.json"
    path.write_text(json.dumps(config))
    return path


def _batch(capsys: pytest.CaptureFixture[str], ideas: Path, config: Path) -> tuple[int, dict[str, object]]:
    code = run(
        [
            "run-batch",
            "--ideas",
            str(ideas),
            "--config",
            str(config),
            "--simulate",
            "none",
            "--no-deferred",
            "--json",
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def test_cached_answers_are_served_when_the_day_is_spent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    ideas = _ideas(tmp_path)
    code, first = _batch(capsys, ideas, _config(tmp_path, 100_000))
    assert code == 0 and first["candidates"] == 3 and first["cache_hits"] == 0
    spent = first["tokens"]["total"]  # type: ignore[index]

    # a day cap below what is already spent: nothing new fits, but every answer is in the cache
    code, second = _batch(capsys, ideas, _config(tmp_path, spent // 2))
    assert code == 0, second
    assert second["cache_hits"] == 3 and second["blocked"] == 0 and second["candidates"] == 3
    assert second["tokens"]["total"] == 0  # type: ignore[index]
    assert second["tokens_saved"] == spent
    events = SQLiteStore(_isolated_store).events(str(second["run_id"]), limit=10_000)
    assert not any(e.name in ("budget.reserved", "budget.blocked") for e in events)
    assert sum(e.name == "llm.cache_hit" for e in events) == 3
