"""Persistence behind one seam: ``open_store(url)`` gives a SQLite (a file path) or a PostgreSQL
(``postgresql://…``) store with the same records, ledger and migrations. Nothing outside
``storage/`` knows which one it talks to; SQL lives only here."""

from brain_agent.storage.factory import is_url, local_path, open_store
from brain_agent.storage.protocols import CallLog, Candidates, EventLog, Ledger, RunLog, Store
from brain_agent.storage.records import Event, LLMCallRecord, RecordStore, new_id
from brain_agent.storage.sqlite_store import SQLiteStore

__all__ = [
    "CallLog",
    "Candidates",
    "Event",
    "EventLog",
    "LLMCallRecord",
    "Ledger",
    "RecordStore",
    "RunLog",
    "SQLiteStore",
    "Store",
    "is_url",
    "local_path",
    "new_id",
    "open_store",
]
