"""Is this file a brain-agent store this version can use? Checks made when a store is opened.

A file that is not SQLite, a truncated one, another application's database, or one migrated by a
newer brain-agent is refused with :class:`StoreFileError` (exit 2, the file named) before anything
is written to it. SQLite's own complaints are sorted into the file's fault (exit 2) and the disk's
(full or failing: exit 4).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

from brain_agent.errors import StoreFileError

SQLITE_HEADER = b"SQLite format 3\x00"
OPENING = threading.Lock()
"""Held while the header is read (looking for this process's descriptors, then open, read, close)
and while a store's connection is opened (``sqlite3.connect``, before it takes any lock): a thread
opening the store cannot slip in between another thread's look and its close."""
_FILE_PROBLEMS = ("not a database", "malformed", "readonly", "read-only", "unable to open")


def file_problem(exc: sqlite3.Error) -> bool:
    """True when SQLite's complaint is about the file (the user's to fix), not our SQL."""
    text = str(exc).lower()
    return any(word in text for word in _FILE_PROBLEMS)


def disk_problem(exc: sqlite3.Error) -> bool:
    """True when SQLite could not write for lack of space or an I/O error (exit 4, not the file's fault)."""
    text = str(exc).lower()
    return "full" in text or "disk i/o" in text


def check_store_file(p: Path) -> bool:
    """Refuse early what SQLite would only notice later (or would silently turn into a store).

    Returns whether the store can be written (False: open it read-only)."""
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise StoreFileError(f"{p}: cannot use this store path: {reason}", file=str(p)) from None
    if stat.S_ISDIR(st.st_mode):
        raise StoreFileError(f"{p}: the store path is a folder, not a SQLite file", file=str(p))
    if not stat.S_ISREG(st.st_mode):
        raise StoreFileError(f"{p}: the store path is not a regular file", file=str(p))
    with OPENING:
        if _open_in_this_process(st):
            # this process has it open already (SQLite, most likely), so reading it again would be
            # harmful: closing any descriptor of a file drops every POSIX lock this process holds on
            # it (SQLite's included), which lets another process's last close delete the write-ahead
            # log under our open connections (SQLite's "How To Corrupt", 2.2); the header is not read
            return _writable(p)
        try:
            with p.open("rb") as fh:
                header = fh.read(100)
        except OSError as exc:
            raise StoreFileError(f"{p}: cannot read the store: {exc.strerror or exc}", file=str(p)) from None
    if header:  # an empty file is fine: SQLite makes a fresh database in it
        _check_header(p, header, st.st_size)
    return _writable(p)


def _writable(p: Path) -> bool:
    return os.access(p, os.W_OK) and os.access(p.parent, os.W_OK)


def _open_in_this_process(st: os.stat_result) -> bool:
    """Whether one of this process's file descriptors refers to the file ``st`` describes (Linux's
    ``/proc/self/fd``, macOS's ``/dev/fd``). False where neither can be listed."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            try:
                other = os.stat(f"{folder}/{name}")
            except OSError:  # closed meanwhile (the listing's own descriptor among them)
                continue
            if other.st_ino == st.st_ino and other.st_dev == st.st_dev:
                return True
        return False
    return False


def _check_header(p: Path, header: bytes, size: int) -> None:
    if not header.startswith(SQLITE_HEADER):
        raise StoreFileError(f"{p}: not a SQLite database (wrong header); refusing to use it", file=str(p))
    if len(header) < 100:
        raise StoreFileError(f"{p}: the SQLite file is truncated ({len(header)} bytes)", file=str(p))
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size_is_valid = header[24:28] == header[92:96]  # the in-header size is current (SQLite ≥ 3.7)
    expected = page_size * pages
    if size_is_valid and expected and size < expected and not Path(f"{p}-wal").exists():
        raise StoreFileError(
            f"{p}: the SQLite file is truncated ({size} bytes, its header says {expected})", file=str(p)
        )


def applied_migrations(conn: sqlite3.Connection) -> set[str] | None:
    """Names in ``schema_migrations``; None when the table is missing."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if row is None:
        return None
    return {str(r[0]) for r in conn.execute("SELECT name FROM schema_migrations")}


def check_schema(conn: sqlite3.Connection, path: Path, known: list[str]) -> set[str]:
    """The migrations already applied; refuses another application's database and a newer schema."""
    applied = applied_migrations(conn)
    if applied is None:
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        if tables:
            shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
            raise StoreFileError(
                f"{path}: a SQLite database of another application (tables: {shown}; no "
                "schema_migrations table); refusing to use it as a brain-agent store",
                file=str(path),
            )
        return set()
    unknown = sorted(applied - set(known))
    if unknown:
        raise StoreFileError(
            f"{path}: the store was migrated by a newer brain-agent (unknown migration "
            f"{unknown[0]!r}); upgrade brain-agent or use another --db",
            file=str(path),
            migration=unknown[0],
        )
    return applied
