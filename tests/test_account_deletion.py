"""Account deletion and export through the real stack: DELETE /me answers 202, the account_deletion
job (Pub/Sub) finishes it, and afterwards nothing of the user is left in Firestore, Redis,
PostgreSQL (beyond the documented pseudonymised rows) or the Auth emulator; also when Redis is down
while the job runs and the job is delivered twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy
from google.cloud.firestore_v1.base_query import FieldFilter
from sqlalchemy.engine import Engine

from devstack.stack import Stack
from shared import keys, vocab
from shared.account.erasure import PLACEHOLDER_NAME
from shared.account.firestore_json import to_json
from shared.clients.pubsub import publish_json
from shared.invitations import invitations, participants, support_tickets
from shared.invitations.model import Actor
from tests.account_helpers import Call, auth_lookup, auth_user, caller, doc, fs, new_user, rds, shared_room
from tests.conftest import http, wait_for
from tests.matching_helpers import clear_matching_redis
from tests.test_invitations_domain import new_invitation, snowflake

pytestmark = pytest.mark.stack
GROUPS = (
    *vocab.USER_SUBCOLLECTIONS,
    vocab.USERS,
    vocab.ROOMS,
    vocab.CALL_SESSIONS,
    vocab.MATCHING_QUEUE,
    vocab.ROOM_CODES,
    vocab.REPORTS,
    vocab.SUSPENSIONS,
    vocab.ACCOUNT_DELETIONS,
)


@pytest.fixture(autouse=True)
def clean_queue(stack: Stack) -> Iterator[None]:
    clear_matching_redis()
    yield


@pytest.fixture
def call(stack: Stack) -> Call:
    return caller(stack)


@pytest.fixture(scope="module")
def owner(stack: Stack) -> Iterator[Engine]:
    engine = sqlalchemy.create_engine(stack.database_url, poolclass=sqlalchemy.pool.NullPool)
    yield engine
    engine.dispose()


def sql(engine: Engine, statement: str, **params: Any) -> list[Any]:
    with engine.begin() as conn:
        result = conn.execute(sqlalchemy.text(statement), params)
        return list(result.all()) if result.returns_rows else []


# -- where a user could be left -----------------------------------------------------------------------
def firestore_mentions(*needles: str) -> list[str]:
    found = []
    for group in GROUPS:
        for snapshot in fs().collection_group(group).stream():
            text = snapshot.reference.path + json.dumps(to_json(snapshot.to_dict()), ensure_ascii=False)
            if any(needle in text for needle in needles):
                found.append(snapshot.reference.path)
    return found


def redis_mentions(uid: str) -> list[str]:
    client = rds()
    found = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if uid in key:
            found.append(key)
        elif (kind == "set" and client.sismember(key, uid)) or (kind == "zset" and client.zscore(key, uid)):
            found.append(f"{key} (member)")
        elif kind == "hash" and (client.hexists(key, uid) or any(uid in v for v in client.hvals(key))):
            found.append(f"{key} (field or value)")
        elif kind == "string" and uid in (client.get(key) or ""):
            found.append(f"{key} (value)")
    return found


def postgres_mentions(engine: Engine, *needles: str) -> list[str]:
    found = []
    for table in ("invitations", "participants", "tickets"):
        for needle in needles:
            rows = sql(
                engine, f"SELECT count(*) FROM {table} t WHERE to_jsonb(t)::text LIKE :n", n=f"%{needle}%"
            )
            if rows[0][0]:
                found.append(f"{table}: {needle}")
    return found


def assert_nothing_left(stack: Stack, owner: Engine, uid: str) -> None:
    name = name_of(uid)  # the display name must not survive anywhere either
    assert firestore_mentions(uid, name) == []
    assert redis_mentions(uid) == []
    assert postgres_mentions(owner, uid, name) == []
    assert auth_lookup(stack, uid) is None


def name_of(uid: str) -> str:
    return f"Dana {uid[-6:]}"


def finished(uid: str) -> bool:
    return doc(f"{vocab.ACCOUNT_DELETIONS}/{uid}") is None


# -- a user with something everywhere ----------------------------------------------------------------
@dataclass
class Community:
    open_hosted: str
    done_hosted: str
    full_joined: str
    past_joined: str
    staffed: str
    ticket: str


def community_rows(owner: Engine, uid: str) -> Community:
    name = name_of(uid)
    me = Actor(uid, False, name)
    other = Actor(snowflake(), False, "Other")
    start = datetime(2031, 1, 1, 12)
    open_hosted = new_invitation(host_id=uid, host_name=name, max_participants=3)
    done_hosted = new_invitation(host_id=uid, host_name=name)
    full_joined = new_invitation(max_participants=1, start_time=start, end_time=start + timedelta(hours=1))
    past_joined = new_invitation()
    staffed = replace(new_invitation(), id=snowflake())
    for invitation in (open_hosted, done_hosted, full_joined, past_joined, staffed):
        invitations.create_invitation(owner, invitation)
    participants.set_participation(owner, open_hosted.id, other, "Other", "joined")
    participants.set_participation(owner, full_joined.id, me, name, "joined")
    participants.set_participation(owner, past_joined.id, me, name, "joined")
    sql(
        owner,
        "UPDATE invitations SET staff_id = :u, staff_name = :n WHERE id = :id",
        u=uid,
        n=name,
        id=staffed.id,
    )
    sql(
        owner,
        "UPDATE invitations SET status = 'completed' WHERE id = ANY(:ids)",
        ids=[done_hosted.id, past_joined.id, staffed.id],
    )
    ticket = snowflake()
    support_tickets.create_ticket(owner, ticket, me, name, "trouble")
    return Community(open_hosted.id, done_hosted.id, full_joined.id, past_joined.id, staffed.id, ticket)


def rich_user(stack: Stack, call: Call, owner: Engine) -> tuple[str, str, Community]:
    """A user with an Auth account, profile and subcollections, blocks both ways, an active call,
    reports both ways, Redis keys and rows in the invitations database. Returns (uid, room, rows)."""
    uid = new_user(prefix="del")
    fs().document(f"users/{uid}").update({"displayName": name_of(uid)})
    auth_user(stack, uid)
    fs().document(f"users/{uid}/private/profile").set({"email": f"{uid}@example.com"})
    fs().document(f"users/{uid}/vrmSettings/s1").set({"vrmModelId": "m1", "isPrimary": True})
    fs().document(f"users/{uid}/sessions/d1").set({"userAgent": "VChat", "expiresAt": datetime.now(UTC)})
    partner, witness, blocked, blocker = (new_user() for _ in range(4))
    assert call("POST", "/account_api/blocks", uid, {"userId": blocked})[0] == 201
    assert call("POST", "/account_api/blocks", blocker, {"userId": uid})[0] == 201
    room_id = shared_room(call, uid, partner, witness, size=3)
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "active")
    assert (
        call(
            "POST",
            "/account_api/reports",
            uid,
            {"roomId": room_id, "userId": partner, "reason": "spam", "note": name_of(uid)},
        )[0]
        == 201
    )
    assert (
        call("POST", "/account_api/reports", witness, {"roomId": room_id, "userId": uid, "reason": "hate"})[0]
        == 201
    )
    assert call("POST", "/issue_tokens/livekit-token", uid, {"roomId": room_id})[0] == 200
    assert call("POST", "/matching_api/presence", uid, {"status": "online"})[0] == 200
    assert rds().exists(keys.livekit_token(room_id, uid)) and rds().exists(keys.presence(uid))
    return uid, room_id, community_rows(owner, uid)


def test_export_returns_the_callers_data(stack: Stack, call: Call, owner: Engine) -> None:
    uid, room_id, _ = rich_user(stack, call, owner)
    status, exported = call("GET", "/account_api/me/export", uid)
    assert status == 200 and exported["userId"] == uid
    assert exported["profile"]["displayName"] == name_of(uid) and exported["private"]["profile"]["email"]
    assert set(exported["vrmSettings"]) == {"s1"} and set(exported["sessions"]) == {"d1"}
    assert len(exported["blocks"]) == 1
    (session,) = [s for s in exported["callSessions"] if s["id"] == room_id]
    assert session["participantCount"] == 3 and "participants" not in session
    assert [r["roomId"] for r in exported["reportsFiled"]] == [room_id]
    assert exported["suspension"] is None and exported["matchingRequest"] is None
    assert call("GET", "/account_api/me/export", None)[0] == 401


def test_deleting_an_account_leaves_nothing_of_the_user(stack: Stack, call: Call, owner: Engine) -> None:
    uid, room_id, rows = rich_user(stack, call, owner)
    status, accepted = call("DELETE", "/account_api/me", uid)
    assert status == 202 and accepted["status"] == "pending" and accepted["requestedAt"].endswith("Z")
    wait_for(lambda: finished(uid) and auth_lookup(stack, uid) is None, timeout_s=60, interval_s=0.3)
    assert_nothing_left(stack, owner, uid)

    # The others' history is whole, under one pseudonym.
    session = doc(f"callSessions/{room_id}") or {}
    (pseudonym,) = [p for p in session["participants"] if p.startswith("deleted-")]
    assert len(session["participants"]) == 3 and len(pseudonym) == 20
    assert (doc(f"rooms/{room_id}") or {})["createdBy"] == pseudonym
    reports = [
        s.to_dict()
        for s in fs().collection("reports").where(filter=FieldFilter("reporterId", "==", pseudonym)).stream()
    ]
    assert len(reports) == 1 and "note" not in reports[0]
    (about,) = [
        s.to_dict()
        for s in fs()
        .collection("reports")
        .where(filter=FieldFilter("reportedUserId", "==", pseudonym))
        .stream()
    ]
    assert about["status"] == "resolved" and about["resolution"] == "account_deleted"

    # PostgreSQL: pseudonymised where the community's history needs the row.
    def invitation(invitation_id: str) -> Any:
        return sql(
            owner,
            "SELECT status, host_id, host_name, vrchat_profile, staff_id, staff_name FROM invitations WHERE id = :id",
            id=invitation_id,
        )[0]

    assert invitation(rows.open_hosted)[:3] == ("cancelled", pseudonym, PLACEHOLDER_NAME)
    assert invitation(rows.done_hosted)[:4] == ("completed", pseudonym, PLACEHOLDER_NAME, None)
    assert invitation(rows.staffed)[4:] == (pseudonym, PLACEHOLDER_NAME)
    assert invitation(rows.full_joined)[0] == "recruiting"  # the seat was given up
    assert sql(
        owner, "SELECT user_id, user_name FROM participants WHERE invitation_id = :id", id=rows.past_joined
    ) == [(pseudonym, PLACEHOLDER_NAME)]
    assert sql(owner, "SELECT user_id, user_name FROM tickets WHERE id = :id", id=rows.ticket) == [
        (pseudonym, PLACEHOLDER_NAME)
    ]

    # The pseudonym is not kept next to the uid, and asking again is harmless.
    assert doc(f"accountDeletions/{uid}") is None
    assert call("DELETE", "/account_api/me", uid)[0] == 202
    wait_for(lambda: finished(uid), timeout_s=60)
    assert_nothing_left(stack, owner, uid)


def test_deletion_completes_when_redis_is_down_while_it_runs_and_the_job_comes_twice(
    stack: Stack, call: Call, owner: Engine
) -> None:
    uid = new_user(prefix="del")
    auth_user(stack, uid)
    partner, blocker = new_user(), new_user()
    assert call("POST", "/account_api/blocks", blocker, {"userId": uid})[0] == 201
    room_id = shared_room(call, uid, partner)
    assert call("POST", "/matching_api/presence", uid, {"status": "online"})[0] == 200
    stack.stop_process("redis")
    try:
        # Budgets and the user lock step aside while Redis is away: the request is recorded.
        assert call("DELETE", "/account_api/me", uid)[0] == 202
        publish_json("account-deletions", {"kind": "delete_account", "uid": uid})  # a duplicate

        def failures() -> int:
            _, log, _ = http("GET", f"{stack.router_url}/deliveries")
            return sum(1 for d in log if d.get("function") == "account_deletion" and d["status"] != 200)

        wait_for(lambda: failures() >= 2, timeout_s=60, interval_s=0.3)
        assert not finished(uid) and auth_lookup(stack, uid) is not None
    finally:
        stack.restart_process("redis")
    wait_for(lambda: finished(uid) and auth_lookup(stack, uid) is None, timeout_s=120, interval_s=0.5)
    # The room trigger, retried while Redis was away, settles too.
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "closed", timeout_s=60)
    wait_for(lambda: redis_mentions(uid) == [], timeout_s=30)
    assert_nothing_left(stack, owner, uid)


def test_a_job_for_a_deletion_nobody_asked_for_does_nothing(stack: Stack) -> None:
    uid = new_user(prefix="keep")
    message_id = publish_json("account-deletions", {"kind": "delete_account", "uid": uid})

    def delivered() -> bool:
        _, log, _ = http("GET", f"{stack.router_url}/deliveries")
        return any(d.get("eventId") == message_id and d["status"] == 200 for d in log)

    wait_for(delivered, timeout_s=30)
    assert doc(f"users/{uid}") is not None


def test_the_sweep_resumes_a_deletion_whose_message_was_lost(stack: Stack, owner: Engine) -> None:
    uid = new_user(prefix="del")
    auth_user(stack, uid)
    # What DELETE /me records, without its message (Pub/Sub gave up on it, or it was lost).
    fs().document(f"accountDeletions/{uid}").set(
        {
            "status": "pending",
            "requestedAt": datetime.now(UTC) - timedelta(hours=1),
            "postgresIds": [uid],
            "pseudonym": "deleted-00000000beef",
            "done": ["profile"],  # resumed from its recorded progress
        }
    )
    status, _, _ = http("POST", f"{stack.router_url}/scheduler/jobs/account-deletion-sweep:run")
    assert status == 200
    wait_for(lambda: finished(uid) and auth_lookup(stack, uid) is None, timeout_s=60, interval_s=0.3)
    log_lines = (stack.state_dir / "logs" / "fn-account_deletion.log").read_text()
    assert '"message": "account deletion sweep finished"' in log_lines
    # "profile" was recorded as done, so the profile itself was left: progress is trusted.
    assert doc(f"users/{uid}") is not None
    fs().document(f"users/{uid}").delete()
