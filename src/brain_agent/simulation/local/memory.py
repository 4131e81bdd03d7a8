"""The C heap while simulating: keep freed blocks for the next simulation, give them back after a
big build.

Building a market makes and drops many full-size double arrays; glibc keeps the freed memory in
its heap (below its dynamic mmap threshold), so the process would go on holding a few hundred MB it
no longer uses. ``malloc_trim(0)`` returns those pages; it is called once per market build, not per
simulation (releasing pages that are about to be reused would cost page faults).

While simulating, the opposite: every alpha makes and drops a dozen full-size temporaries (30 MB
each at 3000 × 1260). glibc hands blocks that big out with ``mmap`` or trims them off the top of
its heap when freed, so the next temporary gets fresh pages that the kernel must zero first
(transparent huge pages: 2 MB at a time). ``keep_freed_memory`` raises glibc's mmap and trim
thresholds so freed temporaries stay in the heap for the next one. Measured on the benchmark's
6-operator alpha, 2 threads, 30 runs alternating three times: 0.095–0.097 → 0.084–0.090 s, about
1,000 page faults per alpha → 0, peak RSS 436 → 457 MiB. ``BRAIN_AGENT_SIM_KEEP_MEMORY=0`` leaves
glibc's defaults. Elsewhere than glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import sys
from functools import cache

KEEP_ENV = "BRAIN_AGENT_SIM_KEEP_MEMORY"
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
KEEP_BYTES = 256 << 20
"""Blocks up to this size come from the heap, and up to this much free memory stays at its top."""


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


@cache
def keep_freed_memory() -> int:
    """Keep freed temporaries in the C heap for the next simulation (once per process; the forked
    workers inherit it). Returns the largest block size now served from the heap (0: nothing set).

    An older glibc (2.26's source, for one) refuses an mmap threshold above 32 MiB (half its 64 MiB
    heap size): then 32 MiB, which still covers the default market's 30 MB matrices. Setting either
    threshold stops glibc adjusting both, so each is set explicitly."""
    if os.environ.get(KEEP_ENV, "1").strip().lower() in {"0", "false", "no", "off"}:
        return 0
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return 0
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return 0
    kept = next((size for size in (KEEP_BYTES, 32 << 20) if mallopt(_M_MMAP_THRESHOLD, size) == 1), 0)
    if kept:
        mallopt(_M_TRIM_THRESHOLD, KEEP_BYTES)  # any size is accepted
    return kept
