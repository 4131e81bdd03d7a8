"""Spec §5's checks at the CLI: estimate-prompt-cost (checks 1–3), run-batch (checks 4–6 and the
events the dashboard reads, check 7), budget schema / validate / status, events export."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from brain_agent.cli import run
from brain_agent.ideas import IdeaSpec
from brain_agent.jsonio import write_json
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.retrieval import build_retrieval_pack
from brain_agent.storage import SQLiteStore
from brain_agent.storage.ledger_store import LedgerStore

from .conftest import PRICES, REPO

KNOWLEDGE = REPO / "data" / "meta" / "index"
IDEA = IdeaSpec(
    id="idea-reversal-001",
    title="Short-term reversal after liquidity shocks",
    hypothesis="Stocks whose price dropped sharply over the last week on above-average volume rebound.",
    target_subcategories=["pv-price-volume"],
    lane="exploit",
    priority=7,
    tags=["reversal", "liquidity"],
)


def _config(tmp_path: Path, **overrides: Any) -> Path:
    path = tmp_path / "llm_budget.json"
    write_json(path, {"price_table": str(PRICES), **overrides})
    return path


@pytest.fixture
def pack_file(tmp_path: Path) -> Path:
    pack = build_retrieval_pack(IDEA, load_knowledge_pack(KNOWLEDGE))
    return write_json(tmp_path / "retrieval_pack.json", pack.model_dump(mode="json"))


def _estimate(
    pack: Path, config: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    code = run(
        [
            "estimate-prompt-cost",
            "--retrieval-pack",
            str(pack),
            "--knowledge-pack-dir",
            str(KNOWLEDGE),
            "--config",
            str(config),
            "--db",
            str(db),
            "--json",
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def _names(db: Path, run_id: str) -> list[str]:
    return [e.name for e in SQLiteStore(db).events(run_id)]


def test_check1_under_budget_passes_unchanged(
    tmp_path: Path, pack_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    code, out = _estimate(pack_file, _config(tmp_path), db, capsys)
    assert code == 0 and out["decision"] == "pass" and out["fallbacks"] == []
    assert out["topk"] == out["default_topk"] and out["prompt_tokens"] > 500
    names = _names(db, out["run_id"])
    assert "budget.check_passed" in names and "budget.check_failed" not in names


def test_check2_over_budget_falls_back_step_by_step(
    tmp_path: Path, pack_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    _, unchanged = _estimate(pack_file, _config(tmp_path), db, capsys)
    cap = unchanged["prompt_tokens"] - 600  # default Top-K no longer fits, a smaller one does
    code, out = _estimate(pack_file, _config(tmp_path, max_prompt_tokens=max(cap, 256)), db, capsys)
    assert code == 0 and out["decision"] == "fallback"
    stages = [s["stage"] for s in out["fallbacks"]]
    assert stages[0] == "fields" and stages == sorted(
        stages, key=["fields", "operators", "subcategories"].index
    )
    for a, b in zip(out["fallbacks"], out["fallbacks"][1:], strict=False):
        assert a["tokens_after"] == b["tokens_before"]
    assert out["prompt_tokens"] <= cap
    events = SQLiteStore(db).events(out["run_id"])
    applied = [e.payload for e in events if e.name == "budget.fallback_applied"]
    assert [(p["stage"], p["from_k"], p["to_k"]) for p in applied] == [
        (s["stage"], s["from_k"], s["to_k"]) for s in out["fallbacks"]
    ]
    failed = next(e.payload for e in events if e.name == "budget.check_failed")
    assert failed["over_budget"] is True and failed["scope"] == "request"


def test_check3_still_over_returns_a_clear_failure_code(
    tmp_path: Path, pack_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    code, out = _estimate(pack_file, _config(tmp_path, max_prompt_tokens=256), db, capsys)
    assert code == 3 and out["decision"] == "blocked"
    assert out["failure"]["failure_code"] == "BUDGET_REQUEST_PROMPT_TOKENS"
    assert out["failure"]["limit"] == "256" and int(out["failure"]["observed"]) > 256
    blocked = [e.payload for e in SQLiteStore(db).events(out["run_id"]) if e.name == "budget.blocked"]
    assert blocked and blocked[0]["failure_code"] == "BUDGET_REQUEST_PROMPT_TOKENS"
    assert {"scope", "limit", "observed", "action"} <= set(blocked[0])


def _ideas_file(tmp_path: Path, exploit: int, explore: int) -> Path:
    ideas = [
        {
            "id": f"x{i}",
            "title": f"Reversal variant {i}",
            "hypothesis": "Short-term price reversal on volume.",
            "lane": "exploit",
            "priority": 9,
            "target_subcategories": ["pv-price-volume"],
        }
        for i in range(exploit)
    ] + [
        {
            "id": f"e{i}",
            "title": f"Unusual data {i}",
            "hypothesis": "Sentiment and option volatility drift.",
            "lane": "explore",
            "priority": 1,
        }
        for i in range(explore)
    ]
    return write_json(tmp_path / "ideas.json", ideas)


def _run_batch(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = run(["run-batch", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_check4_logs_are_kept_and_exported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    code, out = _run_batch(["--generate", "4", "--db", str(db), "--config", _cfg(tmp_path)], capsys)
    assert code == 0 and out["valid"] == 4
    run_id = out["run_id"]
    export = tmp_path / "events.jsonl"
    assert run(["events", "export", "--run", run_id, "--db", str(db), "--output", str(export)]) == 0
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    assert all({"run_id", "time", "name", "step", "idea_id", "lane", "payload"} <= set(r) for r in rows)
    names = [r["name"] for r in rows]
    assert names[0] == "metadata_sync" and names[-1] == "cycle_completed"
    for name in (
        "budget.check_passed",
        "budget.reserved",
        "budget.settled",
        "llm.call",
        "candidate.created",
        "kpi.batch",
    ):
        assert name in names, name
    passed = next(r for r in rows if r["name"] == "budget.check_passed")
    assert {
        "prompt_tokens",
        "completion_tokens",
        "topk",
        "lane_ratio",
        "over_budget",
        "fallback_count",
    } <= set(passed["payload"])
    store = SQLiteStore(db)
    calls = store.llm_calls(run_id)
    assert len(calls) == 4 and all(c["reservation_id"] for c in calls)
    assert all(r.state == "settled" for r in LedgerStore(store).reservations(run_id=run_id))
    assert run(["events", "export", "--run", "nope", "--db", str(db)]) == 2


def _cfg(tmp_path: Path, **overrides: Any) -> str:
    return str(_config(tmp_path, max_cost_per_day="1.00", **overrides))


def test_check5_explore_floor_and_deferral(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    ideas = _ideas_file(tmp_path, exploit=6, explore=3)
    tight = _cfg(
        tmp_path, max_tokens_per_day=9_000, min_explore_candidates_per_batch=2, max_completion_tokens=1000
    )
    code, out = _run_batch(["--ideas", str(ideas), "--db", str(db), "--config", tight], capsys)
    assert code == 3 and out["deferred"] > 0 and out["explore_floor_preserved"] > 0
    store = SQLiteStore(db)
    cands = store.list_candidates(out["run_id"])
    assert sum(1 for c in cands if c["lane"] == "explore") >= 2  # the floor held
    floor = [e.payload for e in store.events(out["run_id"]) if e.name == "budget.explore_floor_preserved"]
    assert floor and all(p["deferred_idea_id"].startswith("x") for p in floor)
    pending = LedgerStore(store).deferred("pending")
    explore_deferred = [d for d in pending if d["lane"] == "explore"]
    assert len(explore_deferred) <= 3 - 2  # only the explore idea above the floor could be deferred
    assert any(d["lane"] == "exploit" for d in pending)
    # the next batch picks them up
    code2, out2 = _run_batch(["--generate", "1", "--db", str(db), "--config", _cfg(tmp_path)], capsys)
    assert code2 == 0 and out2["ideas"] == 1 + len(pending)
    assert LedgerStore(store).deferred("pending") == []


def test_check6_kpis_are_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    code, out = _run_batch(
        ["--generate", "5", "--db", str(db), "--config", _cfg(tmp_path), "--seed", "4"], capsys
    )
    assert code == 0
    rows = LedgerStore(SQLiteStore(db)).kpis(out["run_id"])
    assert {r["level"] for r in rows} == {"batch", "run"}
    batch = next(r for r in rows if r["level"] == "batch")
    assert batch["coverage"] >= 1 and 0 < batch["coverage_share"] <= 1 and 0 <= batch["novelty"] <= 1
    done = next(e.payload for e in SQLiteStore(db).events(out["run_id"]) if e.name == "cycle_completed")
    assert done["coverage"] == batch["coverage"] and done["novelty"] == batch["novelty"]


def test_identical_requests_are_served_from_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    args = ["--generate", "3", "--db", str(db), "--config", _cfg(tmp_path), "--seed", "7"]
    _, first = _run_batch(args, capsys)
    _, second = _run_batch(args, capsys)
    # exploit prompts repeat exactly; explore packs change with the store's history (novelty bonus)
    exploit = first["lanes"]["exploit"]
    assert first["cache_hits"] == 0 and second["cache_hits"] == exploit["ideas"] == 2
    assert second["lanes"]["exploit"]["tokens"] == 0 and second["tokens_saved"] == exploit["tokens"]
    hits = [c for c in SQLiteStore(db).llm_calls(second["run_id"]) if c["cache_hit"]]
    assert len(hits) == 2 and all(c["cost"] == "0" and c["reservation_id"] is None for c in hits)


def test_budget_schema_validate_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["budget", "schema"]) == 0
    assert "max_prompt_tokens" in json.loads(capsys.readouterr().out)["properties"]
    assert run(["budget", "validate", str(REPO / "configs" / "llm_budget.json")]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"exploit_ratio": 0.8, "explore_ratio": 0.3}))
    assert run(["budget", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "explore_ratio" in err and "0.3" in err
    db = tmp_path / "s.db"
    assert run(["budget", "status", "--db", str(db), "--config", _cfg(tmp_path), "--json"]) == 0
    scopes = {s["scope"]: s for s in json.loads(capsys.readouterr().out)["scopes"]}
    assert scopes["day"]["spent"] == 0 and Decimal(scopes["money_day"]["limit"]) == Decimal("1.00")
    assert scopes["day"]["window_end"].endswith("Z")
