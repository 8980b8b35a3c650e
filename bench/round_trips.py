"""Round trips a request makes to Redis and to Firestore, counted in this process.

`install()` wraps the two places every request to a store goes through: redis-py's
`send_packed_command` (one call per round trip: a command, a script, or a whole pipeline) and the
Firestore client's gRPC channel to the emulator (one call per RPC). `census()` then runs a
function's code in this process (functions-framework's own Flask app, the code path gunicorn
serves, without the gateway) and counts what each request costs. Benchmarks only: nothing here is
loaded by a function.
"""

from __future__ import annotations

import cProfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

counts: Counter[str] = Counter()
_installed = False


def _count_redis() -> None:
    from redis.connection import AbstractConnection

    original = AbstractConnection.send_packed_command

    def counted(self: Any, command: Any, check_health: bool = True) -> None:
        counts["redis"] += 1
        original(self, command, check_health)

    AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]


def _count_firestore() -> None:
    import grpc
    from google.cloud.firestore_v1 import base_client

    class Interceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
        def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            counts["firestore"] += 1
            return continuation(details, request)

        def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
            counts["firestore"] += 1
            return continuation(details, request)

    original = base_client.BaseClient._emulator_channel

    def counted_channel(self: Any, transport: Any) -> Any:
        channel = original(self, transport)
        return (
            grpc.intercept_channel(channel, Interceptor()) if isinstance(channel, grpc.Channel) else channel
        )

    base_client.BaseClient._emulator_channel = counted_channel  # type: ignore[method-assign]


def install() -> None:
    """Count from now on (call before the first Redis or Firestore client is created)."""
    global _installed
    if not _installed:
        _count_redis()
        _count_firestore()
        _installed = True


def census(
    source: Path,
    target: str,
    requests: Sequence[tuple[str, dict[str, str], dict[str, Any] | None]],
    prepare: Callable[[int], None] = lambda index: None,
    profiler: cProfile.Profile | None = None,
) -> tuple[float, float]:
    """Send `requests` (path, headers, JSON body) to the function at `source` in this process; returns
    the mean Redis and Firestore round trips per request (any answer but 200 is an error). `prepare(i)` runs before
    request i, uncounted (e.g. to drop a cache entry). The first request is sent once more before
    counting starts, so that connecting and loading scripts are not counted. `profiler`, if given,
    runs during the counted requests only (not during `prepare`)."""
    import functions_framework

    client = functions_framework.create_app(target, str(source), "http").test_client()
    _silence_logs()
    path, headers, body = requests[0]
    prepare(0)
    client.post(path, json=body or {}, headers=headers)
    redis_total = firestore_total = 0
    for index, (path, headers, body) in enumerate(requests):
        prepare(index)
        before = counts.copy()
        if profiler is not None:
            profiler.enable()
        response = client.post(path, json=body or {}, headers=headers)
        if profiler is not None:
            profiler.disable()
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.get_data(as_text=True)}")
        redis_total += counts["redis"] - before["redis"]
        firestore_total += counts["firestore"] - before["firestore"]
    return redis_total / len(requests), firestore_total / len(requests)


def _silence_logs() -> None:
    """The function's JSON log lines would go to this benchmark's own output."""
    import logging
    import os

    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
