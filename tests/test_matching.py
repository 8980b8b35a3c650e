"""Matching domain code against the stack's real Redis and Firestore emulator (in-process calls)."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devstack.stack import Stack
from shared import keys
from shared.clients.firestore import get_firestore
from shared.clients.redis import get_redis
from shared.config import settings
from shared.errors import ApiError
from shared.matching import model, pairing, queue
from shared.matching.model import Preferences
from shared.rooms import codes, membership, select
from shared.users import state
from tests.conftest import wait_for
from tests.matching_helpers import (
    clear_matching_redis,
    mirror,
    new_user,
    place,
    queued_entries,
    room,
    user,
    waiting,
)

CLASS_GENDERS = (*model.GENDERS, model.NO_GENDER)
CLASS_WANTS = (*model.GENDERS, model.ANY)


@pytest.fixture(autouse=True)
def clean_queue(stack: Stack) -> Iterator[None]:
    clear_matching_redis()
    yield


def now() -> datetime:
    return datetime.now(UTC)


def redis_ticket(uid: str, gender: str, want: str, place_ms: int, exp_ms: int | None = None) -> None:
    """A ticket put in Redis by the real enqueue script (no Firestore): for rules of the Redis step."""
    queue.put_ticket(uid, "fresh", place_ms, exp_ms or place_ms + 3_600_000, gender, want)


# -- preference rules --------------------------------------------------------------------------


def test_compatibility_rule() -> None:
    assert model.compatible("male", "female", "female", "male")
    assert model.compatible("male", "any", "female", "any")
    assert not model.compatible("male", "female", "female", "female")
    assert not model.compatible("male", "female", "male", "any")
    assert not model.compatible("none", "any", "female", "male")  # no gender is accepted by 'any' only
    assert model.compatible("none", "any", "other", "any")


def test_redis_pairing_applies_the_same_rule_for_every_pair_of_classes() -> None:
    base = int(now().timestamp() * 1000)
    classes = list(itertools.product(CLASS_GENDERS, CLASS_WANTS))
    for (ga, wa), (gb, wb) in itertools.product(classes, classes):
        clear_matching_redis()
        redis_ticket("a", ga, wa, base)
        redis_ticket("b", gb, wb, base + 1)
        claims = pairing.claim_pairs(4, now_ms=base + 10)
        expected = model.compatible(ga, wa, gb, wb)
        assert bool(claims) == expected, ((ga, wa), (gb, wb))
        if claims:
            assert [(c.a, c.b) for c in claims] == [("a", "b")]
        else:
            assert sorted(waiting()) == ["a", "b"]


def test_oldest_user_with_a_partner_goes_first_with_their_oldest_compatible_partner() -> None:
    base = int(now().timestamp() * 1000)
    # Head of the queue: nobody here can serve these two (both want someone of gender "other").
    redis_ticket("w1", "female", "other", base)
    redis_ticket("w2", "male", "other", base + 1)
    redis_ticket("m-old", "male", "female", base + 2)
    redis_ticket("m-any", "male", "any", base + 3)
    redis_ticket("f-male", "female", "male", base + 4)
    redis_ticket("f-any", "female", "any", base + 5)
    claims = pairing.claim_pairs(10, now_ms=base + 10)
    assert [(c.a, c.b) for c in claims] == [("m-old", "f-male"), ("m-any", "f-any")]
    assert [c.place_a for c in claims] == [base + 2, base + 3]
    assert waiting() == ["w1", "w2"]  # they keep their places


def test_pairing_never_pairs_a_user_with_themselves_and_skips_expired_tickets() -> None:
    base = int(now().timestamp() * 1000)
    redis_ticket("solo", "male", "any", base)
    redis_ticket("expired", "female", "any", base + 1, exp_ms=base + 5)
    assert pairing.claim_pairs(5, now_ms=base + 10) == []
    assert waiting() == ["solo"]
    # the expired ticket left the queue but stays for the expiry sweep, which also settles Firestore
    assert get_redis().exists(keys.matching_ticket("expired"))


# -- enqueue / leave / expiry ------------------------------------------------------------------


def test_enqueue_is_idempotent_and_keeps_the_place() -> None:
    uid = new_user("male")
    first = queue.enqueue(uid, Preferences("female"), now())
    second = queue.enqueue(uid, Preferences(), now())
    assert second.created_at == first.created_at and second.expires_at >= first.expires_at
    assert waiting() == [uid]
    assert place(uid) == int(first.created_at.timestamp() * 1000)
    # the refresh moved the user to their new preference class
    assert queued_entries(keys.matching_class_queue("male", "female")) == []
    assert [member for member, _ in queued_entries(keys.matching_class_queue("male", "any"))] == [uid]
    doc = mirror(uid)
    assert doc is not None and doc["userId"] == uid and doc["preferences"] == {} and doc["priority"] == 0
    assert user(uid)["status"] == "matching"
    assert get_redis().get(keys.presence(uid)) == "matching"


def test_leaving_the_queue_is_idempotent() -> None:
    uid = new_user("female")
    queue.enqueue(uid, Preferences(), now())
    assert queue.remove_from_queue(uid, reason="test") is True
    assert queue.remove_from_queue(uid, reason="test") is False
    assert mirror(uid) is None and user(uid)["status"] == "online"
    assert waiting() == [] and not get_redis().exists(keys.matching_ticket(uid))
    assert get_redis().zscore(keys.MATCHING_EXPIRY, uid) is None


def test_leaving_does_not_touch_a_user_who_is_not_matching() -> None:
    uid = new_user("female", status="in_call")
    assert queue.remove_from_queue(uid, reason="offline") is False
    assert user(uid)["status"] == "in_call"


def test_expired_tickets_are_removed_and_status_returns_to_online() -> None:
    old, fresh = new_user("male"), new_user("female")
    queue.enqueue(old, Preferences(), now() - timedelta(seconds=settings().matching_ticket_ttl_s + 5))
    queue.enqueue(fresh, Preferences(), now())
    assert queue.expire_tickets(now(), 100) >= 1
    assert mirror(old) is None and user(old)["status"] == "online"
    assert not get_redis().exists(keys.matching_ticket(old)) and old not in waiting()
    assert mirror(fresh) is not None and fresh in waiting() and user(fresh)["status"] == "matching"
    queue.expire_tickets(now(), 100)  # again: the old one is gone, the fresh one stays
    assert mirror(old) is None and mirror(fresh) is not None and fresh in waiting()


def test_expiry_takes_a_user_out_of_the_queue_whose_ticket_redis_already_dropped() -> None:
    # Queued so long ago that the ticket's own Redis expiry (expiry + grace) has passed: the sweep
    # finds the user in the expiry index with no hash to name their class, and empties every class.
    uid, other = new_user("male"), new_user("female")
    queue.enqueue(uid, Preferences(), now() - timedelta(hours=3))
    queue.enqueue(other, Preferences(), now())
    assert not get_redis().exists(keys.matching_ticket(uid)) and uid in waiting()
    assert queue.expire_tickets(now(), 100) >= 1
    assert waiting() == [other] and mirror(uid) is None and user(uid)["status"] == "online"
    assert queue.forget_ticket(other) == 1 and waiting() == []  # a ticket that exists: its one class


def test_expiry_also_finds_mirrors_redis_lost() -> None:
    uid = new_user("male", status="matching")
    get_firestore().collection("matchingQueue").document(uid).set(
        {
            "userId": uid,
            "preferences": {},
            "priority": 0,
            "createdAt": now() - timedelta(hours=1),
            "expiresAt": now() - timedelta(minutes=1),
        }
    )
    queue.expire_tickets(now(), 1000)
    assert mirror(uid) is None and user(uid)["status"] == "online"


def test_a_user_in_a_room_cannot_enqueue() -> None:
    uid = new_user("male")
    created = select.create_select_room(uid, 2, now())
    with pytest.raises(ApiError) as caught:
        queue.enqueue(uid, Preferences(), now())
    assert caught.value.status == 409 and caught.value.code == "already_in_room"
    assert mirror(uid) is None and user(uid)["currentRoomId"] == created.room_id


# -- pairing and room creation -------------------------------------------------------------------


def test_a_compatible_pair_gets_a_room_in_one_transaction() -> None:
    a, b, c = new_user("male"), new_user("female"), new_user("male")
    queue.enqueue(a, Preferences("female"), now())
    queue.enqueue(c, Preferences("female"), now())
    queue.enqueue(b, Preferences(), now())
    report = pairing.match_waiting()
    assert len(report.created) == 1
    doc = room(report.created[0])
    assert doc is not None
    assert doc["participants"] == [a, b]  # the oldest man who wants a woman
    assert doc["type"] == "random" and doc["maxParticipants"] == 2
    assert doc["status"] in ("waiting", "active")  # created waiting; on_room_written may have activated it
    assert doc["livekitRoomName"] and "roomCode" not in doc
    assert doc["expiresAt"] > doc["createdAt"]
    for uid in (a, b):
        assert user(uid)["status"] == "in_call" and user(uid)["currentRoomId"] == report.created[0]
        assert mirror(uid) is None and not get_redis().exists(keys.matching_ticket(uid))
        assert get_redis().get(keys.presence(uid)) == "in_call"
    assert waiting() == [c] and get_redis().zcard(keys.MATCHING_CLAIMS) == 0
    assert pairing.match_waiting().created == []  # a second delivery changes nothing


def test_a_partner_who_left_meanwhile_is_dropped_and_the_other_keeps_their_place() -> None:
    a, b = new_user("male"), new_user("female")
    queue.enqueue(a, Preferences(), now())
    queue.enqueue(b, Preferences(), now())
    at = place(a)
    (claim,) = pairing.claim_pairs(1)
    queue.remove_from_queue(b, reason="test")
    pairing.process_claim(claim, pairing.Report())
    assert room(claim.pair_id) is None
    assert place(a) == at and mirror(a) is not None
    assert b not in waiting() and user(b)["status"] == "online"


def test_pairs_sharing_a_transaction_are_each_decided_on_their_own() -> None:
    users = [new_user("male" if i % 2 == 0 else "female") for i in range(6)]
    for uid in users:
        queue.enqueue(uid, Preferences(), now())
    claims = pairing.claim_pairs(3)
    assert len(claims) == 3
    leaver = claims[1].b
    queue.remove_from_queue(leaver, reason="test")
    report = pairing.Report()
    pairing.process_claims(claims, report)
    assert sorted(report.created) == sorted([claims[0].pair_id, claims[2].pair_id])
    assert report.requeued == 1 and room(claims[1].pair_id) is None  # the leaver: already gone
    assert waiting() == [claims[1].a] and user(leaver)["status"] == "online"
    for claim in (claims[0], claims[2]):
        assert user(claim.a)["currentRoomId"] == claim.pair_id == user(claim.b)["currentRoomId"]


def test_a_burst_of_enqueues_sends_one_wake_message_until_a_run_starts() -> None:
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    from shared.matching import wake

    # A topic of its own, without subscribers: the stack's real worker must not run for this test.
    publisher = pubsub_v1.PublisherClient()
    topic = f"wake-test-{uuid.uuid4().hex[:8]}"
    publisher.create_topic(name=publisher.topic_path(settings().project_id, topic))
    assert wake.request_pairing("u1", topic) is True
    assert wake.request_pairing("u2", topic) is False  # the run asked for will see u2's ticket
    assert 0 < get_redis().pttl(keys.MATCHING_WAKE) <= wake.WAKE_TTL_MS
    wake.woken()  # a run starts claiming: later tickets need a run of their own
    assert wake.request_pairing("u3", topic) is True
    wake.woken()
    # A message that cannot be sent leaves no key behind: the next enqueue tries again.
    assert wake.request_pairing("u4", f"no-such-topic-{uuid.uuid4().hex[:8]}") is False
    assert not get_redis().exists(keys.MATCHING_WAKE)


@pytest.mark.parametrize("batch", [2, 16])
def test_one_slow_room_does_not_hold_the_other_threads_and_claims_never_wait_for_a_thread(batch: int) -> None:
    for _ in range(12):
        queue.enqueue(new_user("male"), Preferences(), now())
        queue.enqueue(new_user("female"), Preferences(), now())
    lock = threading.Lock()
    others_done = threading.Event()
    slow: list[str] = []  # the first pair to start: it waits until the 11 others have their rooms
    seen = {"running": 0, "most running": 0, "most claimed": 0, "committed": 0, "slow waited in vain": 0}

    def hold_the_first(stage: str, claim: pairing.Claim) -> None:
        with lock:
            if stage == "claimed":
                seen["running"] += 1
                seen["most running"] = max(seen["most running"], seen["running"])
                seen["most claimed"] = max(seen["most claimed"], get_redis().zcard(keys.MATCHING_CLAIMS))
                if not slow:
                    slow.append(claim.pair_id)
            else:
                seen["running"] -= 1
                seen["committed"] += 1
                if seen["committed"] == 11 and claim.pair_id not in slow:
                    others_done.set()
        if stage == "claimed" and claim.pair_id in slow and not others_done.wait(timeout=30):
            seen["slow waited in vain"] = 1

    report = pairing.match_waiting(batch=batch, per_transaction=1, threads=2, fault=hold_the_first)
    assert len(report.created) == 12 and waiting() == []
    assert seen["slow waited in vain"] == 0  # the other thread kept claiming and seating meanwhile
    assert seen["most running"] == 2
    assert seen["most claimed"] <= 2  # claimed only what a free thread starts on at once


def test_failure_after_the_pair_left_the_queue_puts_both_back_in_place() -> None:
    a, b = new_user("male"), new_user("female")
    queue.enqueue(a, Preferences(), now())
    queue.enqueue(b, Preferences(), now())
    places = {uid: place(uid) for uid in (a, b)}

    def fail(stage: str, claim: pairing.Claim) -> None:
        if stage == "claimed":
            raise ConnectionError("injected")

    with pytest.raises(pairing.PairingFailed):
        pairing.match_waiting(fault=fail)
    assert {uid: place(uid) for uid in (a, b)} == places
    assert user(a)["status"] == "matching" and mirror(a) is not None
    (created,) = pairing.match_waiting().created
    assert room(created)["participants"] == [a, b]  # type: ignore[index]


def test_an_error_after_the_commit_keeps_the_room() -> None:
    a, b = new_user("male"), new_user("female")
    for uid in (a, b):
        queue.enqueue(uid, Preferences(), now())

    def fail(stage: str, claim: pairing.Claim) -> None:
        if stage == "committed":
            raise TimeoutError("commit answer lost")

    (created,) = pairing.match_waiting(fault=fail).created
    assert user(a)["currentRoomId"] == created == user(b)["currentRoomId"]
    assert waiting() == [] and get_redis().zcard(keys.MATCHING_CLAIMS) == 0


def test_seated_users_put_back_by_a_late_sweep_never_get_a_second_room() -> None:
    a, b, c = new_user("male"), new_user("female"), new_user("female")
    for uid in (a, b):
        queue.enqueue(uid, Preferences(), now())
    (claim,) = pairing.claim_pairs(1)
    assert pairing.create_random_room(claim, now())[0] == "created"
    # A sweep that looked before the commit landed puts both back in the queue.
    assert pairing.settle(claim.pair_id, "requeue", "requeue") == (2, 0)
    queue.enqueue(c, Preferences(), now())
    report = pairing.match_waiting()
    assert report.created == [] and report.dropped >= 1  # whoever c meets is seated already
    while pairing.match_waiting().dropped:
        pass
    assert user(a)["currentRoomId"] == claim.pair_id == user(b)["currentRoomId"]
    assert waiting() == [c] and mirror(c) is not None


def test_a_crashed_worker_s_claim_is_settled_by_the_sweep() -> None:
    a, b = new_user("male"), new_user("female")
    for uid in (a, b):
        queue.enqueue(uid, Preferences(), now())
    (_claim,) = pairing.claim_pairs(1)  # ... and the worker dies here
    assert waiting() == []
    assert pairing.reclaim_stale_claims(now()).requeued == 0  # not due yet
    later = now() + timedelta(seconds=settings().matching_claim_timeout_s + 1)
    assert pairing.reclaim_stale_claims(later).requeued == 2
    assert sorted(waiting()) == sorted([a, b])
    (created,) = pairing.match_waiting().created
    assert room(created)["participants"] == [a, b]  # type: ignore[index]


def test_a_claim_whose_room_was_committed_is_spent_by_the_sweep() -> None:
    a, b = new_user("male"), new_user("female")
    for uid in (a, b):
        queue.enqueue(uid, Preferences(), now())
    (claim,) = pairing.claim_pairs(1)
    assert pairing.create_random_room(claim, now()) == ("created", [])  # ... then the worker dies
    later = now() + timedelta(seconds=settings().matching_claim_timeout_s + 1)
    assert pairing.reclaim_stale_claims(later).created == [claim.pair_id]
    assert waiting() == [] and not get_redis().exists(keys.matching_ticket(a))


# -- select rooms ------------------------------------------------------------------------------


def test_room_codes_are_short_and_unambiguous() -> None:
    drawn = {codes.new_code() for _ in range(2000)}
    assert len(drawn) > 1990
    for code in drawn:
        assert len(code) == 6 and not set(code) & set("01ILO")
    assert codes.parse_code(" abc-def ") == "ABCDEF"
    for bad in ("ABCDE", "ABCDEFG", "ABCDE0", "ABCDEI", 123456):
        with pytest.raises(ApiError) as caught:
            codes.parse_code(bad)
        assert caught.value.status == 400 and caught.value.field == "roomCode"


def test_select_room_create_join_full_leave() -> None:
    owner, guest, late = new_user("male"), new_user("female"), new_user("other")
    created = select.create_select_room(owner, 2, now())
    doc = room(created.room_id)
    assert doc is not None and doc["roomCode"] == created.room_code and doc["type"] == "select"
    assert doc["participants"] == [owner] and doc["createdBy"] == owner and doc["status"] == "waiting"
    typed = created.room_code.lower()[:3] + "-" + created.room_code.lower()[3:]
    assert select.join_by_code(guest, codes.parse_code(typed), now()) == created.room_id
    assert select.join_by_code(guest, created.room_code, now()) == created.room_id  # idempotent
    with pytest.raises(ApiError) as caught:
        select.join_by_code(late, created.room_code, now())
    # A stranger cannot tell a full room from one that does not exist.
    assert caught.value.status == 404 and caught.value.code == "not_found"
    assert room(created.room_id)["participants"] == [owner, guest]  # type: ignore[index]
    wait_for(lambda: (room(created.room_id) or {}).get("status") == "active")  # on_room_written
    assert membership.leave(guest, created.room_id, now()).changed is True
    assert membership.leave(guest, created.room_id, now()).changed is False
    assert room(created.room_id)["participants"] == [owner]  # type: ignore[index]
    assert "currentRoomId" not in user(guest) and user(guest)["status"] == "online"
    # An active room left with one participant is closed by on_room_written; its code then 404s.
    wait_for(lambda: (room(created.room_id) or {}).get("status") == "closed")
    with pytest.raises(ApiError) as caught:
        select.join_by_code(late, created.room_code, now())
    assert caught.value.status == 404


def test_unknown_and_closed_codes_are_404() -> None:
    owner, guest = new_user(), new_user()
    with pytest.raises(ApiError) as caught:
        select.join_by_code(guest, "ZZZZZZ", now())
    assert caught.value.status == 404
    created = select.create_select_room(owner, 4, now())
    get_firestore().collection("rooms").document(created.room_id).update({"status": "closed"})
    with pytest.raises(ApiError) as caught:
        select.join_by_code(guest, created.room_code, now())
    assert caught.value.status == 404


def test_joining_a_room_cancels_the_random_queue_ticket() -> None:
    owner, guest = new_user(), new_user()
    created = select.create_select_room(owner, 3, now())
    queue.enqueue(guest, Preferences(), now())
    select.join_by_code(guest, created.room_code, now())
    assert mirror(guest) is None and guest not in waiting()
    assert user(guest)["status"] == "in_call"


# -- presence ----------------------------------------------------------------------------------


def test_heartbeats_write_firestore_only_on_change() -> None:
    uid = new_user(status="offline")
    first = state.heartbeat(uid, "online", now())
    assert first == state.Heartbeat("online", True) and user(uid)["status"] == "online"
    written_at = user(uid)["lastActiveAt"]
    for _ in range(3):
        assert state.heartbeat(uid, "online", now()) == state.Heartbeat("online", False)
    assert user(uid)["lastActiveAt"] == written_at
    assert get_redis().ttl(keys.presence(uid)) <= keys.PRESENCE_TTL_S
    assert state.heartbeat(uid, "offline", now()) == state.Heartbeat("offline", True)
    assert user(uid)["status"] == "offline"
    # on_user_written mirrors each status write too; once its events settle, Redis agrees.
    wait_for(lambda: get_redis().get(keys.presence(uid)) == "offline")


def test_a_heartbeat_after_the_window_writes_again() -> None:
    uid = new_user()
    state.heartbeat(uid, "online", now())
    get_redis().delete(keys.presence_synced(uid))  # the coalescing window ran out
    assert state.heartbeat(uid, "online", now()).written


def test_online_heartbeat_does_not_override_in_call() -> None:
    uid = new_user()
    select.create_select_room(uid, 2, now())
    get_redis().delete(keys.presence(uid), keys.presence_synced(uid))  # Redis forgot: Firestore decides
    beat = state.heartbeat(uid, "online", now())
    assert beat.status == "in_call" and user(uid)["status"] == "in_call"
    assert get_redis().get(keys.presence(uid)) == "in_call"


# -- healing -----------------------------------------------------------------------------------
def _lose_the_claim(uid: str) -> None:
    """What an evicted claim record leaves behind: a user marked claimed by a pair nobody will
    ever settle, taken off the queue as pair.lua takes a claimed user off."""
    r = get_redis()
    ticket = r.hgetall(keys.matching_ticket(uid))
    r.hset(keys.MATCHING_CLAIMED, uid, "lost-" + uuid.uuid4().hex)
    assert r.zrem(keys.matching_class_queue(ticket["g"], ticket["w"]), f"{uid}|{ticket['exp']}") == 1


def test_a_ticket_whose_claim_was_lost_is_queued_again_on_refresh() -> None:
    uid = new_user("male")
    first = queue.enqueue(uid, Preferences(), now())
    _lose_the_claim(uid)
    assert uid not in waiting()
    again = queue.enqueue(uid, Preferences(), now())
    assert again.state == "queued" and again.created_at == first.created_at  # same place as before
    assert uid in waiting()


def test_the_sweep_queues_again_tickets_whose_claim_was_lost() -> None:
    lost, settled = new_user("female"), new_user("male")
    queue.enqueue(lost, Preferences(), now())
    _lose_the_claim(lost)
    queue.enqueue(settled, Preferences(), now())
    healed = 0
    for _ in range(10):  # the sweep walks the queue a bounded slice at a time
        healed += queue.heal_orphaned_claims(limit=1000)
        if lost in waiting():
            break
    assert healed >= 1 and lost in waiting() and settled in waiting()
    assert get_redis().hget(keys.MATCHING_CLAIMED, lost) is None


# -- the queue's layout ------------------------------------------------------------------------------
def test_pairing_decides_from_the_class_members_alone() -> None:
    """pair.lua touches no ticket: a member carries its expiry, and a user is in a class set only
    while their ticket waits there. With every ticket hash gone the same pairs are claimed."""
    base = int(now().timestamp() * 1000)
    redis_ticket("m1", "male", "female", base)
    redis_ticket("gone", "female", "any", base + 1, exp_ms=base + 5)
    redis_ticket("f1", "female", "male", base + 2)
    redis_ticket("m2", "male", "any", base + 3)
    redis_ticket("f2", "female", "any", base + 4)
    r = get_redis()
    r.delete(*(keys.matching_ticket(uid) for uid in ("m1", "gone", "f1", "m2", "f2")))
    claims = pairing.claim_pairs(10, now_ms=base + 10)
    assert [(c.a, c.b) for c in claims] == [("m1", "f1"), ("m2", "f2")]
    assert waiting() == []  # the expired member left its class
    assert r.hgetall(keys.MATCHING_CLAIMED) == {uid: c.pair_id for c in claims for uid in (c.a, c.b)}


def _legacy_ticket(uid: str, gender: str, want: str, place_ms: int, pair: str = "") -> None:
    """A ticket as the scripts wrote it before class members carried their expiry: the member is
    the plain uid, and the claim lives in the ticket's `pair` field."""
    r = get_redis()
    exp = place_ms + 3_600_000
    r.hset(keys.matching_ticket(uid), mapping={"id": uuid.uuid4().hex, "score": place_ms, "g": gender,
                                               "w": want, "exp": exp, "prio": 0, "pair": pair})  # fmt: skip
    r.zadd(keys.MATCHING_EXPIRY, {uid: exp})
    r.zadd(keys.matching_class_queue(gender, want), {uid: place_ms})


def test_a_queue_written_by_the_previous_release_is_paired_and_cleared() -> None:
    """During a rollout the class sets still hold the previous release's members: they are paired
    by their tickets and leave their class like any other; one its worker had claimed is not."""
    base = int(now().timestamp() * 1000)
    _legacy_ticket("old-claimed", "male", "any", base, pair="p-old")
    _legacy_ticket("old-m", "male", "any", base + 1)
    redis_ticket("new-f", "female", "any", base + 2)
    _legacy_ticket("old-f", "female", "any", base + 3)
    redis_ticket("new-m", "male", "any", base + 4)
    claims = pairing.claim_pairs(10, now_ms=base + 10)
    assert [(c.a, c.b) for c in claims] == [("old-m", "new-f"), ("old-f", "new-m")]
    assert waiting() == []
    # a refresh of a user queued by the previous release replaces their plain member
    _legacy_ticket("old-w", "other", "other", base + 20)
    queue.put_ticket("old-w", "refresh", base + 20, base + 600_000, "other", "other")
    entries = queued_entries(keys.matching_class_queue("other", "other"))
    assert entries == [("old-w", base + 20)]
    assert get_redis().zrange(keys.matching_class_queue("other", "other"), 0, -1) == [
        f"old-w|{base + 600_000}"
    ]


@pytest.mark.parametrize("outcome", [("keep", "keep"), ("requeue", "requeue")])
def test_a_new_request_made_while_a_claim_is_in_flight_outlives_its_settling(
    outcome: tuple[str, str],
) -> None:
    base = int(now().timestamp() * 1000)
    redis_ticket("x", "male", "any", base)
    redis_ticket("y", "female", "any", base + 1)
    [claim] = pairing.claim_pairs(1, now_ms=base + 10)
    # x left and asked again: a new request, later in the queue
    redis_ticket("x", "male", "any", base + 50)
    requeued, removed = pairing.settle(claim.pair_id, *outcome)
    assert (requeued, removed) == ((1, 0) if outcome[0] == "requeue" else (0, 1))
    assert get_redis().exists(keys.matching_ticket("x"))
    assert place("x") == base + 50
    assert waiting() == (["y", "x"] if outcome[0] == "requeue" else ["x"])
    assert get_redis().hgetall(keys.MATCHING_CLAIMED) == {}


def test_a_refresh_while_claimed_keeps_the_claim_and_a_requeue_carries_the_new_expiry() -> None:
    base = int(now().timestamp() * 1000)
    redis_ticket("x", "male", "any", base, exp_ms=base + 60_000)
    redis_ticket("y", "female", "any", base + 1)
    [claim] = pairing.claim_pairs(1, now_ms=base + 10)
    state = queue.put_ticket("x", "refresh", base, base + 120_000, "male", "any")
    assert state == "claimed" and "x" not in waiting()
    assert pairing.settle(claim.pair_id, "requeue", "requeue") == (2, 0)
    assert get_redis().zrange(keys.matching_class_queue("male", "any"), 0, -1) == [f"x|{base + 120_000}"]
    assert place("x") == base
