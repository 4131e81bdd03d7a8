"""BRAIN credentials and the saved session cookie.

Credentials come from ``BRAIN_EMAIL`` / ``BRAIN_PASSWORD``, else from a JSON file
(``BRAIN_CREDENTIALS_FILE``, default ``~/.config/brain-agent/credentials.json``) that must be mode
0600. The session cookie is kept in another 0600 file. Neither the credentials nor the cookie ever
appear in a repr, a log line or an exception message.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from brain_agent.errors import AuthError
from brain_agent.jsonio import write_json

ENV_EMAIL = "BRAIN_EMAIL"
ENV_PASSWORD = "BRAIN_PASSWORD"
ENV_CREDENTIALS_FILE = "BRAIN_CREDENTIALS_FILE"
ENV_SESSION_FILE = "BRAIN_SESSION_FILE"
CREDENTIALS_FILE = "credentials.json"
SESSION_FILE = "session.json"
DB_SESSION_FILE = "brain-session.json"


def config_dir() -> Path:
    """``~/.config/brain-agent`` (computed when asked, never at import time)."""
    return Path.home() / ".config" / "brain-agent"


class Credentials:
    """An e-mail and password; the repr and str show neither."""

    __slots__ = ("_email", "_password", "source")

    def __init__(self, email: str, password: str, source: str = "explicit") -> None:
        if not email or not password:
            raise AuthError(f"BRAIN credentials from {source} are incomplete (need both e-mail and password)")
        self._email = email
        self._password = password
        self.source = source

    @property
    def email(self) -> str:
        return self._email

    @property
    def password(self) -> str:
        return self._password

    def __repr__(self) -> str:
        return f"Credentials(source={self.source!r}, email=***, password=***)"

    __str__ = __repr__


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def require_private(path: Path, what: str) -> None:
    """Refuse a file that group or others may read or write."""
    mode = file_mode(path)
    if mode & 0o077:
        raise AuthError(
            f"{path}: {what} file has mode {mode:04o}; it must be 0600 (run: chmod 600 {path})",
            file=str(path),
            mode=f"{mode:04o}",
        )


def credentials_path(env: Mapping[str, str]) -> Path:
    explicit = env.get(ENV_CREDENTIALS_FILE)
    return Path(explicit).expanduser() if explicit else config_dir() / CREDENTIALS_FILE


def load_credentials(env: Mapping[str, str] | None = None) -> Credentials:
    """Read credentials: the environment first, then the 0600 credentials file."""
    env = os.environ if env is None else env
    email, password = env.get(ENV_EMAIL), env.get(ENV_PASSWORD)
    if email or password:
        return Credentials(email or "", password or "", source=f"${ENV_EMAIL}/${ENV_PASSWORD}")
    path = credentials_path(env)
    if not path.is_file():
        raise AuthError(
            f"no BRAIN credentials: set ${ENV_EMAIL} and ${ENV_PASSWORD}, or create {path} "
            '(mode 0600) holding {"email": ..., "password": ...}',
            file=str(path),
        )
    require_private(path, "credentials")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthError(f"{path}: cannot read credentials file ({type(exc).__name__})") from None
    except json.JSONDecodeError as exc:
        raise AuthError(
            f"{path}: credentials file is not valid JSON (line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str) for k in ("email", "password")):
        raise AuthError(f'{path}: credentials file must be an object with string keys "email" and "password"')
    return Credentials(doc["email"], doc["password"], source=str(path))


def write_private_json(path: Path, data: Any) -> None:
    """Write JSON atomically into a file that only the owner can read (mode 0600)."""
    write_json(path, data, mode=0o600, what="session file")


@dataclass(frozen=True)
class SavedSession:
    base_url: str
    cookies: dict[str, str]
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"SavedSession(base_url={self.base_url!r}, cookies=<{len(self.cookies)} hidden>)"


class SessionStore:
    """The session cookie on disk (mode 0600), keyed by the API base URL."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"SessionStore({str(self.path)!r})"

    def load(self, base_url: str) -> SavedSession | None:
        """The saved session for ``base_url``; None when absent, unreadable, too open or for another URL."""
        try:
            if not self.path.is_file() or file_mode(self.path) & 0o077:
                return None
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(doc, dict):
            return None
        stored = doc.get("base_url")
        if isinstance(stored, str) and "@" in stored.partition("://")[2].partition("/")[0]:
            self.clear()  # written by an older version with a password in the URL: never keep that
            return None
        if stored != base_url:
            return None
        cookies = doc.get("cookies")
        if not isinstance(cookies, dict) or not all(isinstance(v, str) for v in cookies.values()):
            return None
        expires_at: datetime | None = None
        raw = doc.get("expires_at")
        if isinstance(raw, str):
            with contextlib.suppress(ValueError):
                expires_at = datetime.fromisoformat(raw)
        return SavedSession(base_url, {str(k): v for k, v in cookies.items()}, expires_at)

    def save(self, session: SavedSession) -> None:
        write_private_json(
            self.path,
            {
                "base_url": session.base_url,
                "cookies": session.cookies,
                "expires_at": session.expires_at.isoformat() if session.expires_at else None,
            },
        )

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def session_path(env: Mapping[str, str] | None = None, db_path: Path | None = None) -> Path:
    """``$BRAIN_SESSION_FILE``, else next to the database, else ``~/.config/brain-agent/session.json``."""
    env = os.environ if env is None else env
    explicit = env.get(ENV_SESSION_FILE)
    if explicit:
        return Path(explicit).expanduser()
    if db_path is not None:
        return db_path.parent / DB_SESSION_FILE
    return config_dir() / SESSION_FILE
