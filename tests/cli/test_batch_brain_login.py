"""``run-batch --simulate brain`` checks the BRAIN credentials once, up front, against the fake BRAIN on
127.0.0.1: wrong or missing credentials exit 2 before any LLM call or run, not one error per candidate."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from brain_agent.cli import run
from brain_agent.errors import EXIT_BAD_INPUT
from brain_agent.storage import SQLiteStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "simulation" / "brain"))
from fake_brain import FakeBrain, signed_in


@pytest.fixture
def brain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeBrain]:
    with signed_in(monkeypatch, tmp_path) as fake:
        yield fake


def _batch(brain: FakeBrain) -> list[str]:
    return ["run-batch", "--generate", "3", "--seed", "2", "--simulate", "brain", "--brain-url", brain.url]


def _nothing_ran(db: Path) -> None:
    store = SQLiteStore(db)
    try:
        assert store.list_runs() == [], "a run was started before the credentials were checked"
        (calls,) = store.conn.execute("SELECT COUNT(*) FROM llm_calls").fetchone()
        assert calls == 0, f"{calls} LLM call(s) were made before the credentials were checked"
    finally:
        store.close()


def test_wrong_credentials_stop_the_batch_before_any_llm_call(
    capsys: pytest.CaptureFixture[str],
    brain: FakeBrain,
    monkeypatch: pytest.MonkeyPatch,
    _isolated_store: Path,
) -> None:
    monkeypatch.setenv("BRAIN_PASSWORD", "not-the-password")
    code = run(_batch(brain))
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    assert "refused the credentials" in err and "not-the-password" not in err
    assert err.count("error:") == 1, err
    assert [m for m, t in brain.requests] == ["POST"], brain.requests  # one login, no simulation
    _nothing_ran(_isolated_store)


def test_missing_credentials_name_the_file(
    capsys: pytest.CaptureFixture[str],
    brain: FakeBrain,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    _isolated_store: Path,
) -> None:
    monkeypatch.delenv("BRAIN_EMAIL")
    monkeypatch.delenv("BRAIN_PASSWORD")
    monkeypatch.setenv("BRAIN_CREDENTIALS_FILE", str(tmp_path / "nope.json"))
    code = run(_batch(brain))
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_BAD_INPUT, err
    assert "nope.json" in err
    assert brain.requests == []
    _nothing_ran(_isolated_store)


def test_good_credentials_log_in_once_and_simulate(
    capsys: pytest.CaptureFixture[str], brain: FakeBrain, _isolated_store: Path
) -> None:
    code = run([*_batch(brain), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert brain.logins == 1
    assert any(m == "POST" and t.startswith("/simulations") for m, t in brain.requests)
