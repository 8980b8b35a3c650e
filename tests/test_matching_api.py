"""matching_api and matching_worker through the local stack: gateway, real tokens, real Pub/Sub."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devstack.stack import Stack
from shared.clients.pubsub import publish_json
from tests.conftest import http, wait_for
from tests.matching_helpers import clear_matching_redis, mirror, new_user, room, user


@pytest.fixture(autouse=True)
def clean_queue(stack: Stack) -> Iterator[None]:
    clear_matching_redis()
    yield


@pytest.fixture
def call(gateway: str, token: Callable[..., str]) -> Callable[..., tuple[int, Any]]:
    def call(method: str, path: str, uid: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token(uid)}"}
        status, payload, _ = http(method, f"{gateway}/matching_api{path}", body, headers)
        return status, payload

    return call


BAD_INPUT = [
    ("POST", "/queue", {"preferences": {"gender": "robot"}}, "preferences.gender"),
    ("POST", "/queue", {"preferences": {"gender": 3}}, "preferences.gender"),
    ("POST", "/queue", {"preferences": "male"}, "preferences"),
    ("POST", "/queue", {"preferences": {"ageRange": [18, 30]}}, "preferences.ageRange"),
    ("POST", "/queue", {"mode": "random"}, "mode"),
    ("POST", "/rooms", {"maxParticipants": 1}, "maxParticipants"),
    ("POST", "/rooms", {"maxParticipants": 9}, "maxParticipants"),
    ("POST", "/rooms", {"maxParticipants": "4"}, "maxParticipants"),
    ("POST", "/rooms", {"maxParticipants": True}, "maxParticipants"),
    ("POST", "/rooms", {}, "maxParticipants"),
    ("POST", "/rooms/join", {"roomCode": "ABC"}, "roomCode"),
    ("POST", "/rooms/join", {"roomCode": "0OIL1X"}, "roomCode"),
    ("POST", "/rooms/join", {"roomCode": 123456}, "roomCode"),
    ("POST", "/rooms/join", {}, "roomCode"),
    ("POST", "/presence", {"status": "in_call"}, "status"),
    ("POST", "/presence", {"status": None}, "status"),
    ("POST", "/presence", {"status": "online", "extra": 1}, "extra"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), BAD_INPUT)
def test_bad_input_is_400_naming_the_field(
    call: Callable[..., tuple[int, Any]], method: str, path: str, body: Any, field: str
) -> None:
    status, payload = call(method, path, new_user(), body)
    assert status == 400, payload
    assert payload["error"]["code"] == "invalid_argument" and payload["error"]["field"] == field
    assert field in payload["error"]["message"]


def test_non_object_body_is_400(call: Callable[..., tuple[int, Any]]) -> None:
    status, payload = call("POST", "/rooms", new_user(), [1, 2])
    assert status == 400 and payload["error"]["code"] == "invalid_json"


def test_routes_need_a_token(gateway: str) -> None:
    status, payload, _ = http("POST", f"{gateway}/matching_api/queue", {})
    assert status == 401 and payload["error"]["code"] == "unauthenticated"


def test_enqueue_twice_then_leave_twice(call: Callable[..., tuple[int, Any]]) -> None:
    # A lone user whom nobody in this test can match: the worker leaves them waiting.
    uid = new_user("other")
    status, first = call("POST", "/queue", uid, {"preferences": {"gender": "other"}})
    assert status == 202 and first["userId"] == uid and first["preferences"] == {"gender": "other"}
    status, second = call("POST", "/queue", uid, {"preferences": {"gender": "other"}})
    assert status == 202 and second["createdAt"] == first["createdAt"]
    assert mirror(uid) is not None and user(uid)["status"] == "matching"
    assert call("DELETE", "/queue", uid) == (200, {"removed": True})
    assert call("DELETE", "/queue", uid) == (200, {"removed": False})
    assert mirror(uid) is None and user(uid)["status"] == "online"


def test_two_users_are_seated_by_the_real_worker_via_pub_sub(call: Callable[..., tuple[int, Any]]) -> None:
    a, b = new_user("female"), new_user("male")
    assert call("POST", "/queue", a, {"preferences": {"gender": "male"}})[0] == 202
    assert call("POST", "/queue", b, {})[0] == 202
    room_id = wait_for(lambda: user(a).get("currentRoomId"), timeout_s=30)
    assert wait_for(lambda: user(b).get("currentRoomId"), timeout_s=30) == room_id
    doc = room(room_id)
    assert doc is not None and sorted(doc["participants"]) == sorted([a, b]) and doc["type"] == "random"
    assert mirror(a) is None and mirror(b) is None
    status, payload = call("POST", "/queue", a, {})
    assert status == 409 and payload["error"]["code"] == "already_in_room"
    assert call("POST", f"/rooms/{room_id}/leave", a) == (200, {"roomId": room_id, "left": True})
    assert room(room_id)["participants"] == [b]  # type: ignore[index]
    assert "currentRoomId" not in user(a) and user(a)["status"] == "online"


def test_select_room_flow_and_errors(call: Callable[..., tuple[int, Any]]) -> None:
    owner, guest = new_user(), new_user()
    status, created = call("POST", "/rooms", owner, {"maxParticipants": 2})
    assert status == 201 and set(created) >= {"roomId", "roomCode"}
    assert call("POST", "/rooms/join", guest, {"roomCode": created["roomCode"].lower()}) == (
        200,
        {"roomId": created["roomId"]},
    )
    # A full room and a missing one give a stranger the same answer: codes cannot be probed.
    full = call("POST", "/rooms/join", new_user(), {"roomCode": created["roomCode"]})
    missing = call("POST", "/rooms/join", new_user(), {"roomCode": "ZZZZZZ"})
    assert full[0] == missing[0] == 404 and full[1] == missing[1]
    assert full[1]["error"]["code"] == "not_found"
    status, payload = call("POST", "/rooms", owner, {"maxParticipants": 3})
    assert status == 409 and payload["error"]["code"] == "already_in_room"
    status, payload = call("POST", f"/rooms/{uuid.uuid4().hex}/leave", owner)
    assert status == 404


def test_concurrent_joins_never_overfill_a_room(call: Callable[..., tuple[int, Any]]) -> None:
    owner = new_user()
    _, created = call("POST", "/rooms", owner, {"maxParticipants": 4})
    joiners = [new_user() for _ in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(
            pool.map(lambda uid: call("POST", "/rooms/join", uid, {"roomCode": created["roomCode"]}), joiners)
        )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 3 + [404] * 9, results
    assert all(payload["error"]["code"] == "not_found" for status, payload in results if status == 404)
    participants = room(created["roomId"])["participants"]  # type: ignore[index]
    winners = [uid for uid, (status, _) in zip(joiners, results, strict=True) if status == 200]
    assert len(participants) == 4 and sorted(participants) == sorted([owner, *winners])
    for uid, (status, _) in zip(joiners, results, strict=True):
        assert (user(uid).get("currentRoomId") == created["roomId"]) == (status == 200)


def test_presence_heartbeat(call: Callable[..., tuple[int, Any]]) -> None:
    uid = new_user(status="offline")
    assert call("POST", "/presence", uid, {"status": "online"}) == (
        200,
        {"status": "online", "written": True},
    )
    assert call("POST", "/presence", uid, {"status": "online"}) == (
        200,
        {"status": "online", "written": False},
    )
    assert user(uid)["status"] == "online"


def test_worker_acknowledges_unknown_kinds_and_sweeps(stack: Stack) -> None:
    def delivered(message_id: str) -> list[dict[str, Any]]:
        _, entries, _ = http("GET", f"{stack.router_url}/deliveries")
        return [e for e in entries if e.get("kind") == "pubsub" and e.get("eventId") == message_id]

    message_id = publish_json("matching-requests", {"kind": "no-such-kind"})
    entries = wait_for(lambda: delivered(message_id), timeout_s=30)
    assert entries[0]["status"] in (200, 204)
    status, fired, _ = http("POST", f"{stack.router_url}/scheduler/jobs/matching-sweep:run")
    assert status == 200
    entries = wait_for(lambda: delivered(fired["messageId"]), timeout_s=30)
    assert entries[0]["status"] in (200, 204)
