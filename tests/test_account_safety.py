"""Reports, suspensions and adults-only through the real stack: account_api decides, matching_api,
the pairing step and issue_tokens enforce."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deploy.manifest import ROOT
from devstack.stack import Stack
from shared import safety
from tests.account_helpers import Call, auth_lookup, auth_user, caller, doc, fs, new_user, shared_room
from tests.conftest import wait_for
from tests.matching_helpers import clear_matching_redis

pytestmark = pytest.mark.stack
STAFF = {"staff": True}


@pytest.fixture(autouse=True)
def clean_queue(stack: Stack) -> Iterator[None]:
    clear_matching_redis()
    yield


@pytest.fixture
def call(stack: Stack) -> Call:
    return caller(stack)


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat().replace("+00:00", "Z")


def report(call: Call, reporter: str, room_id: str, reported: str, **extra: Any) -> tuple[int, Any]:
    body = {"roomId": room_id, "userId": reported, "reason": "harassment", **extra}
    return call("POST", "/account_api/reports", reporter, body)


# -- reports ----------------------------------------------------------------------------------------
def test_a_report_about_someone_who_shared_the_room(call: Call) -> None:
    a, b = new_user(), new_user()
    room_id = shared_room(call, a, b)
    status, filed = report(call, a, room_id, b, note="rude from the first second")
    assert status == 201, filed
    assert filed["roomId"] == room_id and filed["userId"] == b and filed["status"] == "open"
    assert filed["note"] == "rude from the first second" and filed["createdAt"].endswith("Z")
    assert len(filed["id"]) == 64 and "reporterId" not in filed  # the reporter's view
    status, again = report(call, a, room_id, b, reason="spam")
    assert status == 409 and again["error"]["code"] == "already_reported"
    # The other direction is another report; so is the same pair in another room.
    assert report(call, b, room_id, a)[0] == 201


def test_a_report_outside_a_shared_room_is_refused(call: Call) -> None:
    a, b, outsider = new_user(), new_user(), new_user()
    room_id = shared_room(call, a, b)
    assert report(call, outsider, room_id, b)[0] == 403  # the reporter was not in the room
    assert report(call, a, room_id, outsider)[0] == 403  # the reported user was not in it
    alone = shared_room(call, new_user())  # never became a call: no session
    assert report(call, a, alone, b)[0] == 403
    status, refused = report(call, a, f"nope-{uuid.uuid4().hex}", b)
    assert status == 403 and refused["error"]["code"] == "permission_denied"
    status, refused = report(call, a, room_id, a)
    assert status == 400 and refused["error"]["field"] == "userId"


BAD_REPORTS = [
    ({"reason": "bored"}, "reason"),
    ({"reason": None}, "reason"),
    ({"note": None}, "note"),
    ({"note": "x" * 1001}, "note"),
    ({"note": "   "}, "note"),
    ({"roomId": "a/b"}, "roomId"),
    ({"userId": 7}, "userId"),
    ({"extra": True}, "extra"),
]


@pytest.mark.parametrize(("change", "field"), BAD_REPORTS)
def test_bad_reports_are_400_naming_the_field(call: Call, change: dict[str, Any], field: str) -> None:
    body = {"roomId": "r1", "userId": "u1", "reason": "spam", **change}
    status, payload = call("POST", "/account_api/reports", new_user(), body)
    assert status == 400 and payload["error"]["field"] == field, payload


def test_staff_list_and_resolve_reports(call: Call) -> None:
    a, b = new_user(), new_user()
    room_id = shared_room(call, a, b)
    filed = report(call, a, room_id, b)[1]
    staff = new_user(prefix="staff")
    assert call("GET", "/account_api/reports", a)[0] == 403
    status, page = call("GET", "/account_api/reports?limit=100", staff, **STAFF)
    assert status == 200 and filed["id"] in [r["id"] for r in page["items"]]
    listed = next(r for r in page["items"] if r["id"] == filed["id"])
    assert listed["reporterId"] == a and listed["resolution"] is None
    assert (
        call("POST", f"/account_api/reports/{filed['id']}/resolve", a, {"resolution": "dismissed"})[0] == 403
    )
    status, resolved = call(
        "POST",
        f"/account_api/reports/{filed['id']}/resolve",
        staff,
        {"resolution": "actioned", "note": "warned"},
        **STAFF,
    )
    assert status == 200 and resolved["status"] == "resolved" and resolved["resolvedBy"] == staff
    assert resolved["staffNote"] == "warned" and resolved["resolvedAt"].endswith("Z")
    assert (doc(f"reports/{filed['id']}") or {}).get("deleteAt") is not None  # retention starts
    again = call(
        "POST", f"/account_api/reports/{filed['id']}/resolve", staff, {"resolution": "dismissed"}, **STAFF
    )
    assert again[0] == 409 and again[1]["error"]["code"] == "already_resolved"
    assert (
        call("POST", f"/account_api/reports/{'0' * 64}/resolve", staff, {"resolution": "dismissed"}, **STAFF)[
            0
        ]
        == 404
    )
    bad = call("POST", "/account_api/reports/xyz/resolve", staff, {"resolution": "dismissed"}, **STAFF)
    assert bad[0] == 400 and bad[1]["error"]["field"] == "reportId"
    bad = call("POST", f"/account_api/reports/{filed['id']}/resolve", staff, {"resolution": "maybe"}, **STAFF)
    assert bad[0] == 400 and bad[1]["error"]["field"] == "resolution"
    resolved_page = call("GET", "/account_api/reports?status=resolved&limit=100", staff, **STAFF)[1]
    assert filed["id"] in [r["id"] for r in resolved_page["items"]]
    assert call("GET", "/account_api/reports?status=closed", staff, **STAFF)[0] == 400


def test_reports_from_three_users_hold_the_reported_user_until_staff_review_them(call: Call) -> None:
    target, r1, r2, r3 = (new_user() for _ in range(4))
    room_id = shared_room(call, target, r1, r2, r3, size=4)
    ids = [report(call, reporter, room_id, target)[1]["id"] for reporter in (r1, r2)]
    assert doc(f"users/{target}/private/suspension") is None  # two: not yet
    ids.append(report(call, r3, room_id, target)[1]["id"])
    user, marker = doc(f"users/{target}") or {}, doc(f"users/{target}/private/suspension")
    assert (
        safety.is_suspended(user, marker, datetime.now(UTC)) and "currentRoomId" not in user
    )  # out of the call
    assert "suspension" not in user  # the public profile does not tell the reporters
    assert target not in (doc(f"rooms/{room_id}") or {})["participants"]
    assert (doc(f"suspensions/{target}") or {})["kind"] == "review"
    status, refused = call("POST", "/matching_api/queue", target, {})
    assert status == 403 and refused["error"] == {
        "code": "suspended",
        "message": refused["error"]["message"],
        "until": None,
    }
    staff = new_user(prefix="staff")
    for rid in ids:
        assert (
            call("POST", f"/account_api/reports/{rid}/resolve", staff, {"resolution": "dismissed"}, **STAFF)[
                0
            ]
            == 200
        )
    assert doc(f"suspensions/{target}") is None and doc(f"users/{target}/private/suspension") is None
    assert call("POST", "/matching_api/queue", target, {})[0] == 202
    assert call("DELETE", "/matching_api/queue", target)[0] == 200


# -- suspensions ------------------------------------------------------------------------------------
def test_a_suspended_user_is_refused_everywhere_and_removed_from_the_call(call: Call) -> None:
    target, partner, host = new_user(), new_user(), new_user()
    room_id = shared_room(call, target, partner)
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "active")
    assert call("POST", "/issue_tokens/livekit-token", target, {"roomId": room_id})[0] == 200
    staff = new_user(prefix="staff")
    until = later(days=3)
    status, held = call(
        "PUT", f"/account_api/users/{target}/suspension", staff, {"until": until, "reason": "abuse"}, **STAFF
    )
    assert status == 200 and held["kind"] == "temporary" and held["createdBy"] == staff
    # The marker the checks read is the owner's private document, never the public profile.
    marker = doc(f"users/{target}/private/suspension") or {}
    assert set(marker) == {"until"}  # the answer gives `until` to the millisecond
    assert abs(marker["until"] - datetime.fromisoformat(held["until"])) < timedelta(milliseconds=1)
    assert "suspension" not in (doc(f"users/{target}") or {})
    # Removed from the call: a pair's room closes.
    assert (doc(f"rooms/{room_id}") or {})["status"] == "closed"
    assert "currentRoomId" not in (doc(f"users/{target}") or {})
    _, open_room = call("POST", "/matching_api/rooms", host, {"maxParticipants": 3})
    refusals = [
        call("POST", "/matching_api/queue", target, {}),
        call("POST", "/matching_api/rooms", target, {"maxParticipants": 2}),
        call("POST", "/matching_api/rooms/join", target, {"roomCode": open_room["roomCode"]}),
        call("POST", "/issue_tokens/livekit-token", target, {"roomId": room_id}),
        call("POST", "/issue_tokens/ws-token", target, {"roomId": room_id}),
        call("POST", "/issue_tokens/ws-token", target, {}),
    ]
    for status, body in refusals:
        assert status == 403 and body["error"]["code"] == "suspended", body
        assert datetime.fromisoformat(body["error"]["until"]) == datetime.fromisoformat(held["until"])
    lifted = call("DELETE", f"/account_api/users/{target}/suspension", staff, **STAFF)
    assert lifted == (200, {"userId": target, "lifted": True})
    assert doc(f"users/{target}/private/suspension") is None
    assert call("DELETE", f"/account_api/users/{target}/suspension", staff, **STAFF)[1]["lifted"] is False
    assert call("POST", "/issue_tokens/ws-token", target, {})[0] == 200
    assert call("POST", "/matching_api/rooms/join", target, {"roomCode": open_room["roomCode"]})[0] == 200


def test_a_ban_disables_the_auth_account_until_lifted(stack: Stack, call: Call) -> None:
    target = new_user()
    auth_user(stack, target)
    staff = new_user(prefix="staff")
    status, ban = call(
        "PUT",
        f"/account_api/users/{target}/suspension",
        staff,
        {"until": None, "reason": "ban evasion"},
        **STAFF,
    )
    assert status == 200 and ban["kind"] == "ban" and ban["until"] is None
    assert (auth_lookup(stack, target) or {}).get("disabled") is True
    assert call("POST", "/matching_api/queue", target, {})[1]["error"]["until"] is None
    # Replaced by a temporary suspension: the account may sign in again, but not match.
    call(
        "PUT",
        f"/account_api/users/{target}/suspension",
        staff,
        {"until": later(hours=1), "reason": "x"},
        **STAFF,
    )
    assert not (auth_lookup(stack, target) or {}).get("disabled")
    call("PUT", f"/account_api/users/{target}/suspension", staff, {"until": None, "reason": "ban"}, **STAFF)
    assert (auth_lookup(stack, target) or {}).get("disabled") is True
    assert call("DELETE", f"/account_api/users/{target}/suspension", staff, **STAFF)[0] == 200
    assert not (auth_lookup(stack, target) or {}).get("disabled")


def test_suspension_refusals(call: Call) -> None:
    target, staff = new_user(), new_user(prefix="staff")
    path = f"/account_api/users/{target}/suspension"
    assert call("PUT", path, target, {"until": None, "reason": "x"})[0] == 403  # not staff
    assert call("DELETE", path, target)[0] == 403
    unknown = f"/account_api/users/nobody-{uuid.uuid4().hex}/suspension"
    assert call("PUT", unknown, staff, {"until": None, "reason": "x"}, **STAFF)[0] == 404
    for body, field in (
        ({"reason": "x"}, "until"),
        ({"until": "tomorrow", "reason": "x"}, "until"),
        ({"until": "2030-01-01T00:00:00", "reason": "x"}, "until"),  # no zone
        ({"until": None}, "reason"),
        ({"until": None, "reason": None}, "reason"),
        ({"until": None, "reason": ""}, "reason"),
        ({"until": None, "reason": "two\nlines"}, "reason"),
        ({"until": None, "reason": "x" * 501}, "reason"),
        ({"until": None, "reason": "x", "by": "me"}, "by"),
    ):
        status, payload = call("PUT", path, staff, body, **STAFF)
        assert status == 400 and payload["error"]["field"] == field, (body, payload)
    # Well-formed times the document allows, but a suspension cannot take (in the past, or beyond
    # 3650 days): 422, not 400.
    for until in (later(days=-1), later(days=4000)):
        status, payload = call("PUT", path, staff, {"until": until, "reason": "x"}, **STAFF)
        assert status == 422 and payload["error"]["field"] == "until", (until, payload)


def test_a_past_suspension_is_inert() -> None:
    now = datetime.now(UTC)
    past, soon = now - timedelta(seconds=1), now + timedelta(hours=1)
    assert safety.suspension({}, {"until": past}, now) is None
    assert safety.suspension({}, {"until": None}, now) == safety.Suspended(None)
    assert safety.suspension({}, {"until": soon}, now) == safety.Suspended(soon)
    assert safety.suspension({}, None, now) is None
    # A marker still on the public profile counts until it is moved; the private one decides once there.
    assert safety.suspension({"suspension": {"until": None}}, None, now) == safety.Suspended(None)
    assert safety.suspension({"suspension": {"until": past}}, None, now) is None
    assert safety.suspension({"suspension": {"until": None}}, {"until": past}, now) is None


def test_markers_left_on_public_profiles_are_enforced_and_then_moved_off_them(
    stack: Stack, call: Call
) -> None:
    """Before the marker moved to users/{uid}/private/suspension it was a field of the public profile:
    one still there is honoured, and `python -m deploy suspension-markers` moves it as the record says."""
    held, stale = new_user(), new_user()
    until = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    fs().document(f"suspensions/{held}").set(
        {
            "kind": "temporary",
            "until": until,
            "reason": "x",
            "createdBy": "staff-x",
            "createdAt": datetime.now(UTC),
        }
    )
    fs().document(f"users/{held}").update({"suspension": {"until": until}})
    fs().document(f"users/{stale}").update({"suspension": {"until": None}})  # its record is gone
    for uid in (held, stale):
        status, body = call("POST", "/matching_api/queue", uid, {})
        assert status == 403 and body["error"]["code"] == "suspended", body
    assert call("POST", "/issue_tokens/ws-token", held, {})[0] == 403

    def markers(*args: str) -> str:
        env = {**os.environ, **stack.service_env()}
        out = subprocess.run(
            [sys.executable, "-m", "deploy", "suspension-markers", "--project", stack.project, *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return out.stdout

    assert "found=" in markers("--dry-run")
    assert "suspension" in (doc(f"users/{held}") or {})  # a dry run changes nothing
    markers()
    assert "suspension" not in (doc(f"users/{held}") or {}) and "suspension" not in (
        doc(f"users/{stale}") or {}
    )
    assert doc(f"users/{held}/private/suspension") == {"until": until}
    assert doc(f"users/{stale}/private/suspension") is None
    status, body = call("POST", "/matching_api/queue", held, {})
    assert status == 403 and datetime.fromisoformat(body["error"]["until"]) == until
    assert call("POST", "/matching_api/queue", stale, {})[0] == 202
    assert call("DELETE", "/matching_api/queue", stale)[0] == 200
    assert "none found" in markers()  # nothing writes the public field any more


# -- adults only --------------------------------------------------------------------------------------
def test_without_adult_confirmation_the_queue_and_select_rooms_answer_403(call: Call) -> None:
    minor, host = new_user(adult=False), new_user()
    _, room = call("POST", "/matching_api/rooms", host, {"maxParticipants": 2})
    for status, body in (
        call("POST", "/matching_api/queue", minor, {}),
        call("POST", "/matching_api/rooms", minor, {"maxParticipants": 2}),
        call("POST", "/matching_api/rooms/join", minor, {"roomCode": room["roomCode"]}),
    ):
        assert status == 403 and body["error"]["code"] == "adult_confirmation_required", body
    assert call("POST", "/matching_api/queue", f"noprofile-{uuid.uuid4().hex}", {})[0] == 403
    fs().document(f"users/{minor}").update({"adultConfirmedAt": datetime.now(UTC)})
    assert call("POST", "/matching_api/rooms/join", minor, {"roomCode": room["roomCode"]})[0] == 200


def test_a_caller_without_a_profile_cannot_report(call: Call) -> None:
    a, b = new_user(), new_user()
    room_id = shared_room(call, a, b)
    fs().document(f"users/{a}").delete()  # an account being deleted, with a token still valid
    status, refused = report(call, a, room_id, b)
    assert status == 403 and refused["error"]["code"] == "profile_required"
