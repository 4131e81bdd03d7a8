"""The hub: one per app. Tails the shared events table, keeps a cached ``RunView`` per run, fans out.

Threading model: SQLite reads run in worker threads (``asyncio.to_thread``); every view and
subscriber is touched only on the event loop, so no locks guard them. ``sync()`` is the single
ingest step (one indexed ``id > cursor`` query), serialised by an asyncio lock and used both by the
background poller and by REST handlers (so a REST read always sees what was committed before it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brain_agent.errors import NotFoundError, StoreError
from brain_agent.server.kpi_yield import closing_yield, store_yield
from brain_agent.storage import Store, open_store
from brain_agent.storage.checkpoint_store import CheckpointStore
from brain_agent.storage.records import Event
from brain_agent.telemetry import checkpoint
from brain_agent.telemetry import events as ev
from brain_agent.telemetry.views import Extra, Format, RunView
from brain_agent.telemetry.views.budget import money_scope, ring_of
from brain_agent.telemetry.views.fleet import PERIOD_SCOPES, Member, Shared, fleet_status

log = logging.getLogger("brain_agent.server")

BATCH = 5000  # events per ingest query
FOLD_PAGE = 20_000
RECENT_EVENTS = 1000  # per run, for stream snapshots / updates
SNAPSHOT_EVENTS = 200
UPDATE_EVENTS = 2000
STATUS_MAX_AGE_S = 0.25  # a running run's cached status is recomputed at least this often
CHECKPOINT_EVERY = 1000  # run events between two stored checkpoints of the reducer
LATEST_SCAN = 200  # runs looked at (newest first) to find the one "follow latest" shows
NOT_FOLLOWED = frozenset({"estimate"})
REAP_EVERY_S = 60.0  # how often the server marks runs of dead processes interrupted
FLEET_MAX_AGE_S = 0.25  # the fleet view is recomputed at most this often
PICO_PER_USD = 10**12  # money scopes are counted in pico-USD in the ledger
REPLAY_VIEWS = 8  # replay views kept warm (a scrubbed replay mostly moves forward a little)
YIELD_MAX_AGE_S = 1.0  # a running run's yield (store queries) is reused this long while no event came


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _Recent:
    """One event with its JSON encoded lazily (at most once)."""

    __slots__ = ("_json", "event")

    def __init__(self, event: Event) -> None:
        self.event = event
        self._json: str | None = None

    @property
    def json(self) -> str:
        if self._json is None:
            self._json = _dumps(self.event.to_dict())
        return self._json


@dataclass
class RunEntry:
    view: RunView
    row: dict[str, Any] | None
    recent: deque[_Recent] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))
    subscribers: set[Subscriber] = field(default_factory=set)
    _status: dict[str, tuple[int, float, str]] = field(default_factory=dict)
    checkpointed_events: int = 0  # view.event_count at the last stored checkpoint
    yield_cache: tuple[int, float, dict[str, Any]] | None = None  # (cursor, monotonic time, yield)
    checkpoint_every: int = CHECKPOINT_EVERY

    def apply(self, event: Event) -> bool:
        if event.id <= self.view.cursor:
            return False
        self.view.apply(event)
        self.recent.append(_Recent(event))
        return True

    @property
    def checkpoint_due(self) -> bool:
        return self.view.event_count - self.checkpointed_events >= self.checkpoint_every

    @property
    def status(self) -> str:
        if self.view.status:
            return self.view.status
        if self.row is not None:
            return str(self.row["status"])
        return "running"

    def status_dict(self, now: float, fmt: Format = "both", extra: Extra | None = None) -> dict[str, Any]:
        return self.view.snapshot(now, status=self.status, fmt=fmt, extra=extra)

    def status_json(self, now: float, fmt: Format = "both") -> str:
        """The status envelope as JSON, computed once per (cursor, moment) and shared by subscribers."""
        cached = self._status.get(fmt)
        running = self.status == "running"
        if cached and cached[0] == self.view.cursor and (not running or now - cached[1] < STATUS_MAX_AGE_S):
            return cached[2]
        text = _dumps(self.status_dict(now, fmt))
        self._status[fmt] = (self.view.cursor, now, text)
        return text

    def events_after(self, after: int, limit: int) -> tuple[list[str], bool]:
        """JSON of the newest ``limit`` retained events with id > ``after``; True when some were left out."""
        picked: list[str] = []
        for item in reversed(self.recent):
            if item.event.id <= after:
                break
            picked.append(item.json)
        truncated = len(picked) > limit
        oldest_kept = self.recent[0].event.id if self.recent else 0
        if after < oldest_kept - 1 and self.view.event_count > len(self.recent):
            truncated = True
        picked = picked[:limit]
        picked.reverse()
        return picked, truncated

    def headline(self, now: float) -> dict[str, Any]:
        return self.view.headline(now, self.status)


class Subscriber:
    """One stream client: which run it follows and where it is."""

    def __init__(self, run_id: str | None, *, follow_latest: bool, fmt: Format) -> None:
        self.run_id = run_id
        self.follow_latest = follow_latest
        self.fmt: Format = fmt
        self.cursor = 0
        self.last_send = 0.0
        self.wake = asyncio.Event()


def _restore(checkpoints: CheckpointStore, run_id: str, at: int | None) -> RunView:
    """The reducer at the nearest stored checkpoint (``<= at``), else a fresh one."""
    try:
        found = checkpoints.nearest(run_id, checkpoint.VERSION, at)
    except StoreError as exc:
        log.warning("run %s: checkpoints unavailable: %s", run_id, exc)
        found = None
    if found is not None:
        try:
            return checkpoint.decode(found.state)
        except checkpoint.CheckpointError as exc:
            log.warning("run %s: ignoring checkpoint at %d: %s", run_id, found.cursor, exc)
    return RunView(run_id)


def _fold_range(
    store: Store,
    checkpoints: CheckpointStore | None,
    view: RunView,
    upto: int | None,
    on_event: Callable[[Event], None] | None = None,
    every: int = CHECKPOINT_EVERY,
) -> int:
    """Fold the run's events after ``view.cursor`` (up to id ``upto``) into ``view``; store a
    checkpoint every ``every`` events when ``checkpoints`` is given (worker thread). Returns the
    event count at the last stored checkpoint. A checkpoint that cannot be written (the store busy
    or read-only) is logged and skipped: it is an optimisation, never a reason to fail a read."""
    last_saved = view.event_count
    while True:
        if upto is None:
            page = store.events(view.run_id, after=view.cursor, limit=FOLD_PAGE)
        else:
            page = store.checkpoints.events_between(view.run_id, view.cursor, upto, FOLD_PAGE)
        for event in page:
            view.apply(event)
            if on_event is not None:
                on_event(event)
            if checkpoints is not None and view.event_count - last_saved >= every:
                last_saved = view.event_count
                try:
                    checkpoints.save(
                        view.run_id,
                        checkpoint.VERSION,
                        view.cursor,
                        view.event_count,
                        checkpoint.encode(view),
                    )
                except StoreError as exc:
                    log.warning("run %s: checkpoints off for this fold: %s", view.run_id, exc)
                    checkpoints = None
        if len(page) < FOLD_PAGE or (upto is not None and view.cursor >= upto):
            return last_saved


def _fold(store: Store, checkpoints: CheckpointStore, run_id: str, every: int) -> RunEntry:
    """A run's live entry: the latest checkpoint plus the events after it (worker thread)."""
    try:
        row: dict[str, Any] | None = store.get_run(run_id)
    except NotFoundError:
        row = None
        if store.last_event_id(run_id) == 0:
            raise
    view = _restore(checkpoints, run_id, None)
    entry = RunEntry(view=view, row=row, checkpointed_events=view.event_count, checkpoint_every=every)
    entry.recent.extend(_Recent(e) for e in checkpoints.events_before(run_id, view.cursor, RECENT_EVENTS))
    entry.checkpointed_events = _fold_range(
        store, checkpoints, view, None, lambda e: entry.recent.append(_Recent(e)), every
    )
    return entry


def _replay_fold(
    store: Store, checkpoints: CheckpointStore, run_id: str, at: int, warm: RunView | None
) -> RunView:
    """The reducer as it was right after event ``at``: from ``warm`` (a replay view at or before
    ``at``) or the nearest checkpoint, whichever is closer, plus the events in between."""
    view = _restore(checkpoints, run_id, at)
    if warm is not None and view.cursor <= warm.cursor <= at:
        view = warm
    _fold_range(store, None, view, at)
    return view


def _period_keys(entry: RunEntry) -> list[tuple[str, int, str]]:
    """(ring, event id, scope key) of the period scopes in the run's newest ``budget.reserved``."""
    for item in reversed(entry.recent):
        event = item.event
        scopes = event.payload.get("scopes") if event.name == ev.BUDGET_RESERVED else None
        if isinstance(scopes, list):
            rings = [(ring_of(str(k)), str(k)) for k in scopes]
            return [(r, event.id, k) for r, k in rings if r is not None and r in PERIOD_SCOPES]
    return []


def pick_latest(runs: list[dict[str, Any]]) -> str | None:
    """The run "follow latest" shows: the newest ``batch`` run; with none, the newest run that is not
    a one-off (``estimate``: ``estimate-prompt-cost`` runs are listed but never followed)."""
    for row in runs:
        if row.get("kind") == "batch":
            return str(row["run_id"])
    for row in runs:
        if row.get("kind") not in NOT_FOLLOWED:
            return str(row["run_id"])
    return None


class Hub:
    def __init__(
        self,
        db: str | Path,
        *,
        poll_interval_s: float = 0.025,
        heartbeat_s: float = 1.0,
        checkpoint_every: int = CHECKPOINT_EVERY,
        reap_every_s: float = REAP_EVERY_S,
    ) -> None:
        self.checkpoint_every = checkpoint_every
        self.reap_every_s = reap_every_s
        self.store = open_store(db)
        self.poll_interval_s = poll_interval_s
        self.heartbeat_s = heartbeat_s
        self.cursor = self.store.last_event_id()
        self.entries: dict[str, RunEntry] = {}
        self.latest_run_id: str | None = None
        self.followers: set[Subscriber] = set()
        self.ingested = 0
        self.poller_running = False
        self._sync_lock = asyncio.Lock()
        self._fold_locks: dict[str, asyncio.Lock] = {}
        self.checkpoints = self.store.checkpoints
        with contextlib.suppress(StoreError):  # derived data: a read-only store still serves
            self.checkpoints.drop_stale(checkpoint.VERSION)
        self.reaped: list[str] = []
        self._reap()  # runs whose process died show as interrupted, not running forever
        self._last_reap = time.monotonic()
        self._replay_lock = asyncio.Lock()
        self._replay_views: dict[tuple[str, int], RunView] = {}  # (run_id, cursor) → view, LRU order
        self._known_runs: set[str] = set()
        self._last_latest_check = 0.0
        self._last_heartbeat = 0.0
        self._task: asyncio.Task[None] | None = None
        self._fleet: tuple[float, dict[str, Any]] | None = None

    def _reap(self) -> None:
        """Mark ``interrupted`` the running runs whose process is gone (``reap_dead_runs``): at
        start and every ``reap_every_s`` (worker thread after start). A failure is logged, not raised."""
        try:
            reaped = self.store.reap_dead_runs(now=time.time())
        except StoreError as exc:
            log.warning("could not mark dead runs interrupted: %s", exc)
            return
        if reaped:
            self.reaped += reaped
            log.info("marked %d dead run(s) interrupted: %s", len(reaped), ", ".join(reaped))

    # -- ingest ----------------------------------------------------------------------------
    async def sync(self) -> int:
        """Apply every event committed since the last call; wake the subscribers concerned."""
        async with self._sync_lock:
            page = await asyncio.to_thread(self.store.events, None, self.cursor, BATCH)
            touched: set[str] = set()
            refresh_rows: set[str] = set()
            for event in page:
                self.cursor = event.id
                entry = self.entries.get(event.run_id)
                if entry is not None and entry.apply(event):
                    touched.add(event.run_id)
                    if event.name in (ev.CYCLE_COMPLETED, ev.RUN_INTERRUPTED):  # the runs row changed
                        refresh_rows.add(event.run_id)
                if event.run_id not in self._known_runs:
                    self._known_runs.add(event.run_id)
                    self._last_latest_check = 0.0
            self.ingested += len(page)
            for run_id in refresh_rows:
                await self._refresh_row(run_id)
            for run_id in touched:
                await self._checkpoint(self.entries[run_id])
        now = time.monotonic()
        if now - self._last_reap >= self.reap_every_s:
            self._last_reap = now
            await asyncio.to_thread(self._reap)  # its run.interrupted events arrive with the next sync
        if now - self._last_latest_check >= self.heartbeat_s:
            self._last_latest_check = now
            await self._check_latest()
        heartbeat = now - self._last_heartbeat >= self.heartbeat_s
        if heartbeat:
            self._last_heartbeat = now
        for run_id, entry in self.entries.items():
            if run_id in touched or (heartbeat and entry.status == "running"):
                for sub in entry.subscribers:
                    sub.wake.set()
        return len(page)

    async def _checkpoint(self, entry: RunEntry) -> None:
        """Store a checkpoint of a live view every ``CHECKPOINT_EVERY`` events (encoded on the loop,
        where the view lives; written in a worker thread)."""
        if not entry.checkpoint_due:
            return
        view = entry.view
        blob = checkpoint.encode(view)
        entry.checkpointed_events = view.event_count
        try:
            await asyncio.to_thread(
                self.checkpoints.save, view.run_id, checkpoint.VERSION, view.cursor, view.event_count, blob
            )
        except Exception:  # a checkpoint is an optimisation: never fail the ingest over it
            log.exception("run %s: could not store a checkpoint", view.run_id)

    async def _refresh_row(self, run_id: str) -> None:
        entry = self.entries.get(run_id)
        if entry is None:
            return
        with contextlib.suppress(NotFoundError):
            entry.row = await asyncio.to_thread(self.store.get_run, run_id)

    async def _check_latest(self) -> None:
        runs = await asyncio.to_thread(self.store.list_runs, LATEST_SCAN)
        latest = pick_latest(runs)
        if latest is None and not runs and self.cursor:
            tail = await asyncio.to_thread(self.store.events, None, self.cursor - 1, 1)
            latest = tail[0].run_id if tail else None
        if latest != self.latest_run_id:
            self.latest_run_id = latest
            for sub in self.followers:
                sub.wake.set()

    async def latest(self) -> str | None:
        await self._check_latest()
        return self.latest_run_id

    # -- the poller ------------------------------------------------------------------------
    async def _poll_forever(self) -> None:
        self.poller_running = True
        try:
            while True:
                try:
                    n = await self.sync()
                except Exception:  # e.g. the store is briefly unreadable: log, keep tailing
                    log.exception("poller: ingest failed; retrying in 1 s")
                    await asyncio.sleep(1.0)
                    continue
                if n < BATCH:
                    await asyncio.sleep(self.poll_interval_s)
        finally:
            self.poller_running = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._poll_forever(), name="brain-agent-poller"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for entry in self.entries.values():
            for sub in entry.subscribers:
                sub.wake.set()
        await asyncio.to_thread(self.store.close)

    # -- views -----------------------------------------------------------------------------
    async def entry(self, run_id: str, *, fresh: bool = True) -> RunEntry:
        """The run's cached entry, folded on first access; ``fresh`` first applies pending events.
        Raises ``NotFoundError`` for a run with neither a runs row nor events."""
        entry = self.entries.get(run_id)
        if entry is None:
            lock = self._fold_locks.setdefault(run_id, asyncio.Lock())
            try:
                async with lock:
                    entry = self.entries.get(run_id)
                    if entry is None:
                        folded = await asyncio.to_thread(
                            _fold, self.store, self.checkpoints, run_id, self.checkpoint_every
                        )
                        async with self._sync_lock:  # close the gap between the fold and the poller
                            gap = await asyncio.to_thread(
                                self.store.events, run_id, folded.view.cursor, 1_000_000
                            )
                            for event in gap:
                                folded.apply(event)
                            self.entries[run_id] = entry = folded
            finally:  # also when the run is unknown: a lock per bad id must not pile up
                if not lock.locked():
                    self._fold_locks.pop(run_id, None)
            return entry
        if fresh:
            await self.sync()
            if entry.row is None or entry.row["status"] == "running":
                await self._refresh_row(run_id)
        return entry

    async def run_yield(self, run_id: str, entry: RunEntry) -> dict[str, Any]:
        """The run's yield (``server/kpi_yield.py``): a finished run's closing figures, else computed
        from the store; an answer is reused for up to ``YIELD_MAX_AGE_S`` while the run's event cursor
        has not moved (the store query runs again once either changes)."""
        if entry.status != "running":
            closing = closing_yield((entry.row or {}).get("summary"))
            if closing is not None:
                return closing
        cached = entry.yield_cache
        now = time.monotonic()
        if cached is not None and cached[0] == entry.view.cursor and now - cached[1] < YIELD_MAX_AGE_S:
            return cached[2]
        doc = await asyncio.to_thread(store_yield, self.store, run_id)
        entry.yield_cache = (entry.view.cursor, now, doc)
        return doc

    # -- the fleet view --------------------------------------------------------------------
    async def fleet(self) -> dict[str, Any]:
        """One reactor over every running run (``telemetry/views/fleet.py``): the runs' own views
        from their cached entries, and the period scopes' shared usage read from the ledger, with the
        scope keys (day and week windows) the runs' own ``budget.reserved`` events name."""
        cached = self._fleet
        if cached is not None and time.monotonic() - cached[0] < FLEET_MAX_AGE_S:
            return cached[1]
        await self.sync()
        rows = await asyncio.to_thread(self.store.list_runs, LATEST_SCAN)
        now = time.time()
        members: list[Member] = []
        keys: dict[str, tuple[int, str]] = {}  # ring → (event id, the newest scope key seen for it)
        for row in rows:
            if row["status"] != "running" or row.get("kind") in NOT_FOLLOWED:
                continue
            try:
                entry = await self.entry(row["run_id"], fresh=False)
            except NotFoundError:
                continue
            entry.row = row
            if entry.status != "running":
                continue
            members.append(Member(row["run_id"], row.get("holder"), entry.status_dict(now, "both")))
            for ring, event_id, key in _period_keys(entry):
                if ring not in keys or keys[ring][0] < event_id:
                    keys[ring] = (event_id, key)
        shared: dict[str, Shared] = {}
        if keys:
            try:
                usage = await asyncio.to_thread(
                    self.store.ledger.usage, [k for _, k in keys.values()], now=now
                )
            except StoreError as exc:
                log.warning("fleet view: the shared ledger is unreadable: %s", exc)
                usage = {}
            for ring, (_, key) in keys.items():
                u = usage.get(key)
                if u is not None:
                    scale = PICO_PER_USD if money_scope(ring) else 1
                    shared[ring] = Shared(u.spent / scale, u.reserved / scale)
        out = fleet_status(members, shared, now, self.cursor)
        self._fleet = (time.monotonic(), out)
        return out

    # -- replay ----------------------------------------------------------------------------
    async def status_at(
        self, run_id: str, at: int, fmt: Format = "both", extra: Extra | None = None
    ) -> dict[str, Any]:
        """What the live view showed right after event ``at``: the reducer folded up to ``at`` (from
        the nearest checkpoint or a warm replay view), seen at that event's time. Status is what the
        events say by then (``running`` until ``cycle_completed``)."""
        entry = await self.entry(run_id, fresh=False)  # NotFoundError for an unknown run
        async with self._replay_lock:
            warm_key = max(
                (k for k in self._replay_views if k[0] == run_id and k[1] <= at),
                key=lambda k: k[1],
                default=None,
            )
            warm = self._replay_views.pop(warm_key) if warm_key is not None else None
            if warm is not None and warm.cursor == at:
                view = warm
            else:
                view = await asyncio.to_thread(_replay_fold, self.store, self.checkpoints, run_id, at, warm)
            self._replay_views[(run_id, view.cursor)] = view
            while len(self._replay_views) > REPLAY_VIEWS:
                self._replay_views.pop(next(iter(self._replay_views)))
            status = view.status or (entry.status if view.cursor >= entry.view.cursor else "running")
            out = view.snapshot(view.last_ts or 0.0, status=status, fmt=fmt, extra=extra)
        out["at"] = at
        return out

    # -- subscribers -----------------------------------------------------------------------
    def subscribe(self, sub: Subscriber) -> None:
        if sub.follow_latest:
            self.followers.add(sub)
        if sub.run_id is not None:
            self.entries[sub.run_id].subscribers.add(sub)

    def unsubscribe(self, sub: Subscriber) -> None:
        self.followers.discard(sub)
        if sub.run_id is not None and sub.run_id in self.entries:
            self.entries[sub.run_id].subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return sum(len(e.subscribers) for e in self.entries.values()) + sum(
            1 for s in self.followers if s.run_id is None
        )
