"""Per-user budgets: token buckets in Redis (`ratelimit:{route}:{uid}`), one atomic Lua step.

A bucket holds up to `per_minute` requests and refills continuously at `per_minute` per minute, so a
user may burst a full minute's allowance and then gets one request per 60/per_minute seconds. The
script reads Redis's own clock, so instances with skewed clocks share one notion of time.

Once Redis has said a bucket is empty until some moment, this instance refuses that caller again
without asking until then (the bucket cannot refill sooner): a flood's repeated requests cost no
round trip and no log line each; the next refusal Redis decides carries how many went unlogged.

A caller who keeps calling regardless is answered slowly: their refused requests are held one at a
time for up to HOLD_S each before the 429 goes out. A held request sleeps, so it costs no CPU and
leaves the interpreter to everybody else; at most a quarter of an instance's threads may be held,
so a client with many connections cannot take the threads either (past that, refusals are
immediate). A client that honours Retry-After never meets this.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from shared import keys, log
from shared.clients.redis import get_redis
from shared.config import settings
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


class RateLimited(ApiError):
    def __init__(self, limit: Limit, retry_after: int, *, quiet: bool = False) -> None:
        super().__init__(
            429,
            "rate_limited",
            f"too many requests: at most {limit.per_minute} a minute; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
        self.quiet = quiet  # a repeat this instance answered alone: no log line of its own
        self.unlogged_refusals = 0  # quiet refusals since the last logged one (same instance)


class _EmptyBuckets:
    """(route, uid) -> the monotonic time until which that bucket is empty; bounded."""

    SIZE = 10_000

    def __init__(self) -> None:
        self._until: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        self.unlogged = 0

    def remaining_s(self, key: tuple[str, str], now: float) -> float:
        with self._lock:
            until = self._until.get(key)
            if until is None:
                return 0.0
            if until <= now:
                del self._until[key]
                return 0.0
            self.unlogged += 1
            return until - now

    def mark(self, key: tuple[str, str], until: float) -> int:
        """Remember an empty bucket; returns (and resets) the refusals answered without a log line."""
        with self._lock:
            self._until[key] = until
            self._until.move_to_end(key)
            while len(self._until) > self.SIZE:
                self._until.popitem(last=False)
            unlogged, self.unlogged = self.unlogged, 0
            return unlogged


logger = log.get_logger("shared.ratelimit")
empty_buckets = _EmptyBuckets()
HOLD_S = 0.25


class _Tarpit:
    """Holds refused requests of repeat offenders, one per caller at a time, within a thread budget."""

    def __init__(self) -> None:
        self._slots = threading.BoundedSemaphore(max(1, settings().threads // 4))
        self._callers: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def hold(self, uid: str, seconds: float) -> None:
        if not self._slots.acquire(blocking=False):
            return  # the hold budget is taken: answer at once rather than occupy another thread
        try:
            with self._lock:
                caller = self._callers.setdefault(uid, threading.Lock())
            # Waiting for this caller's previous held request is part of the hold (a sleep too).
            deadline = time.monotonic() + seconds
            if caller.acquire(timeout=seconds):
                try:
                    time.sleep(max(0.0, deadline - time.monotonic()))
                finally:
                    caller.release()
        finally:
            self._slots.release()
            with self._lock:
                lock = self._callers.get(uid)
                if lock is not None and not lock.locked():
                    del self._callers[uid]


tarpit: Lazy[_Tarpit] = Lazy(_Tarpit)


def check(limit: Limit, uid: str) -> None:
    """Take one request from the caller's bucket, or raise 429 with Retry-After (whole seconds)."""
    key = (limit.route, uid)
    now = time.monotonic()
    left = empty_buckets.remaining_s(key, now)
    if left > 0:
        tarpit().hold(uid, min(left, HOLD_S))
        raise RateLimited(limit, max(1, math.ceil(left)), quiet=True)
    from redis.exceptions import RedisError

    try:
        allowed, wait_ms = _script()(
            keys=[keys.rate_limit(limit.route, uid)], args=[limit.per_minute, limit.per_minute / 60_000]
        )
    except RedisError as exc:
        # Budgets protect the service; they must not take it down with Redis. Without Redis the
        # request goes ahead (the stores it needs answer for themselves).
        log.log_event(
            logger,
            "budget not checked: Redis unavailable",
            logging.WARNING,
            route=limit.route,
            error=type(exc).__name__,
        )
        return
    if not allowed:
        wait_s = int(wait_ms) / 1000
        unlogged = empty_buckets.mark(key, now + wait_s)
        error = RateLimited(limit, max(1, math.ceil(wait_s)))
        error.unlogged_refusals = unlogged
        raise error
