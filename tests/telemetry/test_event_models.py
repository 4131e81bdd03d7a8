"""Typed events: every name has a model, the published schema is current, and the one write path
rejects unknown product events and mistyped payloads, naming the key."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry import event_models as em
from brain_agent.telemetry import events as ev

DOC = Path(__file__).resolve().parents[2] / "docs" / "event-schema.json"


def test_docs_event_schema_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == em.render(), (
        "docs/event-schema.json is stale: run `python -m brain_agent.telemetry.event_models "
        "docs/event-schema.json` (then `cd web && npm run gen:events`)"
    )


def test_every_event_name_has_a_model() -> None:
    names = {v for k, v in vars(ev).items() if k.isupper() and isinstance(v, str)}
    assert names <= set(em.MODELS), sorted(names - set(em.MODELS))
    assert all(em.is_product_name(n) for n in em.MODELS)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "events.db")
    s.create_run("batch", {}, run_id="r")
    return s


def test_unknown_product_event_fails_loudly(store: SQLiteStore) -> None:
    with pytest.raises(em.UnknownEventError, match=r"'budget\.not_a_real_event'.*event_models\.py"):
        store.append_event("r", "budget.not_a_real_event", {"tokens": 5})
    assert store.last_event_id("r") == 0  # nothing stored
    assert store.append_event("r", "test.tick", {"i": 1}) > 0  # outside the product namespaces: free


def test_mistyped_payload_names_the_key(store: SQLiteStore) -> None:
    with pytest.raises(em.EventPayloadError, match=r"'llm\.call' payload key 'prompt_tokens'"):
        store.append_event("r", ev.LLM_CALL, {"prompt_tokens": "many"})
    with pytest.raises(em.EventPayloadError, match="cost"):
        store.append_event("r", ev.BUDGET_SETTLED, {"cost": "lots"})
    # extra keys are allowed (adding a key is not a breaking change)
    assert store.append_event("r", ev.LLM_CALL, {"prompt_tokens": 3, "cost": "0.01", "new_key": [1]}) > 0


def test_a_model_can_be_emitted_directly(store: SQLiteStore) -> None:
    event_id = store.append_event("r", em.LlmCall(prompt_tokens=10, completion_tokens=2, cost="0.001"))
    stored = store.events("r")[-1]
    assert stored.id == event_id and stored.name == "llm.call"
    assert stored.payload == {"prompt_tokens": 10, "completion_tokens": 2, "cost": "0.001"}


def test_warn_mode_logs_instead(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(em.CHECK_ENV, "warn")
    with caplog.at_level(logging.WARNING, logger="brain_agent.telemetry"):
        assert store.append_event("r", "run.not_a_real_event", {}) > 0
    assert "run.not_a_real_event" in caplog.text


def test_registering_needs_a_name_and_is_one_per_event() -> None:
    with pytest.raises(TypeError, match="name"):

        @em.event_model
        class Nameless(em.EventPayload):
            pass

    with pytest.raises(TypeError, match="already has a model"):

        @em.event_model
        class Twice(em.EventPayload):
            name = ev.LLM_CALL  # type: ignore[misc]
