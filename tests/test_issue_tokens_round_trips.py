"""What a LiveKit token request costs in round trips, and that the cheaper path keeps every guard:
a cache hit is one Redis script (the caller's budget and the cache read together) and no Firestore
read; a user who left is refused even if a token entry reappears; a request refused for its input
still pays from the budget, and an empty budget answers 429 before anything else."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.cloud import firestore

from bench import round_trips
from deploy.manifest import ROOT
from devstack.stack import Stack
from shared import keys
from shared.config import reset_settings
from tests.conftest import http, wait_for
from tests.room_fixtures import doc, fs, new_room, new_users, rds

SOURCE = ROOT / "functions" / "issue_tokens" / "main.py"


@pytest.fixture
def in_process(stack: Stack, token: Callable[..., str]) -> Iterator[Callable[[str, dict[str, Any]], Any]]:
    """POST /livekit-token to issue_tokens run in this process (functions-framework's own app), with
    the Redis and Firestore round trips counted; returns (response, redis, firestore)."""
    import functions_framework

    from shared.clients.firestore import get_firestore

    reset_settings()  # the stack's environment, whatever an earlier test left in the cached settings
    round_trips.install()
    get_firestore.reset()  # the next client is built on the counted channel
    client = functions_framework.create_app("issue_tokens", str(SOURCE), "http").test_client()

    def post(uid: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {token(uid)}"}
        before = round_trips.counts.copy()
        response = client.post("/livekit-token", json=body, headers=headers)
        spent = {store: round_trips.counts[store] - before[store] for store in ("redis", "firestore")}
        return response, spent["redis"], spent["firestore"]

    # Connecting and loading the scripts happen once per instance: not what a request costs.
    warm_up = new_users(2)
    response = post(warm_up[0], {"roomId": new_room(warm_up)})[0]
    assert response.status_code == 200, response.get_data(as_text=True)
    yield post
    get_firestore.reset()


def test_a_hit_is_one_redis_script_and_no_firestore_read(
    in_process: Callable[[str, dict[str, Any]], Any],
) -> None:
    me, other = new_users(2)
    room_id = new_room([me, other])
    first, redis_calls, firestore_calls = in_process(me, {"roomId": room_id})
    assert first.status_code == 200, first.get_data(as_text=True)
    # A miss: budget and cache read, the room and profile in one read, the new entry stored.
    assert (redis_calls, firestore_calls) == (2, 1)
    again, redis_calls, firestore_calls = in_process(me, {"roomId": room_id})
    assert again.status_code == 200 and again.get_json()["token"] == first.get_json()["token"]
    assert (redis_calls, firestore_calls) == (1, 0)


def test_a_user_who_left_is_refused_even_if_a_token_entry_reappears(
    stack: Stack, token: Callable[..., str]
) -> None:
    me, other = new_users(2)
    room_id = new_room([me, other])
    url = f"{stack.gateway_url}/issue_tokens/livekit-token"
    headers = {"Authorization": f"Bearer {token(me)}"}
    assert http("POST", url, {"roomId": room_id}, headers)[0] == 200
    entry = rds().get(keys.livekit_token(room_id, me))
    assert entry is not None

    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "active")
    fs().collection("rooms").document(room_id).update({"participants": firestore.ArrayRemove([me])})
    wait_for(lambda: rds().exists(keys.livekit_token(room_id, me)) == 0)
    # A write that raced the leave (minted from a read made before it) puts the entry back: the
    # revocation marker, read in the same script as the entry, still keeps it from being served.
    rds().set(keys.livekit_token(room_id, me), entry, ex=600)
    status, body, _ = http("POST", url, {"roomId": room_id}, headers)
    assert status == 403 and body["error"]["code"] == "permission_denied", body
    assert json.loads(entry)["identity"] == me


def test_refused_input_pays_from_the_budget_and_an_empty_budget_answers_429_first(
    stack: Stack, token: Callable[..., str]
) -> None:
    (me,) = new_users(1)
    url = f"{stack.gateway_url}/issue_tokens/livekit-token"
    headers = {"Authorization": f"Bearer {token(me)}"}
    per_minute = int(stack.service_env().get("RATE_LIMIT_LIVEKIT_PER_MIN", "30"))
    statuses = [http("POST", url, {"roomId": ""}, headers)[0] for _ in range(per_minute)]
    assert statuses == [400] * per_minute
    status, body, response_headers = http("POST", url, {"roomId": ""}, headers)
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert int(response_headers["Retry-After"]) >= 1
    (other,) = new_users(1)
    other_headers = {"Authorization": f"Bearer {token(other)}"}
    assert http("POST", url, {"roomId": ""}, other_headers)[0] == 400  # another user's budget


def test_a_route_that_never_reads_redis_still_pays_its_budget(
    stack: Stack, token: Callable[..., str]
) -> None:
    from flask import Request
    from werkzeug.test import EnvironBuilder

    from shared.http import Api, ApiRequest, Budget, Reply

    api = Api("budget_probe", stores=())
    per_minute = 3

    @api.route(
        "POST",
        "/probe",
        budget=Budget(f"probe-{uuid.uuid4().hex[:8]}", lambda: per_minute, with_first_read=True),
    )
    def probe(request: ApiRequest) -> Reply:
        return Reply(
            200, {"takenBeforeTheHandlerReturned": request.budget is not None and request.budget.taken}
        )

    (me,) = new_users(1)
    headers = [("Authorization", f"Bearer {token(me)}")]
    responses = [
        api(Request(EnvironBuilder(method="POST", path="/probe", json={}, headers=headers).get_environ()))
        for _ in range(per_minute + 1)
    ]
    assert [r.status_code for r in responses] == [200] * per_minute + [429]
    assert responses[0].get_json() == {"takenBeforeTheHandlerReturned": False}
    assert int(responses[-1].headers["Retry-After"]) >= 1
