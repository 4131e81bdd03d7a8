"""run-batch's closing report: the best alpha with its metrics, the yield per lane, counts that add up,
deferred ideas announced when they join a batch."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from brain_agent.cli import run
from brain_agent.jsonio import write_json

REPO = Path(__file__).resolve().parents[2]
PRICES = REPO / "configs" / "prices.json"


def _batch(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> dict[str, Any]:
    got = run(["run-batch", *args, "--json"])
    captured = capsys.readouterr()
    assert got == code, captured.err
    report: dict[str, Any] = json.loads(captured.out)
    return report


def test_report_carries_the_yield_and_the_best_alpha(
    capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    report = _batch(capsys, "--generate", "6", "--seed", "3")
    y = report["yield"]
    total = y["total"]
    assert total["valid"] == report["valid"] > 0
    assert total["tokens"] == report["tokens"]["total"]
    assert Decimal(total["cost"]) == Decimal(report["cost"])
    assert total["passing"] == report["simulation"]["passed"]
    for lane, row in y["lanes"].items():
        assert row["tokens"] == report["lanes"][lane]["tokens"]
        if row["valid"]:
            assert row["tokens_per_valid"] == pytest.approx(row["tokens"] / row["valid"], abs=0.05)
            assert Decimal(row["cost_per_valid"]) == pytest.approx(Decimal(row["cost"]) / row["valid"])
        if row["passing"] == 0:
            assert row["tokens_per_passing"] is None and row["cost_per_passing"] is None
    # the best alpha is the same one `runs show` names, with the highest Sharpe of the run
    assert run(["runs", "show", report["run_id"], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["yield"]["best"] == y["best"]
    sharpes = [c["simulation"]["sharpe"] for c in shown["candidates"] if c["simulation"]]
    assert y["best"]["sharpe"] == max(s for s in sharpes if s is not None)
    assert y["best"]["sharpe"] == report["simulation"]["best_sharpe"]
    assert y["best"]["expression"]


def test_text_report_prints_the_best_expression_and_yield(
    capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    report = _batch(capsys, "--generate", "4", "--seed", "8")
    assert run(["run-batch", "--resume", report["run_id"]]) == 0  # same ideas, cache hits, same candidates
    out = capsys.readouterr().out
    assert "per valid" in out and "per passing" in out
    assert "best alpha (" in out and "Sharpe" in out
    assert report["yield"]["best"]["expression"] in out
    assert "[bold]" not in out


def test_counts_add_up_and_carried_ideas_are_announced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    ideas = [
        {
            "id": f"x{i}",
            "title": f"Reversal variant {i}",
            "hypothesis": "Short-term price reversal on volume.",
            "lane": "exploit",
            "priority": 9,
            "target_subcategories": ["pv-price-volume"],
        }
        for i in range(6)
    ]
    ideas_file = write_json(tmp_path / "ideas.json", ideas)
    tight = write_json(
        tmp_path / "tight.json",
        {"price_table": str(PRICES), "max_tokens_per_day": 6_000, "max_completion_tokens": 1000},
    )
    first = _batch(capsys, "--ideas", str(ideas_file), "--config", str(tight), "--simulate", "none", code=3)
    lanes_run = sum(t["ideas"] for t in first["lanes"].values())
    assert first["ideas"] == 6 == first["ideas_run"] + first["ideas_not_run"]
    assert first["ideas_run"] == lanes_run and first["ideas_not_run"] > 0
    assert first["deferred"] + first["discarded"] == first["blocked"] > 0
    assert first["carried_over"] == 0
    roomy = write_json(tmp_path / "roomy.json", {"price_table": str(PRICES)})
    code = run(["run-batch", "--generate", "1", "--config", str(roomy), "--simulate", "none"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"carried over {first['deferred']} deferred idea(s) from earlier batches" in captured.err
    assert "carried over from earlier batches" in captured.out
    assert f"= {1 + first['deferred']} in the lanes + 0 blocked at planning" in captured.out


def test_settings_file_is_used_and_stored_with_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    from brain_agent.storage import SQLiteStore
    from brain_agent.storage.run_queries import run_candidates

    settings = write_json(
        tmp_path / "settings.json", {"neutralization": "MARKET", "decay": 4, "universe": "TOP1000"}
    )
    report = _batch(capsys, "--generate", "3", "--seed", "2", "--settings", str(settings))
    store = SQLiteStore(_isolated_store)
    stored = store.get_run(report["run_id"])["config"]
    assert stored["settings_file"] == str(settings)
    assert stored["simulation_settings"]["neutralization"] == "MARKET"
    assert stored["simulation_settings"]["decay"] == 4
    results = [c["simulation"]["result"] for c in run_candidates(store, report["run_id"]) if c["simulation"]]
    assert results and all(r["settings"]["neutralization"] == "MARKET" for r in results)
    assert all(r["settings"]["decay"] == 4 and r["settings"]["universe"] == "TOP1000" for r in results)
    # a resumed batch simulates with the first run's settings
    resumed = _batch(capsys, "--resume", report["run_id"])
    again = store.get_run(resumed["run_id"])["config"]["simulation_settings"]
    assert again == stored["simulation_settings"]


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ({"decay": -1}, "decay"),
        ({"neutralization": "PLANET"}, "neutralization"),
        ({"delay": 1, "decayy": 3}, "decayy"),
    ],
)
def test_bad_settings_file_exits_2_naming_the_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: dict[str, Any],
    key: str,
    _isolated_store: Path,
) -> None:
    settings = write_json(tmp_path / "settings.json", content)
    assert run(["run-batch", "--generate", "2", "--settings", str(settings)]) == 2
    err = capsys.readouterr().err
    assert key in err and "settings.json" in err and "Traceback" not in err


def test_unreadable_settings_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    bad = tmp_path / "settings.json"
    bad.write_text("{not json", encoding="utf-8")
    assert run(["run-batch", "--generate", "2", "--settings", str(bad)]) == 2
    assert "settings.json" in capsys.readouterr().err
    assert run(["run-batch", "--generate", "2", "--settings", str(tmp_path / "missing.json")]) == 2
