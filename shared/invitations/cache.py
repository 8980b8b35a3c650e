"""Cache-aside for the invitation list (Q1) in Redis, invalidated by a version number.

Each cached page lives under `invitations:list:{digest of the query}` with a 60 s TTL, stored as
"{version}\\n{JSON page}": the list version it was computed under. A write that could change any
list commits first and then INCRs the version, so every page stored before it stops counting. No
KEYS/SCAN, one O(1) command per write.

A read is one script, one round trip: the caller's budget (when the route takes it here), the
current version and the page, kept only when its version is the current one. The version is read
*before* PostgreSQL is queried, and a page computed then is stored under that version: a page that
may predate a write is always tagged with a version that write has retired. (Two readers storing
the same query race harmlessly: the loser's page, if older, is just a miss for the next reader.)

Redis is an accelerator here, not a store: if it is down, reads go to PostgreSQL and the failure is
logged (a missed invalidation is bounded by the TTL); the budget then goes unchecked, as everywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared import keys, log, ratelimit
from shared.lazy import Lazy

if TYPE_CHECKING:
    from redis.commands.core import Script

LIST_TTL_S = 60
logger = log.get_logger("shared.invitations.cache")

# Two values: the current version, and the page's JSON if it was stored under that version ('' if not).
_CACHED_PAGE = """
local function cached_page(version_key, page_key)
  local version = redis.call('GET', version_key) or '0'
  local stored = redis.call('GET', page_key)
  if stored then
    local sep = string.find(stored, '\\n', 1, true)
    if sep and string.sub(stored, 1, sep - 1) == version then
      return version, string.sub(stored, sep + 1)
    end
  end
  return version, ''
end
"""
# KEYS: 1 the list version, 2 the page. Returns {version, page JSON or ''}.
_READ = _CACHED_PAGE + "return {cached_page(KEYS[1], KEYS[2])}"
# KEYS: 1 the caller's bucket, then as _READ; ARGV: shared.ratelimit.bucket_args
_TAKE_AND_READ = ratelimit.taking_first(_CACHED_PAGE, "cached_page(KEYS[2], KEYS[3])")


def _redis() -> Any:
    from shared.clients.redis import get_redis

    return get_redis()


_read_script: Lazy[Script] = Lazy(lambda: _redis().register_script(_READ))
_take_and_read_script: Lazy[Script] = Lazy(lambda: _redis().register_script(_TAKE_AND_READ))


@dataclass(frozen=True)
class Lookup:
    """What the cache said of one list query: the page if it holds a current one, and where (under
    which version) to store a page computed now. `key` is None when Redis did not answer."""

    key: str | None
    version: str
    page: dict[str, Any] | None


def lookup(query: dict[str, Any], budget: ratelimit.Pending | None = None) -> Lookup:
    """The cached page of `query`, if current. With `budget`, the caller's request is taken from their
    bucket in the same script (429 when it is empty, before anything is read)."""
    import redis

    digest = hashlib.sha256(json.dumps(query, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
    key = keys.invitation_list(digest)
    script_keys = [keys.INVITATION_LIST_VERSION, key]
    try:
        if budget is None:
            version, raw = _read_script()(keys=script_keys)
        else:
            version, raw = budget.take_with(_take_and_read_script(), script_keys, [])
    except redis.RedisError as exc:
        log.log_event(logger, "invitation cache unavailable", logging.WARNING, error=str(exc))
        return Lookup(None, "", None)
    return Lookup(key, str(version), json.loads(raw) if raw else None)


def store(found: Lookup, page: dict[str, Any]) -> None:
    """Keep `page`, computed after `found` was looked up, under the version `found` saw."""
    import redis

    if found.key is None:
        return
    value = found.version + "\n" + json.dumps(page, ensure_ascii=False, separators=(",", ":"))
    try:
        _redis().set(found.key, value, ex=LIST_TTL_S)
    except redis.RedisError as exc:
        log.log_event(logger, "invitation cache unavailable", logging.WARNING, error=str(exc))


def invalidate_lists() -> None:
    """Retire every cached list page. Call after the write has committed."""
    import redis

    try:
        _redis().incr(keys.INVITATION_LIST_VERSION)
    except redis.RedisError as exc:
        log.log_event(logger, "invitation cache invalidation failed", logging.ERROR, error=str(exc))
