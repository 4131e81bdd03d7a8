"""``open_store(url)``: the one place that decides which database a store lives in.

- a path (or ``sqlite:///path``) → :class:`~brain_agent.storage.sqlite_store.SQLiteStore`;
- ``postgresql://…`` / ``postgres://…`` → :class:`~brain_agent.storage.postgres_store.PostgresStore`;
- anything else that looks like a URL (``scheme://``) is refused (exit 2), never taken as a folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from brain_agent.errors import InputError
from brain_agent.storage.records import RecordStore

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
SUPPORTED = ("postgresql://", "postgres://", "sqlite:///")


def is_url(value: str | Path) -> bool:
    return isinstance(value, str) and _SCHEME.match(value) is not None


def redact_location(location: str | Path) -> str:
    """A store location fit for messages: a URL without its password, a path as it is."""
    text = str(location)
    if _SCHEME.match(text):
        from brain_agent.storage.postgres_store import redact

        return redact(text)
    return text


def local_path(location: str | Path) -> Path | None:
    """The file of a SQLite store location; None for a server database (nothing local to put
    beside it)."""
    text = str(location)
    if text.startswith("sqlite:///"):
        return Path(text[len("sqlite:///") - 1 :])
    return None if _SCHEME.match(text) else Path(text)


def open_store(location: str | Path) -> RecordStore:
    """The store at ``location`` (a SQLite file path or a database URL), migrated and ready."""
    text = str(location)
    match = _SCHEME.match(text)
    if match is None:
        from brain_agent.storage.sqlite_store import SQLiteStore

        return SQLiteStore(Path(text))
    scheme = match.group(1).lower()
    if scheme in ("postgresql", "postgres"):
        from brain_agent.storage.postgres_store import PostgresStore, redact

        if not text.split("://", 1)[1].strip("/"):
            raise InputError(f"--db {redact(text)}: the URL names no server", key="db", value=redact(text))
        return PostgresStore(text)
    if scheme == "sqlite":
        from brain_agent.storage.sqlite_store import SQLiteStore

        path = text[len("sqlite:///") - 1 :] if text.startswith("sqlite:///") else ""
        if not path or path == "/":
            raise InputError(f"--db {text}: a sqlite URL needs a path (sqlite:///path/to/store.db)", key="db")
        return SQLiteStore(Path(path))
    from brain_agent.storage.postgres_store import redact

    raise InputError(
        f"--db {redact(text)}: unsupported database scheme {scheme!r}; use a file path, sqlite:///path "
        "or postgresql://user@host/db",
        key="db",
        value=redact(text),
    )
