"""VRoid Hub API client for a server-side job.

VRoid Hub offers only the OAuth2 authorization-code flow, so the job acts as a curator account through
a stored refresh token: `POST /oauth/token` with `grant_type=refresh_token` gives an access token
(refreshed before it expires, and once more if the API answers 401). VRoid Hub may rotate the refresh
token on every grant (Doorkeeper); the newest one is handed to `on_refresh_token`, so the caller can
keep it for the next run.

Every API call sends `X-Api-Version: 11` and the bearer token, has connect/read timeouts, and is
retried on 429, 5xx and network errors with exponential backoff and full jitter; a `Retry-After`
header (seconds or HTTP date) is honoured. A 401 that survives a fresh token, or a refused refresh
token, raises VroidAuthError: retrying cannot fix it, a human must re-authorize the curator account.

`requests` (already present through google-api-core) does the HTTP; the retry loop is ours because it
must interleave with the token refresh and count what it did.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

if TYPE_CHECKING:
    import requests

API_VERSION = "11"
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
TOKEN_EXPIRY_SKEW_S = 60.0


class VroidError(RuntimeError):
    """VRoid Hub could not be read; the run may be retried later."""


class VroidAuthError(VroidError):
    """The curator's credentials are refused; retrying will not help."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    refresh_token: str

    def __repr__(self) -> str:  # never print secrets
        return f"Credentials(client_id={self.client_id!r}, client_secret=***, refresh_token=***)"


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0  # a longer Retry-After fails the run instead of idling in it
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    token_refreshes: int = 0
    waited_s: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "tokenRefreshes": self.token_refreshes,
            "waitedS": round(self.waited_s, 3),
            "statuses": dict(self.statuses),
        }


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - current).total_seconds())


def backoff_s(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(max, base * 2**attempt)] (AWS architecture blog)."""
    return rng.uniform(0.0, min(policy.max_delay_s, policy.base_delay_s * 2**attempt))


class VroidHubClient:
    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        on_refresh_token: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        import requests

        self.base_url = base_url.rstrip("/") + "/"
        self._credentials = credentials
        self._refresh_token = credentials.refresh_token
        self.policy = policy or RetryPolicy()
        self._session = session or requests.Session()
        self._on_refresh_token = on_refresh_token
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.stats = ClientStats()

    # -- public -----------------------------------------------------------------------------------
    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[Any]]:
        """Each page's `data` list, following `_links.next.href` (max_id/count) to the end."""
        url: str | None = urljoin(self.base_url, path.lstrip("/"))
        query = params
        seen: set[str] = set()
        while url is not None:
            if url in seen:
                raise VroidError(f"VRoid Hub pagination loops at {url}")
            seen.add(url)
            body = self._get_json(url, query)
            data = body.get("data")
            if not isinstance(data, list):
                raise VroidError(f"VRoid Hub answered {path} without a data list")
            yield data
            links = body.get("_links")
            next_link = links.get("next") if isinstance(links, dict) else None
            href = next_link.get("href") if isinstance(next_link, dict) else None
            url = urljoin(self.base_url, href) if isinstance(href, str) and href else None
            query = None  # the next href carries max_id and count

    def close(self) -> None:
        self._session.close()

    # -- requests ---------------------------------------------------------------------------------
    def _get_json(self, url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        refreshed_for_401 = False
        attempt = 0
        while True:
            token = self._token()
            response = self._send(
                "GET",
                url,
                params=params,
                headers={"Authorization": f"Bearer {token}", "X-Api-Version": API_VERSION},
            )
            if response is not None and response.status_code == 401:
                if refreshed_for_401:
                    raise VroidAuthError(
                        "VRoid Hub answered 401 even with a freshly refreshed access token: the curator "
                        "account's authorization was revoked or lacks scope; re-authorize and store a new "
                        "VROID_REFRESH_TOKEN"
                    )
                refreshed_for_401 = True
                self._invalidate(token)
                continue
            if response is not None and response.status_code < 300:
                return _json_object(response, url)
            attempt = self._retry_or_raise(response, attempt, url)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        """One HTTP exchange; None on a network error or timeout (retried like a 503)."""
        import requests

        self.stats.requests += 1
        try:
            response = self._session.request(
                method, url, timeout=(self.policy.connect_timeout_s, self.policy.read_timeout_s), **kwargs
            )
        except (requests.ConnectionError, requests.Timeout):
            self.stats.statuses["network"] = self.stats.statuses.get("network", 0) + 1
            return None
        key = str(response.status_code)
        self.stats.statuses[key] = self.stats.statuses.get(key, 0) + 1
        return response

    def _retry_or_raise(self, response: requests.Response | None, attempt: int, url: str) -> int:
        """Sleep before the next attempt, or raise when the answer is final or attempts are spent."""
        status = response.status_code if response is not None else None
        what = f"HTTP {status}" if status is not None else "a network error"
        if status is not None and status not in RETRYABLE_STATUS:
            raise VroidError(f"VRoid Hub answered {what} for {_path(url)}: {_error_text(response)}")
        attempt += 1
        if attempt >= self.policy.max_attempts:
            raise VroidError(f"VRoid Hub still failing after {attempt} attempts ({what}) for {_path(url)}")
        delay = retry_after_s(response.headers.get("Retry-After")) if response is not None else None
        if delay is not None:
            if delay > self.policy.max_retry_after_s:
                raise VroidError(f"VRoid Hub asks to wait {delay:.0f}s (Retry-After) for {_path(url)}")
            delay += self._rng.uniform(0.0, self.policy.base_delay_s)  # spread retries of parallel jobs
        else:
            delay = backoff_s(attempt - 1, self.policy, self._rng)
        self.stats.retries += 1
        self.stats.waited_s += delay
        self._sleep(delay)
        return attempt

    # -- tokens -----------------------------------------------------------------------------------
    def _token(self) -> str:
        with self._lock:
            if self._access_token is None or time.monotonic() >= self._expires_at:
                self._grant()
            assert self._access_token is not None
            return self._access_token

    def _invalidate(self, token: str) -> None:
        with self._lock:
            if self._access_token == token:
                self._access_token = None

    def _grant(self) -> None:
        url = urljoin(self.base_url, "oauth/token")
        form = {
            "grant_type": "refresh_token",
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret,
            "refresh_token": self._refresh_token,
        }
        attempt = 0
        while True:
            response = self._send("POST", url, data=form, headers={"X-Api-Version": API_VERSION})
            if response is not None and response.status_code in (400, 401):
                raise VroidAuthError(
                    f"VRoid Hub refused the refresh token grant (HTTP {response.status_code} "
                    f"{_oauth_error(response)}): re-authorize the curator account and store a new "
                    "VROID_REFRESH_TOKEN"
                )
            if response is not None and response.status_code < 300:
                break
            attempt = self._retry_or_raise(response, attempt, url)
        body = _json_object(response, url)
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise VroidError("VRoid Hub's token response has no access_token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 3600.0
        self._access_token = access
        self._expires_at = time.monotonic() + max(0.0, lifetime - min(TOKEN_EXPIRY_SKEW_S, lifetime / 2))
        self.stats.token_refreshes += 1
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self._refresh_token:
            self._refresh_token = rotated
            if self._on_refresh_token is not None:
                self._on_refresh_token(rotated)


def _json_object(response: requests.Response, url: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise VroidError(f"VRoid Hub answered {_path(url)} with something that is not JSON") from None
    if not isinstance(body, dict):
        raise VroidError(f"VRoid Hub answered {_path(url)} with JSON that is not an object")
    return body


def _error_text(response: requests.Response | None) -> str:
    if response is None:
        return ""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return response.text[:200]
    if isinstance(error, dict):
        return f"{error.get('code')}: {error.get('message')}"[:200]
    return str(error)[:200]


def _oauth_error(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _path(url: str) -> str:
    return url.split("?", 1)[0]
