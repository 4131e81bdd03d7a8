"""``--market`` on simulate-candidates, run-batch and demo, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brain_agent.cli import run
from brain_agent.expression.validator import check
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.simulation.result import AlphaResult
from brain_agent.storage import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
MARKET_FIELDS = {
    "open",
    "high",
    "low",
    "close",
    "volume",
    "returns",
    "adv20",
    "sector",
    "industry",
    "subindustry",
    "market",
}


def _candidates(tmp_path: Path, *expressions: str) -> Path:
    path = tmp_path / "candidates.json"
    items = [{"candidate_id": f"c{i}", "expression": e, "valid": True} for i, e in enumerate(expressions)]
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def test_simulate_candidates_on_sp500(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _candidates(
        tmp_path, "rank(-ts_delta(close, 5))", "group_neutralize(rank(volume / adv20), industry)"
    )
    out = tmp_path / "results.json"
    code = run(
        ["simulate-candidates", "--input", str(source), "--output", str(out), "--market", "sp500-2009-2010"]
    )
    assert code == 0, capsys.readouterr().err
    records = json.loads(out.read_text(encoding="utf-8"))
    assert [r["status"] for r in records] == ["COMPLETE", "COMPLETE"]
    for record in records:
        assert record["backend"] == "local:sp500-2009-2010"
        result = AlphaResult.model_validate(record["result"])
        assert result.pnl is not None and result.pnl.dates[-1] == "2010-08-20"
        assert record["result"]["settings"]["startDate"] == "2009-08-21"
        assert record["result"]["simulator"]["instruments"] == 524
    # the two alphas are different numbers, not one default
    assert records[0]["result"]["is"]["sharpe"] != records[1]["result"]["is"]["sharpe"]


def test_a_field_the_market_lacks_is_unknown_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _candidates(tmp_path, "rank(close)", "rank(cap)")
    out = tmp_path / "results.json"
    code = run(
        ["simulate-candidates", "--input", str(source), "--output", str(out), "--market", "sp500-2009-2010"]
    )
    assert code == 5  # some candidates ended in ERROR
    records = json.loads(out.read_text(encoding="utf-8"))
    assert records[0]["status"] == "COMPLETE"
    assert records[1]["status"] == "ERROR" and records[1]["error"]["code"] == "UNKNOWN_FIELD"
    assert "cap" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["simulate-candidates", "--input", "{c}", "--output", "{o}"],
        ["run-batch", "--generate", "2"],
        ["demo", "--batches", "1", "--exit-when-done"],
    ],
)
def test_unknown_market_exits_2_naming_value_and_choices(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _candidates(tmp_path, "rank(close)")
    argv = [a.format(c=source, o=tmp_path / "o.json") for a in args]
    assert run([*argv, "--market", "nyse-1929"]) == 2
    err = capsys.readouterr().err
    assert "--market 'nyse-1929'" in err and "synthetic, sp500-2009-2010" in err
    assert not (tmp_path / "o.json").exists()


def test_a_real_market_needs_the_local_simulator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _candidates(tmp_path, "rank(close)")
    argv = ["simulate-candidates", "--input", str(source), "--output", str(tmp_path / "o.json")]
    assert run([*argv, "--backend", "brain", "--market", "sp500-2009-2010"]) == 2
    assert "needs --backend local" in capsys.readouterr().err
    assert run(["run-batch", "--generate", "2", "--simulate", "none", "--market", "sp500-2009-2010"]) == 2
    assert "needs --simulate local" in capsys.readouterr().err


def test_run_batch_on_sp500_offers_and_uses_only_its_fields(
    capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    code = run(["run-batch", "--generate", "6", "--seed", "4", "--json", "--market", "sp500-2009-2010"])
    assert code == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert report["simulation"]["simulated"] == report["valid"] > 0
    store = SQLiteStore(_isolated_store)
    run_row = store.get_run(report["run_id"])
    assert run_row["config"]["market"] == "sp500-2009-2010"
    pack = load_knowledge_pack(REPO / "data/meta/index")
    candidates = store.list_candidates(report["run_id"])
    used: set[str] = set()
    for cand in candidates:
        result = check(cand["expression"], pack)  # the whole pack: which fields does it name?
        used |= set(result.fields_used)
    assert used and used <= MARKET_FIELDS, used - MARKET_FIELDS
    events = store.events(report["run_id"], limit=10_000)
    done = [e for e in events if e.name == "simulation.completed"]
    assert done and all(e.payload.get("backend") in (None, "local:sp500-2009-2010") for e in done)


def test_resume_keeps_the_market(capsys: pytest.CaptureFixture[str], _isolated_store: Path) -> None:
    assert run(["run-batch", "--generate", "3", "--seed", "2", "--json", "--market", "sp500-2009-2010"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert run(["run-batch", "--resume", first["run_id"], "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    store = SQLiteStore(_isolated_store)
    assert store.get_run(again["run_id"])["config"]["market"] == "sp500-2009-2010"
    assert again["cache_hits"] == first["candidates"]  # the same prompts: the same restricted retrieval


def test_demo_runs_its_batch_on_the_market(tmp_path: Path) -> None:
    """A real demo (server process + batch process): its batch simulates on sp500-2009-2010."""
    import subprocess
    import sys

    from serving import free_port

    work = tmp_path / "demo"
    argv = ["demo", "--batches", "1", "--exit-when-done", "--pace", "0", "--gap", "0"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "brain_agent.cli",
            *argv,
            "--port",
            str(free_port()),
            "--dir",
            str(work),
            "--market",
            "sp500-2009-2010",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "local simulator on sp500-2009-2010" in proc.stdout
    store = SQLiteStore(work / "demo.db")
    (only,) = store.list_runs()
    assert only["config"]["market"] == "sp500-2009-2010"
    done = [e for e in store.events(only["run_id"], limit=100_000) if e.name == "simulation.completed"]
    assert done, "the demo's batch simulated nothing"
