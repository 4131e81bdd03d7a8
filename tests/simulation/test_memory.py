"""The C heap keeps freed simulation temporaries (glibc): the next one reuses their pages instead of
the kernel zeroing fresh ones."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from brain_agent.simulation.local.memory import KEEP_ENV

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

PROBE = """
import json, resource, numpy as np
from brain_agent.simulation.local.memory import keep_freed_memory
kept = keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
np.ones((1260, 4200)).sum()  # a first 42 MB temporary (beyond glibc's own 32 MB limit)
before = faults()
for _ in range(10):
    np.ones((1260, 4200)).sum()
print(json.dumps({"kept": kept, "faults": faults() - before}))
"""


def _probe(**env: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return dict(json.loads(out))


def test_freed_temporaries_are_reused_without_new_page_faults() -> None:
    kept, default = _probe(), _probe(**{KEEP_ENV: "0"})
    assert default["kept"] == 0 and int(str(kept["kept"])) >= 32 << 20
    if int(str(kept["kept"])) < 48 << 20:
        pytest.skip("this glibc caps the mmap threshold at 32 MiB: the 42 MB probe would be mmapped")
    assert int(str(default["faults"])) >= 100, default  # each temporary on fresh pages
    assert int(str(kept["faults"])) < 20, kept
