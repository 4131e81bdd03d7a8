"""The records every store backend shares: runs, events (``append_event``), the LLM call log,
candidates. One write path per record kind, in SQL both SQLite and PostgreSQL run (``?``
placeholders, ``ON CONFLICT``, ``RETURNING``); the backends (``sqlite_store``, ``postgres_store``)
supply the connection, transactions and migrations. Nothing outside ``storage/`` sees which.
"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from brain_agent.errors import NotFoundError
from brain_agent.storage.liveness import holder_dead, holder_id

if TYPE_CHECKING:
    from brain_agent.storage.checkpoint_store import CheckpointStore
    from brain_agent.storage.ledger_store import LedgerStore
    from brain_agent.storage.simulation_store import SimulationStore
    from brain_agent.telemetry.event_models import EventPayload

RUN_STALE_AFTER_S = 900.0
"""A running run with no heartbeat for this long is taken as dead (heartbeats come every minute)."""


class Row(Protocol):
    """A result row: by column name and by position (``sqlite3.Row`` and our PostgreSQL rows)."""

    def __getitem__(self, key: int | str) -> Any: ...
    def keys(self) -> Any: ...


def new_id(prefix: str) -> str:
    """A sortable-enough unique id: prefix, millisecond time, random suffix."""
    return f"{prefix}_{int(time.time() * 1000):x}{uuid.uuid4().hex[:8]}"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


@dataclass(frozen=True)
class Event:
    id: int
    run_id: str
    ts: float
    name: str
    step: str | None
    idea_id: str | None
    lane: str | None
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "ts": self.ts,
            "name": self.name,
            "step": self.step,
            "idea_id": self.idea_id,
            "lane": self.lane,
            "payload": self.payload,
        }


@dataclass(frozen=True)
class LLMCallRecord:
    provider: str
    model: str
    purpose: str
    uncached_input: int = 0
    cached_input: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0
    latency_ms: float = 0.0
    cost: str = "0"
    cache_hit: bool = False
    run_id: str | None = None
    idea_id: str | None = None
    request_key: str | None = None
    reservation_id: str | None = None
    raw_usage: dict[str, Any] = field(default_factory=dict)
    response_text: str | None = None
    error: str | None = None


class RecordStore:
    """Runs, events, LLM calls and candidates on any backend. A backend provides ``conn`` (this
    thread's connection), ``transaction()`` (a write transaction; nested calls join it),
    ``_lock_events`` and ``where`` (the store, for messages, never with a password),
    ``read_only`` and ``dialect``."""

    dialect: str = "sqlite"
    read_only: bool = False

    @property
    def conn(self) -> Any:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    @property
    def where(self) -> str:
        raise NotImplementedError

    def _lock_events(self, conn: Any) -> None:
        """Make event ids commit in id order (a follower reading by id never skips one)."""

    @property
    def ledger(self) -> LedgerStore:
        """The budget tables of this store (reservations, counters, calibration, deferred ideas…)."""
        from brain_agent.storage.ledger_store import LedgerStore

        found = self.__dict__.get("_ledger")
        if found is None:
            found = self.__dict__["_ledger"] = LedgerStore(self)
        return cast("LedgerStore", found)

    @property
    def simulations(self) -> SimulationStore:
        """The simulation rows of this store."""
        from brain_agent.storage.simulation_store import SimulationStore

        found = self.__dict__.get("_simulations")
        if found is None:
            found = self.__dict__["_simulations"] = SimulationStore(self)
        return cast("SimulationStore", found)

    @property
    def checkpoints(self) -> CheckpointStore:
        """The dashboard's view checkpoints in this store."""
        from brain_agent.storage.checkpoint_store import CheckpointStore

        found = self.__dict__.get("_checkpoints")
        if found is None:
            found = self.__dict__["_checkpoints"] = CheckpointStore(self)
        return cast("CheckpointStore", found)

    def checkpoint(self) -> None:
        """Housekeeping the heartbeat thread runs every few seconds (SQLite: fold the WAL in)."""

    def close(self) -> None:
        """Close this thread's connection."""

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, kind: str, config: dict[str, Any] | None = None, run_id: str | None = None) -> str:
        run_id = run_id or new_id("run")
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO runs (run_id, kind, status, created_at, config, holder, heartbeat_at) "
                "VALUES (?, ?, 'running', ?, ?, ?, ?)",
                (run_id, kind, now, _dumps(config or {}), holder_id(), now),
            )
        return run_id

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any] | None = None) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE run_id = ?",
                (status, time.time(), _dumps(summary or {}), run_id),
            )

    def touch_runs(self, run_ids: list[str], *, now: float) -> None:
        """Renew the heartbeat of running runs (their process is alive)."""
        if not run_ids:
            return
        marks = ",".join("?" * len(run_ids))
        with self.transaction() as conn:
            conn.execute(
                f"UPDATE runs SET heartbeat_at = ? WHERE status = 'running' AND run_id IN ({marks})",
                (now, *run_ids),
            )

    def reap_dead_runs(self, *, now: float, stale_after: float = RUN_STALE_AFTER_S) -> list[str]:
        """Mark ``interrupted`` every ``running`` run whose process is gone: a holder on this host
        whose pid is dead, or any run without a heartbeat for ``stale_after`` seconds (a process on
        another machine, or one from before holders were recorded). Each gets a ``run.interrupted``
        event; returns their ids. A read-only store is left as it is."""
        if self.read_only:
            return []
        rows = self.conn.execute(
            "SELECT run_id, holder, COALESCE(heartbeat_at, created_at) AS beat FROM runs "
            "WHERE status = 'running'"
        ).fetchall()
        dead = [
            (str(r["run_id"]), r["holder"])
            for r in rows
            if float(r["beat"]) < now - stale_after or (r["holder"] and holder_dead(str(r["holder"])))
        ]
        reaped: list[str] = []
        for run_id, holder in dead:
            with self.transaction() as conn:
                cur = conn.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = ? "
                    "WHERE run_id = ? AND status = 'running'",
                    (now, run_id),
                )
                if cur.rowcount:
                    reaped.append(run_id)
                    self.append_event(
                        run_id,
                        "run.interrupted",
                        {"holder": holder, "reason": "its process is gone", "detected_by": holder_id()},
                        step="pipeline",
                    )
        return reaped

    def get_run(self, run_id: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"run {run_id!r} not found in {self.where}", run_id=run_id)
        return _run_dict(row)

    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT * FROM runs ORDER BY created_at DESC, run_id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_run_dict(row) for row in rows]

    # -- events ----------------------------------------------------------------------------
    def append_event(
        self,
        run_id: str,
        name: str | EventPayload,
        payload: dict[str, Any] | None = None,
        *,
        step: str | None = None,
        idea_id: str | None = None,
        lane: str | None = None,
        ts: float | None = None,
    ) -> int:
        """Append one event and return its id (the cursor). The one write path for events.
        ``name`` may be a typed payload model (``telemetry/event_models.py``) instead of a name and a
        payload; either way the payload is checked against its model first."""
        from brain_agent.telemetry.event_models import EventPayload, check_event  # storage imports alone

        if isinstance(name, EventPayload):
            model = name
            payload = model.payload()
            name = model.name
        check_event(name, payload)
        with self.transaction() as conn:
            self._lock_events(conn)
            row = conn.execute(
                "INSERT INTO events (run_id, ts, name, step, idea_id, lane, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (run_id, time.time() if ts is None else ts, name, step, idea_id, lane, _dumps(payload or {})),
            ).fetchone()
            return int(row[0])

    def events(
        self, run_id: str | None = None, after: int = 0, limit: int = 1000, names: list[str] | None = None
    ) -> list[Event]:
        sql = "SELECT * FROM events WHERE id > ?"
        params: list[Any] = [after]
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        if names:
            sql += f" AND name IN ({','.join('?' * len(names))})"
            params.extend(names)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        return [_event(row) for row in self.conn.execute(sql, params)]

    def last_event_id(self, run_id: str | None = None) -> int:
        if run_id is None:
            row = self.conn.execute("SELECT MAX(id) FROM events").fetchone()
        else:
            row = self.conn.execute("SELECT MAX(id) FROM events WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0] or 0)

    # -- LLM call log ----------------------------------------------------------------------
    def record_llm_call(self, record: LLMCallRecord) -> int:
        """The one write path for LLM calls (successful, failed and cache hits)."""
        with self.transaction() as conn:
            cur = conn.execute(
                """INSERT INTO llm_calls (run_id, idea_id, ts, provider, model, purpose, request_key,
                       uncached_input, cached_input, cache_write, output, reasoning, latency_ms, cost,
                       cache_hit, reservation_id, raw_usage, response_text, error)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (
                    record.run_id,
                    record.idea_id,
                    time.time(),
                    record.provider,
                    record.model,
                    record.purpose,
                    record.request_key,
                    record.uncached_input,
                    record.cached_input,
                    record.cache_write,
                    record.output,
                    record.reasoning,
                    record.latency_ms,
                    record.cost,
                    int(record.cache_hit),
                    record.reservation_id,
                    _dumps(record.raw_usage),
                    record.response_text,
                    record.error,
                ),
            ).fetchone()
            return int(cur[0])

    def llm_calls(self, run_id: str | None = None) -> list[dict[str, Any]]:
        if run_id is None:
            rows = self.conn.execute("SELECT * FROM llm_calls ORDER BY id").fetchall()
        else:
            rows = self.conn.execute(
                "SELECT * FROM llm_calls WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item["raw_usage"] = json.loads(item["raw_usage"])
            item["cache_hit"] = bool(item["cache_hit"])
            out.append(item)
        return out

    def cached_response(self, request_key: str) -> dict[str, Any] | None:
        """The newest successful, non-cache-hit call with this request key, if any."""
        row = self.conn.execute(
            "SELECT * FROM llm_calls WHERE request_key = ? AND error IS NULL AND cache_hit = 0 "
            "AND response_text IS NOT NULL ORDER BY id DESC LIMIT 1",
            (request_key,),
        ).fetchone()
        return None if row is None else dict(row)

    # -- candidates ------------------------------------------------------------------------
    def save_candidate(self, candidate: dict[str, Any]) -> None:
        """Insert or replace a candidate record (keys: candidate_id, run_id, idea_id, lane, expression,
        status, valid, error_code, fields, operators, subcategories; everything is also kept in ``data``)."""
        with self.transaction() as conn:
            conn.execute(
                """INSERT INTO candidates (candidate_id, run_id, idea_id, lane, created_at,
                       expression, status, valid, error_code, fields, operators, subcategories, data)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (candidate_id) DO UPDATE SET run_id = excluded.run_id,
                       idea_id = excluded.idea_id, lane = excluded.lane, created_at = excluded.created_at,
                       expression = excluded.expression, status = excluded.status, valid = excluded.valid,
                       error_code = excluded.error_code, fields = excluded.fields,
                       operators = excluded.operators, subcategories = excluded.subcategories,
                       data = excluded.data""",
                (
                    candidate["candidate_id"],
                    candidate.get("run_id"),
                    candidate.get("idea_id"),
                    candidate.get("lane"),
                    candidate.get("created_at", time.time()),
                    candidate.get("expression"),
                    candidate.get("status", "created"),
                    int(bool(candidate.get("valid"))),
                    candidate.get("error_code"),
                    _dumps(sorted(candidate.get("fields", []))),
                    _dumps(sorted(candidate.get("operators", []))),
                    _dumps(sorted(candidate.get("subcategories", []))),
                    _dumps(candidate),
                ),
            )

    def set_candidate_status(self, candidate_id: str, status: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE candidates SET status = ? WHERE candidate_id = ?", (status, candidate_id))

    def get_candidate(self, candidate_id: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM candidates WHERE candidate_id = ?", (candidate_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"candidate {candidate_id!r} not found in {self.where}")
        return _candidate_dict(row)

    def list_candidates(
        self, run_id: str | None = None, *, before: float | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM candidates WHERE 1 = 1"
        params: list[Any] = []
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        if before is not None:
            sql += " AND created_at < ?"
            params.append(before)
        rows = self.conn.execute(sql + " ORDER BY created_at, candidate_id", params).fetchall()
        return [_candidate_dict(row) for row in rows]

    def usage_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """How often each field and each subcategory appeared in the candidates of *completed* runs
        (for exploration). Candidates of running, interrupted or failed runs do not count, so a
        rerun of an interrupted batch renders the same prompts and is served from the cache."""
        fields: dict[str, int] = {}
        subs: dict[str, int] = {}
        rows = self.conn.execute(
            "SELECT c.fields, c.subcategories FROM candidates c "
            "LEFT JOIN runs r ON r.run_id = c.run_id WHERE c.run_id IS NULL OR r.status = 'completed'"
        )
        for f_json, s_json in rows:
            for f in json.loads(f_json):
                fields[f] = fields.get(f, 0) + 1
            for s in json.loads(s_json):
                subs[s] = subs.get(s, 0) + 1
        return fields, subs


def _event(row: Row) -> Event:
    return Event(
        id=row["id"],
        run_id=row["run_id"],
        ts=row["ts"],
        name=row["name"],
        step=row["step"],
        idea_id=row["idea_id"],
        lane=row["lane"],
        payload=json.loads(row["payload"]),
    )


def _run_dict(row: Row) -> dict[str, Any]:
    out = dict(row)
    out["config"] = json.loads(out["config"])
    out["summary"] = json.loads(out["summary"])
    return out


def _candidate_dict(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(row["data"])
    out.update(
        candidate_id=row["candidate_id"],
        status=row["status"],
        valid=bool(row["valid"]),
        error_code=row["error_code"],
        created_at=row["created_at"],
    )
    return out
