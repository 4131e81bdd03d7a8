"""Persistence: the SQLite store and its migrations."""

from brain_agent.storage.sqlite_store import Event, LLMCallRecord, SQLiteStore, new_id

__all__ = ["Event", "LLMCallRecord", "SQLiteStore", "new_id"]
