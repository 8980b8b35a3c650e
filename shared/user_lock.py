"""One request of a user at a time on what they share (their own user document): concurrent
requests of one user are serialised on a short Redis lock before any Firestore transaction.

Without it, sixteen parallel requests of one user lock-waited on each other's transactions and held
every request thread of an instance. A request that cannot take the lock within WAIT_S is answered
429 at once (a double click, a retry storm); its thread is free again in a quarter of a second.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from shared import keys, log
from shared.clients.redis import get_redis
from shared.config import settings
from shared.errors import ApiError
from shared.lazy import Lazy

logger = log.get_logger("shared.user_lock")
WAIT_S = 0.25
POLL_S = 0.02
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_release = Lazy(lambda: get_redis().register_script(_RELEASE))


def busy() -> ApiError:
    return ApiError(
        429,
        "concurrent_request",
        "another request of yours is changing the same thing; retry in a moment",
        headers={"Retry-After": "1"},
    )


@contextmanager
def exclusive(uid: str, scope: str) -> Iterator[None]:
    """Hold the user's lock for `scope` while the block runs (at most the transaction deadline plus
    a margin, after which the lock frees itself should this process die)."""
    from redis.exceptions import RedisError

    client = get_redis()
    key = keys.user_lock(scope, uid)
    token = uuid.uuid4().hex
    ttl_ms = (settings().firestore_transaction_deadline_s + 5) * 1000
    deadline = time.monotonic() + WAIT_S
    try:
        while not client.set(key, token, nx=True, px=ttl_ms):
            if time.monotonic() >= deadline:
                raise busy()
            time.sleep(POLL_S)
    except RedisError as exc:
        # The lock only spares the transactions contention; they stay correct without it.
        log.log_event(
            logger,
            "user lock skipped: Redis unavailable",
            logging.WARNING,
            scope=scope,
            error=type(exc).__name__,
        )
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(RedisError):  # the lock frees itself at its TTL
            _release()(keys=[key], args=[token])
