"""What a list read costs, and that the cheaper path keeps the budget: a cached page of
GET /invitations is one Redis script (the caller's budget, the list version and the page together)
and no PostgreSQL query; the list and the other read routes still share one bucket per user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench import round_trips
from deploy.manifest import ROOT
from devstack.stack import Stack
from shared.config import reset_settings
from tests.test_invitations_api import new_uid

SOURCE = ROOT / "functions" / "invitations_api" / "main.py"
LISTING = "/invitations?tag=ゲーム&limit=5"


@pytest.fixture
def get(stack: Stack, token: Callable[..., str]) -> Iterator[Callable[[str, str], tuple[Any, int]]]:
    """GET from invitations_api run in this process (functions-framework's own app), with its Redis
    round trips counted; returns (response, redis round trips)."""
    import functions_framework

    reset_settings()  # the stack's environment, whatever an earlier test left in the cached settings
    round_trips.install()
    client = functions_framework.create_app("invitations_api", str(SOURCE), "http").test_client()

    def send(uid: str, path: str) -> tuple[Any, int]:
        before = round_trips.counts["redis"]
        response = client.get(path, headers={"Authorization": f"Bearer {token(uid)}"})
        return response, round_trips.counts["redis"] - before

    # Connecting and loading the scripts happen once per instance: not what a request costs.
    assert send(new_uid(), LISTING)[0].status_code == 200
    yield send


def test_a_cached_page_is_one_redis_round_trip(get: Callable[[str, str], tuple[Any, int]]) -> None:
    me = new_uid()
    get(me, LISTING)
    response, redis_calls = get(me, LISTING)
    assert response.status_code == 200 and response.headers["X-Cache"] == "HIT"
    assert redis_calls == 1


@pytest.fixture
def reads_budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Sets the read budget for the rest of the test; the stack's own settings again after it."""

    def set_budget(per_minute: int, burst: int | None = None) -> None:
        monkeypatch.setenv("RATE_LIMIT_READS_PER_MIN", str(per_minute))
        if burst is not None:
            monkeypatch.setenv("RATE_LIMIT_READS_BURST", str(burst))
        reset_settings()

    yield set_budget
    monkeypatch.undo()
    reset_settings()


def test_lists_and_details_share_one_bucket_and_an_empty_one_answers_429(
    get: Callable[[str, str], tuple[Any, int]], reads_budget: Callable[..., None]
) -> None:
    # A small bucket refills one request every 10 s: nothing comes back while this test runs.
    per_minute = 6
    reads_budget(per_minute)
    me, other = new_uid(), new_uid()
    missing = "/invitations/1000000000000000001"
    # Alternate the list (taken in its cache read) and a detail (taken alone).
    statuses = [get(me, LISTING if i % 2 else missing)[0].status_code for i in range(per_minute)]
    assert statuses == [404, 200] * (per_minute // 2)
    for path in (LISTING, missing, LISTING):
        response, _ = get(me, path)
        assert response.status_code == 429 and response.get_json()["error"]["code"] == "rate_limited"
        assert int(response.headers["Retry-After"]) >= 1
    assert get(other, LISTING)[0].status_code == 200


def test_the_read_budget_holds_its_burst_not_a_minute(
    get: Callable[[str, str], tuple[Any, int]], reads_budget: Callable[..., None]
) -> None:
    # 12 a minute refills one read every 5 s; the bucket holds 3, so the fourth read at once is refused.
    reads_budget(12, burst=3)
    me = new_uid()
    statuses = [get(me, LISTING)[0].status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
