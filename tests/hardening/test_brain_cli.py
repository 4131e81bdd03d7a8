"""The BRAIN client through ``simulate-candidates`` against the fake BRAIN on 127.0.0.1 (issue 12:
secrets, credentials, optional follow-ups, --interactive-login, exit codes)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from brain_agent.errors import EXIT_SOME_FAILED

from .conftest import REPO

sys.path.insert(0, str(REPO / "tests" / "simulation" / "brain"))
from fake_brain import DEMO_EMAIL, DEMO_PASSWORD, FakeBrain, FakeClock, FakeConfig, signed_in

from brain_agent.simulation.backend import SimulationJob, SimulationSettings
from brain_agent.simulation.brain import (
    BrainBackend,
    BrainSession,
    Credentials,
    RetryPolicy,
    SessionStore,
)

SECRET = "Sup3rSecretPW"


@pytest.fixture
def brain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeBrain]:
    with signed_in(monkeypatch, tmp_path) as fake:
        yield fake


@pytest.fixture
def candidates(tmp_path: Path) -> Path:
    path = tmp_path / "candidates.json"
    path.write_text(json.dumps([{"candidate_id": "c1", "expression": "rank(-returns)"}]))
    return path


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_a_password_in_the_brain_url_is_refused_and_never_stored(
    cli: Any, brain: FakeBrain, candidates: Path, tmp_path: Path
) -> None:
    url = brain.url.replace("http://", f"http://someone:{SECRET}@")
    out = tmp_path / "results.json"
    r = cli(
        "simulate-candidates",
        "--backend",
        "brain",
        "--brain-url",
        url,
        "--input",
        candidates,
        "--output",
        out,
    )
    assert r.code == 2, r.err
    assert "credentials" in r.err and "URL" in r.err
    assert SECRET not in r.out + r.err
    assert SECRET.encode() not in _all_bytes(tmp_path), "the password reached a file"
    assert not out.exists()


def test_a_password_in_brain_api_url_is_refused_too(
    cli: Any, brain: FakeBrain, candidates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRAIN_API_URL", brain.url.replace("http://", f"http://u:{SECRET}@"))
    r = cli(
        "simulate-candidates", "--backend", "brain", "--input", candidates, "--output", tmp_path / "o.json"
    )
    assert r.code == 2 and SECRET not in r.err
    assert SECRET.encode() not in _all_bytes(tmp_path)


def test_an_old_session_file_holding_a_url_password_is_scrubbed(
    cli: Any, brain: FakeBrain, candidates: Path, tmp_path: Path
) -> None:
    session = tmp_path / "session.json"
    session.write_text(json.dumps({"base_url": f"http://u:{SECRET}@example.invalid", "cookies": {"t": "x"}}))
    session.chmod(0o600)
    r = cli(
        "simulate-candidates", "--backend", "brain", "--brain-url", brain.url, "--input", candidates,
        "--output", tmp_path / "o.json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert SECRET not in session.read_text()


def test_wrong_credentials_are_a_non_zero_exit(
    cli: Any, brain: FakeBrain, candidates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRAIN_PASSWORD", "wrong-" + SECRET)
    r = cli(
        "simulate-candidates", "--backend", "brain", "--brain-url", brain.url, "--input", candidates,
        "--output", tmp_path / "o.json",
    )  # fmt: skip
    assert r.code == 2, r.out + r.err
    assert SECRET not in r.out + r.err


def test_missing_credentials_are_a_non_zero_exit(
    cli: Any, brain: FakeBrain, candidates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRAIN_EMAIL")
    monkeypatch.delenv("BRAIN_PASSWORD")
    monkeypatch.setenv("BRAIN_CREDENTIALS_FILE", str(tmp_path / "nope.json"))
    r = cli(
        "simulate-candidates", "--backend", "brain", "--brain-url", brain.url, "--input", candidates,
        "--output", tmp_path / "o.json",
    )  # fmt: skip
    assert r.code == 2, r.out + r.err
    assert "nope.json" in r.flat_err


def test_a_world_readable_credentials_file_is_a_non_zero_exit(
    cli: Any, brain: FakeBrain, candidates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRAIN_EMAIL")
    monkeypatch.delenv("BRAIN_PASSWORD")
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"email": DEMO_EMAIL, "password": DEMO_PASSWORD}))
    creds.chmod(0o644)
    monkeypatch.setenv("BRAIN_CREDENTIALS_FILE", str(creds))
    r = cli(
        "simulate-candidates", "--backend", "brain", "--brain-url", brain.url, "--input", candidates,
        "--output", tmp_path / "o.json",
    )  # fmt: skip
    assert r.code == 2, r.out + r.err
    assert "0644" in r.err and DEMO_PASSWORD not in r.err


@pytest.mark.parametrize("status", [404])
def test_a_failed_pnl_recordset_keeps_the_metrics(
    cli: Any, brain: FakeBrain, candidates: Path, tmp_path: Path, status: int
) -> None:
    original = brain.handle

    def handle(method: str, target: str, headers: dict[str, str], raw: bytes) -> Any:
        if method == "GET" and "/recordsets/" in target:
            return status, {"Content-Type": "application/json"}, b'{"detail": "nope"}'
        return original(method, target, headers, raw)

    brain.handle = handle  # type: ignore[method-assign]
    out = tmp_path / "o.json"
    r = cli(
        "simulate-candidates", "--backend", "brain", "--brain-url", brain.url, "--input", candidates,
        "--output", out,
    )  # fmt: skip
    assert r.code == 0, r.out + r.err
    (record,) = json.loads(out.read_text())
    assert record["status"] == "COMPLETE"
    assert record["result"]["is"]["sharpe"] is not None
    assert record["result"]["pnl"] is None and record["result"]["pnl_unavailable"]


def test_interactive_login_needs_the_brain_backend(cli: Any, candidates: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    r = cli("simulate-candidates", "--interactive-login", "--input", candidates, "--output", out)
    assert r.code == 2 and "--backend brain" in r.err
    assert not out.exists(), "the local simulator ran anyway"


def test_any_errored_candidate_is_a_documented_non_zero_exit(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            [
                {"candidate_id": "good", "expression": "rank(-returns)"},
                {"candidate_id": "bad", "expression": "rank(no_such_field_anywhere)"},
            ]
        )
    )
    out = tmp_path / "o.json"
    r = cli("simulate-candidates", "--input", path, "--output", out)
    statuses = {rec["candidate_id"]: rec["status"] for rec in json.loads(out.read_text())}
    assert statuses == {"good": "COMPLETE", "bad": "ERROR"}
    assert r.code == EXIT_SOME_FAILED, r.err
    assert "ERROR" in r.err


def test_all_complete_is_exit_0(cli: Any, candidates: Path, tmp_path: Path) -> None:
    assert cli("simulate-candidates", "--input", candidates, "--output", tmp_path / "o.json").code == 0


def test_a_recordset_answering_503_after_retries_keeps_the_metrics(tmp_path: Path) -> None:
    clock = FakeClock()
    with FakeBrain(FakeConfig(retry_after="0.02", polls_to_complete=1), now=clock.timestamp) as fake:
        original = fake.handle

        def handle(method: str, target: str, headers: dict[str, str], raw: bytes) -> Any:
            if method == "GET" and "/recordsets/" in target:
                return 503, {"Content-Type": "application/json"}, b"{}"
            return original(method, target, headers, raw)

        fake.handle = handle  # type: ignore[method-assign]
        session = BrainSession(
            fake.url,
            credentials=lambda: Credentials(DEMO_EMAIL, DEMO_PASSWORD, source="test"),
            store=SessionStore(tmp_path / "session.json"),
            clock=clock,
            policy=RetryPolicy(jitter=0.0),
            notify=lambda message: None,
        )
        with BrainBackend(session) as backend:
            job = SimulationJob(candidate_id="c1", expression="rank(-returns)", settings=SimulationSettings())
            (outcome,) = backend.wait(backend.submit([job]))
    assert outcome.status == "COMPLETE"
    assert outcome.result is not None and outcome.result["is"]["sharpe"] is not None
    assert outcome.result["pnl"] is None and "503" in outcome.result["pnl_unavailable"]


def test_sync_into_a_file_or_device_is_refused_before_any_request(
    cli: Any, brain: FakeBrain, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.write_text("keep me")
    for out in (plain, plain / "pack", Path("/dev/null")):
        r = cli("sync-knowledge-pack", "--brain-url", brain.url, "--output-dir", out)
        assert r.code == 2, r.err
        assert str(out) in r.flat_err
    assert plain.read_text() == "keep me"
    assert brain.requests == [], "API calls were spent on a pack folder that cannot be written"
