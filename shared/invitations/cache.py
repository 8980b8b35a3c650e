"""Cache-aside for the invitation list (Q1) in Redis, invalidated by versioned keys.

Each cached page lives under `invitations:list:v{version}:{digest of the query}` with a 60 s TTL.
A write that could change any list commits first and then INCRs the version: readers move to keys
that do not exist yet, and the old entries expire on their own. No KEYS/SCAN, one O(1) command per
write. The reader fetches the version *before* querying PostgreSQL, so a page computed from data
older than a write is always stored under the version that write has already retired.

Redis is an accelerator here, not a store: if it is down, reads go to PostgreSQL and the failure is
logged (a missed invalidation is bounded by the TTL).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from shared import keys, log

LIST_TTL_S = 60
logger = log.get_logger("shared.invitations.cache")


def _redis() -> Any:
    from shared.clients.redis import get_redis

    return get_redis()


def list_key(query: dict[str, Any]) -> str | None:
    """The cache key of a list query under the current version (None when Redis is unreachable)."""
    import redis

    digest = hashlib.sha256(json.dumps(query, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
    try:
        version = _redis().get(keys.INVITATION_LIST_VERSION) or "0"
    except redis.RedisError as exc:
        log.log_event(logger, "invitation cache unavailable", logging.WARNING, error=str(exc))
        return None
    return keys.invitation_list(version, digest)


def get_page(key: str | None) -> dict[str, Any] | None:
    import redis

    if key is None:
        return None
    try:
        raw = _redis().get(key)
    except redis.RedisError as exc:
        log.log_event(logger, "invitation cache unavailable", logging.WARNING, error=str(exc))
        return None
    return json.loads(raw) if raw else None


def put_page(key: str | None, page: dict[str, Any]) -> None:
    import redis

    if key is None:
        return
    try:
        _redis().set(key, json.dumps(page, ensure_ascii=False, separators=(",", ":")), ex=LIST_TTL_S)
    except redis.RedisError as exc:
        log.log_event(logger, "invitation cache unavailable", logging.WARNING, error=str(exc))


def invalidate_lists() -> None:
    """Retire every cached list page. Call after the write has committed."""
    import redis

    try:
        _redis().incr(keys.INVITATION_LIST_VERSION)
    except redis.RedisError as exc:
        log.log_event(logger, "invitation cache invalidation failed", logging.ERROR, error=str(exc))
