"""Per-user, per-route token buckets in Redis (`ratelimit:{route}:{uid}`), one atomic Lua step.

A bucket holds up to `per_minute` requests and refills continuously at `per_minute` per minute, so a
user may burst a full minute's allowance and then gets one request per 60/per_minute seconds. The
script reads Redis's own clock, so instances with skewed clocks share one notion of time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared import keys
from shared.clients.redis import get_redis
from shared.errors import ApiError
from shared.lazy import Lazy

TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
local allowed, wait_ms = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return {allowed, wait_ms}
"""

_script = Lazy(lambda: get_redis().register_script(TOKEN_BUCKET))


@dataclass(frozen=True)
class Limit:
    route: str  # the key's route part, e.g. "livekit-token"
    per_minute: int


def check(limit: Limit, uid: str) -> None:
    """Take one request from the caller's bucket, or raise 429 with Retry-After (whole seconds)."""
    allowed, wait_ms = _script()(
        keys=[keys.rate_limit(limit.route, uid)], args=[limit.per_minute, limit.per_minute / 60_000]
    )
    if not allowed:
        retry_after = max(1, math.ceil(int(wait_ms) / 1000))
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests: at most {limit.per_minute} a minute; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
