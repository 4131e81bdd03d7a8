"""The SQLite store: runs, events (``append_event``), the LLM call log and candidates.

One write path per record kind. WAL mode, a busy timeout and ``BEGIN IMMEDIATE`` write transactions
make it safe for several OS processes sharing one file. Schema changes only through the named,
append-only migrations in ``storage/migrations/``. Other rooms' tables (ledger, simulations) live in
sibling modules that reuse :meth:`SQLiteStore.transaction`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brain_agent.errors import NotFoundError, StoreError

if TYPE_CHECKING:
    from brain_agent.telemetry.event_models import EventPayload

_BUSY_TIMEOUT_MS = 30_000


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


def _migration_scripts() -> list[tuple[str, str]]:
    folder = resources.files("brain_agent.storage") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (folder / name).read_text(encoding="utf-8")) for name in names]


def _statements(script: str) -> Iterator[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer
            buffer = ""
    if buffer.strip() and not buffer.strip().startswith("--"):
        yield buffer


class SQLiteStore:
    """A store on one SQLite file. Cheap to open; one connection per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the store's folder: {exc.strerror}") from None
        self.migrate()

    # -- connection and transactions -------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot open the store: {exc}") from None
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken with ``BEGIN IMMEDIATE`` (serialises writers across processes)."""
        conn = self.conn
        if conn.in_transaction:  # nested: join the outer transaction
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def migrate(self) -> list[str]:
        """Apply pending named migrations; returns the names applied now."""
        applied_now: list[str] = []
        try:
            with self.transaction() as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
                )
                done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
                for name, script in _migration_scripts():
                    if name in done:
                        continue
                    for statement in _statements(script):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
                    applied_now.append(name)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot migrate the store: {exc}") from None
        return applied_now

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, kind: str, config: dict[str, Any] | None = None, run_id: str | None = None) -> str:
        run_id = run_id or new_id("run")
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO runs (run_id, kind, status, created_at, config) VALUES (?, ?, 'running', ?, ?)",
                (run_id, kind, time.time(), _dumps(config or {})),
            )
        return run_id

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any] | None = None) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE run_id = ?",
                (status, time.time(), _dumps(summary or {}), run_id),
            )

    def get_run(self, run_id: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"run {run_id!r} not found in {self.path}", run_id=run_id)
        return _run_dict(row)

    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,)
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
            cur = conn.execute(
                "INSERT INTO events (run_id, ts, name, step, idea_id, lane, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, time.time() if ts is None else ts, name, step, idea_id, lane, _dumps(payload or {})),
            )
            return int(cur.lastrowid or 0)

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
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
            )
            return int(cur.lastrowid or 0)

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
                """INSERT OR REPLACE INTO candidates (candidate_id, run_id, idea_id, lane, created_at,
                       expression, status, valid, error_code, fields, operators, subcategories, data)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
            raise NotFoundError(f"candidate {candidate_id!r} not found in {self.path}")
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
        """How often each field and each subcategory appeared in stored candidates (for exploration)."""
        fields: dict[str, int] = {}
        subs: dict[str, int] = {}
        for f_json, s_json in self.conn.execute("SELECT fields, subcategories FROM candidates"):
            for f in json.loads(f_json):
                fields[f] = fields.get(f, 0) + 1
            for s in json.loads(s_json):
                subs[s] = subs.get(s, 0) + 1
        return fields, subs


def _event(row: sqlite3.Row) -> Event:
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


def _run_dict(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["config"] = json.loads(out["config"])
    out["summary"] = json.loads(out["summary"])
    return out


def _candidate_dict(row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(row["data"])
    out.update(
        candidate_id=row["candidate_id"],
        status=row["status"],
        valid=bool(row["valid"]),
        error_code=row["error_code"],
        created_at=row["created_at"],
    )
    return out
