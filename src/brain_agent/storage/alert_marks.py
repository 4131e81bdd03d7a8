"""The ``budget_alert_marks`` table: which budget alert thresholds already fired in which window.

One row per (scope key, threshold). A scope key names its window (``day:2026-12-07@UTC``), so "once
per window and threshold" is a primary key: the first process to insert the row fires the alert,
every other one (same store file or database, any machine) sees the conflict and stays quiet.
Portable SQL (``?`` placeholders, ``ON CONFLICT DO NOTHING``) for SQLite and PostgreSQL; the table is
created on first use, so stores made before it existed need no migration.
"""

from __future__ import annotations

from typing import Any

from brain_agent.errors import StoreError
from brain_agent.storage.protocols import Store

_CREATE = (
    "CREATE TABLE IF NOT EXISTS budget_alert_marks ("
    " scope_key TEXT NOT NULL,"
    " threshold TEXT NOT NULL,"
    " run_id TEXT,"
    " share TEXT NOT NULL,"
    " fired_at DOUBLE PRECISION NOT NULL,"
    " PRIMARY KEY (scope_key, threshold))"
)


class AlertMarks:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        for attempt in (1, 2):  # two PostgreSQL sessions creating it at once: one loses on pg_type
            try:
                with self.store.transaction() as conn:
                    conn.execute(_CREATE)
                break
            except Exception:
                if attempt == 2:
                    raise
        self._ready = True

    def claim(self, scope_key: str, threshold: str, *, run_id: str | None, share: str, now: float) -> bool:
        """Record that ``threshold`` fired for ``scope_key``; ``True`` only for the first caller."""
        try:
            self._ensure()
            with self.store.transaction() as conn:
                cur = conn.execute(
                    "INSERT INTO budget_alert_marks (scope_key, threshold, run_id, share, fired_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope_key, threshold) DO NOTHING",
                    (scope_key, threshold, run_id, share, now),
                )
                return int(cur.rowcount or 0) == 1
        except StoreError:
            raise
        except Exception as exc:  # the driver's own error (busy, read-only, disk)
            raise StoreError(f"{self.store.where}: cannot record a budget alert: {exc}") from None

    def fired(self, scope_keys: list[str]) -> list[dict[str, Any]]:
        """The alerts already fired for these scope keys (oldest first)."""
        if not scope_keys:
            return []
        try:
            rows = self.store.conn.execute(
                "SELECT scope_key, threshold, run_id, share, fired_at FROM budget_alert_marks"
                f" WHERE scope_key IN ({','.join('?' * len(scope_keys))}) ORDER BY fired_at, threshold",
                scope_keys,
            ).fetchall()
        except StoreError:
            raise
        except Exception as exc:
            if "budget_alert_marks" in str(exc):  # no alert has fired in this store yet: no table
                return []
            raise StoreError(f"{self.store.where}: cannot read budget alerts: {exc}") from None
        return [
            {
                "scope_key": str(r[0]),
                "threshold": float(r[1]),
                "run_id": r[2],
                "share": float(r[3]),
                "fired_at": float(r[4]),
            }
            for r in rows
        ]
