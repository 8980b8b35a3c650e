"""Counts every Firestore read and write a process makes, for bench/cascade.py.

Loaded only when the benchmark puts this folder first on a function's PYTHONPATH (Python imports
`sitecustomize` at start-up): the emulator channel of the Firestore client gets a gRPC interceptor
that adds each call's documents read and written to Redis counters `bench:firestore:{function}:{kind}`.
Never part of a deployment: production code knows nothing of it.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import grpc

PREFIX = "bench:firestore"
_redis: Any = None


def _count(kind: str, n: int) -> None:
    global _redis
    if n <= 0 or not os.environ.get("REDIS_URL"):
        return
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    _redis.incrby(f"{PREFIX}:{os.environ.get('FUNCTION_TARGET', 'client')}:{kind}", n)


def _method(details: Any) -> str:
    return str(details.method).rsplit("/", 1)[-1]


class _Counter(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        method = _method(details)
        if method == "Commit":
            _count("writes", len(request.writes))
            _count("commits", 1)
        return continuation(details, request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        method = _method(details)
        responses = continuation(details, request)
        if method == "BatchGetDocuments":
            _count("reads", len(request.documents))
            return responses
        if method == "RunQuery":
            return _counted_query(responses)
        return responses


def _counted_query(responses: Any) -> Any:
    # A query is billed one read per document it returns (and one for an empty result).
    returned = 0
    for response in responses:
        if response.document and response.document.name:
            returned += 1
        yield response
    _count("reads", max(1, returned))


def _install() -> None:
    from google.cloud.firestore_v1 import base_client

    original = base_client.BaseClient._emulator_channel

    def counted_channel(self: Any, transport: Any) -> Any:
        channel = original(self, transport)
        if isinstance(channel, grpc.Channel):
            return grpc.intercept_channel(channel, _Counter())
        return channel

    base_client.BaseClient._emulator_channel = counted_channel  # type: ignore[method-assign]


with contextlib.suppress(ImportError):  # a process without the Firestore client
    _install()
