"""All budget SQL: the reservation ledger, calibration, deferred ideas, the repair queue and KPIs.

The ledger is bookkeeping, not policy: the caller (the pure policy in ``generation/budget``) decides
which scopes a call touches, how much and against which limits; :meth:`LedgerStore.reserve` checks
and inserts them all-or-nothing inside one ``BEGIN IMMEDIATE`` transaction, so several OS processes
sharing one file can never together pass a cap. Each scope (and window) has one counter row
(``budget_counters``: spent, held) changed by the same transaction that changes its charges, so a
reservation reads and writes O(scopes) rows whatever the window's history; a hold whose lease lapsed
is moved out of ``held`` when it is expired (at the next reservation), and is never counted as live
before that (``usage`` subtracts it).

Every method takes ``now`` from the caller (the clock seam). Statements are plain SQL with ``?``
parameters and no SQLite-only constructs besides ``BEGIN IMMEDIATE``, so a server database can take
over behind the same methods.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from brain_agent.storage.liveness import holder_id
from brain_agent.storage.records import RecordStore, Row

HELD, SETTLED, RELEASED, EXPIRED = "held", "settled", "released", "expired"
EXPIRE_LOCK = 0x62A0_0003
EXPIRE_EVERY_S = 2.0
TOKENS, PICO_USD = "tokens", "pico_usd"


__all__ = ["EXPIRED", "HELD", "PICO_USD", "RELEASED", "SETTLED", "TOKENS", "LedgerStore", "holder_id"]


@dataclass(frozen=True)
class Charge:
    """One scope a reservation touches. ``limit`` None = recorded, never capped."""

    scope_key: str
    amount: int
    limit: int | None
    unit: str = TOKENS


@dataclass(frozen=True)
class ScopeUsage:
    scope_key: str
    spent: int
    reserved: int

    @property
    def used(self) -> int:
        return self.spent + self.reserved


@dataclass(frozen=True)
class Refusal:
    """Why :meth:`LedgerStore.reserve` refused: the first cap the charge would break."""

    scope_key: str
    limit: int
    observed: int
    """spent + live reservations + this charge."""


@dataclass(frozen=True)
class ReservationRow:
    reservation_id: str
    state: str
    reserved_tokens: int
    actual_tokens: int | None
    overrun_tokens: int
    late: bool
    created_at: float


class LedgerStore:
    """Budget tables on a store of either backend (shares its connection and transactions)."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store
        self._last_expire = 0.0

    # -- reservations --------------------------------------------------------------------------
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
    ) -> Refusal | None:
        """Hold every charge or none. Returns None on success (also when ``reservation_id`` already
        exists: reserving is idempotent) or the first :class:`Refusal`."""
        tokens = max((c.amount for c in charges if c.unit == TOKENS), default=0)
        pico = max((c.amount for c in charges if c.unit == PICO_USD), default=0)
        if self._server:
            return self._reserve_server(
                reservation_id,
                charges,
                now=now,
                lease_seconds=lease_seconds,
                meta=(run_id, batch_id, idea_id, lane, model, purpose, holder or holder_id()),
                tokens=tokens,
                pico=pico,
            )
        with self.store.transaction() as conn:
            if conn.execute(
                "SELECT 1 FROM budget_reservations WHERE reservation_id = ?", (reservation_id,)
            ).fetchone():
                return None
            if not self._server:
                self._expire(conn, now)
            self._lock_counters(conn, [c.scope_key for c in charges], create=True)
            found = self._counters(conn, [c.scope_key for c in charges if c.limit is not None], None)
            for charge in charges:
                if charge.limit is None:
                    continue
                spent, held = found.get(charge.scope_key, (0, 0))
                used = spent + held
                if used + charge.amount > charge.limit:
                    return Refusal(charge.scope_key, charge.limit, used + charge.amount)
            expires = now + lease_seconds
            conn.execute(
                """INSERT INTO budget_reservations (reservation_id, run_id, batch_id, idea_id, lane, model,
                       purpose, state, holder, created_at, lease_expires, reserved_tokens, reserved_pico)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    reservation_id,
                    run_id,
                    batch_id,
                    idea_id,
                    lane,
                    model,
                    purpose,
                    HELD,
                    holder or holder_id(),
                    now,
                    expires,
                    tokens,
                    pico,
                ),
            )
            conn.executemany(
                """INSERT INTO budget_charges
                       (reservation_id, scope_key, unit, state, lease_expires, reserved)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [(reservation_id, c.scope_key, c.unit, HELD, expires, c.amount) for c in charges],
            )
            conn.executemany(
                "INSERT INTO budget_counters (scope_key, held) VALUES (?, ?) "
                "ON CONFLICT (scope_key) DO UPDATE SET held = budget_counters.held + excluded.held",
                [(c.scope_key, c.amount) for c in charges],
            )
        return None

    def settle(
        self, reservation_id: str, actual: dict[str, int], *, now: float, tokens: int, pico: int
    ) -> bool:
        """Charge the real amounts (``actual`` maps scope_key → amount). Claims the hold first, so a
        second settle (or a settle after a release) changes nothing; returns whether this call
        settled it. A hold whose lease lapsed (its process looked dead) is still settled, honestly,
        and flagged ``late``."""
        if self._server:
            keys = list(actual)
            row = self.store.conn.execute(  # one statement: its own transaction, one round trip
                "SELECT brain_settle(?, ?, ?, ?, ?, ?)",
                (reservation_id, keys, [int(actual[k]) for k in keys], now, tokens, pico),
            ).fetchone()
            return bool(row[0])
        with self.store.transaction() as conn:
            charges = self._charges_locked(conn, reservation_id)
            row = conn.execute(
                "SELECT state, reserved_tokens FROM budget_reservations WHERE reservation_id = ?",
                (reservation_id,),
            ).fetchone()
            if row is None or row["state"] not in (HELD, EXPIRED):
                return False
            conn.executemany(
                "UPDATE budget_charges SET state = ?, spent = ? WHERE reservation_id = ? AND scope_key = ?",
                [(SETTLED, actual.get(key, 0), reservation_id, key) for key in charges],
            )
            conn.executemany(
                "UPDATE budget_counters SET held = held - ?, spent = spent + ? WHERE scope_key = ?",
                [
                    (reserved if state == HELD else 0, actual.get(key, 0), key)
                    for key, (state, reserved) in charges.items()
                ],
            )
            conn.execute(
                """UPDATE budget_reservations SET state = ?, actual_tokens = ?, actual_pico = ?,
                       overrun_tokens = ?, late = ?, finished_at = ? WHERE reservation_id = ?""",
                (
                    SETTLED,
                    tokens,
                    pico,
                    max(0, tokens - int(row["reserved_tokens"])),
                    1 if row["state"] == EXPIRED else 0,
                    now,
                    reservation_id,
                ),
            )
        return True

    def release(self, reservation_id: str, *, now: float, reason: str) -> bool:
        """Give a hold back (the call failed or never happened). Idempotent; never undoes a settle."""
        if self._server:
            row = self.store.conn.execute(
                "SELECT brain_release(?, ?, ?)", (reservation_id, now, reason)
            ).fetchone()
            return bool(row[0])
        with self.store.transaction() as conn:
            charges = self._charges_locked(conn, reservation_id)
            row = conn.execute(
                "SELECT state FROM budget_reservations WHERE reservation_id = ?", (reservation_id,)
            ).fetchone()
            if row is None or row["state"] not in (HELD, EXPIRED):
                return False
            conn.execute(
                "UPDATE budget_charges SET state = ? WHERE reservation_id = ?", (RELEASED, reservation_id)
            )
            conn.executemany(
                "UPDATE budget_counters SET held = held - ? WHERE scope_key = ?",
                [(reserved, key) for key, (state, reserved) in charges.items() if state == HELD],
            )
            conn.execute(
                "UPDATE budget_reservations SET state = ?, finished_at = ?, reason = ? "
                "WHERE reservation_id = ?",
                (RELEASED, now, reason, reservation_id),
            )
        return True

    def _reserve_server(
        self,
        reservation_id: str,
        charges: Sequence[Charge],
        *,
        now: float,
        lease_seconds: float,
        meta: tuple[str | None, ...],
        tokens: int,
        pico: int,
    ) -> Refusal | None:
        """One round trip (``brain_reserve``): lock the counters in key order, check every cap
        (lapsed holds already excluded), book. Lapsed holds are moved out of their counters by a
        separate expiry at most every ``EXPIRE_EVERY_S`` per process."""
        if now - self._last_expire >= EXPIRE_EVERY_S:
            self._last_expire = now
            self.expire(now=now)
        # one statement: its own transaction (autocommit), one round trip
        row = self.store.conn.execute(
            "SELECT * FROM brain_reserve(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reservation_id,
                [c.scope_key for c in charges],
                [c.unit for c in charges],
                [c.amount for c in charges],
                [c.limit for c in charges],
                now,
                lease_seconds,
                *meta,
                tokens,
                pico,
            ),
        ).fetchone()
        return None if row is None else Refusal(str(row[0]), int(row[1]), int(row[2]))

    # -- locking (PostgreSQL: one order for everyone — counters by key, then charges, then reservations)
    @property
    def _server(self) -> bool:
        return self.store.dialect != "sqlite"

    def _lock_counters(self, conn: Any, keys: Iterable[str], *, create: bool = False) -> None:
        """On a server database, lock the counter rows of ``keys`` in sorted order (creating missing
        ones first): every writer of a scope queues on its row, so a scope is linearisable. SQLite
        needs nothing: ``BEGIN IMMEDIATE`` already serialises every writer."""
        if not self._server:
            return
        ordered = sorted(set(keys))
        if not ordered:
            return
        if create:
            conn.executemany(
                "INSERT INTO budget_counters (scope_key) VALUES (?) ON CONFLICT (scope_key) DO NOTHING",
                [(k,) for k in ordered],
            )
        marks = ",".join("?" * len(ordered))
        conn.execute(
            f"SELECT scope_key FROM budget_counters WHERE scope_key IN ({marks}) "
            "ORDER BY scope_key FOR UPDATE",
            ordered,
        ).fetchall()

    def _charges_locked(self, conn: Any, reservation_id: str) -> dict[str, tuple[str, int]]:
        """A reservation's charges (scope → (state, reserved)), its counters locked first."""
        if self._server:
            keys = [
                str(r[0])
                for r in conn.execute(
                    "SELECT scope_key FROM budget_charges WHERE reservation_id = ?", (reservation_id,)
                )
            ]
            self._lock_counters(conn, keys)
        return {
            str(r["scope_key"]): (str(r["state"]), int(r["reserved"]))
            for r in conn.execute(
                "SELECT scope_key, state, reserved FROM budget_charges WHERE reservation_id = ?",
                (reservation_id,),
            )
        }

    def heartbeat(self, reservation_ids: Iterable[str], *, now: float, lease_seconds: float) -> int:
        """Extend the lease of live holds (long calls); returns how many were extended."""
        ids = list(reservation_ids)
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        with self.store.transaction() as conn:  # charges, then reservations: the ledger's lock order
            conn.execute(
                "UPDATE budget_charges SET lease_expires = ? "
                f"WHERE state = ? AND reservation_id IN ({marks})",
                (now + lease_seconds, HELD, *ids),
            )
            cur = conn.execute(
                "UPDATE budget_reservations SET lease_expires = ? "
                f"WHERE state = ? AND reservation_id IN ({marks})",
                (now + lease_seconds, HELD, *ids),
            )
            return int(cur.rowcount)

    def expire(self, *, now: float) -> int:
        """Mark holds whose lease has lapsed as expired (their holder died); returns how many."""
        lapsed = self.store.conn.execute(
            "SELECT 1 FROM budget_charges WHERE state = ? AND lease_expires <= ? LIMIT 1", (HELD, now)
        ).fetchone()
        if lapsed is None:
            return 0
        with self.store.transaction() as conn:
            return self._expire(conn, now)

    def usage(self, scope_keys: Iterable[str], *, now: float) -> dict[str, ScopeUsage]:
        """Spent and live-reserved amounts per scope (a consistent snapshot)."""
        keys = list(dict.fromkeys(scope_keys))
        found = self._counters(self.store.conn, keys, now)
        return {k: ScopeUsage(k, *found.get(k, (0, 0))) for k in keys}

    def reservation(self, reservation_id: str) -> ReservationRow | None:
        row = self.store.conn.execute(
            "SELECT * FROM budget_reservations WHERE reservation_id = ?", (reservation_id,)
        ).fetchone()
        return None if row is None else _reservation(row)

    def reservations(self, *, run_id: str | None = None, state: str | None = None) -> list[ReservationRow]:
        sql, params = "SELECT * FROM budget_reservations WHERE 1 = 1", []
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        if state is not None:
            sql += " AND state = ?"
            params.append(state)
        return [_reservation(r) for r in self.store.conn.execute(sql + " ORDER BY created_at", params)]

    def scope_keys(self, prefix: str) -> list[str]:
        rows = self.store.conn.execute(
            "SELECT DISTINCT scope_key FROM budget_charges WHERE scope_key LIKE ? ORDER BY scope_key",
            (prefix.replace("%", r"\%") + "%",),
        )
        return [str(r[0]) for r in rows]

    def _expire(self, conn: Any, now: float) -> int:
        """Move holds whose lease lapsed out of their counters and mark them expired."""
        lapsed = conn.execute(
            "SELECT 1 FROM budget_charges WHERE state = ? AND lease_expires <= ? LIMIT 1", (HELD, now)
        ).fetchone()
        if lapsed is None:
            return 0
        scope_filter, params = "", []
        if self._server:  # one expirer at a time; only the scopes it has locked, in order
            conn.execute("SELECT pg_advisory_xact_lock(?)", (EXPIRE_LOCK,))
            keys = [
                str(r[0])
                for r in conn.execute(
                    "SELECT DISTINCT scope_key FROM budget_charges WHERE state = ? AND lease_expires <= ? "
                    "ORDER BY scope_key",
                    (HELD, now),
                )
            ]
            if not keys:  # another expirer got there first
                return 0
            self._lock_counters(conn, keys)
            scope_filter = f" AND scope_key IN ({','.join('?' * len(keys))})"
            params = keys
        rows = conn.execute(
            "UPDATE budget_charges SET state = ? WHERE state = ? AND lease_expires <= ?"
            + scope_filter
            + " RETURNING reservation_id, scope_key, reserved",
            (EXPIRED, HELD, now, *params),
        ).fetchall()
        per_scope: dict[str, int] = {}
        ids: set[str] = set()
        for r in rows:
            per_scope[str(r[1])] = per_scope.get(str(r[1]), 0) + int(r[2])
            ids.add(str(r[0]))
        conn.executemany(
            "UPDATE budget_counters SET held = held - ? WHERE scope_key = ?",
            [(amount, key) for key, amount in sorted(per_scope.items())],
        )
        expired = 0
        ordered = sorted(ids)
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
            cur = conn.execute(
                "UPDATE budget_reservations SET state = ?, reason = 'lease expired' "
                f"WHERE state = ? AND reservation_id IN ({','.join('?' * len(chunk))})",
                (EXPIRED, HELD, *chunk),
            )
            expired += int(cur.rowcount)
        return expired

    @staticmethod
    def _counters(conn: Any, keys: list[str], now: float | None) -> dict[str, tuple[int, int]]:
        """``{scope: (spent, live held)}`` in one statement (one consistent read). With ``now``,
        holds whose lease lapsed before it are left out even if no expiry has run yet; without it
        the counters are taken as they are (inside a reservation, right after an expiry)."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        if now is None:
            rows = conn.execute(
                f"SELECT scope_key, spent, held FROM budget_counters WHERE scope_key IN ({marks})", keys
            )
        else:
            rows = conn.execute(
                "SELECT c.scope_key, c.spent, c.held - COALESCE((SELECT SUM(ch.reserved) "
                "FROM budget_charges ch WHERE ch.scope_key = c.scope_key AND ch.state = ? "
                "AND ch.lease_expires <= ?), 0) "
                f"FROM budget_counters c WHERE c.scope_key IN ({marks})",
                (HELD, now, *keys),
            )
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}

    # -- single flight -------------------------------------------------------------------------
    def claim_flight(self, request_key: str, *, now: float, lease_seconds: float) -> bool:
        """Claim the right to make ``request_key``'s call; False while another live caller has it.
        A claim whose lease lapsed (its holder died) is taken over."""
        with self.store.transaction() as conn:
            conn.execute(
                "DELETE FROM llm_flights WHERE request_key = ? AND lease_expires <= ?", (request_key, now)
            )
            cur = conn.execute(
                "INSERT INTO llm_flights (request_key, holder, started_at, lease_expires) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (request_key) DO NOTHING",
                (request_key, holder_id(), now, now + lease_seconds),
            )
            return bool(cur.rowcount == 1)

    def flight_live(self, request_key: str, *, now: float) -> bool:
        row = self.store.conn.execute(
            "SELECT 1 FROM llm_flights WHERE request_key = ? AND lease_expires > ?", (request_key, now)
        ).fetchone()
        return row is not None

    def finish_flight(self, request_key: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "DELETE FROM llm_flights WHERE request_key = ? AND holder = ?", (request_key, holder_id())
            )

    def renew_flights(self, request_keys: Iterable[str], *, now: float, lease_seconds: float) -> None:
        keys = list(request_keys)
        if not keys:
            return
        marks = ",".join("?" * len(keys))
        with self.store.transaction() as conn:
            conn.execute(
                f"UPDATE llm_flights SET lease_expires = ? WHERE request_key IN ({marks}) AND holder = ?",
                (now + lease_seconds, *keys, holder_id()),
            )

    # -- overruns ------------------------------------------------------------------------------
    def overruns(self, *, since: float, until: float) -> tuple[int, int]:
        """``(calls, tokens)`` billed above their reservation among calls reserved in [since, until)."""
        row = self.store.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(overrun_tokens), 0) FROM budget_reservations "
            "WHERE overrun_tokens > 0 AND created_at >= ? AND created_at < ?",
            (since, until),
        ).fetchone()
        return int(row[0]), int(row[1])

    # -- calibration ---------------------------------------------------------------------------
    def load_calibration(self) -> list[tuple[str, str, int, float]]:
        rows = self.store.conn.execute(
            "SELECT model, method, samples, mean_log_ratio FROM budget_calibration"
        )
        return [(str(r[0]), str(r[1]), int(r[2]), float(r[3])) for r in rows]

    def save_calibration(
        self, model: str, method: str, samples: int, mean_log_ratio: float, *, now: float
    ) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                """INSERT INTO budget_calibration (model, method, samples, mean_log_ratio, updated_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (model, method) DO UPDATE SET samples = excluded.samples,
                       mean_log_ratio = excluded.mean_log_ratio, updated_at = excluded.updated_at""",
                (model, method, samples, mean_log_ratio, now),
            )

    # -- deferred ideas ------------------------------------------------------------------------
    def defer_idea(
        self,
        idea_id: str,
        idea: dict[str, Any],
        *,
        lane: str | None,
        from_run: str | None,
        reason: str,
        failure_code: str | None,
        now: float,
        discard: bool = False,
    ) -> int:
        with self.store.transaction() as conn:
            cur = conn.execute(
                """INSERT INTO budget_deferred
                       (idea_id, lane, idea, from_run, reason, failure_code, state, deferred_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (
                    idea_id,
                    lane,
                    json.dumps(idea, sort_keys=True, default=str),
                    from_run,
                    reason,
                    failure_code,
                    "discarded" if discard else "pending",
                    now,
                ),
            ).fetchone()
            return int(cur[0])

    def claim_deferred(self, run_id: str, *, now: float, limit: int = 1000) -> list[dict[str, Any]]:
        """Atomically take pending deferred ideas for ``run_id`` (oldest first); each is taken once."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT id, idea FROM budget_deferred WHERE state = 'pending' ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
            ids = [int(r["id"]) for r in rows]
            conn.executemany(
                "UPDATE budget_deferred SET state = 'claimed', claimed_by_run = ?, claimed_at = ? "
                "WHERE id = ?",
                [(run_id, now, i) for i in ids],
            )
        return [json.loads(r["idea"]) for r in rows]

    def deferred(self, state: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM budget_deferred", []
        if state is not None:
            sql += " WHERE state = ?"
            params.append(state)
        out = []
        for row in self.store.conn.execute(sql + " ORDER BY id", params):
            item = dict(row)
            item["idea"] = json.loads(item["idea"])
            out.append(item)
        return out

    # -- repair hand-off -----------------------------------------------------------------------
    def enqueue_repair(
        self,
        *,
        run_id: str | None,
        idea_id: str | None,
        candidate_id: str | None,
        error_code: str | None,
        attempts: int,
        payload: dict[str, Any],
        now: float,
    ) -> int:
        with self.store.transaction() as conn:
            cur = conn.execute(
                """INSERT INTO repair_queue
                       (run_id, idea_id, candidate_id, error_code, attempts, payload, state,
                       created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING id""",
                (run_id, idea_id, candidate_id, error_code, attempts, json.dumps(payload, default=str), now),
            ).fetchone()
            return int(cur[0])

    def repair_queue(self, state: str | None = "pending") -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM repair_queue", []
        if state is not None:
            sql += " WHERE state = ?"
            params.append(state)
        out = []
        for row in self.store.conn.execute(sql + " ORDER BY id", params):
            item = dict(row)
            item["payload"] = json.loads(item["payload"])
            out.append(item)
        return out

    # -- KPIs ----------------------------------------------------------------------------------
    def save_kpis(self, run_id: str, batch_id: str, level: str, kpis: dict[str, Any], *, now: float) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                """INSERT INTO kpis (run_id, batch_id, level, candidates, coverage, coverage_share,
                       novelty, structural_novelty, data, computed_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (run_id, batch_id, level) DO UPDATE SET candidates = excluded.candidates,
                       coverage = excluded.coverage, coverage_share = excluded.coverage_share,
                       novelty = excluded.novelty, structural_novelty = excluded.structural_novelty,
                       data = excluded.data, computed_at = excluded.computed_at""",
                (
                    run_id,
                    batch_id,
                    level,
                    int(kpis["candidates"]),
                    int(kpis["coverage"]),
                    float(kpis["coverage_share"]),
                    float(kpis["novelty"]),
                    float(kpis["structural_novelty"]),
                    json.dumps(kpis, sort_keys=True, default=str),
                    now,
                ),
            )

    def kpis(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.store.conn.execute(
            "SELECT * FROM kpis WHERE run_id = ? ORDER BY level, batch_id", (run_id,)
        ).fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item["data"] = json.loads(item["data"])
            out.append(item)
        return out


def _reservation(row: Row) -> ReservationRow:
    return ReservationRow(
        reservation_id=row["reservation_id"],
        state=row["state"],
        reserved_tokens=row["reserved_tokens"],
        actual_tokens=row["actual_tokens"],
        overrun_tokens=row["overrun_tokens"],
        late=bool(row["late"]),
        created_at=row["created_at"],
    )
