"""Give the C heap's free pages back to the operating system after a big build.

Building a market makes and drops many full-size double arrays; glibc keeps the freed memory in
its heap (below its dynamic mmap threshold), so the process would go on holding a few hundred MB it
no longer uses. ``malloc_trim(0)`` returns those pages; it is called once per market build, not per
simulation (releasing pages that are about to be reused would cost page faults). Elsewhere than
glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache


@cache
def _trim() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return None


def release_free_memory() -> bool:
    """Return the C heap's free pages to the OS; ``True`` if anything was released."""
    trim = _trim()
    if trim is None:
        return False
    return bool(trim(0))  # type: ignore[operator]
