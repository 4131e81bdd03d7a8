"""Heartbeats: one background thread per store renews the leases of what this process holds.

A hold (a reservation), a single-flight claim and a running run each carry a lease or a heartbeat.
While a call runs, :class:`Heartbeats` renews every registered hold and flight every third of its
lease, and every registered run at least once a minute, so a call may last longer than the lease
without losing its room. When the process dies nothing renews them: holds and flights come back
within one lease, and the run is marked ``interrupted`` by the next process that looks
(:meth:`SQLiteStore.reap_dead_runs`).

Registering costs a lock and a dict operation; the thread touches the database only when something
is registered, on its own connection (the store's connections are per thread). It also runs the
store's WAL checkpoints every ``CHECKPOINT_S`` seconds, so no writer pays for one inside its call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from brain_agent.storage.protocols import Store

RUN_BEAT_S = 60.0
CHECKPOINT_S = 2.0
_log = logging.getLogger(__name__)


class Heartbeats:
    _by_store: ClassVar[dict[str, Heartbeats]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ledger = store.ledger
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._holds: dict[str, float] = {}  # reservation_id → lease seconds
        self._flights: dict[str, float] = {}  # request_key → lease seconds
        self._runs: dict[str, int] = {}  # run_id → registrations
        self._thread: threading.Thread | None = None
        self.renewals = 0

    @classmethod
    def for_store(cls, store: Store) -> Heartbeats:
        """The process's keeper for this store file (one thread per file, started on first use)."""
        key = store.where
        with cls._guard:
            keeper = cls._by_store.get(key)
            if keeper is None:
                keeper = cls._by_store[key] = cls(store)
            return keeper

    # -- registration ----------------------------------------------------------------------------
    @contextmanager
    def hold(self, reservation_id: str, lease_seconds: float) -> Iterator[None]:
        """Renew ``reservation_id``'s lease for as long as the ``with`` block runs."""
        with self._lock:
            self._holds[reservation_id] = lease_seconds
        self._ensure_thread()
        try:
            yield
        finally:
            with self._lock:
                self._holds.pop(reservation_id, None)

    @contextmanager
    def flight(self, request_key: str, lease_seconds: float) -> Iterator[None]:
        with self._lock:
            self._flights[request_key] = lease_seconds
        self._ensure_thread()
        try:
            yield
        finally:
            with self._lock:
                self._flights.pop(request_key, None)

    def add_run(self, run_id: str) -> None:
        with self._lock:
            self._runs[run_id] = self._runs.get(run_id, 0) + 1
        self._ensure_thread()

    def remove_run(self, run_id: str) -> None:
        with self._lock:
            left = self._runs.get(run_id, 0) - 1
            if left > 0:
                self._runs[run_id] = left
            else:
                self._runs.pop(run_id, None)

    # -- the thread ------------------------------------------------------------------------------
    def _interval(self) -> float:
        leases = [*self._holds.values(), *self._flights.values()]
        return min([lease / 3.0 for lease in leases] + [CHECKPOINT_S])

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._wake.set()  # a shorter lease may have arrived: recompute the interval
            return
        self._thread = threading.Thread(target=self._loop, name="brain-agent-heartbeats", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        next_run_beat = time.monotonic() + RUN_BEAT_S
        due: dict[str, float] = {}  # what → monotonic time of its next renewal
        while True:
            with self._lock:
                interval = self._interval()
                idle = not (self._holds or self._flights or self._runs)
            if idle:
                self._wake.wait(RUN_BEAT_S)
                self._wake.clear()
                continue
            self._wake.wait(interval)
            self._wake.clear()
            now_m = time.monotonic()
            with self._lock:
                holds = {k: v for k, v in self._holds.items() if due.setdefault(k, now_m + v / 3) <= now_m}
                flights = {
                    k: v for k, v in self._flights.items() if due.setdefault(k, now_m + v / 3) <= now_m
                }
                runs = list(self._runs) if now_m >= next_run_beat else []
                live = {*self._holds, *self._flights}
            for k in [k for k in due if k not in live]:
                due.pop(k)
            try:
                self._renew(holds, flights, runs)
            except Exception as exc:  # a busy or vanished store: try again next beat
                _log.warning("heartbeat failed: %s", exc)
                continue
            self.store.checkpoint()  # the WAL is folded in here, never inside a writer's transaction
            for k, lease in [*holds.items(), *flights.items()]:
                due[k] = now_m + lease / 3
            if runs:
                next_run_beat = now_m + RUN_BEAT_S

    def _renew(self, holds: dict[str, float], flights: dict[str, float], runs: list[str]) -> None:
        now = time.time()
        for lease in set(holds.values()):
            ids = [k for k, v in holds.items() if v == lease]
            self.renewals += self.ledger.heartbeat(ids, now=now, lease_seconds=lease)
        for lease in set(flights.values()):
            self.ledger.renew_flights(
                [k for k, v in flights.items() if v == lease], now=now, lease_seconds=lease
            )
        self.store.touch_runs(runs, now=now)
