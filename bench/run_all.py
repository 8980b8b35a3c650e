"""Run every benchmark, one after another (each starts what it needs), and save what they print.

    make bench                      # all of them, about 15 minutes on a 2-core VM
    .venv/bin/python bench/run_all.py cold_import trigger_latency   # a selection

Each benchmark's output goes to build/bench/<name>.txt; those that write a markdown report also
refresh docs/bench/<name>.md. The README quotes the latest numbers from there.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "bench"

# name -> extra arguments; the order runs the quick ones first.
BENCHMARKS: dict[str, list[str]] = {
    "cold_import": [],
    "matching_redis": [],
    "trigger_latency": ["--out", "docs/bench/triggers.md"],
    "vrm_sync": [],
    "matching_stack": [],
    "issue_tokens_bench": ["--out", "docs/bench/tokens.md"],
    "invitations_bench": ["--out", "docs/bench/invitations.md"],
    "realtime": ["--out", "docs/bench/realtime.md"],
    "discord_bench": ["--out", "docs/bench/discord.md"],
}


def main(selected: list[str]) -> int:
    names = selected or [name for name in BENCHMARKS if (ROOT / "bench" / f"{name}.py").exists()]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), *BENCHMARKS[name]]
        with (OUT / f"{name}.txt").open("w") as log:
            result = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"   {status} in {time.perf_counter() - started:.0f} s -> {OUT / f'{name}.txt'}", flush=True)
        if result.returncode:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
