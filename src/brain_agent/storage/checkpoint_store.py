"""The ``view_checkpoints`` table (migration ``0004_view_checkpoints``): opaque, versioned snapshots of
a run's dashboard reducer keyed by the event id (cursor) they were taken at. The store does not know
the format; :mod:`brain_agent.telemetry.checkpoint` encodes and decodes it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from brain_agent.errors import StoreError
from brain_agent.storage.records import Event, RecordStore
from brain_agent.storage.records import _event as event_from_row


@dataclass(frozen=True)
class Checkpoint:
    run_id: str
    version: str
    cursor: int
    events: int
    state: bytes


class CheckpointStore:
    """Wraps a store of either backend (its per-thread connection and ``transaction()``). Any
    database error comes out as :class:`StoreError`: checkpoints are an optimisation, callers skip
    them when the store cannot serve them."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    def save(self, run_id: str, version: str, cursor: int, events: int, state: bytes) -> None:
        try:
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT INTO view_checkpoints (run_id, version, cursor, events, state, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, version, cursor) DO UPDATE SET"
                    " events = excluded.events, state = excluded.state, created_at = excluded.created_at",
                    (run_id, version, cursor, events, state, time.time()),
                )
        except StoreError:
            raise
        except Exception as exc:  # the driver's own error (busy, read-only, disk)
            raise StoreError(f"{self.store.where}: cannot save a view checkpoint: {exc}") from None

    def nearest(self, run_id: str, version: str, at: int | None = None) -> Checkpoint | None:
        """The checkpoint with the largest cursor ``<= at`` (any cursor when ``at`` is None)."""
        sql = (
            "SELECT run_id, version, cursor, events, state FROM view_checkpoints"
            " WHERE run_id = ? AND version = ?"
        )
        params: list[object] = [run_id, version]
        if at is not None:
            sql += " AND cursor <= ?"
            params.append(at)
        try:
            row = self.store.conn.execute(sql + " ORDER BY cursor DESC LIMIT 1", params).fetchone()
        except StoreError:
            raise
        except Exception as exc:  # e.g. a store made before the checkpoint table existed
            raise StoreError(f"{self.store.where}: cannot read view checkpoints: {exc}") from None
        if row is None:
            return None
        return Checkpoint(str(row[0]), str(row[1]), int(row[2]), int(row[3]), bytes(row[4]))

    def cursors(self, run_id: str, version: str) -> list[int]:
        rows = self.store.conn.execute(
            "SELECT cursor FROM view_checkpoints WHERE run_id = ? AND version = ? ORDER BY cursor",
            (run_id, version),
        )
        return [int(r[0]) for r in rows]

    def drop_stale(self, version: str) -> int:
        """Delete checkpoints of any other reducer version; returns how many went."""
        try:
            with self.store.transaction() as conn:
                cur = conn.execute("DELETE FROM view_checkpoints WHERE version != ?", (version,))
                return int(cur.rowcount or 0)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"{self.store.where}: cannot drop old view checkpoints: {exc}") from None

    def size(self, run_id: str | None = None) -> tuple[int, int]:
        """(rows, bytes) of checkpoints, for one run or all."""
        sql = "SELECT COUNT(*), COALESCE(SUM(LENGTH(state)), 0) FROM view_checkpoints"
        row = (
            self.store.conn.execute(sql + " WHERE run_id = ?", (run_id,)).fetchone()
            if run_id is not None
            else self.store.conn.execute(sql).fetchone()
        )
        return int(row[0]), int(row[1])

    def events_before(self, run_id: str, upto: int, limit: int) -> list[Event]:
        """The run's newest ``limit`` events with id ``<= upto``, oldest first."""
        rows = self.store.conn.execute(
            "SELECT * FROM events WHERE run_id = ? AND id <= ? ORDER BY id DESC LIMIT ?",
            (run_id, upto, limit),
        ).fetchall()
        return [event_from_row(row) for row in reversed(rows)]

    def events_between(self, run_id: str, after: int, upto: int, limit: int) -> list[Event]:
        """The run's events with ``after < id <= upto``, oldest first, at most ``limit``."""
        rows = self.store.conn.execute(
            "SELECT * FROM events WHERE run_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
            (run_id, after, upto, limit),
        ).fetchall()
        return [event_from_row(row) for row in rows]
