"""What the stack benchmarks share: their own local stack on free ports, waiting for its triggers to
go quiet, the CPU a function's processes used, and percentiles."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import machine_summary
from deploy.manifest import ROOT, load_manifest
from devstack.stack import Ports, Stack
from shared.config import reset_settings

MACHINE = machine_summary()


@contextmanager
def own_stack(name: str, **options: Any) -> Iterator[Stack]:
    """A whole local stack for one benchmark (no scheduler firing behind its back), its env in
    os.environ for in-process clients; stopped and deleted afterwards."""
    state_dir = ROOT / ".dev" / f"bench-{name}-{os.getpid()}"
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    stack = Stack(
        state_dir, Ports.free(load_manifest()), scheduler_auto=False, echo=lambda line: None, **options
    )
    print("starting the local stack ...", flush=True)
    stack.start(timeout_s=240)
    try:
        os.environ.update(stack.service_env())
        reset_settings()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def wait_for_triggers(stack: Stack, quiet_s: float = 2.0, timeout_s: float = 300.0) -> float:
    """Until the event router has finished no delivery for `quiet_s`; returns the seconds waited.

    Every seeded user or room is an event for on_user_written / on_room_written: thousands of them
    keep two functions and the emulator busy for tens of seconds after the seed's last commit, on
    the same two cores as what the benchmark then measures. (The router logs each delivery when it
    ends; a benchmark that seeds calls this before it measures.)"""
    started = time.monotonic()
    while True:
        with urllib.request.urlopen(f"{stack.router_url}/deliveries", timeout=10) as response:
            log: list[dict[str, Any]] = json.load(response)
        newest = max((entry["at"] for entry in log), default=0.0)
        waited = time.monotonic() - started
        if waited >= quiet_s and time.time() - newest >= quiet_s:
            return waited
        if waited > timeout_s:
            raise RuntimeError(f"the stack's triggers were still running after {timeout_s:.0f} s")
        time.sleep(0.2)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stack: Stack, process: str) -> float:
    """User + system CPU seconds so far of every live process in the group of one of the stack's
    processes ("fn:issue_tokens": functions-framework's gunicorn master and its worker)."""
    popen = stack.processes[process].popen
    assert popen is not None, f"{process} was not started"
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            # The fields after the command name, which may itself contain spaces and parentheses.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[2]) == popen.pid:  # process group
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLOCK_TICKS
