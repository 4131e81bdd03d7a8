"""One exception tree for the whole package.

Each class carries the CLI exit code and the HTTP status it maps to. Errors are mapped only at the
edges (the CLI in ``brain_agent.cli``, the HTTP API in ``brain_agent.server``); everything in between
raises and lets them travel. Messages name the file, the key, the limit and the observed value.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_BUDGET_BLOCKED = 3
EXIT_WRITE_FAILED = 4
EXIT_SOME_FAILED = 5
EXIT_REMOTE_FAILED = 6

SHORT_VALUE = 80
"""How many characters of a bad value a message repeats (the rest is cut, the length said)."""


def shorten(value: Any, limit: int = SHORT_VALUE) -> str:
    """``repr(value)`` cut to about ``limit`` characters: head, an ellipsis and the full length.

    Every message that repeats a user's value goes through this, so a 10 MB title never puts 10 MB
    on stderr (or in an HTTP error body)."""
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not turn an error message into a crash
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def clip(text: str, limit: int = SHORT_VALUE) -> str:
    """``text`` itself when short, else its head and tail around an ellipsis, with the full length."""
    if len(text) <= limit:
        return text
    keep = max(limit - 24, 8)
    return f"{text[: keep * 2 // 3]}…{text[-(keep // 3) :]} ({len(text):,} chars)"


class BrainAgentError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code: int = EXIT_INTERNAL
    http_status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InputError(BrainAgentError):
    """Bad input or usage: a missing file, invalid JSON, a wrong type, an unknown name."""

    exit_code = EXIT_BAD_INPUT
    http_status = 422
    code = "bad_input"


class ConfigError(InputError):
    """A configuration file or setting is invalid."""

    code = "bad_config"


class KnowledgePackError(InputError):
    """The knowledge pack (operator / field catalogue) is missing or has a broken entry."""

    code = "bad_knowledge_pack"


class ExpressionError(InputError):
    """A Fast Expression failed to lex, parse or validate.

    ``errors`` holds one or more ``brain_agent.expression.Diagnostic`` objects with stable codes and
    character offsets.
    """

    code = "bad_expression"

    def __init__(self, message: str, errors: list[Any] | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.errors = list(errors or [])


class LLMOutputError(InputError):
    """The LLM answered, but the answer is unusable (no expression, invalid JSON...).

    The raw text is kept in ``raw_text`` so it can be stored and inspected.
    """

    code = "bad_llm_output"

    def __init__(self, message: str, raw_text: str = "", **details: Any) -> None:
        super().__init__(message, **details)
        self.raw_text = raw_text


class ProviderError(BrainAgentError):
    """An LLM provider or remote service failed (network, 5xx, auth)."""

    exit_code = EXIT_REMOTE_FAILED
    code = "provider_error"
    http_status = 502


class NotFoundError(InputError):
    """A named thing (run, candidate, file) does not exist."""

    code = "not_found"
    http_status = 404


class AuthError(BrainAgentError):
    """Credentials missing or refused. Messages never contain the credential itself."""

    exit_code = EXIT_BAD_INPUT
    code = "auth_error"
    http_status = 401


class BudgetBlockedError(BrainAgentError):
    """A request cannot fit any budget scope even after the whole fallback ladder.

    ``failure_code`` is stable (e.g. ``BUDGET_DAY_TOKENS``); ``scope``, ``limit`` and ``observed``
    say which cap, its limit and the value that would have exceeded it.
    """

    exit_code = EXIT_BUDGET_BLOCKED
    http_status = 429
    code = "budget_blocked"

    def __init__(
        self, message: str, *, failure_code: str, scope: str, limit: float, observed: float, **details: Any
    ) -> None:
        super().__init__(
            message, failure_code=failure_code, scope=scope, limit=limit, observed=observed, **details
        )
        self.failure_code = failure_code
        self.scope = scope
        self.limit = limit
        self.observed = observed


class StoreError(BrainAgentError):
    """The store could not be opened or migrated."""

    code = "store_error"


class StoreUnavailableError(StoreError):
    """The store's database server cannot be reached (PostgreSQL down, wrong host or credentials).
    The run fails closed: no call is made without the ledger. The message names the server, never
    the password."""

    exit_code = EXIT_REMOTE_FAILED
    http_status = 503
    code = "store_unavailable"


class StoreFileError(StoreError):
    """The store file itself is wrong: not SQLite, truncated, another application's database, made by
    a newer brain-agent, or read-only when a command must write. The message names the file."""

    exit_code = EXIT_BAD_INPUT
    http_status = 503
    code = "bad_store"


class OutputError(InputError):
    """An output path that cannot be written: a directory, a device, a FIFO, a symlink loop, a
    folder without write permission. Nothing was written."""

    code = "bad_output"


class WriteFailedError(BrainAgentError):
    """Writing an output failed part-way (disk full, quota, I/O error). The previous file, if any, is
    left exactly as it was; the message names the file and the reason."""

    exit_code = EXIT_WRITE_FAILED
    http_status = 507
    code = "write_failed"
