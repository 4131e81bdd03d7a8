"""run-batch as a library: repeated validation errors → expansion reserve → repair hand-off; a
failing provider releases its hold."""

from __future__ import annotations

from pathlib import Path

from brain_agent.agents.batch import BatchOptions, run_batch
from brain_agent.ideas import IdeaSpec
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.llm.base import LLMRequest, LLMResponse, Usage
from brain_agent.storage import SQLiteStore
from brain_agent.storage.ledger_store import LedgerStore

from .conftest import REPO, FailingProvider, make_config

KNOWLEDGE = REPO / "data" / "meta" / "index"
IDEA = IdeaSpec(id="i1", title="Reversal", hypothesis="Short-term reversal on volume.", lane="exploit")


class UnknownFieldModel:
    """Always answers with a field the pack does not have."""

    name, model = "fake", "mock-alpha-1"

    def __init__(self) -> None:
        self.max_tokens: list[int] = []

    def complete(self, request: LLMRequest) -> LLMResponse:
        self.max_tokens.append(request.max_tokens)
        return LLMResponse(
            "```\nrank(no_such_field_xyz)\n```\n",
            Usage(uncached_input=900, output=12),
            0.0,
            self.name,
            self.model,
        )


def _opts(provider: object, **overrides: object) -> BatchOptions:
    from brain_agent.generation.budget import load_price_table

    return BatchOptions(
        config=make_config(**overrides),
        prices=load_price_table(REPO / "configs" / "prices.json"),
        knowledge_pack=load_knowledge_pack(KNOWLEDGE),
        provider=provider,  # type: ignore[arg-type]
    )


def test_repeated_error_expands_then_hands_off_to_repair(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    model = UnknownFieldModel()
    report = run_batch(store, [IDEA], _opts(model, max_completion_tokens=1200, repeat_error_threshold=2))
    assert report.expansions == 1 and report.needs_repair == 1 and len(model.max_tokens) == 3
    assert set(model.max_tokens) == {1200}  # the hard output cap reaches the provider
    events = store.events(report.run_id)
    grown = [e.payload for e in events if e.name == "budget.expansion_applied"]
    assert grown[0]["error_code"] == "UNKNOWN_FIELD" and grown[0]["stage"] == "fields"
    assert grown[0]["to_k"] > grown[0]["from_k"]
    # the widened prompt's estimate, and it is what the expansion call then reserved
    reserved = [e.payload for e in events if e.name == "budget.reserved"]
    assert grown[0]["tokens"] > 0
    assert reserved[-1]["tokens"] >= grown[0]["tokens"]
    queue = LedgerStore(store).repair_queue()
    assert len(queue) == 1 and queue[0]["error_code"] == "UNKNOWN_FIELD"
    assert store.get_candidate(queue[0]["candidate_id"])["status"] == "needs_repair"
    assert any(e.name == "candidate.needs_repair" for e in events)
    charged = LedgerStore(store).usage([f"expansion:{report.run_id}"], now=1e12)
    assert charged[f"expansion:{report.run_id}"].spent == 912  # the third call was paid from the reserve


def test_failed_call_releases_its_hold(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    report = run_batch(store, [IDEA], _opts(FailingProvider()))
    assert report.errors == 1 and report.candidates == 0
    rows = LedgerStore(store).reservations(run_id=report.run_id)
    assert [r.state for r in rows] == ["released"]
    calls = store.llm_calls(report.run_id)
    assert len(calls) == 1 and calls[0]["error"] and calls[0]["reservation_id"] == rows[0].reservation_id
