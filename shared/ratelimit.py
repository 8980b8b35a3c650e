"""Per-user budgets: token buckets in Redis (`ratelimit:{route}:{uid}`), one atomic Lua step.

A bucket refills continuously at `per_minute` per minute and holds up to `burst` requests (a full
minute's allowance unless the budget says less), so a user may send that many at once and then gets
one request per 60/per_minute seconds. A generous read budget has a smaller burst: 300 reads a
minute is plenty for any client, but 300 at once is a flood the other users of the instance share
the CPU with. The script reads Redis's own clock, so instances with skewed clocks share one notion
of time.

Once Redis has refused a caller, this instance refuses them again without asking until the
Retry-After it answered (whole seconds, so at least the time the bucket takes to refill): we told
them when to come back, and a flood's repeated requests cost no round trip and no log line each
(the next refusal Redis decides carries how many went unlogged). Ending the refusals at the exact
refill instead, a fraction of a second for a generous budget, let a flooder reach Redis and the
route several times a second per connection.

A route whose first Redis read is a script of its own may take from the bucket inside that script
(`TAKE_FROM_BUCKET`, `Pending`): one round trip instead of two (issue_tokens' cache hit).

A caller who keeps calling regardless is answered slowly: their refused requests are held one at a
time for up to HOLD_S each (never past the Retry-After) before the 429 goes out. A held request
sleeps, so it costs no CPU and leaves the interpreter to everybody else; at most a quarter of an
instance's threads may be held, so a client with many connections cannot take the threads either
(past that, refusals are immediate). A client that honours Retry-After never meets this.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared import keys, log
from shared.clients.redis import get_redis
from shared.config import settings
from shared.errors import ApiError
from shared.lazy import Lazy

if TYPE_CHECKING:
    from redis.commands.core import Script

# One bucket step as a Lua function: TOKEN_BUCKET runs it alone, and a route whose first Redis read
# is a script of its own prepends it to take from the caller's budget in the same round trip
# (`Pending.take_with`). Returns allowed (1/0) and, when refused, the wait in milliseconds.
TAKE_FROM_BUCKET = """
local function take_from_bucket(key, capacity, per_ms)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local state = redis.call('HMGET', key, 'tokens', 'at')
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
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', now)
  redis.call('PEXPIRE', key, math.ceil(capacity / per_ms) + 1000)
  return allowed, wait_ms
end
"""
# KEYS: 1 the bucket; ARGV: 1 capacity, 2 refill per millisecond
TOKEN_BUCKET = (
    TAKE_FROM_BUCKET
    + """
local allowed, wait_ms = take_from_bucket(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
return {allowed, wait_ms}
"""
)

_script = Lazy(lambda: get_redis().register_script(TOKEN_BUCKET))


def taking_first(functions: str, read: str) -> str:
    """The script of a route's first Redis read that takes the caller's request from their bucket
    first (`Pending.take_with`): KEYS[1] the bucket and ARGV[1..2] `bucket_args`, then `read`, a
    Lua call over KEYS[2..] and ARGV[3..] using `functions`, whose values follow {1, 0} in the
    answer; a refusal answers {0, wait_ms} without reading."""
    return (
        TAKE_FROM_BUCKET
        + functions
        + f"""
local allowed, wait_ms = take_from_bucket(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if allowed == 0 then return {{0, wait_ms}} end
return {{1, 0, {read}}}
"""
    )


@dataclass(frozen=True)
class Limit:
    route: str  # the key's route part, e.g. "livekit-token"
    per_minute: int
    burst: int | None = None  # the bucket's size, at most per_minute; None: a minute's allowance

    @property
    def capacity(self) -> int:
        return self.per_minute if self.burst is None else max(1, min(self.burst, self.per_minute))


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
HOLD_S = 1.0  # the shortest Retry-After: a held refusal comes back no sooner than a polite retry


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
    refuse_known_empty(limit, uid)
    from redis.exceptions import RedisError

    try:
        allowed, wait_ms = _script()(keys=[keys.rate_limit(limit.route, uid)], args=bucket_args(limit))
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
    _verdict(limit, uid, int(allowed), int(wait_ms))


def refuse_known_empty(limit: Limit, uid: str) -> None:
    """429 without a round trip while the Retry-After of this caller's last refusal runs."""
    now = time.monotonic()
    left = empty_buckets.remaining_s((limit.route, uid), now)
    if left > 0:
        tarpit().hold(uid, min(left, HOLD_S))
        left -= time.monotonic() - now  # the hold counts toward the wait it announces
        raise RateLimited(limit, max(1, math.ceil(left)), quiet=True)


def bucket_args(limit: Limit) -> list[float]:
    """ARGV[1] and ARGV[2] of a script that takes from a bucket: capacity and refill per millisecond."""
    return [limit.capacity, limit.per_minute / 60_000]


def _verdict(limit: Limit, uid: str, allowed: int, wait_ms: int) -> None:
    if not allowed:
        retry_after = max(1, math.ceil(wait_ms / 1000))
        unlogged = empty_buckets.mark((limit.route, uid), time.monotonic() + retry_after)
        error = RateLimited(limit, retry_after)
        error.unlogged_refusals = unlogged
        raise error


@dataclass
class Pending:
    """A caller's request not yet taken from their bucket. The route takes it together with its
    first Redis read (`take_with`); if the route ends without doing so (it refused the input, or
    never reads Redis), `shared.http.Api` takes it alone (`take`), so every request pays exactly
    once and an empty bucket's 429 still comes before any other answer."""

    limit: Limit
    uid: str
    taken: bool = False

    def take(self) -> None:
        self.taken = True
        check(self.limit, self.uid)

    def take_with(self, script: Script, script_keys: list[str], args: list[Any]) -> list[Any]:
        """Run `script` (TAKE_FROM_BUCKET, then the route's read: KEYS[1] the bucket, ARGV[1..2]
        `bucket_args`, its own keys and arguments after those; it answers {allowed, wait_ms, ...})
        and return what its read answered after those two; 429 when the bucket is empty. A Redis
        error propagates: the route's read failed with it."""
        self.taken = True
        answer = script(
            keys=[keys.rate_limit(self.limit.route, self.uid), *script_keys],
            args=[*bucket_args(self.limit), *args],
        )
        _verdict(self.limit, self.uid, int(answer[0]), int(answer[1]))
        return list(answer[2:])
