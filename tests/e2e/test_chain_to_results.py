"""The spec's §1.3 chain end to end: idea → pack → candidate → simulate-candidates, on the local simulator
and on a fake BRAIN server (real HTTP on loopback); both yield the same BRAIN-shaped schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from brain_agent.cli import run
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.simulation.result import AlphaResult

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "artifacts" / "step-08" / "ideaspec.example.json"
sys.path.insert(0, str(REPO / "tests" / "simulation" / "brain"))
from fake_brain import DEMO_EMAIL, DEMO_PASSWORD, FakeBrain, FakeConfig  # noqa: E402


@pytest.fixture
def candidates(tmp_path: Path) -> Path:
    idea, pack, cand = tmp_path / "idea.json", tmp_path / "pack.json", tmp_path / "cand.json"
    assert run(["run-idea-agent", "--input", str(EXAMPLE), "--output", str(idea)]) == 0
    assert run(["build-retrieval-pack", "--idea", str(idea), "--output", str(pack)]) == 0
    assert (
        run(["run-alpha-maker", "--idea", str(idea), "--retrieval-pack", str(pack), "--output", str(cand)])
        == 0
    )
    listing = tmp_path / "candidates_probe_list.json"
    listing.write_text(json.dumps([json.loads(cand.read_text())]))
    return listing


def _results(path: Path) -> list[dict[str, object]]:
    records = json.loads(path.read_text())
    assert len(records) == 1 and records[0]["status"] == "COMPLETE", records[0].get("error")
    return [records[0]["result"]]


def test_chain_to_local_and_fake_brain_results_share_one_schema(
    candidates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_out = tmp_path / "alpha_result_local.json"
    assert run(["simulate-candidates", "--input", str(candidates), "--output", str(local_out)]) == 0
    (local,) = _results(local_out)

    monkeypatch.setenv("BRAIN_EMAIL", DEMO_EMAIL)
    monkeypatch.setenv("BRAIN_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("BRAIN_SESSION_FILE", str(tmp_path / "session.json"))
    brain_out = tmp_path / "alpha_result_brain.json"
    with FakeBrain(FakeConfig(retry_after="0.05", polls_to_complete=1)) as brain:
        # a real BRAIN knows the whole catalogue; give the fake the shipped pack's names
        pack = load_knowledge_pack(REPO / "data" / "meta" / "index")
        known_ops = {o["name"] for o in brain.operators}
        brain.operators += [
            {"name": n, "definition": o.signature} for n, o in pack.operators.items() if n not in known_ops
        ]
        known_fields = {f["id"] for f in brain.fields}
        brain.fields += [{"id": f} for f in pack.fields if f not in known_fields]
        code = run(
            [
                "simulate-candidates",
                "--backend",
                "brain",
                "--brain-url",
                brain.url,
                "--input",
                str(candidates),
                "--output",
                str(brain_out),
            ]
        )
    assert code == 0
    (remote,) = _results(brain_out)

    a, b = AlphaResult.model_validate(local), AlphaResult.model_validate(remote)
    assert set(a.model_dump(by_alias=True)) == set(b.model_dump(by_alias=True))
    assert set(local) >= {"id", "settings", "regular", "is"} and set(remote) >= {
        "id",
        "settings",
        "regular",
        "is",
    }
    assert {c.name for c in a.is_.checks} >= {"LOW_SHARPE", "LOW_FITNESS"}
    assert {c.name for c in b.is_.checks} >= {"LOW_SHARPE", "LOW_FITNESS"}
    assert DEMO_PASSWORD not in brain_out.read_text()
    assert (tmp_path / "session.json").stat().st_mode & 0o777 == 0o600
