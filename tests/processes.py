"""Waiting for several test processes at once."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


def finish_all(procs: Sequence[subprocess.Popen[str]], timeout: float) -> list[tuple[str, str]]:
    """Every process's ``(stdout, stderr)``, collected from all of them before any is judged, so a
    failing one does not leave the others running with open pipes (a later test's warnings)."""
    outputs: list[tuple[str, str]] = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=timeout))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return outputs
