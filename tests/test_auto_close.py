"""auto_close against the real stack: each part of the sweep, the scheduled path through Pub/Sub,
and two overlapping runs that must not change anything twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import sqlalchemy

from devstack.stack import Stack
from shared import keys
from shared.jobs.auto_close import Limits, Summary, run
from shared.matching.model import Preferences
from shared.matching.queue import enqueue
from tests.conftest import http, wait_for
from tests.matching_helpers import place
from tests.room_fixtures import doc, fs, new_room, new_users, rds

LIMITS = Limits(batch_size=200, waiting_max_age=timedelta(minutes=10), presence_grace=timedelta(minutes=1))


def invitation_ending(stack: Stack, end_time: datetime) -> str:
    from tests.test_invitations_domain import insert_ending

    engine = sqlalchemy.create_engine(stack.database_url)
    try:
        return insert_ending(engine, end_time)
    finally:
        engine.dispose()


def invitation_status(stack: Stack, invitation_id: str) -> str:
    engine = sqlalchemy.create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            query = sqlalchemy.text("SELECT status FROM invitations WHERE id = :id")
            return str(conn.execute(query, {"id": invitation_id}).scalar_one())
    finally:
        engine.dispose()


class Backlog:
    """One of each kind of due work, timestamped around `base` (far in the past, so that a sweep
    with `now` just after it sees this test's items and nothing any other test left behind)."""

    def __init__(self, stack: Stack, base: datetime) -> None:
        self.expired_room = new_room(
            new_users(2, status="in_call", last_active=base), now=base - timedelta(hours=1)
        )
        wait_for(lambda: (doc(f"rooms/{self.expired_room}") or {}).get("status") == "active")
        # a waiting room whose expiresAt is later than `base` but created long before: stale only
        self.stale_waiting = new_room(
            new_users(1, status="online", last_active=base),
            now=base - timedelta(hours=1),
            expiresAt=base + timedelta(days=1),
        )
        self.fresh_room = new_room(
            new_users(1, status="online"), now=base + timedelta(minutes=5), expiresAt=base + timedelta(days=1)
        )
        (self.queued,) = new_users(1, status="online")
        enqueue(self.queued, Preferences(), base - timedelta(hours=1))
        self.gone, self.alive = new_users(2, status="online", last_active=base - timedelta(hours=1))
        # This Redis has held presence for an hour, so a key that is missing means its user went away
        # (right after Redis lost its data, a missing key would prove nothing).
        seconds, _ = rds().time()
        rds().set(keys.PRESENCE_EPOCH, (int(seconds) - 3600) * 1000)
        # The user trigger mirrors each new status to a presence key; `gone`'s key then expires.
        wait_for(lambda: rds().get(keys.presence(self.gone)) == "online")
        rds().delete(keys.presence(self.gone))
        rds().set(keys.presence(self.alive), "online", ex=keys.PRESENCE_TTL_S)
        self.invitation = invitation_ending(stack, base - timedelta(minutes=30))

    def assert_done(self, stack: Stack) -> None:
        for room_id in (self.expired_room, self.stale_waiting):
            room = wait_for(
                lambda room_id=room_id: (r := doc(f"rooms/{room_id}")) and r["status"] == "closed" and r
            )
            assert room["closeReason"] == "timeout"
        assert (doc(f"rooms/{self.fresh_room}") or {})["status"] == "waiting"
        fs().collection("rooms").document(self.fresh_room).delete()  # not due now, but due for a later base
        assert place(self.queued) is None
        assert rds().exists(keys.matching_ticket(self.queued)) == 0
        assert doc(f"matchingQueue/{self.queued}") is None
        assert (doc(f"users/{self.queued}") or {})["status"] == "online"
        assert (doc(f"users/{self.gone}") or {})["status"] == "offline"
        assert (doc(f"users/{self.alive}") or {})["status"] == "online"
        assert invitation_status(stack, self.invitation) == "completed"


def test_one_pass_closes_expires_and_completes_each_kind_of_due_work(stack: Stack) -> None:
    base = datetime(2004, 5, 1, tzinfo=UTC)
    backlog = Backlog(stack, base)
    summary = run(now=base, limits=LIMITS)
    assert not summary.errors, summary.errors
    assert (summary.rooms_expired, summary.rooms_stale_waiting) == (1, 1)
    assert (summary.tickets_expired, summary.users_marked_offline, summary.invitations_completed) == (1, 1, 1)
    backlog.assert_done(stack)
    # The room trigger ends the call session of the expired room with reason timeout.
    session = wait_for(lambda: (s := doc(f"callSessions/{backlog.expired_room}")) and s.get("endedAt") and s)
    assert session["endReason"] == "timeout"
    assert run(now=base, limits=LIMITS).as_log_fields() | {"duration_ms": 0} == Summary().as_log_fields()


def test_two_overlapping_runs_change_nothing_twice(stack: Stack) -> None:
    base = datetime(2005, 5, 1, tzinfo=UTC)
    backlogs = [Backlog(stack, base) for _ in range(5)]
    with ThreadPoolExecutor(2) as pool:
        summaries = list(pool.map(lambda _: run(now=base, limits=LIMITS), range(2)))
    assert all(not summary.errors for summary in summaries), [s.errors for s in summaries]

    def total(field: str) -> int:
        return sum(getattr(summary, field) for summary in summaries)

    assert total("rooms_expired") == 5 and total("rooms_stale_waiting") == 5
    assert total("tickets_expired") == 5 and total("users_marked_offline") == 5
    assert total("invitations_completed") == 5
    for backlog in backlogs:
        backlog.assert_done(stack)


def test_the_schedule_fires_the_function_through_pub_sub(stack: Stack) -> None:
    now = datetime.now(UTC)
    backlog = Backlog(stack, now - timedelta(minutes=5))
    status, fired, _ = http("POST", f"{stack.router_url}/scheduler/jobs/auto-close:run")
    assert status == 200 and fired["job"] == "auto-close"

    def delivered() -> bool:
        _, log, _ = http("GET", f"{stack.router_url}/deliveries")
        return any(d.get("eventId") == fired["messageId"] and d["status"] == 200 for d in log)

    wait_for(delivered, timeout_s=60)
    backlog.assert_done(stack)
    log_lines = (stack.state_dir / "logs" / "fn-auto_close.log").read_text()
    assert '"message": "auto_close summary"' in log_lines


def test_a_redis_flush_during_calls_does_not_end_them(stack: Stack) -> None:
    """Redis lost everything (a flush, a failover to an empty replica): no presence key exists for
    anyone, which alone would say that every in-call user went away. The sweep recognises the loss
    and waits for heartbeats to come back instead of ending the calls."""
    from shared.users.state import heartbeat

    base = datetime(2005, 3, 1, tzinfo=UTC)
    pair = new_users(2, status="in_call", last_active=base - timedelta(hours=1))
    room_id = new_room(
        pair, status="active", now=base - timedelta(hours=1), expiresAt=base + timedelta(days=1)
    )
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "active")
    # Steady state before the loss: the user trigger has mirrored both to Redis.
    wait_for(lambda: all(rds().get(keys.presence(uid)) == "in_call" for uid in pair))
    rds().flushall()
    summary = run(now=base, limits=LIMITS)
    assert summary.presence_check_skipped and summary.users_marked_offline == 0
    assert (doc(f"rooms/{room_id}") or {}).get("status") == "active"
    for uid in pair:
        assert (doc(f"users/{uid}") or {})["status"] == "in_call"
    # A heartbeat marks the new Redis as holding presence; once it has for longer than a key lives,
    # a missing key means its user is gone again.
    heartbeat(new_users(1, status="online")[0], "online", datetime.now(UTC))
    seconds, _ = rds().time()
    rds().set(keys.PRESENCE_EPOCH, (int(seconds) - 3600) * 1000)
    summary = run(now=base, limits=LIMITS)
    assert not summary.presence_check_skipped and summary.users_marked_offline >= 2
    for uid in pair:
        assert (doc(f"users/{uid}") or {})["status"] == "offline"
