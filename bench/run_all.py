"""Run every benchmark, one after another (each starts what it needs), and save what they print.

    make bench                                   # all of them, about 20 minutes on a 2-core VM
    make bench BENCH="cold_import cascade"       # a selection
    .venv/bin/python bench/run_all.py cold_import cascade

Each benchmark's output goes to build/bench/<name>.txt; each publishes its headline numbers to
docs/bench/results/<name>.json (bench/report.py) and most refresh their markdown report in
docs/bench/. At the end the README's benchmark table is regenerated from the results.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.registry import BENCHMARKS  # noqa: E402

OUT = ROOT / "build" / "bench"


SETTLED_LOAD = 1.0  # 1-minute load average a benchmark starts below (the previous one's tail decays)
SETTLE_MAX_S = 240.0


def settle() -> None:
    """Wait until the machine is quiet again: a benchmark that starts in the previous one's tail (a
    stack shutting down, PostgreSQL's autovacuum after a seed) measures that instead of itself."""
    deadline = time.monotonic() + SETTLE_MAX_S
    while os.getloadavg()[0] >= SETTLED_LOAD and time.monotonic() < deadline:
        time.sleep(5)
    print(f"   (1-minute load average {os.getloadavg()[0]:.1f} at start)", flush=True)


def main(selected: list[str]) -> int:
    names = selected or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        settle()
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), *BENCHMARKS[name].args]
        with (OUT / f"{name}.txt").open("w") as log:
            result = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"   {status} in {time.perf_counter() - started:.0f} s -> {OUT / f'{name}.txt'}", flush=True)
        if result.returncode:
            failed.append(name)
    subprocess.run([sys.executable, "-m", "bench.report", "--write"], cwd=ROOT, check=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
