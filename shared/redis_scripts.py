"""Lua scripts (the `.lua` files beside the modules that use them), run with EVALSHA.

Each script is one atomic step in Redis. Some derive per-user key names from prefixes in
shared.keys, so they need a single Redis node (Upstash's default; not Redis Cluster). Scripts use
Redis 6.2 commands only (what Upstash speaks).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.clients.redis import get_redis

if TYPE_CHECKING:
    import redis as redis_lib

SHARED = Path(__file__).resolve().parent


@functools.cache
def source(name: str) -> tuple[str, str]:
    """(Lua text, its SHA-1) of `shared/<name>.lua`, e.g. name 'matching/pair'."""
    text = (SHARED / f"{name}.lua").read_text()
    return text, hashlib.sha1(text.encode()).hexdigest()


def run(name: str, keys: list[str], args: list[Any], client: redis_lib.Redis | None = None) -> Any:
    """EVALSHA the script, loading it on a server that does not have it yet (NOSCRIPT)."""
    from redis.exceptions import NoScriptError

    r = client if client is not None else get_redis()
    text, sha = source(name)
    try:
        return r.evalsha(sha, len(keys), *keys, *args)
    except NoScriptError:
        return r.eval(text, len(keys), *keys, *args)


def due(key: str, until_ms: int, limit: int, client: redis_lib.Redis | None = None) -> list[str]:
    """Members of sorted set `key` whose score (a time in ms) is at or before `until_ms`, oldest first."""
    r = client if client is not None else get_redis()
    return [str(member) for member in r.zrangebyscore(key, "-inf", until_ms, start=0, num=limit)]
