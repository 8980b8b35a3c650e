"""The VRoid Hub client against the stack's stand-in server over real HTTP. Sleeps are recorded instead
of slept, so backoff and Retry-After decisions are checked exactly without waiting for them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import Stack
from shared.vroid.client import Credentials, RetryPolicy, VroidAuthError, VroidError, VroidHubClient
from tests.conftest import http

SECRETS = Credentials("local-client", "local-secret", "local-refresh-token")


@pytest.fixture
def hub_url(stack: Stack) -> Iterator[str]:
    url = f"http://127.0.0.1:{stack.port('vroid')}"
    assert http("POST", f"{url}/_control", {"reset": True})[0] == 200
    try:
        yield url
    finally:
        http("POST", f"{url}/_control", {"reset": True})


def control(url: str, **body: Any) -> None:
    status, answer, _ = http("POST", f"{url}/_control", body)
    assert status == 200, answer


def client(
    url: str, sleeps: list[float], credentials: Credentials = SECRETS, **policy: Any
) -> VroidHubClient:
    return VroidHubClient(
        url, credentials, policy=RetryPolicy(**policy), sleep=sleeps.append, rng=random.Random(3)
    )


def test_pages_follow_next_links_to_the_end(hub_url: str) -> None:
    control(hub_url, catalog={"max_count": 7, "staff_picks": 30})
    sleeps: list[float] = []
    pages = list(client(hub_url, sleeps).pages("/api/staff_picks", {"count": 100}))
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    ids = [raw.get("id") for page in pages for raw in page]
    assert len(ids) == 30 and sleeps == []


def test_retry_after_is_honoured_and_backoff_grows_with_jitter(hub_url: str) -> None:
    control(
        hub_url,
        faults=[
            {"path": "/api/hearts", "status": 429, "retry_after": "5"},
            {"path": "/api/hearts", "status": 500, "times": 3},
        ],
    )
    sleeps: list[float] = []
    vroid = client(hub_url, sleeps, base_delay_s=0.5, max_delay_s=30.0, max_attempts=6)
    list(vroid.pages("/api/hearts"))
    assert 5.0 <= sleeps[0] <= 5.5  # Retry-After plus at most one base delay of jitter
    assert [0 <= s <= 0.5 * 2**i for i, s in enumerate(sleeps[1:], start=1)] == [True] * 3
    assert vroid.stats.retries == 4


def test_a_too_long_retry_after_fails_instead_of_idling(hub_url: str) -> None:
    control(hub_url, faults=[{"path": "/api/hearts", "status": 429, "retry_after": "3600"}])
    with pytest.raises(VroidError, match="Retry-After"):
        list(client(hub_url, []).pages("/api/hearts"))


def test_attempts_are_bounded(hub_url: str) -> None:
    control(hub_url, faults=[{"path": "/api/hearts", "status": 503, "times": 10}])
    sleeps: list[float] = []
    with pytest.raises(VroidError, match="after 3 attempts"):
        list(client(hub_url, sleeps, max_attempts=3).pages("/api/hearts"))
    assert len(sleeps) == 2


def test_client_errors_are_not_retried(hub_url: str) -> None:
    control(hub_url, faults=[{"path": "/api/hearts", "status": 403, "code": "OAUTH_FORBIDDEN"}])
    sleeps: list[float] = []
    with pytest.raises(VroidError, match=r"403.*OAUTH_FORBIDDEN"):
        list(client(hub_url, sleeps).pages("/api/hearts"))
    assert sleeps == []


def test_token_endpoint_outage_is_retried(hub_url: str) -> None:
    control(hub_url, faults=[{"path": "/oauth/token", "status": 503, "times": 2}])
    sleeps: list[float] = []
    vroid = client(hub_url, sleeps)
    assert next(iter(vroid.pages("/api/hearts")))
    assert len(sleeps) == 2 and vroid.stats.token_refreshes == 1


def test_refused_credentials_raise_auth_errors_without_retrying(hub_url: str) -> None:
    sleeps: list[float] = []
    wrong_secret = Credentials("local-client", "nope", "local-refresh-token")
    with pytest.raises(VroidAuthError, match="re-authorize"):
        list(client(hub_url, sleeps, wrong_secret).pages("/api/hearts"))
    revoked = Credentials("local-client", "local-secret", "never-issued")
    with pytest.raises(VroidAuthError, match="invalid_grant"):
        list(client(hub_url, sleeps, revoked).pages("/api/hearts"))
    assert sleeps == []


def test_expired_token_is_refreshed_before_use(hub_url: str) -> None:
    control(hub_url, catalog={"max_count": 10})
    sleeps: list[float] = []
    vroid = client(hub_url, sleeps)
    pages = vroid.pages("/api/staff_picks")
    next(pages)
    control(hub_url, tokens={"expire_access_tokens": True})
    vroid._expires_at = 0.0  # what the clock would say once expires_in has passed
    rest = list(pages)
    assert rest and vroid.stats.token_refreshes == 2
    _, state, _ = http("GET", f"{hub_url}/_control")
    assert [r["status"] for r in state["requests"] if r["path"] == "/api/staff_picks"].count(401) == 0


def test_secrets_never_appear_in_reprs_or_errors(hub_url: str) -> None:
    assert "local-secret" not in repr(SECRETS) and "local-refresh-token" not in repr(SECRETS)
    control(hub_url, faults=[{"path": "/api/hearts", "status": 401, "times": 2}])
    with pytest.raises(VroidAuthError) as caught:
        list(client(hub_url, []).pages("/api/hearts"))
    assert "local-" not in str(caught.value)
