"""Redis (Upstash in production: `rediss://`; plain `redis://` locally)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import settings
from shared.lazy import Lazy

if TYPE_CHECKING:
    import redis as redis_lib


def _create() -> redis_lib.Redis:
    import redis as redis_lib

    return redis_lib.Redis.from_url(
        settings().redis_url,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=2.0,
        health_check_interval=30,
        retry_on_timeout=True,
        max_connections=64,
    )


get_redis: Lazy[redis_lib.Redis] = Lazy(_create)


def ping() -> None:
    """Health check: a round trip to the server."""
    get_redis().ping()
