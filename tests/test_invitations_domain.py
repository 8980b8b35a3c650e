"""shared/invitations and shared/analytics in-process, against the stack's PostgreSQL and Redis:
key rotation, cursors, the database safety net, auto-close (Q4) batching and locking, call analytics."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine

from devstack.stack import Stack
from shared import keys
from shared.analytics import CallSessionRow, record_call_session
from shared.clients.postgres import get_engine
from shared.clients.redis import get_redis
from shared.config import ConfigError, settings
from shared.errors import ApiError
from shared.invitations import crypto, cursor, invitations, key_rotation, views
from shared.invitations.completion import complete_finished_invitations
from shared.invitations.model import Actor, NewInvitation

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def engine(stack: Stack) -> Engine:
    return get_engine()


def snowflake() -> str:
    return str(uuid.uuid4().int)[:19]


def new_invitation(**overrides: Any) -> NewInvitation:
    start = datetime(2030, 1, 1, 12)
    invitation = NewInvitation(
        id=snowflake(),
        thread_id=snowflake(),
        staff_message_id=None,
        host_id="1001",
        host_name="host",
        event_name="event",
        start_time=start,
        end_time=start + timedelta(hours=2),
        world_name="world",
        world_link=None,
        tag="ゲーム",
        description="",
        instance_type="public",
        vrchat_profile="https://vrchat.com/home/user/usr_1",
        instance_link="https://vrchat.com/home/launch?worldId=w",
        max_participants=5,
    )
    return replace(invitation, **overrides)


def column(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sqlalchemy.text(sql), params).scalar()


def statuses(engine: Engine, ids: list[str]) -> list[str]:
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                sqlalchemy.text("SELECT id, status FROM invitations WHERE id = ANY(:ids)"), {"ids": ids}
            ).all()
        )
    return [rows[i] for i in ids]


# -- encryption and key rotation ------------------------------------------------------------------
def test_multifernet_rotation_and_misconfiguration() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = crypto.encrypt("https://vrchat.com/x", old)
    assert token is not None and token.startswith("gAAAAA")
    assert crypto.decrypt(token, f"{new},{old}") == "https://vrchat.com/x"  # old keys still decrypt
    assert not crypto.is_current(token, f"{new},{old}")
    rotated = crypto.rotate(token, f"{new},{old}")
    assert crypto.decrypt(rotated, new) == "https://vrchat.com/x" and crypto.is_current(rotated, new)
    with pytest.raises(ConfigError, match="INVITATIONS_ENCRYPTION_KEYS"):
        crypto.decrypt(token, new)  # the old key was dropped too early
    with pytest.raises(ConfigError, match="INVITATIONS_ENCRYPTION_KEYS"):
        crypto.cipher("not-a-key")


def test_reencrypt_all_moves_every_row_to_the_newest_key_and_back(engine: Engine) -> None:
    current = settings().invitations_encryption_keys
    new = Fernet.generate_key().decode()
    open_one, cancelled = new_invitation(), new_invitation()
    for invitation in (open_one, cancelled):
        invitations.create_invitation(engine, invitation)
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text("UPDATE invitations SET status = 'cancelled' WHERE id = :id"),
            {"id": cancelled.id},
        )
    try:
        rotated = key_rotation.reencrypt_all(engine, batch_size=7, keys=f"{new},{current}")
        assert rotated >= 2
        for invitation in (open_one, cancelled):  # final rows too: the trigger allows ciphertext-only changes
            stored = column(engine, "SELECT instance_link FROM invitations WHERE id = :id", id=invitation.id)
            assert crypto.decrypt(stored, new) == invitation.instance_link
        assert key_rotation.reencrypt_all(engine, batch_size=7, keys=f"{new},{current}") == 0  # nothing left
    finally:
        # Put every row back under the stack's key: the function process only knows that one.
        key_rotation.reencrypt_all(engine, keys=f"{current},{new}")
    stored = column(engine, "SELECT vrchat_profile FROM invitations WHERE id = :id", id=cancelled.id)
    assert crypto.decrypt(stored, current) == cancelled.vrchat_profile
    assert column(engine, "SELECT status FROM invitations WHERE id = :id", id=cancelled.id) == "cancelled"


# -- cursors --------------------------------------------------------------------------------------
def test_cursor_round_trip_and_rejections() -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, 678000)
    token = cursor.encode("q1", moment, "123")
    assert cursor.decode("q1", token) == (moment, "123")
    assert cursor.decode("q1", None) is None
    # 400: not shaped like any cursor (the document's pattern); 422: shaped like one, but not one
    # this list returned.
    for bad, status in (
        ("not base64!", 400),
        ("x" * 201, 400),
        (token + "x", 422),
        (cursor.encode("q3", moment, "123"), 422),
        (cursor.encode("q1", moment, "1; DROP"), 422),
    ):
        with pytest.raises(ApiError) as caught:
            cursor.decode("q1", bad)
        assert caught.value.status == status and caught.value.field == "cursor", bad


def test_a_list_item_is_the_detail_of_the_same_invitation_in_brief(engine: Engine) -> None:
    # Two queries (Q1, Q2) feed one view: their columns must give the same fields, times to the
    # millisecond with `Z`.
    start = datetime(2030, 3, 4, 5, 6, 7, 891000) + timedelta(seconds=uuid.uuid4().int % 86_400)
    created = new_invitation(start_time=start, end_time=start + timedelta(hours=1, microseconds=2000))
    invitations.create_invitation(engine, created)
    just_before = (start - timedelta(milliseconds=1), "")
    listed = invitations.list_invitations(engine, "recruiting", created.tag, just_before, 1).items
    assert [item["id"] for item in listed] == [created.id]
    detail = invitations.get_invitation(engine, created.id, Actor("someone-else", False, "x"))
    fields = set(views.list_item(defaultdict(lambda: None)))
    assert listed[0] == {field: detail[field] for field in fields}
    assert listed[0]["startTime"].endswith(".891Z") and listed[0]["endTime"].endswith(".893Z")


# -- the database as the last line of defence -----------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"tag": "買い物"}, "tag", 400),
        ({"event_name": "a\nb"}, "eventName", 400),
        ({"max_participants": 500}, "maxParticipants", 400),
        ({"end_time": datetime(2029, 1, 1)}, "endTime", 422),
        ({"instance_type": "invite"}, "instanceType", 400),
        ({"world_link": "ftp://x"}, "worldLink", 400),
    ],
)
def test_a_violation_that_reaches_postgres_maps_to_the_validations_status(
    engine: Engine, overrides: dict[str, Any], field: str, status: int
) -> None:
    with pytest.raises(ApiError) as caught:
        invitations.create_invitation(engine, new_invitation(**overrides))  # validation bypassed on purpose
    assert caught.value.status == status and caught.value.field == field


# -- Q4: auto-close -------------------------------------------------------------------------------
@pytest.fixture
def ending(engine: Engine) -> Iterator[Callable[..., str]]:
    """`ending(end_time, status)` inserts an invitation ending then; all are deleted afterwards so
    that no due row of one test is picked up by the next one's auto-close run."""
    made: list[str] = []

    def make(end_time: datetime, status: str = "recruiting") -> str:
        made.append(insert_ending(engine, end_time, status))
        return made[-1]

    yield make
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("DELETE FROM invitations WHERE id = ANY(:ids)"), {"ids": made})


def insert_ending(engine: Engine, end_time: datetime, status: str = "recruiting") -> str:
    invitation = new_invitation(start_time=end_time - timedelta(hours=1), end_time=end_time)
    invitations.create_invitation(engine, invitation)
    if status != "recruiting":
        with engine.begin() as conn:
            conn.execute(
                sqlalchemy.text("UPDATE invitations SET status = :s WHERE id = :id"),
                {"s": status, "id": invitation.id},
            )
    return invitation.id


def list_version() -> int:
    return int(get_redis().get(keys.INVITATION_LIST_VERSION) or 0)


def test_auto_close_completes_finished_invitations_in_batches(
    engine: Engine, ending: Callable[..., str]
) -> None:
    # Times far in the past, with `now` just after them, keep this test's rows apart from any other.
    base = datetime(2001, 3, 1, tzinfo=UTC)
    due = [
        insert_ending(engine, base + timedelta(minutes=i), "full" if i % 2 else "recruiting")
        for i in range(5)
    ]
    cancelled = ending(base, "cancelled")
    later = ending(base + timedelta(days=1))
    now = base + timedelta(hours=1)
    version = list_version()
    counts = [complete_finished_invitations(engine, now=now, batch_size=2) for _ in range(4)]
    assert counts == [2, 2, 1, 0]
    assert statuses(engine, due) == ["completed"] * 5
    assert statuses(engine, [cancelled, later]) == ["cancelled", "recruiting"]
    assert list_version() == version + 3  # the list cache was invalidated by each run that changed rows
    with pytest.raises(ValueError):
        complete_finished_invitations(engine, now=now, batch_size=0)


def test_the_auto_close_job_completes_a_backlog_of_several_batches_in_one_run(
    engine: Engine, ending: Callable[..., str]
) -> None:
    from shared.jobs.auto_close import INVITATION_BATCHES_PER_RUN, Limits, Summary, complete_invitations

    base = datetime(2001, 6, 1, tzinfo=UTC)
    ids = [ending(base + timedelta(minutes=i)) for i in range(7)]
    now = base + timedelta(hours=1)
    limits = Limits(batch_size=2, waiting_max_age=timedelta(minutes=10), presence_grace=timedelta(minutes=1))
    summary = Summary()
    complete_invitations(now, limits, summary)  # batches of 2, 2, 2, 1
    assert (summary.invitations_completed, summary.backlog, summary.errors) == (7, [], {})
    assert statuses(engine, ids) == ["completed"] * 7
    # A backlog beyond INVITATION_BATCHES_PER_RUN batches: the run stops there and says so.
    more = [ending(base + timedelta(hours=2, seconds=i)) for i in range(INVITATION_BATCHES_PER_RUN + 1)]
    single = Limits(batch_size=1, waiting_max_age=timedelta(minutes=10), presence_grace=timedelta(minutes=1))
    summary = Summary()
    complete_invitations(base + timedelta(hours=3), single, summary)
    assert (summary.invitations_completed, summary.backlog) == (INVITATION_BATCHES_PER_RUN, ["invitations"])
    assert statuses(engine, more) == ["completed"] * INVITATION_BATCHES_PER_RUN + ["recruiting"]


def test_auto_close_reads_due_rows_in_end_time_order_without_sorting_the_backlog(engine: Engine) -> None:
    from shared.invitations.completion import Q4

    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("SET LOCAL enable_seqscan = off"))  # the test table is small
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                sqlalchemy.text(f"EXPLAIN (COSTS OFF) {Q4}"), {"now": datetime(2001, 1, 1), "batch_size": 200}
            )
        )
        conn.rollback()
    assert "idx_invitation_auto_close" in plan, plan
    assert "Sort" not in plan, plan  # the LIMIT stops the ordered index scan after one batch


def test_auto_close_skips_rows_locked_by_a_join_instead_of_waiting(
    engine: Engine, ending: Callable[..., str]
) -> None:
    base = datetime(2002, 3, 1, tzinfo=UTC)
    ids = [ending(base + timedelta(minutes=i)) for i in range(3)]
    now = base + timedelta(hours=1)
    with engine.connect() as holder, ThreadPoolExecutor(1) as pool:
        holder.execute(sqlalchemy.text("SELECT 1 FROM invitations WHERE id = :id FOR UPDATE"), {"id": ids[0]})
        # Run in another thread so that a regression (waiting on the lock) fails instead of hanging.
        assert pool.submit(complete_finished_invitations, engine, now, 100).result(timeout=120) == 2
        holder.rollback()
    assert statuses(engine, ids) == ["recruiting", "completed", "completed"]
    assert complete_finished_invitations(engine, now=now) == 1


def test_two_concurrent_auto_close_runs_split_the_work(engine: Engine, ending: Callable[..., str]) -> None:
    base = datetime(2003, 3, 1, tzinfo=UTC)
    ids = [ending(base + timedelta(seconds=i)) for i in range(60)]
    now = base + timedelta(hours=1)

    def run_until_done() -> int:
        total = 0
        while True:
            count = complete_finished_invitations(engine, now=now, batch_size=7)
            total += count
            if count < 7:
                return total

    with ThreadPoolExecutor(2) as pool:
        totals = list(pool.map(lambda _: run_until_done(), range(2)))
    assert sum(totals) == 60  # each row completed by exactly one run
    assert statuses(engine, ids) == ["completed"] * 60


# -- call analytics -------------------------------------------------------------------------------
def test_record_call_session_is_idempotent(engine: Engine) -> None:
    row = CallSessionRow(
        session_id=uuid.uuid4().hex,
        room_id="room-1",
        room_type="select",
        participant_count=2,
        started_at=datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
        ended_at=datetime(2025, 5, 1, 21, 30, tzinfo=UTC),
        duration_seconds=34200,
        end_reason="normal",
        avg_fps=29.5,
        connection_quality="good",
    )
    assert record_call_session(engine, row) is True
    assert record_call_session(engine, replace(row, end_reason="error", duration_seconds=1)) is False
    with engine.connect() as conn:
        stored = (
            conn.execute(
                sqlalchemy.text("SELECT * FROM call_sessions WHERE session_id = :id"), {"id": row.session_id}
            )
            .mappings()
            .one()
        )
    assert stored["end_reason"] == "normal" and stored["duration_seconds"] == 34200  # the first write stands
    assert stored["started_at"] == row.started_at and stored["avg_fps"] == pytest.approx(29.5)
    assert stored["audio_quality"] is None and stored["recorded_at"] is not None


@pytest.mark.parametrize(
    "overrides",
    [
        {"room_type": "group"},
        {"end_reason": "kicked"},
        {"participant_count": -1},
        {"duration_seconds": -1},
        {"ended_at": datetime(2024, 1, 1, tzinfo=UTC)},
        {"started_at": datetime(2025, 1, 1)},
        {"session_id": "x" * 65},
    ],
)
def test_call_session_row_rejects_what_the_table_would(overrides: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "session_id": "s",
        "room_id": "r",
        "room_type": "random",
        "participant_count": 2,
        "started_at": datetime(2025, 1, 1, tzinfo=UTC),
        "ended_at": datetime(2025, 1, 1, 0, 1, tzinfo=UTC),
        "duration_seconds": 60,
        "end_reason": "timeout",
    }
    values.update(overrides)
    with pytest.raises(ValueError):
        CallSessionRow(**values)
