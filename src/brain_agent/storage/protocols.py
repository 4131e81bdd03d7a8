"""What the rest of the code needs from a store, as small protocols. Both backends satisfy all of
them (checked by mypy below); ``open_store(url)`` returns one. Code outside ``storage/`` should ask
for the narrowest protocol it uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from brain_agent.storage.checkpoint_store import CheckpointStore
from brain_agent.storage.ledger_store import Charge, LedgerStore, Refusal, ScopeUsage
from brain_agent.storage.records import Event, LLMCallRecord, RecordStore
from brain_agent.storage.simulation_store import SimulationStore


class RunLog(Protocol):
    def create_run(
        self, kind: str, config: dict[str, Any] | None = None, run_id: str | None = None
    ) -> str: ...
    def finish_run(self, run_id: str, status: str, summary: dict[str, Any] | None = None) -> None: ...
    def get_run(self, run_id: str) -> dict[str, Any]: ...
    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]: ...
    def reap_dead_runs(self, *, now: float, stale_after: float = ...) -> list[str]: ...
    def touch_runs(self, run_ids: list[str], *, now: float) -> None: ...


class EventLog(Protocol):
    def append_event(
        self,
        run_id: str,
        name: Any,
        payload: dict[str, Any] | None = None,
        *,
        step: str | None = None,
        idea_id: str | None = None,
        lane: str | None = None,
        ts: float | None = None,
    ) -> int: ...
    def events(
        self, run_id: str | None = None, after: int = 0, limit: int = 1000, names: list[str] | None = None
    ) -> list[Event]: ...
    def last_event_id(self, run_id: str | None = None) -> int: ...


class CallLog(Protocol):
    def record_llm_call(self, record: LLMCallRecord) -> int: ...
    def llm_calls(self, run_id: str | None = None) -> list[dict[str, Any]]: ...
    def cached_response(self, request_key: str) -> dict[str, Any] | None: ...


class Candidates(Protocol):
    def save_candidate(self, candidate: dict[str, Any]) -> None: ...
    def set_candidate_status(self, candidate_id: str, status: str) -> None: ...
    def get_candidate(self, candidate_id: str) -> dict[str, Any]: ...
    def list_candidates(
        self, run_id: str | None = None, *, before: float | None = None
    ) -> list[dict[str, Any]]: ...
    def usage_counts(self) -> tuple[dict[str, int], dict[str, int]]: ...


class Ledger(Protocol):
    """Reservations (all-or-nothing, linearisable per scope), flights, calibration, KPIs."""

    def reserve(
        self,
        reservation_id: str,
        charges: Sequence[Charge],
        *,
        now: float,
        lease_seconds: float,
        run_id: str | None = None,
        batch_id: str | None = None,
        idea_id: str | None = None,
        lane: str | None = None,
        model: str | None = None,
        purpose: str | None = None,
        holder: str | None = None,
    ) -> Refusal | None: ...
    def settle(
        self, reservation_id: str, actual: dict[str, int], *, now: float, tokens: int, pico: int
    ) -> bool: ...
    def release(self, reservation_id: str, *, now: float, reason: str) -> bool: ...
    def heartbeat(self, reservation_ids: Iterable[str], *, now: float, lease_seconds: float) -> int: ...
    def usage(self, scope_keys: Iterable[str], *, now: float) -> dict[str, ScopeUsage]: ...
    def claim_flight(self, request_key: str, *, now: float, lease_seconds: float) -> bool: ...
    def finish_flight(self, request_key: str) -> None: ...
    def save_kpis(
        self, run_id: str, batch_id: str, level: str, kpis: dict[str, Any], *, now: float
    ) -> None: ...
    def kpis(self, run_id: str) -> list[dict[str, Any]]: ...


class Store(RunLog, EventLog, CallLog, Candidates, Protocol):
    """A whole store: the record protocols, its ledger and simulations, and its housekeeping."""

    @property
    def where(self) -> str: ...
    @property
    def conn(self) -> Any:
        """This thread's connection: for the modules under ``storage/`` only (SQL stays there)."""

    @property
    def ledger(self) -> LedgerStore: ...
    @property
    def simulations(self) -> SimulationStore: ...
    @property
    def checkpoints(self) -> CheckpointStore: ...
    def transaction(self) -> AbstractContextManager[Any]: ...
    def checkpoint(self) -> None: ...
    def close(self) -> None: ...


def _conforms(store: RecordStore, ledger: LedgerStore) -> tuple[Store, Ledger]:
    """Never called: mypy checks here that both backends' base class and the ledger satisfy the
    protocols."""
    return store, ledger
