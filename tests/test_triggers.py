"""The Firestore triggers, driven only by writes to the Firestore emulator and the real event
router (no direct handler calls), checked by their effects in Firestore, Redis and PostgreSQL."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from devstack.stack import Stack
from shared import keys
from shared.rooms import lifecycle
from tests.conftest import http, wait_for
from tests.matching_helpers import place
from tests.room_fixtures import active_room, analytics_row, doc, fs, new_room, new_users, rds
from tests.test_events import event_bytes

# -- pure decisions -----------------------------------------------------------------------------


def test_decisions_from_room_state() -> None:
    assert lifecycle.should_activate({"status": "waiting", "participants": ["a", "b"]})
    assert not lifecycle.should_activate({"status": "waiting", "participants": ["a"]})
    assert not lifecycle.should_activate({"status": "closed", "participants": ["a", "b"]})
    assert lifecycle.should_close({"status": "active", "participants": ["a"]})
    assert lifecycle.should_close({"status": "waiting", "participants": []})
    assert not lifecycle.should_close({"status": "waiting", "participants": ["a"]})
    assert lifecycle.users_who_left({"participants": ["a", "b"]}, {"participants": ["a"]}) == ["b"]
    assert lifecycle.users_who_left({"participants": ["a"]}, {"status": "closed", "participants": ["a"]}) == [
        "a"
    ]
    assert lifecycle.users_who_left({"participants": ["a", "b"]}, None) == ["a", "b"]
    assert lifecycle.end_reason({"closeReason": "timeout"}) == "timeout"
    assert lifecycle.end_reason({"closeReason": "bogus"}) == "normal"
    assert lifecycle.end_reason(None) == "error"


# -- on_room_written ----------------------------------------------------------------------------


def test_activation_creates_exactly_one_call_session_and_room_presence(stack: Stack) -> None:
    room_id, uids = active_room(stack)
    session = wait_for(lambda: doc(f"callSessions/{room_id}"))
    assert session["roomId"] == room_id and sorted(session["participants"]) == sorted(uids)
    assert session["startedAt"] is not None and "endedAt" not in session
    presence = wait_for(lambda: rds().hgetall(keys.room_presence(room_id)))
    assert set(presence) == set(uids)
    assert {"joinedAt", "lastSeen", "status"} <= set(json.loads(presence[uids[0]]))
    sessions = list(
        fs().collection("callSessions").where(filter=FieldFilter("roomId", "==", room_id)).stream()
    )
    assert len(sessions) == 1


def test_participant_leaving_closes_the_room_ends_the_session_and_cleans_up(stack: Stack) -> None:
    room_id, (stayer, leaver) = active_room(stack)
    wait_for(lambda: doc(f"callSessions/{room_id}"))
    for uid in (stayer, leaver):
        rds().set(keys.livekit_token(room_id, uid), "cached-token", ex=600)
        rds().hset(keys.motion(room_id, uid), mapping={"timestamp": 1, "poseData": "{}"})
    from google.cloud import firestore

    fs().collection("rooms").document(room_id).update({"participants": firestore.ArrayRemove([leaver])})

    room = wait_for(lambda: (r := doc(f"rooms/{room_id}")) and r.get("status") == "closed" and r)
    assert room["closeReason"] == "normal"
    session = wait_for(lambda: (s := doc(f"callSessions/{room_id}")) and s.get("endedAt") and s)
    assert session["endReason"] == "normal"
    assert session["durationSeconds"] == int((session["endedAt"] - session["startedAt"]).total_seconds())
    for uid in (stayer, leaver):
        user = wait_for(lambda uid=uid: (u := doc(f"users/{uid}")) and "currentRoomId" not in u and u)
        assert user["status"] == "online"
    wait_for(lambda: rds().exists(keys.room_presence(room_id)) == 0)
    wait_for(lambda: not list(rds().scan_iter(match=f"motion:{room_id}:*")))
    wait_for(
        lambda: rds().exists(keys.livekit_token(room_id, stayer), keys.livekit_token(room_id, leaver)) == 0
    )
    row = wait_for(lambda: analytics_row(stack, room_id))
    assert row["room_type"] == "random" and row["participant_count"] == 2 and row["end_reason"] == "normal"
    assert row["duration_seconds"] == session["durationSeconds"]


def test_room_closed_by_expiry_ends_with_timeout(stack: Stack) -> None:
    room_id, uids = active_room(stack)
    wait_for(lambda: doc(f"callSessions/{room_id}"))
    from google.cloud import firestore

    fs().collection("rooms").document(room_id).update(
        {"status": "closed", "closeReason": "timeout", "closedAt": firestore.SERVER_TIMESTAMP}
    )
    session = wait_for(lambda: (s := doc(f"callSessions/{room_id}")) and s.get("endedAt") and s)
    assert session["endReason"] == "timeout"
    assert wait_for(lambda: analytics_row(stack, room_id))["end_reason"] == "timeout"
    for uid in uids:
        wait_for(lambda uid=uid: "currentRoomId" not in (doc(f"users/{uid}") or {"currentRoomId": 1}))


def test_waiting_room_left_by_everyone_closes_without_a_session(stack: Stack) -> None:
    uids = new_users(1)
    room_id = new_room(uids, room_type="select")
    wait_for(lambda: rds().hlen(keys.room_presence(room_id)) == 1)
    fs().collection("rooms").document(room_id).update({"participants": []})
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "closed")
    wait_for(lambda: rds().exists(keys.room_presence(room_id)) == 0)
    assert doc(f"callSessions/{room_id}") is None


# -- delivery semantics -------------------------------------------------------------------------


def deliver(stack: Stack, function: str, document: str, before: Any, after: Any, event_id: str) -> None:
    """POST a CloudEvent to the event router exactly as the Firestore emulator does (base64 protobuf)."""
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-type": "google.cloud.firestore.document.v1.written",
        "ce-source": f"//firestore.googleapis.com/projects/{stack.project}/databases/(default)",
        "ce-subject": f"documents/{document}",
        "ce-document": document,
        "ce-time": datetime.now(UTC).isoformat(),
        "Content-Type": "application/protobuf",
    }
    body = base64.b64encode(event_bytes(before, after))
    status, _, _ = http(
        "POST", f"{stack.router_url}/functions/projects/{stack.project}/triggers/{function}", body, headers
    )
    assert status == 204


def delivered_ok(stack: Stack, event_id: str) -> bool:
    _, log, _ = http("GET", f"{stack.router_url}/deliveries")
    return any(d.get("eventId") == event_id and d["status"] == 200 for d in log)


def test_same_event_twice_and_an_out_of_order_pair_leave_the_right_state(stack: Stack) -> None:
    room_id, uids = active_room(stack)
    session = wait_for(lambda: doc(f"callSessions/{room_id}"))
    waiting = {"status": "waiting", "participants": uids, "type": "random"}
    active = {**waiting, "status": "active"}
    # The activation event again, twice, with one id: still exactly one session, unchanged.
    event_id = f"dup-{uuid.uuid4().hex}"
    for _ in range(2):
        deliver(stack, "on_room_written", f"rooms/{room_id}", None, waiting, event_id)
    wait_for(lambda: delivered_ok(stack, event_id))
    assert doc(f"callSessions/{room_id}") == session
    assert (
        len(list(fs().collection("callSessions").where(filter=FieldFilter("roomId", "==", room_id)).stream()))
        == 1
    )

    # Close the room for real, then deliver an older event (the activation) after the newer one.
    from google.cloud import firestore

    fs().collection("rooms").document(room_id).update({"participants": firestore.ArrayRemove([uids[1]])})
    wait_for(lambda: (s := doc(f"callSessions/{room_id}")) and s.get("endedAt"))
    wait_for(lambda: rds().exists(keys.room_presence(room_id)) == 0)
    ended = doc(f"callSessions/{room_id}")
    late_id = f"late-{uuid.uuid4().hex}"
    deliver(stack, "on_room_written", f"rooms/{room_id}", waiting, active, late_id)
    wait_for(lambda: delivered_ok(stack, late_id))
    assert (doc(f"rooms/{room_id}") or {})["status"] == "closed"
    assert doc(f"callSessions/{room_id}") == ended
    assert rds().exists(keys.room_presence(room_id)) == 0, "a late event must not resurrect the presence hash"
    for uid in uids:
        assert "currentRoomId" not in (doc(f"users/{uid}") or {})


def test_redis_down_during_a_handler_is_retried_until_the_state_is_right(stack: Stack) -> None:
    uids = new_users(2)
    stack.stop_process("redis")
    try:
        room_id = new_room(uids)

        def failed() -> bool:
            _, log, _ = http("GET", f"{stack.router_url}/deliveries")
            return any(room_id in (d.get("subject") or "") and d["status"] != 200 for d in log)

        wait_for(failed)
        assert (doc(f"rooms/{room_id}") or {}).get("status") == "waiting"
    finally:
        stack.restart_process("redis")
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "active", timeout_s=30)
    wait_for(lambda: set(rds().hkeys(keys.room_presence(room_id))) == set(uids), timeout_s=30)
    assert doc(f"callSessions/{room_id}") is not None


# -- on_user_written ----------------------------------------------------------------------------


def test_status_is_mirrored_to_redis_presence_with_a_ttl(stack: Stack) -> None:
    (uid,) = new_users(1, status="offline")
    fs().collection("users").document(uid).update({"status": "online"})
    wait_for(lambda: rds().get(keys.presence(uid)) == "online")
    assert 0 < rds().ttl(keys.presence(uid)) <= keys.PRESENCE_TTL_S


def test_last_active_only_writes_do_nothing(stack: Stack) -> None:
    (uid,) = new_users(1, status="online")
    wait_for(lambda: rds().get(keys.presence(uid)) == "online")
    rds().delete(keys.presence(uid))
    fs().collection("users").document(uid).update({"lastActiveAt": datetime.now(UTC) + timedelta(seconds=5)})

    def skipped() -> bool:
        text = (stack.logs_dir / "fn-on_user_written.log").read_text(errors="replace")
        return any(uid in line and "no relevant change" in line for line in text.splitlines())

    wait_for(skipped)
    assert rds().get(keys.presence(uid)) is None


def test_a_late_user_event_does_not_overwrite_a_newer_status(stack: Stack) -> None:
    (uid,) = new_users(1, status="offline")
    wait_for(lambda: rds().get(keys.presence(uid)) == "offline")
    # The event of an older offline -> online write, delivered after the user is offline again.
    late_id = f"late-{uuid.uuid4().hex}"
    deliver(stack, "on_user_written", f"users/{uid}", {"status": "offline"}, {"status": "online"}, late_id)
    wait_for(lambda: delivered_ok(stack, late_id))
    assert rds().get(keys.presence(uid)) == "offline"


def test_a_server_status_event_older_than_the_mirrored_one_skips_the_document_read(stack: Stack) -> None:
    (uid,) = new_users(1, status="in_call")
    wait_for(lambda: rds().get(keys.presence(uid)) == "in_call")
    # Pairing writes 'matching' then 'in_call'; the first event arrives after both were mirrored.
    late_id = f"late-{uuid.uuid4().hex}"
    deliver(stack, "on_user_written", f"users/{uid}", {"status": "online"}, {"status": "matching"}, late_id)
    wait_for(lambda: delivered_ok(stack, late_id))
    assert rds().get(keys.presence(uid)) == "in_call"
    text = (stack.logs_dir / "fn-on_user_written.log").read_text(errors="replace")
    assert any(uid in line and "already mirrored" in line for line in text.splitlines())


def test_a_server_status_whose_mirror_write_was_lost_is_read_from_the_document(stack: Stack) -> None:
    (uid,) = new_users(1, status="in_call")
    wait_for(lambda: rds().get(keys.presence(uid)) == "in_call")
    rds().delete(keys.presence(uid))  # the server committed and died before mirroring
    event_id = f"lost-{uuid.uuid4().hex}"
    deliver(stack, "on_user_written", f"users/{uid}", {"status": "online"}, {"status": "matching"}, event_id)
    wait_for(lambda: delivered_ok(stack, event_id))
    assert rds().get(keys.presence(uid)) == "in_call"  # the document, not the event


def test_user_going_offline_leaves_the_room_which_then_closes(stack: Stack) -> None:
    room_id, (goner, stayer) = active_room(stack)
    rds().set(keys.livekit_token(room_id, goner), "cached", ex=600)
    fs().collection("users").document(goner).update({"status": "offline"})
    wait_for(lambda: goner not in (doc(f"rooms/{room_id}") or {}).get("participants", [goner]))
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "closed")
    wait_for(lambda: rds().exists(keys.livekit_token(room_id, goner)) == 0)
    user = wait_for(lambda: (u := doc(f"users/{goner}")) and "currentRoomId" not in u and u)
    assert user["status"] == "offline", "leaving must not bring an offline user back online"
    wait_for(lambda: (doc(f"users/{stayer}") or {}).get("status") == "online")  # released by the close


def test_user_going_offline_leaves_the_matching_queue(stack: Stack) -> None:
    from shared.matching.model import Preferences
    from shared.matching.queue import enqueue

    (uid,) = new_users(1, status="online")
    enqueue(uid, Preferences(), datetime.now(UTC))  # the real ticket: Redis queue + matchingQueue mirror
    assert place(uid) is not None and doc(f"matchingQueue/{uid}") is not None
    fs().collection("users").document(uid).update({"status": "offline"})
    wait_for(lambda: place(uid) is None)
    wait_for(lambda: doc(f"matchingQueue/{uid}") is None)
    assert rds().exists(keys.matching_ticket(uid)) == 0
    assert (doc(f"users/{uid}") or {})["status"] == "offline"


def test_deleted_user_is_cleaned_up(stack: Stack) -> None:
    room_id, (goner, _) = active_room(stack)
    rds().set(keys.presence(goner), "in_call", ex=30)
    fs().collection("users").document(goner).delete()
    wait_for(lambda: goner not in (doc(f"rooms/{room_id}") or {}).get("participants", [goner]))
    wait_for(lambda: rds().get(keys.presence(goner)) is None)
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "closed")


def test_a_burst_of_rooms_all_activate_exactly_once(stack: Stack) -> None:
    rooms = [new_room(new_users(2)) for _ in range(10)]
    for room_id in rooms:
        wait_for(
            lambda room_id=room_id: (doc(f"rooms/{room_id}") or {}).get("status") == "active", timeout_s=60
        )
        assert (
            len(
                list(
                    fs()
                    .collection("callSessions")
                    .where(filter=FieldFilter("roomId", "==", room_id))
                    .stream()
                )
            )
            == 1
        )
