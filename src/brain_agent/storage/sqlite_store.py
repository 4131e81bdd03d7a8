"""The SQLite store: runs, events (``append_event``), the LLM call log and candidates.

One write path per record kind. WAL mode, a busy timeout and ``BEGIN IMMEDIATE`` write transactions
make it safe for several OS processes sharing one file. Schema changes only through the named,
append-only migrations in ``storage/migrations/``. Other rooms' tables (ledger, simulations) live in
sibling modules that reuse :meth:`SQLiteStore.transaction`.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path

from brain_agent.errors import StoreError, StoreFileError, WriteFailedError
from brain_agent.storage.records import Event, LLMCallRecord, RecordStore, new_id
from brain_agent.storage.store_file import (
    OPENING,
    check_schema,
    check_store_file,
    disk_problem,
    file_problem,
)

_BUSY_TIMEOUT_MS = 30_000
_INLINE_CHECKPOINT_EVERY = 2_000


def _migration_scripts(server: bool = False) -> list[tuple[str, str]]:
    """The named migrations, in order. ``NNNN_name.sql`` run on both backends; ``NNNN_name.pg.sql``
    only on a server database (PostgreSQL functions)."""
    folder = resources.files("brain_agent.storage") / "migrations"
    names = sorted(
        p.name
        for p in folder.iterdir()
        if p.name.endswith(".sql") and (server or not p.name.endswith(".pg.sql"))
    )
    return [
        (name.removesuffix(".sql").removesuffix(".pg"), (folder / name).read_text(encoding="utf-8"))
        for name in names
    ]


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


def _journal_mode_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """``PRAGMA journal_mode = WAL``, retried until ``timeout_s``. Turning a new file to WAL needs an
    exclusive lock, and when another process holds the file's write lock meanwhile (several processes
    opening one fresh store at once) SQLite answers "database is locked" at once, without waiting in
    its busy handler. A file already in WAL mode never needs the retry."""
    deadline = time.monotonic() + timeout_s
    delay = 0.002
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


class SQLiteStore(RecordStore):
    """A store on one SQLite file. Cheap to open; one connection per thread.

    Opening checks the file is a brain-agent store this version understands: a file that is not
    SQLite, a truncated one, another application's database, or one migrated by a newer brain-agent
    is refused with :class:`StoreFileError` (exit 2, the file named). A store on a read-only mount (or
    a file this user may not write) is opened read-only: reading commands work, the first write is
    refused with exit 2.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._commits = 0
        self.read_only = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as exc:
            raise StoreFileError(
                f"{self.path}: cannot create the store's folder: {getattr(exc, 'strerror', None) or exc}",
                file=str(self.path),
            ) from None
        self.read_only = not check_store_file(self.path)
        self.migrate()

    # -- connection and transactions -------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        timeout = _BUSY_TIMEOUT_MS / 1000
        if not self.read_only:
            with OPENING:  # see store_file.OPENING: no header check closes a descriptor meanwhile
                conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                _journal_mode_wal(conn, timeout)
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints run off the hot path
                return conn
            except sqlite3.OperationalError as exc:
                conn.close()
                if "readonly" not in str(exc) and "read-only" not in str(exc):
                    raise
                self.read_only = True  # e.g. a read-only mount that os.access did not report
        uri = self.path.resolve().as_uri()
        for flags in ("mode=ro", "mode=ro&immutable=1"):
            with OPENING:
                conn = sqlite3.connect(f"{uri}?{flags}", timeout=timeout, isolation_level=None, uri=True)
            try:
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                conn.close()  # a WAL store on a read-only mount needs immutable=1 (no -shm file)
        raise sqlite3.OperationalError("unable to open database file read-only")

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._connect()
            except sqlite3.Error as exc:
                if disk_problem(exc):
                    raise WriteFailedError(
                        f"{self.path}: cannot write to the store: {exc} (is the disk full?)",
                        file=str(self.path),
                    ) from None
                raise StoreFileError(
                    f"{self.path}: cannot open the store: {exc}", file=str(self.path)
                ) from None
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken with ``BEGIN IMMEDIATE`` (serialises writers across processes)."""
        conn = self.conn
        if conn.in_transaction:  # nested: join the outer transaction
            yield conn
            return
        if self.read_only:
            raise StoreFileError(
                f"{self.path}: the store is read-only (a read-only mount or file); this command writes "
                "to it: use a writable copy with --db",
                file=str(self.path),
            )
        with self._writer_queue():
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if disk_problem(exc):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise WriteFailedError(
                        f"{self.path}: cannot write to the store: {exc}", file=str(self.path)
                    ) from None
                raise
        self._commits += 1
        if self._commits >= _INLINE_CHECKPOINT_EVERY:  # nobody else checkpointed: do it here, rarely
            self.checkpoint()

    @contextmanager
    def _writer_queue(self) -> Iterator[None]:
        """Optional (``BRAIN_AGENT_SQLITE_WRITER_QUEUE=1``): writers wait their turn on an OS lock
        (``<store>.lock``) before ``BEGIN IMMEDIATE``, so the kernel wakes one waiter at a time
        instead of SQLite's busy handler sleeping and polling. Measured with 8 writer processes
        (benchmarks/bench_ledger.py, quiet 2-core machine): without it 3,700 reservations/s, p99
        0.26 ms, but a starved writer can wait 2–3 s; with it 2,900/s, p99 18 ms, max 0.6 s. Off by
        default. Correctness never depends on it: ``BEGIN IMMEDIATE`` serialises writers either way."""
        fd = getattr(self._local, "lock_fd", None)
        if fd is None and os.environ.get("BRAIN_AGENT_SQLITE_WRITER_QUEUE", "0") != "1":
            fd = self._local.lock_fd = -1
        if fd is None:
            try:
                fd = os.open(f"{self.path}.lock", os.O_RDONLY | os.O_CREAT, 0o600)  # flock needs no write
            except OSError:
                fd = -1  # a read-only folder: no queue, SQLite's busy handler alone
            self._local.lock_fd = fd
        if fd < 0:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @property
    def where(self) -> str:
        return str(self.path)

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database without waiting for readers (``PASSIVE``).
        Writers never checkpoint inside their transaction; the heartbeat thread calls this every few
        seconds, and a connection that committed many times without one does it between
        transactions."""
        self._commits = 0
        with suppress(sqlite3.Error):  # busy or read-only: the next one will do
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        fd = getattr(self._local, "lock_fd", None)
        if fd is not None and fd >= 0:
            os.close(fd)
        self._local.lock_fd = None

    def migrate(self) -> list[str]:
        """Apply pending named migrations; returns the names applied now."""
        scripts = _migration_scripts()
        known = [name for name, _ in scripts]
        applied_now: list[str] = []
        try:
            if self.read_only:
                done = check_schema(self.conn, self.path, known)
                pending = [name for name in known if name not in done]
                if pending:
                    raise StoreFileError(
                        f"{self.path}: the store is read-only and needs migration {pending[0]!r}; "
                        "open it writable once",
                        file=str(self.path),
                    )
                return []
            with self.transaction() as conn:
                done = check_schema(conn, self.path, known)
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
                )
                for name, script in scripts:
                    if name in done:
                        continue
                    for statement in _statements(script):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
                    applied_now.append(name)
        except sqlite3.DatabaseError as exc:
            if disk_problem(exc):
                raise WriteFailedError(
                    f"{self.path}: cannot write to the store: {exc} (is the disk full?)", file=str(self.path)
                ) from None
            kind = StoreFileError if file_problem(exc) else StoreError
            raise kind(f"{self.path}: cannot open the store: {exc}", file=str(self.path)) from None
        return applied_now


# the records every backend shares live in ``records.py``; re-exported for existing imports
__all__ = ["Event", "LLMCallRecord", "SQLiteStore", "new_id"]
