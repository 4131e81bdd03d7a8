"""Run every benchmark (`benchmarks/bench_*.py`, then the HUD's browser bench if the HUD is built).

Each script prints its own table and writes JSON to `benchmarks/results/<name>.json`. Pass names to run a
subset: `python benchmarks/run_all.py expression budget`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in argv]
    failed: list[str] = []
    timings: list[tuple[str, float, int]] = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=ROOT)
        timings.append((script.stem, time.perf_counter() - start, code))
        if code:
            failed.append(script.stem)
    web = ROOT / "web"
    if (not argv or "hud" in argv) and (web / "out" / "index.html").exists():
        print("\n=== hud (browser) ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call(["npm", "run", "--silent", "bench:browser"], cwd=web)
        timings.append(("hud", time.perf_counter() - start, code))
        if code:
            failed.append("hud")
    print("\nbenchmark        seconds  exit")
    for name, seconds, code in timings:
        print(f"{name:<16} {seconds:7.1f}  {code}")
    print(f"results in {HERE / 'results'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
