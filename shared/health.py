"""Per-store health checks for `/healthz`: status and latency of each store a function uses.

Each store's client module (`shared.clients.<store>`) has a `ping()`; it is imported by name, so a
function bundle carries (and a cold start loads) only the clients of the stores it declares.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def _run(store: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        importlib.import_module(f"shared.clients.{store}").ping()
    except Exception as exc:
        return {
            "status": "down",
            "latencyMs": round((time.perf_counter() - started) * 1000, 2),
            "error": type(exc).__name__,
        }
    return {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


def check_stores(stores: Iterable[str]) -> dict[str, Any]:
    """Check every store in parallel; overall `ok` only when all are."""
    names = list(stores)
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        results = dict(zip(names, pool.map(_run, names), strict=True))
    status = "ok" if all(r["status"] == "ok" for r in results.values()) else "degraded"
    return {"status": status, "stores": results}
