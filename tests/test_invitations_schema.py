"""The PostgreSQL schema built by the Alembic migrations: every CHECK, FK, UNIQUE, trigger and index
is proved by trying the bad case against the stack's real PostgreSQL; a fresh database and one
migrated step by step (and back down and up again) end identical."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy.engine import Engine

from deploy.manifest import ROOT
from devstack.stack import Stack
from shared.clients.postgres import get_engine
from shared.invitations import crypto
from shared.invitations.errors import CHECKS, UNPROCESSABLE, to_api_error

pytestmark = pytest.mark.stack

INVITATION_SQL = """
INSERT INTO invitations (id, thread_id, host_id, host_name, event_name, start_time, end_time, world_name,
  world_link, tag, description, instance_type, vrchat_profile, instance_link, max_participants, status)
VALUES (:id, :thread_id, :host_id, :host_name, :event_name, :start_time, :end_time, :world_name,
  :world_link, :tag, :description, :instance_type, :vrchat_profile, :instance_link, :max_participants,
  :status)
"""


@pytest.fixture(scope="module")
def engine(stack: Stack) -> Engine:
    return get_engine()


def snowflake() -> str:
    return str(uuid.uuid4().int)[:19]


def invitation(**overrides: Any) -> dict[str, Any]:
    start = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    values = {
        "id": snowflake(),
        "thread_id": snowflake(),
        "host_id": "1001",
        "host_name": "host",
        "event_name": "event",
        "start_time": start,
        "end_time": start + timedelta(hours=2),
        "world_name": "world",
        "world_link": "https://vrchat.com/home/world/wrld_1",
        "tag": "観光",
        "description": "",
        "instance_type": "group",
        "vrchat_profile": crypto.encrypt("https://vrchat.com/home/user/usr_1"),
        "instance_link": crypto.encrypt("https://vrchat.com/home/launch?x=1"),
        "max_participants": 10,
        "status": "recruiting",
    }
    values.update(overrides)
    return values


def insert_invitation(engine: Engine, **overrides: Any) -> dict[str, Any]:
    values = invitation(**overrides)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(INVITATION_SQL), values)
    return values


def violation(engine: Engine, sql: str, params: dict[str, Any] | None = None) -> tuple[str, str, Any]:
    """Run a statement that must fail; return (SQLSTATE, constraint name, the DBAPIError)."""
    with pytest.raises(sqlalchemy.exc.DBAPIError) as caught, engine.begin() as conn:
        conn.execute(sqlalchemy.text(sql), params or {})
    diag = caught.value.orig.args[0]  # type: ignore[union-attr]
    return diag["C"], diag.get("n", ""), caught.value


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sqlalchemy.text(sql), params).scalar()


# -- invitations: CHECK constraints, each with the field the API names for it --------------------
@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"end_time": datetime(2030, 1, 1), "start_time": datetime(2030, 1, 1)}, "chk_invitation_time_range"),
        ({"end_time": datetime(2029, 1, 1), "start_time": datetime(2030, 1, 1)}, "chk_invitation_time_range"),
        ({"max_participants": 0}, "chk_invitation_max_participants"),
        ({"max_participants": 101}, "chk_invitation_max_participants"),
        ({"status": "open"}, "chk_invitation_status"),
        ({"instance_type": "private"}, "chk_invitation_instance_type"),
        ({"tag": "買い物"}, "chk_invitation_tag"),
        ({"event_name": "line one\nline two"}, "chk_invitation_event_name"),
        ({"world_link": "http://vrchat.com/"}, "chk_invitation_world_link"),
        ({"vrchat_profile": "https://vrchat.com/home/user/usr_1"}, "chk_invitation_vrchat_profile_encrypted"),
        ({"instance_link": "https://vrchat.com/home/launch"}, "chk_invitation_instance_link_encrypted"),
    ],
)
def test_invitation_checks_reject_the_bad_case(
    engine: Engine, overrides: dict[str, Any], constraint: str
) -> None:
    code, name, error = violation(engine, INVITATION_SQL, invitation(**overrides))
    assert (code, name) == ("23514", constraint)
    api_error = to_api_error(error)
    # A rule between fields is a 422, as the validation gives it; the rest are 400.
    status = 422 if constraint in UNPROCESSABLE else 400
    assert api_error is not None and api_error.status == status and api_error.field == CHECKS[constraint][0]


def test_the_good_cases_pass_the_checks(engine: Engine) -> None:
    for tag in ("観光", "ゲーム", "まったり", "撮影会", "イベント", "その他"):
        for instance_type in ("group", "friend", "friendplus", "public"):
            insert_invitation(
                engine, tag=tag, instance_type=instance_type, world_link=None, max_participants=100
            )
    insert_invitation(
        engine, vrchat_profile=None, instance_link=None, world_link="HTTPS://EXAMPLE.COM", max_participants=1
    )


def test_not_null_columns(engine: Engine) -> None:
    for column in ("thread_id", "host_id", "host_name", "event_name", "start_time", "world_name", "tag"):
        code, _, error = violation(engine, INVITATION_SQL, invitation(**{column: None}))
        assert code == "23502", column
        api_error = to_api_error(error)
        assert api_error is not None and api_error.status == 400


def test_defaults(engine: Engine) -> None:
    values = invitation()
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(INVITATION_SQL.replace(", status)", ")").replace(",\n  :status)", ")")),
            {k: v for k, v in values.items() if k != "status"},
        )
    row = _row(
        engine, "SELECT status, created_at, updated_at FROM invitations WHERE id = :id", id=values["id"]
    )
    assert row["status"] == "recruiting"
    now = datetime.now(UTC).replace(tzinfo=None)
    assert abs(row["created_at"] - now) < timedelta(minutes=1)  # stored in UTC, not local time
    assert row["created_at"] == row["updated_at"]


def _row(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sqlalchemy.text(sql), params).mappings().one()


# -- UNIQUE and primary keys ----------------------------------------------------------------------
def test_unique_thread_id_and_primary_key(engine: Engine) -> None:
    first = insert_invitation(engine)
    code, name, error = violation(engine, INVITATION_SQL, invitation(thread_id=first["thread_id"]))
    assert (code, name) == ("23505", "uq_invitation_thread_id")
    assert to_api_error(error).field == "threadId"  # type: ignore[union-attr]
    code, name, error = violation(engine, INVITATION_SQL, invitation(id=first["id"]))
    assert (code, name) == ("23505", "invitations_pkey")
    assert to_api_error(error).status == 409  # type: ignore[union-attr]


PARTICIPANT_SQL = (
    "INSERT INTO participants (invitation_id, user_id, user_name, status)"
    " VALUES (:inv, :user, 'name', :status)"
)


def test_participants_unique_status_check_and_foreign_key(engine: Engine) -> None:
    inv = insert_invitation(engine)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(PARTICIPANT_SQL), {"inv": inv["id"], "user": "1", "status": "joined"})
    code, name, _ = violation(
        engine, PARTICIPANT_SQL, {"inv": inv["id"], "user": "1", "status": "interested"}
    )
    assert (code, name) == ("23505", "unique_participant")
    code, name, _ = violation(engine, PARTICIPANT_SQL, {"inv": inv["id"], "user": "2", "status": "left"})
    assert (code, name) == ("23514", "chk_participant_status")
    code, name, error = violation(
        engine, PARTICIPANT_SQL, {"inv": snowflake(), "user": "3", "status": "joined"}
    )
    assert (code, name) == ("23503", "fk_participant_invitation")
    assert to_api_error(error).status == 404  # type: ignore[union-attr]


def test_participants_follow_their_invitation_on_update_and_delete(engine: Engine) -> None:
    inv = insert_invitation(engine)
    with engine.begin() as conn:
        for user in ("1", "2"):
            conn.execute(
                sqlalchemy.text(PARTICIPANT_SQL), {"inv": inv["id"], "user": user, "status": "joined"}
            )
    new_id = snowflake()
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text("UPDATE invitations SET id = :new WHERE id = :old"),
            {"new": new_id, "old": inv["id"]},
        )
    assert scalar(engine, "SELECT count(*) FROM participants WHERE invitation_id = :id", id=new_id) == 2
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("DELETE FROM invitations WHERE id = :id"), {"id": new_id})
    assert scalar(engine, "SELECT count(*) FROM participants WHERE invitation_id = :id", id=new_id) == 0


# -- triggers -------------------------------------------------------------------------------------
def test_updated_at_is_set_on_every_update(engine: Engine) -> None:
    inv = insert_invitation(engine)
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text("UPDATE invitations SET updated_at = '2000-01-01' WHERE id = :id"),
            {"id": inv["id"]},
        )
    updated = scalar(engine, "SELECT updated_at FROM invitations WHERE id = :id", id=inv["id"])
    assert updated > datetime(2020, 1, 1)  # even an explicit value is overwritten


@pytest.mark.parametrize("final", ["completed", "cancelled"])
def test_final_rows_cannot_be_updated(engine: Engine, final: str) -> None:
    inv = insert_invitation(engine)
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text("UPDATE invitations SET status = :s WHERE id = :id"),
            {"s": final, "id": inv["id"]},
        )
    for assignment in (
        "status = 'recruiting'",
        "event_name = 'renamed'",
        "max_participants = 5",
        "staff_id = '9'",
    ):
        code, _, error = violation(
            engine, f"UPDATE invitations SET {assignment} WHERE id = :id", {"id": inv["id"]}
        )
        assert code == "55000", assignment
        assert to_api_error(error).code == "final_state"  # type: ignore[union-attr]
    # Key rotation (re-encrypting the ciphertext columns) is the one change still allowed.
    rotated = crypto.encrypt("https://vrchat.com/home/user/usr_1")
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text("UPDATE invitations SET vrchat_profile = :p WHERE id = :id"),
            {"p": rotated, "id": inv["id"]},
        )
    assert scalar(engine, "SELECT vrchat_profile FROM invitations WHERE id = :id", id=inv["id"]) == rotated
    assert scalar(engine, "SELECT status FROM invitations WHERE id = :id", id=inv["id"]) == final


# -- tickets --------------------------------------------------------------------------------------
TICKET_SQL = (
    "INSERT INTO tickets (id, user_id, user_name, category, status, created_at, closed_at)"
    " VALUES (:id, '1', 'n', :category, :status, :created, :closed)"
)


def ticket(**overrides: Any) -> dict[str, Any]:
    values = {
        "id": snowflake(),
        "category": "question",
        "status": "open",
        "created": datetime(2025, 1, 2),
        "closed": None,
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"category": "complaint"}, "chk_ticket_category"),
        ({"status": "pending"}, "chk_ticket_status"),
        ({"status": "closed", "closed": datetime(2025, 1, 1)}, "chk_ticket_closed_at"),
    ],
)
def test_ticket_checks(engine: Engine, overrides: dict[str, Any], constraint: str) -> None:
    code, name, error = violation(engine, TICKET_SQL, ticket(**overrides))
    assert (code, name) == ("23514", constraint)
    assert to_api_error(error).field == CHECKS[constraint][0]  # type: ignore[union-attr]


def test_ticket_defaults_and_unique_id(engine: Engine) -> None:
    ticket_id = snowflake()
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO tickets (id, user_id, user_name, category) VALUES (:id, '1', 'n', 'other')"
            ),
            {"id": ticket_id},
        )
    assert scalar(engine, "SELECT status FROM tickets WHERE id = :id", id=ticket_id) == "open"
    code, name, _ = violation(engine, TICKET_SQL, ticket(id=ticket_id))
    assert (code, name) == ("23505", "tickets_pkey")
    with engine.begin() as conn:  # closed_at equal to created_at is allowed
        conn.execute(sqlalchemy.text(TICKET_SQL), ticket(status="closed", closed=datetime(2025, 1, 2)))


# -- call_sessions (the call analytics table) ---------------------------------------------------------
CALL_SQL = """
INSERT INTO call_sessions (session_id, room_id, room_type, participant_count, started_at, ended_at,
  duration_seconds, end_reason)
VALUES (:sid, 'room', :room_type, :count, :started, :ended, :duration, :reason)
"""


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"room_type": "group"}, "chk_call_session_room_type"),
        ({"count": -1}, "chk_call_session_participant_count"),
        ({"ended": datetime(2024, 12, 31, tzinfo=UTC)}, "chk_call_session_time_range"),
        ({"duration": -5}, "chk_call_session_duration"),
        ({"reason": "kicked"}, "chk_call_session_end_reason"),
    ],
)
def test_call_session_checks(engine: Engine, overrides: dict[str, Any], constraint: str) -> None:
    values = {
        "sid": uuid.uuid4().hex,
        "room_type": "random",
        "count": 2,
        "started": datetime(2025, 1, 1, tzinfo=UTC),
        "ended": datetime(2025, 1, 1, 0, 5, tzinfo=UTC),
        "duration": 300,
        "reason": "normal",
    }
    values.update(overrides)
    code, name, _ = violation(engine, CALL_SQL, values)
    assert (code, name) == ("23514", constraint)


# -- indexes, comments, storage settings ----------------------------------------------------------
EXPECTED_INDEXES = {
    "invitations_pkey": "ON public.invitations USING btree (id)",
    "uq_invitation_thread_id": "ON public.invitations USING btree (thread_id)",
    "idx_invitation_list": "ON public.invitations USING btree (status, tag, start_time)",
    "idx_invitation_host": "ON public.invitations USING btree (host_id, start_time DESC)",
    "idx_invitation_auto_close": "ON public.invitations USING btree (end_time) "
    "WHERE ((status)::text = ANY "
    "((ARRAY['recruiting'::character varying, 'full'::character varying])::text[]))",
    "idx_invitation_active": "ON public.invitations USING btree (tag, start_time, id) WHERE ((status)::text = "
    "'recruiting'::text)",
    "participants_pkey": "ON public.participants USING btree (id)",
    "unique_participant": "ON public.participants USING btree (invitation_id, user_id)",
    "idx_participant_user_history": "ON public.participants USING btree (user_id, created_at DESC)",
    "idx_participant_invitation_status": "ON public.participants USING btree (invitation_id, status)",
    "idx_participant_joined": "ON public.participants USING btree (invitation_id) WHERE ((status)::text = "
    "'joined'::text)",
    "tickets_pkey": "ON public.tickets USING btree (id)",
    "idx_ticket_open": "ON public.tickets USING btree (created_at DESC) "
    "WHERE ((status)::text = 'open'::text)",
    "idx_ticket_user_history": "ON public.tickets USING btree (user_id, created_at DESC)",
    "call_sessions_pkey": "ON public.call_sessions USING btree (session_id)",
    "idx_call_session_started": "ON public.call_sessions USING btree (started_at DESC)",
    "idx_call_session_room_type": "ON public.call_sessions USING btree (room_type, started_at)",
}


def test_every_index_exists_with_its_columns_and_predicate(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            sqlalchemy.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename IN ('invitations', 'participants', 'tickets', 'call_sessions')"
            )
        ).all()
    found = {name: definition.split(f"{name} ", 1)[1] for name, definition in rows}
    assert found == EXPECTED_INDEXES


def test_comments_statistics_and_autovacuum(engine: Engine) -> None:
    for table in ("invitations", "participants", "tickets", "call_sessions"):
        assert scalar(engine, "SELECT obj_description(CAST(:t AS regclass), 'pg_class')", t=table), table
    for column in ("vrchat_profile", "instance_link"):
        comment = scalar(
            engine,
            "SELECT col_description('invitations'::regclass, attnum) FROM pg_attribute "
            "WHERE attrelid = 'invitations'::regclass AND attname = :c",
            c=column,
        )
        assert "Fernet ciphertext" in comment
    options = scalar(engine, "SELECT reloptions FROM pg_class WHERE oid = 'invitations'::regclass")
    assert set(options) == {"autovacuum_vacuum_scale_factor=0.05", "autovacuum_analyze_scale_factor=0.02"}
    with engine.connect() as conn:
        targets = dict(
            conn.execute(
                sqlalchemy.text(
                    "SELECT attname, attstattarget FROM pg_attribute "
                    "WHERE attrelid = 'invitations'::regclass "
                    "AND attname IN ('status', 'tag')"
                )
            ).all()
        )
    assert targets == {"status": 1000, "tag": 1000}


# -- migrations: fresh == upgraded step by step -----------------------------------------------------
def _alembic(stack: Stack, database: str, *args: str) -> str:
    url = f"postgresql+pg8000://postgres@127.0.0.1:{stack.port('postgres')}/{database}"
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def _schema(stack: Stack, database: str) -> str:
    return subprocess.run(
        [
            "pg_dump",
            "--schema-only",
            "--restrict-key=schemacompare",  # pg_dump otherwise writes a random key into every dump
            "--no-owner",
            "-h",
            "127.0.0.1",
            "-p",
            str(stack.port("postgres")),
            "-U",
            "postgres",
            database,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_fresh_and_step_by_step_upgraded_databases_are_identical(
    stack: Stack, scratch_databases: tuple[str, str]
) -> None:
    fresh, stepped = scratch_databases
    _alembic(stack, fresh, "upgrade", "head")
    revisions = [line.split()[0] for line in _alembic(stack, fresh, "history").splitlines() if "->" in line]
    assert len(revisions) >= 2
    # Step by step up, all the way down (every downgrade works), and step by step up again.
    for _ in revisions:
        _alembic(stack, stepped, "upgrade", "+1")
    for _ in revisions:
        _alembic(stack, stepped, "downgrade", "-1")
    assert "invitations" not in _schema(stack, stepped)
    for _ in revisions:
        _alembic(stack, stepped, "upgrade", "+1")
    fresh_schema, stepped_schema = _schema(stack, fresh), _schema(stack, stepped)
    assert "CREATE TABLE public.invitations" in fresh_schema
    assert fresh_schema == stepped_schema
    # The stack's own database (migrated at start-up) has the same schema too.
    assert _schema(stack, "vchat") == fresh_schema
    assert _alembic(stack, stepped, "current").split()[0] == _alembic(stack, fresh, "heads").split()[0]
