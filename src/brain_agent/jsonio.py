"""The one door for the JSON (and text) files commands read and write.

Reading: :func:`read_json` / :func:`parse_json` name the file and the problem (exit 2) for a missing
file, a directory, bytes that are not UTF-8, invalid JSON, ``NaN``/``Infinity`` or a number too big
for a float, and nesting deeper than :data:`MAX_DEPTH` (a 100,000-deep file is refused, never a
``RecursionError``).

Writing: :func:`write_text` / :func:`write_json` / :func:`write_lines` are the one output writer. A
regular file is replaced atomically (temp file in the same folder, ``fsync``, rename), so an
interrupted or failed write never leaves a half-written output; a symlink is followed to the file it
names (the link stays a link); a directory, device, FIFO or socket is refused with exit 2 before
anything is written; a full disk leaves the old file intact and exits 4 (:class:`WriteFailedError`).
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from brain_agent.errors import InputError, OutputError, WriteFailedError, clip, shorten

_M = TypeVar("_M", bound=BaseModel)

MAX_DEPTH = 64
"""Deepest nesting of arrays/objects a JSON input may have (ours need fewer than 10)."""
MAX_INPUT_BYTES = 256 * 2**20
"""Largest input file read whole (a file of candidates or a knowledge pack is far smaller)."""

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_REFUSED = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.ENAMETOOLONG,
    errno.ELOOP,
}


# -- reading ------------------------------------------------------------------------------------


class _NonFinite(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NonFinite(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(f"number {shorten(text, 40)} is too large for a float")
    return value


def _too_deep(doc: Any, limit: int) -> bool:
    """True when ``doc`` nests more than ``limit`` containers (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json(text: str | bytes, source: str, what: str = "input", *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text from ``source`` (a file name, for messages); exit-2 errors on anything wrong."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{source}: {what} file is not UTF-8 text (byte offset {exc.start})",
                file=source,
            ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        doc = json.loads(text, parse_constant=_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", file=source
        ) from None
    except ValueError as exc:  # _NonFinite, or an integer with more digits than Python converts
        raise InputError(f"{source}: invalid JSON: {clip(str(exc), 120)}", file=source) from None
    except RecursionError:
        raise InputError(
            f"{source}: JSON nested deeper than {max_depth} levels (refused)", file=source, limit=max_depth
        ) from None
    if _too_deep(doc, max_depth):
        raise InputError(
            f"{source}: JSON nested deeper than {max_depth} levels (refused)", file=source, limit=max_depth
        )
    return doc


def probe(path: str | Path, what: str = "input") -> os.stat_result | None:
    """``os.stat`` of ``path``, None when nothing is there; exit 2 naming the path when it cannot be
    looked at (a name too long, a symlink loop, no permission) instead of an ``OSError``."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise InputError(
            f"{path}: cannot use this {what} path: {exc.strerror or exc}", file=str(path)
        ) from None
    except ValueError as exc:  # an embedded NUL byte
        raise InputError(f"{shorten(str(path))}: not a usable {what} path: {exc}", file=str(path)) from None


def check_size(path: Path, st: os.stat_result, what: str = "input") -> None:
    """Refuse (exit 2) a file too big to read whole, before reading it."""
    if st.st_size > MAX_INPUT_BYTES:
        raise InputError(
            f"{path}: {what} file is {st.st_size / 2**20:,.0f} MiB; at most {MAX_INPUT_BYTES // 2**20} MiB",
            file=str(path),
            limit=MAX_INPUT_BYTES,
        )


def read_text(path: str | Path, what: str = "input") -> str:
    """A UTF-8 text file's content; exit 2 naming the file when it is missing, not a file or not UTF-8."""
    p = Path(path)
    st = probe(p, what)
    if st is None:
        raise InputError(f"{p}: {what} file does not exist", file=str(p))
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{p}: {what} is not a file", file=str(p))
    check_size(p, st, what)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read {what} file: {exc.strerror}", file=str(p)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: {what} file is not UTF-8 text (byte {exc.start})", file=str(p)) from None


def read_json(path: str | Path, what: str = "input") -> Any:
    return parse_json(read_text(path, what), str(path), what)


def validate_model(model: type[_M], data: Any, source: str, prefix: str = "") -> _M:
    """Validate ``data`` as ``model``; the error names the source, the key path and the bad value."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        key = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or "(top level)")
        value = first.get("input")
        shown = shorten(value) if not isinstance(value, dict) else "{…}"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise InputError(
            f"{source}: key '{key}': {first['msg']} (value: {shown}){more}", file=source, key=key
        ) from None


def read_model(model: type[_M], path: str | Path, what: str = "input") -> _M:
    return validate_model(model, read_json(path, what), str(path))


# -- writing ------------------------------------------------------------------------------------


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def output_target(path: str | Path, what: str = "output") -> Path:
    """Where writing ``path`` really goes: a symlink followed to its file; refuses (exit 2) anything
    that is not a regular file or a new name in an existing-or-creatable folder."""
    p = Path(path)
    if str(p) in ("", "."):
        raise OutputError(f"{what} path is empty", key="output")
    try:
        real = Path(os.path.realpath(p, strict=False)) if p.is_symlink() else p
    except (OSError, RuntimeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise OutputError(f"{p}: cannot use this {what} path: {reason}", file=str(p)) from None
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return real
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"{p}: {what} path is a symlink loop", file=str(p)) from None
        if exc.errno == errno.ENOTDIR:
            raise OutputError(f"{p}: a parent of the {what} path is not a folder", file=str(p)) from None
        raise OutputError(f"{p}: cannot use as {what}: {exc.strerror}", file=str(p)) from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{p}: {what} path is a folder, not a file", file=str(p))
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "not a regular file"
        )
        raise OutputError(f"{p}: {what} path is {kind}; refusing to replace it", file=str(p))
    return real


def write_error(exc: OSError, shown: Path, what: str) -> Exception:
    """The error to raise for an ``OSError`` while writing ``shown``: exit 4 for a full disk or an I/O
    error (the old file is intact), exit 2 for a path that cannot be written."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in _DISK_FULL:
        return WriteFailedError(
            f"{shown}: cannot write the {what}: {reason}; the previous file (if any) is unchanged",
            file=str(shown),
            errno=exc.errno,
        )
    if exc.errno in _REFUSED:
        return OutputError(f"{shown}: cannot write the {what}: {reason}", file=str(shown))
    return WriteFailedError(
        f"{shown}: cannot write the {what}: {reason}; the previous file (if any) is unchanged",
        file=str(shown),
        errno=exc.errno,
    )


def write_lines(
    path: str | Path, chunks: Iterable[str], *, mode: int | None = None, what: str = "output"
) -> Path:
    """Write text chunks to ``path`` atomically; returns the path written (a symlink's target).

    ``mode`` defaults to the existing file's mode, else what a plain ``open`` gives under the umask
    (pass 0o600 for secrets)."""
    shown = Path(path)
    target = output_target(shown, what)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{shown}: a parent of the {what} path is not a folder", file=str(shown)) from None
    except OSError as exc:
        raise write_error(exc, shown, what) from None
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            mode = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise write_error(exc, shown, what) from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_error(exc, shown, what) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_text(path: str | Path, text: str, *, mode: int | None = None, what: str = "output") -> Path:
    return write_lines(path, (text,), mode=mode, what=what)


def dump_json(data: Any) -> str:
    """Pretty JSON text (what :func:`write_json` writes), ending with a newline."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def write_json(path: str | Path, data: Any, *, mode: int | None = None, what: str = "output") -> Path:
    """Write ``data`` as pretty JSON through :func:`write_lines` (atomic, symlink-aware)."""
    return write_text(path, dump_json(data), mode=mode, what=what)
