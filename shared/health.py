"""Per-store health checks for `/healthz`: status and latency of each store a function uses."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

CHECK_TIMEOUT_S = 2.0


def _redis() -> None:
    from shared.clients.redis import get_redis

    get_redis().ping()


def _firestore() -> None:
    from shared.clients.firestore import get_firestore

    # A read of a document that need not exist: proves reachability and credentials.
    get_firestore().collection("_health").document("probe").get(timeout=CHECK_TIMEOUT_S)


def _postgres() -> None:
    import sqlalchemy

    from shared.clients.postgres import get_engine

    with get_engine().connect() as connection:
        connection.execute(sqlalchemy.text("SELECT 1"))


def _pubsub() -> None:
    from shared.clients.pubsub import get_publisher
    from shared.config import settings

    publisher = get_publisher()
    publisher.get_topic(
        request={"topic": publisher.topic_path(settings().project_id, "matching-requests")},
        timeout=CHECK_TIMEOUT_S,
    )


CHECKS: dict[str, Callable[[], None]] = {
    "redis": _redis,
    "firestore": _firestore,
    "postgres": _postgres,
    "pubsub": _pubsub,
}


def _run(name: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        CHECKS[name]()
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
