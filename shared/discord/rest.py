"""Discord REST client for the worker and discord_auth: rate-limit buckets, 429s, bounded retries.

Discord's rules (developer docs, "Rate Limits"): limits are per route *bucket* (`X-RateLimit-Bucket`,
shared by similar routes) and per top-level resource in the path (channel, guild, webhook), plus a
global limit per bot. Each response says how many calls are left (`X-RateLimit-Remaining`) and when
the bucket refills (`X-RateLimit-Reset-After`, seconds); a 429 says how long to wait
(`retry_after`, seconds, in the JSON body; `global: true` or `X-RateLimit-Scope: global` for the
global limit). Limits must be read from headers, never hard-coded.

So, per process: route -> bucket, (bucket, resource) -> remaining and reset time, and the time the
global limit lifts. Before a call we wait for an exhausted bucket to refill; after a 429 we wait
`retry_after` and try again; a 5xx or a network error is retried with a short backoff. All waits of
one job share a deadline: when the next wait would pass it, the call raises `RetryLater` at once and
the worker fails the Pub/Sub delivery, so Pub/Sub redelivers later instead of an instance sleeping.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

USER_AGENT = "DiscordBot (https://github.com/vchat/backend, 1.0)"
MAJOR_PARAMS = ("channel_id", "guild_id", "webhook_id")
_PARAM = re.compile(r"{(\w+)}")


class DiscordError(RuntimeError):
    """Discord refused a call. `retryable` errors (429 beyond the deadline, 5xx, network) may
    succeed later; the others (403 missing permissions, 404 unknown channel...) will not."""

    def __init__(
        self,
        status: int,
        message: str,
        code: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"Discord {status}: {message}" + (f" (code {code})" if code else ""))
        self.status = status
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after


class RetryLater(DiscordError):
    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(status, message, retryable=True, retry_after=retry_after)


@dataclass
class _Bucket:
    remaining: int
    reset_at: float


class RateLimiter:
    """What the responses said about the limits (thread-safe; one per process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._route_bucket: dict[str, str] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._global_until = 0.0

    def _key(self, route: str, major: str) -> str:
        bucket = self._route_bucket.get(route)
        return f"{bucket}:{major}" if bucket else f"route:{route}"

    def delay(self, route: str, major: str) -> float:
        """Seconds to wait before calling `route`; takes one call from the bucket when none is due."""
        now = self._clock()
        with self._lock:
            wait = max(0.0, self._global_until - now)
            bucket = self._buckets.get(self._key(route, major))
            if bucket is not None:
                if bucket.reset_at <= now:
                    del self._buckets[self._key(route, major)]
                elif bucket.remaining <= 0:
                    wait = max(wait, bucket.reset_at - now)
                else:
                    bucket.remaining -= 1  # other threads of this instance see it spent
        return wait

    def update(self, route: str, major: str, headers: Mapping[str, str]) -> None:
        bucket_hash = headers.get("X-RateLimit-Bucket")
        remaining = headers.get("X-RateLimit-Remaining")
        reset_after = headers.get("X-RateLimit-Reset-After")
        if not bucket_hash or remaining is None or reset_after is None:
            return
        try:
            state = _Bucket(int(remaining), self._clock() + float(reset_after))
        except ValueError:
            return
        with self._lock:
            self._route_bucket[route] = bucket_hash
            self._buckets[self._key(route, major)] = state

    def limited(self, route: str, major: str, retry_after: float, is_global: bool) -> None:
        until = self._clock() + retry_after
        with self._lock:
            if is_global:
                self._global_until = max(self._global_until, until)
            else:
                self._buckets[self._key(route, major)] = _Bucket(0, until)

    def clear(self) -> None:
        with self._lock:
            self._route_bucket.clear()
            self._buckets.clear()
            self._global_until = 0.0


LIMITER = RateLimiter()
_sessions = threading.local()


def _session() -> requests.Session:
    session = getattr(_sessions, "session", None)
    if session is None:
        import requests

        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        _sessions.session = session
    return session


def route_of(method: str, template: str, params: Mapping[str, str]) -> tuple[str, str, str]:
    """(path, route key, major resource): the route key keeps the top-level resource id (limits are
    per channel / guild / webhook) and hides the others (per message ids share one limit)."""
    path = _PARAM.sub(lambda m: params[m.group(1)], template)
    major = next((params[name] for name in MAJOR_PARAMS if name in params), "")
    if "webhook_id" in params and "webhook_token" in params:
        major = f"{params['webhook_id']}/{params['webhook_token']}"
    route = _PARAM.sub(
        lambda m: params[m.group(1)] if m.group(1) in MAJOR_PARAMS else "{" + m.group(1) + "}", template
    )
    return path, f"{method} {route}", major


class DiscordRest:
    def __init__(
        self,
        base_url: str,
        bot_token: str | None = None,
        *,
        deadline_s: float = 30.0,
        max_attempts: int = 4,
        limiter: RateLimiter = LIMITER,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout_s: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot_token = bot_token
        self.max_attempts = max_attempts
        self.limiter = limiter
        self.sleep = sleep
        self.clock = clock
        self.deadline = clock() + deadline_s
        self.timeout_s = timeout_s
        self.waited_s = 0.0  # total time spent waiting for limits and backoffs (logged by callers)

    def _wait(self, seconds: float, why: str, status: int) -> None:
        if self.clock() + seconds > self.deadline:
            raise RetryLater(status, f"{why}: waiting {seconds:.2f}s would pass the deadline", seconds)
        self.sleep(seconds)
        self.waited_s += seconds

    def request(
        self,
        method: str,
        template: str,
        params: Mapping[str, str] | None = None,
        *,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        bot: bool = True,
        bearer: str | None = None,
        basic: tuple[str, str] | None = None,
    ) -> Any:
        import requests

        path, route, major = route_of(method, template, params or {})
        headers: dict[str, str] = {}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        elif bot and self.bot_token:
            headers["Authorization"] = f"Bot {self.bot_token}"
        last: DiscordError = RetryLater(0, "no attempt made")
        for attempt in range(1, self.max_attempts + 1):
            wait = self.limiter.delay(route, major)
            if wait > 0:
                self._wait(wait, f"rate limit of {route}", 429)
            try:
                response = _session().request(
                    method,
                    self.base_url + path,
                    json=json,
                    data=form,
                    auth=basic,
                    headers=headers,
                    timeout=(3.05, self.timeout_s),
                )
            except requests.RequestException as exc:
                last = RetryLater(0, f"{route}: {type(exc).__name__}")
                if attempt < self.max_attempts:
                    self._wait(self._backoff(attempt), "network error", 0)
                continue
            self.limiter.update(route, major, response.headers)
            if response.status_code == 429:
                body = _json(response)
                retry_after = _float(
                    body.get("retry_after"), _float(response.headers.get("Retry-After"), 1.0)
                )
                is_global = bool(body.get("global")) or response.headers.get("X-RateLimit-Scope") == "global"
                is_global = is_global or response.headers.get("X-RateLimit-Global", "").lower() == "true"
                self.limiter.limited(route, major, retry_after, is_global)
                last = RetryLater(
                    429, f"{route} rate limited ({'global' if is_global else 'bucket'})", retry_after
                )
                continue  # the next attempt waits through limiter.delay (or gives up at the deadline)
            if response.status_code >= 500:
                last = RetryLater(response.status_code, f"{route}: server error")
                if attempt < self.max_attempts:
                    self._wait(self._backoff(attempt), "server error", response.status_code)
                continue
            if response.status_code >= 400:
                body = _json(response)
                code = body.get("code") if isinstance(body.get("code"), int) else None
                message = str(body.get("message") or body.get("error") or response.reason)[:200]
                raise DiscordError(response.status_code, f"{route}: {message}", code)
            return response.json() if response.content else None
        raise last

    @staticmethod
    def _backoff(attempt: int) -> float:
        return float(min(2.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2))


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _float(raw: Any, default: float) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return default
    return value if 0 <= value < 3600 else default
