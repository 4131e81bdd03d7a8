"""The simulations table (migration ``0003_simulation``): the one write path for simulation attempts
and their results. Wraps a store of either backend (its connection and ``transaction()``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from brain_agent.storage.records import RecordStore, Row

IN_FLIGHT = ("SUBMITTED", "RUNNING")
TERMINAL = ("COMPLETE", "ERROR", "SKIPPED")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


@dataclass(frozen=True)
class Finish:
    """What a finished attempt records."""

    status: str
    finished_at: float
    queue_s: float
    run_s: float
    total_s: float
    started_at: float | None = None
    alpha_id: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    sharpe: float | None = None
    fitness: float | None = None
    turnover: float | None = None
    returns: float | None = None
    passed: bool | None = None


class SimulationStore:
    def __init__(self, store: RecordStore) -> None:
        self.store = store

    def create(
        self,
        *,
        candidate_id: str,
        run_id: str | None,
        idea_id: str | None,
        lane: str | None,
        backend: str,
        expression: str,
        settings_key: str,
        settings: dict[str, Any],
        status: str,
        created_at: float,
        error: dict[str, Any] | None = None,
    ) -> int:
        with self.store.transaction() as conn:
            cur = conn.execute(
                """INSERT INTO simulations (candidate_id, run_id, idea_id, lane, backend, expression,
                       settings_key, settings, status, created_at, error, finished_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (
                    candidate_id,
                    run_id,
                    idea_id,
                    lane,
                    backend,
                    expression,
                    settings_key,
                    _dumps(settings),
                    status,
                    created_at,
                    None if error is None else _dumps(error),
                    created_at if status in TERMINAL else None,
                ),
            ).fetchone()
            return int(cur[0])

    def mark_submitted(self, rows: Sequence[tuple[int, str]], submitted_at: float) -> None:
        """Persist each row's job handle (one transaction) before anyone polls it."""
        with self.store.transaction() as conn:
            conn.executemany(
                "UPDATE simulations SET handle = ?, status = 'SUBMITTED', submitted_at = ? WHERE id = ?",
                [(handle, submitted_at, row_id) for row_id, handle in rows],
            )

    def mark_running(self, row_id: int, started_at: float, progress: float | None) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE simulations SET status = 'RUNNING', started_at = COALESCE(started_at, ?), "
                "progress = ? "
                "WHERE id = ?",
                (started_at, progress, row_id),
            )

    def finish(self, row_id: int, done: Finish) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                """UPDATE simulations SET status = ?, finished_at = ?, started_at = COALESCE(?, started_at),
                       queue_s = ?, run_s = ?, total_s = ?, alpha_id = ?, result = ?, error = ?, sharpe = ?,
                       fitness = ?, turnover = ?, returns = ?, passed = ?, progress = 1.0
                   WHERE id = ?""",
                (
                    done.status,
                    done.finished_at,
                    done.started_at,
                    done.queue_s,
                    done.run_s,
                    done.total_s,
                    done.alpha_id,
                    None if done.result is None else _dumps(done.result),
                    None if done.error is None else _dumps(done.error),
                    done.sharpe,
                    done.fitness,
                    done.turnover,
                    done.returns,
                    None if done.passed is None else int(done.passed),
                    row_id,
                ),
            )

    def get(self, row_id: int) -> dict[str, Any] | None:
        row = self.store.conn.execute("SELECT * FROM simulations WHERE id = ?", (row_id,)).fetchone()
        return None if row is None else _row(row)

    def latest(
        self, candidate_id: str, backend: str, settings_key: str, expression: str
    ) -> dict[str, Any] | None:
        """The newest attempt of this candidate with this backend, settings and expression."""
        row = self.store.conn.execute(
            "SELECT * FROM simulations WHERE candidate_id = ? AND backend = ? AND settings_key = ? "
            "AND expression = ? ORDER BY id DESC LIMIT 1",
            (candidate_id, backend, settings_key, expression),
        ).fetchone()
        return None if row is None else _row(row)

    def in_flight(self, backend: str | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM simulations WHERE status IN ({','.join('?' * len(IN_FLIGHT))})"
        params: list[Any] = list(IN_FLIGHT)
        if backend is not None:
            sql += " AND backend = ?"
            params.append(backend)
        return [_row(r) for r in self.store.conn.execute(sql + " ORDER BY id", params)]

    def list_rows(
        self, run_id: str | None = None, candidate_ids: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM simulations WHERE 1 = 1", []
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        if candidate_ids is not None:
            ids = list(candidate_ids)
            sql += f" AND candidate_id IN ({','.join('?' * len(ids))})"
            params.extend(ids)
        return [_row(r) for r in self.store.conn.execute(sql + " ORDER BY id", params)]

    def earlier_pnls(
        self, *, exclude_id: int, exclude_candidate: str, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Results completed so far (other rows, other candidates): id, candidate_id, alpha_id, sharpe
        and the ``pnl`` series, newest first."""
        rows = self.store.conn.execute(
            "SELECT id, candidate_id, alpha_id, sharpe, result FROM simulations WHERE status = 'COMPLETE' "
            "AND id != ? AND candidate_id != ? AND result IS NOT NULL ORDER BY id DESC LIMIT ?",
            (exclude_id, exclude_candidate, limit),
        ).fetchall()
        out = []
        for row in rows:
            pnl = pnl_of(row["result"])
            if pnl is not None:
                out.append(
                    {
                        "id": row["id"],
                        "candidate_id": row["candidate_id"],
                        "alpha_id": row["alpha_id"],
                        "sharpe": row["sharpe"],
                        "pnl": pnl,
                    }
                )
        return out

    def earlier_completed(
        self, *, exclude_id: int, exclude_candidate: str, limit: int = 200
    ) -> list[tuple[int, float | None, float | None]]:
        """The rows ``earlier_pnls`` reads, as ``(id, finished_at, sharpe)``, newest first, without
        reading their results (for a caller that keeps the PnLs it parsed: ``pnls``)."""
        rows = self.store.conn.execute(
            "SELECT id, finished_at, sharpe FROM simulations WHERE status = 'COMPLETE' "
            "AND id != ? AND candidate_id != ? AND result IS NOT NULL ORDER BY id DESC LIMIT ?",
            (exclude_id, exclude_candidate, limit),
        ).fetchall()
        return [(int(r["id"]), r["finished_at"], r["sharpe"]) for r in rows]

    def pnls(self, ids: Sequence[int]) -> list[tuple[int, float | None, dict[str, Any] | None]]:
        """``(id, finished_at, pnl)`` of these rows (those that exist): ``pnl`` as ``earlier_pnls`` gives
        it, or None when the result has no ``pnl`` with dates."""
        out: list[tuple[int, float | None, dict[str, Any] | None]] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = self.store.conn.execute(
                f"SELECT id, finished_at, result FROM simulations WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            out += [(int(r["id"]), r["finished_at"], pnl_of(r["result"])) for r in rows]
        return out


def pnl_of(result: str | None) -> dict[str, Any] | None:
    """A stored result's ``pnl`` series when it is an object with dates, else None."""
    if result is None:
        return None
    pnl = json.loads(result).get("pnl")
    return pnl if isinstance(pnl, dict) and pnl.get("dates") else None


def _row(row: Row) -> dict[str, Any]:
    out = dict(row)
    for key in ("settings", "result", "error"):
        if out.get(key) is not None:
            out[key] = json.loads(out[key])
    if out.get("passed") is not None:
        out["passed"] = bool(out["passed"])
    return out
