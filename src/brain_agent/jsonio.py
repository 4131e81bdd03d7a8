"""Reading and writing the JSON files commands take and produce.

Reads name the file and the problem (exit 2); writes are atomic (temp file + rename), so an
interrupted command never leaves a half-written output.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from brain_agent.errors import InputError

_M = TypeVar("_M", bound=BaseModel)


def read_json(path: str | Path, what: str = "input") -> Any:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: {what} file does not exist", file=str(p))
    if not p.is_file():
        raise InputError(f"{p}: {what} is not a file", file=str(p))
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read {what} file: {exc}", file=str(p)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{p}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", file=str(p)
        ) from None


def validate_model(model: type[_M], data: Any, source: str, prefix: str = "") -> _M:
    """Validate ``data`` as ``model``; the error names the source, the key path and the bad value."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        key = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or "(top level)")
        value = first.get("input")
        shown = repr(value) if not isinstance(value, dict) else "{…}"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise InputError(
            f"{source}: key '{key}': {first['msg']} (value: {shown}){more}", file=source, key=key
        ) from None


def read_model(model: type[_M], path: str | Path, what: str = "input") -> _M:
    return validate_model(model, read_json(path, what), str(path))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_json(path: str | Path, data: Any, *, mode: int | None = None) -> Path:
    """Write ``data`` as pretty JSON atomically; creates parent folders. The file gets ``mode``
    (default: what a plain ``open`` would give under the umask; pass 0o600 for secrets)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        os.fchmod(fd, mode if mode is not None else 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
