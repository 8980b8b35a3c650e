"""What the stack benchmarks share: their own local stack on free ports, and percentiles."""

from __future__ import annotations

import os
import shutil
import sys
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
