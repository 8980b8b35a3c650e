"""A refused caller is refused again without a Redis round trip until the Retry-After they were
answered, even when their bucket refills sooner; after it, Redis decides again."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from bench import round_trips
from devstack.stack import Stack
from shared import ratelimit
from shared.config import reset_settings
from shared.http import Api, ApiRequest, Budget, Reply
from tests.room_fixtures import new_users

PER_MINUTE = 240  # one request back every 0.25 s: the bucket refills well before Retry-After (1 s)


def test_a_refused_caller_waits_out_their_retry_after_without_reaching_redis(
    stack: Stack, token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    reset_settings()
    round_trips.install()
    # Refusals are answered at once here: the hold is the tarpit's business, not what is refused.
    monkeypatch.setattr(ratelimit, "HOLD_S", 0.0)
    api = Api("budget_probe", stores=())

    @api.route("POST", "/probe", budget=Budget(f"probe-{uuid.uuid4().hex[:8]}", lambda: PER_MINUTE))
    def probe(request: ApiRequest) -> Reply:
        return Reply(200, {})

    (me,) = new_users(1)
    headers = [("Authorization", f"Bearer {token(me)}")]

    def call() -> tuple[int, str | None, int]:
        before = round_trips.counts["redis"]
        environ = EnvironBuilder(method="POST", path="/probe", json={}, headers=headers).get_environ()
        response = api(Request(environ))
        return response.status_code, response.headers.get("Retry-After"), round_trips.counts["redis"] - before

    # Drain the bucket. A busy machine may take longer than 0.25 s for the burst, and the bucket
    # refills as it goes, so send until refused rather than a fixed count.
    answers = [call()]
    while answers[-1][0] == 200 and len(answers) <= 2 * PER_MINUTE:
        answers.append(call())
    assert len(answers) > PER_MINUTE  # the whole burst was served first
    assert answers[-1] == (429, "1", 1)  # Redis refuses: the bucket is empty for about 0.25 s
    refused_at = time.monotonic()
    assert call() == (429, "1", 0)  # this instance remembers
    time.sleep(0.4)  # the bucket has a request again, but we said 1 s
    assert call() == (429, "1", 0)
    time.sleep(max(0.0, refused_at + 1.05 - time.monotonic()))
    assert call() == (200, None, 1)  # Retry-After passed: Redis decides, and the bucket allows it


def test_a_burst_is_at_least_one_and_at_most_a_minute() -> None:
    assert ratelimit.Limit("r", 300, 50).capacity == 50
    assert ratelimit.Limit("r", 300).capacity == 300
    assert ratelimit.Limit("r", 6, 50).capacity == 6
    assert ratelimit.Limit("r", 6, 0).capacity == 1
