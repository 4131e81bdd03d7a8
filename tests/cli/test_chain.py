"""The spec's §1.3 step-1 chain through the CLI, and its bad-input paths (exit 2, named problem)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from brain_agent.cli import run
from brain_agent.expression import check
from brain_agent.knowledge import load_knowledge_pack

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "artifacts" / "step-08" / "ideaspec.example.json"
sys.path.insert(0, str(REPO / "tests"))
from llm.fake_openai import FakeOpenAIServer  # noqa: E402


def _spec_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command exactly as the spec writes it: PYTHONPATH=src python3 -m brain_agent.cli …"""
    return subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", *args],
        cwd=REPO,
        env={**env, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_spec_chain_runs_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "BRAIN_AGENT_DB": str(tmp_path / "chain.db")}
    idea, pack, cand = tmp_path / "idea_probe.json", tmp_path / "retrieval_probe.json", tmp_path / "cand.json"
    r = _spec_cli(
        "run-idea-agent",
        "--llm-provider",
        "mock",
        "--input",
        str(EXAMPLE.relative_to(REPO)),
        "--output",
        str(idea),
        env=env,
    )
    assert r.returncode == 0, r.stderr
    r = _spec_cli("build-retrieval-pack", "--idea", str(idea), "--output", str(pack), env=env)
    assert r.returncode == 0, r.stderr
    r = _spec_cli(
        "run-alpha-maker",
        "--llm-provider",
        "mock",
        "--idea",
        str(idea),
        "--retrieval-pack",
        str(pack),
        "--knowledge-pack-dir",
        "data/meta/index",
        "--output",
        str(cand),
        env=env,
    )
    assert r.returncode == 0, r.stderr
    candidate = json.loads(cand.read_text())
    assert candidate["idea_id"] == json.loads(EXAMPLE.read_text())["id"]
    assert candidate["run_id"].startswith("run_")
    assert candidate["usage"]["prompt_tokens"] > 100
    result = check(candidate["expression"], load_knowledge_pack(REPO / "data/meta/index"))
    assert result.ok, result.diagnostics
    assert candidate["valid"] is True
    packed = json.loads(pack.read_text())
    assert len(packed["fields"]) >= 200 and packed["default_topk"]["fields"] > 0


def test_chain_events_share_the_run_id(tmp_path: Path, _isolated_store: Path) -> None:
    from brain_agent.storage import SQLiteStore

    idea, pack, cand = tmp_path / "i.json", tmp_path / "p.json", tmp_path / "c.json"
    assert run(["build-retrieval-pack", "--idea", str(EXAMPLE), "--output", str(pack)]) == 0
    assert (
        run(["run-alpha-maker", "--idea", str(EXAMPLE), "--retrieval-pack", str(pack), "--output", str(cand)])
        == 0
    )
    run_id = json.loads(cand.read_text())["run_id"]
    store = SQLiteStore(_isolated_store)
    names = [e.name for e in store.events(run_id)]
    assert names[0] == "metadata_sync" and names[-1] == "cycle_completed"
    assert "llm.call" in names and "candidate.created" in names
    calls = store.llm_calls(run_id)
    assert len(calls) == 1 and calls[0]["uncached_input"] > 0 and calls[0]["response_text"]
    assert not idea.exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "does not exist"),
        ("{not json", "invalid JSON at line 1"),
        ('{"id": "a", "title": "t", "hypothesis": "h", "priority": "high"}', "key 'priority'"),
        ('{"id": "a", "title": "t", "hypothesis": "h", "lane": "sideways"}', "key 'lane'"),
        ('[{"id": "a", "title": "t"}]', "key '0.hypothesis'"),
        ("[]", "empty"),
    ],
)
def test_bad_idea_input_exits_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, needle: str
) -> None:
    src = tmp_path / "idea.json"
    if content is not None:
        src.write_text(content)
    out = tmp_path / "out.json"
    code = run(["run-idea-agent", "--input", str(src), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and str(src) in " ".join(err.split())
    assert "Traceback" not in err
    assert not out.exists()


def test_broken_knowledge_pack_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kp = tmp_path / "kp"
    shutil.copytree(REPO / "data/meta/index", kp)
    fields = json.loads((kp / "fields.json").read_text())
    fields["items"][3]["type"] = "SCALAR"
    (kp / "fields.json").write_text(json.dumps(fields))
    code = run(
        [
            "build-retrieval-pack",
            "--idea",
            str(EXAMPLE),
            "--output",
            str(tmp_path / "p.json"),
            "--knowledge-pack-dir",
            str(kp),
        ]
    )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "fields.json" in err and "entry 3" in err and "key 'type'" in err


def test_llm_answer_without_expression_exits_2_and_keeps_raw_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], _isolated_store: Path
) -> None:
    from brain_agent.storage import SQLiteStore

    pack, cand = tmp_path / "p.json", tmp_path / "c.json"
    assert run(["build-retrieval-pack", "--idea", str(EXAMPLE), "--output", str(pack)]) == 0
    with FakeOpenAIServer(reply="Sorry, I cannot think of an alpha today.") as server:
        code = run(
            [
                "run-alpha-maker",
                "--llm-provider",
                "openai",
                "--base-url",
                server.base_url,
                "--model",
                "gpt-4o",
                "--idea",
                str(EXAMPLE),
                "--retrieval-pack",
                str(pack),
                "--output",
                str(cand),
            ]
        )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "no Fast Expression" in err and not cand.exists()
    calls = SQLiteStore(_isolated_store).llm_calls()
    assert calls[-1]["response_text"] == "Sorry, I cannot think of an alpha today."


def test_pack_for_another_idea_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "p.json"
    assert run(["build-retrieval-pack", "--idea", str(EXAMPLE), "--output", str(pack)]) == 0
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**json.loads(EXAMPLE.read_text()), "id": "someone-else"}))
    code = run(
        [
            "run-alpha-maker",
            "--idea",
            str(other),
            "--retrieval-pack",
            str(pack),
            "--output",
            str(tmp_path / "c"),
        ]
    )
    assert code == 2 and "someone-else" in capsys.readouterr().err


def test_validate_expression_reports_codes_and_offsets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["validate-expression", "rank(-ts_delta(close, 5))"]) == 0
    assert "ok" in capsys.readouterr().out
    exprs = tmp_path / "e.txt"
    exprs.write_text("# header\nrank(close)\nts_mean(close, 0)\nrank(no_such_field)\n")
    assert run(["validate-expression", "--file", str(exprs), "--json"]) == 2
    results = json.loads(capsys.readouterr().out)
    assert [r["ok"] for r in results] == [True, False, False]
    assert results[1]["errors"][0]["code"] == "BAD_LOOKBACK"
    assert results[2]["errors"][0]["code"] == "UNKNOWN_FIELD"
    assert results[2]["errors"][0]["location"] == {"start": 5, "end": 18}
    assert run(["validate-expression"]) == 2
