"""Encode and decode :class:`~brain_agent.telemetry.views.RunView` checkpoints.

A checkpoint is the reducer's whole state (pickle protocol 5, zlib level 1). Decoding goes through an
unpickler that resolves only the reducer's own classes and a few standard containers, so a crafted
row cannot name an arbitrary callable. ``VERSION`` combines a hand-bumped number with a hash of the
reducer's source: any change to the reducer retires every older checkpoint (they are rebuilt).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import zlib
from importlib import resources
from typing import Any

from brain_agent.telemetry import views
from brain_agent.telemetry.views import budget, calls, candidates, radar, reducer, series, simulations

FORMAT = 2
_ALLOWED = {
    ("collections", "deque"),
    ("decimal", "Decimal"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
    (reducer.__name__, "RunView"),
    (budget.__name__, "Budget"),
    (calls.__name__, "Calls"),
    (candidates.__name__, "Candidates"),
    (radar.__name__, "Radar"),
    (radar.__name__, "Idea"),
    (series.__name__, "Series"),
    (series.__name__, "Bucket"),
    (simulations.__name__, "Simulations"),
}


def _version() -> str:
    digest = hashlib.sha256()
    package = resources.files("brain_agent.telemetry")
    for name in ("checkpoint.py", "events.py", "alpha_yield.py"):  # alpha_yield: the views' best-alpha rule
        digest.update((package / name).read_bytes())
    for part in sorted((package / "views").iterdir(), key=lambda p: p.name):
        if part.name.endswith(".py"):
            digest.update(part.name.encode() + part.read_bytes())
    return f"{FORMAT}-{digest.hexdigest()[:16]}"


VERSION = _version()


class CheckpointError(ValueError):
    """A checkpoint row that cannot be decoded (it is then ignored and rebuilt)."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise CheckpointError(f"checkpoint names {module}.{name}, which is not part of the reducer")
        return super().find_class(module, name)


def encode(view: views.RunView) -> bytes:
    return zlib.compress(pickle.dumps(view, protocol=5), 1)


def decode(blob: bytes) -> views.RunView:
    try:
        out = _Unpickler(io.BytesIO(zlib.decompress(blob))).load()
    except (pickle.UnpicklingError, zlib.error, EOFError, AttributeError, TypeError) as exc:
        raise CheckpointError(f"unreadable checkpoint: {exc}") from None
    if not isinstance(out, views.RunView):
        raise CheckpointError(f"checkpoint holds a {type(out).__name__}, not a RunView")
    return out
