"""Blocks through the real stack: account_api's routes, the Redis mirror pair.lua reads, the pairing
step and transaction, select rooms, and a block ending a shared call for both."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.stack import Stack
from shared import keys
from shared.account import blocks
from shared.matching import pairing, queue
from shared.matching.model import Preferences
from tests.account_helpers import Call, caller, doc, fs, new_user, rds, shared_room
from tests.conftest import wait_for
from tests.matching_helpers import clear_matching_redis, place, waiting

pytestmark = pytest.mark.stack


@pytest.fixture(autouse=True)
def clean_queue(stack: Stack) -> Iterator[None]:
    clear_matching_redis()
    yield


@pytest.fixture
def call(stack: Stack) -> Call:
    return caller(stack)


def now() -> datetime:
    return datetime.now(UTC)


# -- the routes -------------------------------------------------------------------------------------
def test_block_list_unblock(call: Call) -> None:
    me, other, third = new_user(), new_user(), new_user()
    status, first = call("POST", "/account_api/blocks", me, {"userId": other})
    assert status == 201 and first["userId"] == other and first["createdAt"].endswith("Z")
    assert call("POST", "/account_api/blocks", me, {"userId": other}) == (200, first)  # idempotent
    assert call("POST", "/account_api/blocks", me, {"userId": third})[0] == 201
    status, page = call("GET", "/account_api/blocks?limit=1", me)
    assert status == 200 and [b["userId"] for b in page["items"]] == [third] and page["nextCursor"]
    status, rest = call("GET", f"/account_api/blocks?limit=1&cursor={page['nextCursor']}", me)
    assert [b["userId"] for b in rest["items"]] == [other] and rest["nextCursor"] is None
    # The owner may read their blocks directly; written only by the function.
    assert (doc(f"users/{me}/blocks/{other}") or {})["userId"] == other
    assert set(rds().smembers(keys.blocks(other))) >= {me}
    assert call("DELETE", f"/account_api/blocks/{other}", me) == (200, {"userId": other, "removed": True})
    assert call("DELETE", f"/account_api/blocks/{other}", me) == (200, {"userId": other, "removed": False})
    assert me not in rds().smembers(keys.blocks(other)) and other not in rds().smembers(keys.blocks(me))
    assert [b["userId"] for b in call("GET", "/account_api/blocks", me)[1]["items"]] == [third]


def test_unblock_keeps_the_pair_apart_while_the_other_still_blocks(call: Call) -> None:
    a, b = new_user(), new_user()
    assert call("POST", "/account_api/blocks", a, {"userId": b})[0] == 201
    assert call("POST", "/account_api/blocks", b, {"userId": a})[0] == 201
    assert call("DELETE", f"/account_api/blocks/{b}", a)[1]["removed"] is True
    assert b in rds().smembers(keys.blocks(a)) and a in rds().smembers(keys.blocks(b))


BAD = [
    ({"userId": None}, "userId"),
    ({"userId": 5}, "userId"),
    ({"userId": "a/b"}, "userId"),
    ({"userId": "__x__"}, "userId"),
    ({"userId": "x" * 129}, "userId"),
    ({}, "userId"),
    ({"userId": "u", "extra": 1}, "extra"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
def test_bad_block_requests_are_400_naming_the_field(call: Call, body: dict[str, Any], field: str) -> None:
    status, payload = call("POST", "/account_api/blocks", new_user(), body)
    assert status == 400 and payload["error"]["field"] == field, payload


def test_block_refusals(call: Call) -> None:
    me = new_user()
    status, payload = call("POST", "/account_api/blocks", me, {"userId": me})
    assert status == 400 and payload["error"]["field"] == "userId"
    status, payload = call("POST", "/account_api/blocks", me, {"userId": f"nobody-{uuid.uuid4().hex}"})
    assert status == 404 and payload["error"]["code"] == "not_found"
    status, payload = call("POST", "/account_api/blocks", f"noprofile-{uuid.uuid4().hex}", {"userId": me})
    assert status == 403 and payload["error"]["code"] == "profile_required"
    assert call("GET", "/account_api/blocks?limit=0", me)[0] == 400
    assert call("GET", "/account_api/blocks?cursor=garbage", me)[1]["error"]["field"] == "cursor"
    assert call("POST", "/account_api/blocks", None, {"userId": me})[0] == 401


# -- select rooms -----------------------------------------------------------------------------------
def test_a_blocked_user_cannot_join_the_others_select_room_and_learns_nothing(call: Call) -> None:
    owner, blocked, stranger = new_user(), new_user(), new_user()
    assert call("POST", "/account_api/blocks", owner, {"userId": blocked})[0] == 201
    status, created = call("POST", "/matching_api/rooms", owner, {"maxParticipants": 3})
    assert status == 201
    refused = call("POST", "/matching_api/rooms/join", blocked, {"roomCode": created["roomCode"]})
    missing = call("POST", "/matching_api/rooms/join", stranger, {"roomCode": "ZZZZZZ"})
    assert refused[0] == missing[0] == 404 and refused[1] == missing[1]  # the answer for a full room
    # ... in both directions: the blocker cannot join the blocked user's room either.
    status, theirs = call("POST", "/matching_api/rooms", blocked, {"maxParticipants": 2})
    assert status == 201
    assert call("POST", f"/matching_api/rooms/{created['roomId']}/leave", owner)[0] == 200
    assert call("POST", "/matching_api/rooms/join", owner, {"roomCode": theirs["roomCode"]})[0] == 404
    assert call("POST", "/matching_api/rooms/join", stranger, {"roomCode": theirs["roomCode"]})[0] == 200


# -- a block during a shared call ---------------------------------------------------------------------
def test_a_block_during_a_shared_call_ends_it_for_both(call: Call) -> None:
    a, b = new_user(), new_user()
    room_id = shared_room(call, a, b)
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "active")
    assert call("POST", "/account_api/blocks", b, {"userId": a})[0] == 201
    room = doc(f"rooms/{room_id}") or {}
    assert room["status"] == "closed" and room["closeReason"] == "normal"
    for uid in (a, b):
        user = doc(f"users/{uid}") or {}
        assert "currentRoomId" not in user and user["status"] == "online"
    assert (doc(f"callSessions/{room_id}") or {}).get("endedAt") is not None


def test_in_a_group_room_the_two_leave_and_the_others_stay(call: Call) -> None:
    a, b, c, d = (new_user() for _ in range(4))
    room_id = shared_room(call, a, b, c, d, size=4)
    assert call("POST", "/account_api/blocks", a, {"userId": b})[0] == 201
    room = doc(f"rooms/{room_id}") or {}
    assert room["status"] == "active" and sorted(room["participants"]) == sorted([c, d])
    assert "currentRoomId" not in (doc(f"users/{a}") or {}) and "currentRoomId" not in (
        doc(f"users/{b}") or {}
    )


# -- pairing ------------------------------------------------------------------------------------------
def ticket(uid: str, place_ms: int) -> None:
    """A Redis ticket (no Firestore), gender none / wanting anyone: everyone is compatible."""
    queue.put_ticket(uid, "fresh", place_ms, place_ms + 3_600_000, "none", "any")


def mirror(a: str, b: str) -> None:
    blocks.mirror_add(a, b)


def test_pair_lua_skips_a_blocked_head_and_keeps_the_skipped_user_waiting() -> None:
    base = int(now().timestamp() * 1000)
    a, b, c, d = (f"pl-{uuid.uuid4().hex[:8]}" for _ in range(4))
    for i, uid in enumerate((a, b, c, d)):
        ticket(uid, base + i)
    mirror(a, b)
    claims = pairing.claim_pairs(4, now_ms=base + 10)
    assert [(claim.a, claim.b) for claim in claims] == [(a, c), (b, d)]


def test_a_user_blocked_with_everyone_within_the_window_waits_and_the_rest_pair() -> None:
    base = int(now().timestamp() * 1000)
    lonely = f"lonely-{uuid.uuid4().hex[:8]}"
    ticket(lonely, base)
    others = [f"o{i}-{uuid.uuid4().hex[:6]}" for i in range(12)]
    for i, uid in enumerate(others):
        ticket(uid, base + 1 + i)
    for uid in others[:9]:  # the two heads plus the whole window of 8 behind them
        mirror(lonely, uid)
    claims = pairing.claim_pairs(10, now_ms=base + 100)
    paired = {uid for claim in claims for uid in (claim.a, claim.b)}
    assert lonely not in paired and len(claims) == 6 and paired == set(others)
    assert place(lonely) is not None  # still waiting, at its place


def test_a_block_the_mirror_missed_is_caught_by_the_room_transaction_and_repaired() -> None:
    a, b = new_user(), new_user()
    for uid in (a, b):
        queue.enqueue(uid, Preferences(), now())
    fs().document(f"users/{a}/blocks/{b}").set({"userId": b, "createdAt": now()})  # Firestore only
    (claim,) = pairing.claim_pairs(1)
    assert {claim.a, claim.b} == {a, b}
    report = pairing.Report()
    pairing.process_claim(claim, report)
    assert report.created == [] and report.requeued == 2
    assert b in rds().smembers(keys.blocks(a))  # repaired: pair.lua will not claim them again
    assert pairing.claim_pairs(1) == []


def test_a_block_set_redis_lost_costs_one_refused_claim_then_is_known_again(call: Call) -> None:
    a, b = new_user(), new_user()
    assert call("POST", "/account_api/blocks", b, {"userId": a})[0] == 201
    rds().delete(keys.blocks(a), keys.blocks(b))  # expired, or Redis lost them
    for uid in (a, b):
        queue.enqueue(uid, Preferences(), now())
    (claim,) = pairing.claim_pairs(1)
    report = pairing.Report()
    pairing.process_claim(claim, report)
    assert report.created == [] and report.requeued == 2
    assert rds().smembers(keys.blocks(a)) == {b} and rds().smembers(keys.blocks(b)) == {a}
    assert 0 < rds().ttl(keys.blocks(a)) <= keys.BLOCKS_TTL_S
    assert pairing.claim_pairs(1) == []


def test_many_concurrent_users_with_blocks_never_pair_a_blocked_pair_and_nobody_is_lost(call: Call) -> None:
    rng = random.Random(11)
    users = [new_user(prefix="crowd") for _ in range(40)]
    pairs = set()
    while len(pairs) < 60:  # ~8 % of all pairs
        a, b = rng.sample(users, 2)
        pairs.add(frozenset((a, b)))
    by_blocker: dict[str, list[str]] = {}
    for pair in pairs:
        by_blocker.setdefault(min(pair), []).append(max(pair))

    def block_all(blocker: str) -> set[int]:
        # One request of a user at a time (a second one concurrently is 429 concurrent_request).
        return {
            call("POST", "/account_api/blocks", blocker, {"userId": other})[0]
            for other in by_blocker[blocker]
        }

    with ThreadPoolExecutor(8) as pool:
        statuses = set().union(*pool.map(block_all, by_blocker))
    assert statuses == {201}
    # Everyone queues at once through the gateway; the real worker pairs them (woken by Pub/Sub).
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda uid: call("POST", "/matching_api/queue", uid, {})[0], users))
    assert set(answers) == {202}

    def settled() -> bool:
        seated = [u for u in users if (doc(f"users/{u}") or {}).get("currentRoomId")]
        return len(seated) + len(waiting()) == len(users) and rds().zcard(keys.MATCHING_CLAIMS) == 0

    wait_for(settled, timeout_s=60, interval_s=0.5)
    while pairing.match_waiting().created:  # whatever a last run could still pair
        pass
    time.sleep(0.5)
    rooms: dict[str, list[str]] = {}
    for uid in users:
        room_id = (doc(f"users/{uid}") or {}).get("currentRoomId")
        if room_id:
            rooms.setdefault(room_id, []).append(uid)
    seated = {uid for members in rooms.values() for uid in members}
    still = set(waiting())
    assert seated | still == set(users) and not seated & still  # nobody lost, nobody twice
    for room_id, members in rooms.items():
        assert len(members) == 2, (room_id, members)
        assert frozenset(members) not in pairs, f"blocked pair matched in {room_id}"
        assert sorted((doc(f"rooms/{room_id}") or {})["participants"]) == sorted(members)
    assert len(seated) >= 30  # sparse blocks leave almost everyone a partner
    # Whoever still waits has no unblocked partner left among the others waiting.
    for a in still:
        for b in still - {a}:
            assert frozenset((a, b)) in pairs, (a, b)
    for uid in still:
        queue.remove_from_queue(uid, reason="test")


def test_tickets_expire_from_the_queue_as_before(call: Call) -> None:
    uid = new_user()
    queue.enqueue(uid, Preferences(), now() - timedelta(hours=1))
    assert queue.expire_tickets(now(), 100) >= 1
