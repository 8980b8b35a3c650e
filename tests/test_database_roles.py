"""Every Postgres-using function runs as its own login holding only its group roles (migration 0003,
granted by deploy/database_roles.py, the code production's bootstrap runs). Through the stack's real
PostgreSQL: each login does its own work with the domain code and gets `permission denied` (SQLSTATE
42501) for another's; the catalog holds exactly the privilege table the migration documents."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy.engine import Engine

from deploy import database_roles
from deploy.manifest import ROOT, load_manifest
from devstack.stack import Stack
from shared.analytics import CallSessionRow, record_call_session
from shared.invitations import invitations, participants, support_tickets
from shared.invitations.completion import complete_finished_invitations
from shared.invitations.model import Actor
from tests.test_invitations_domain import new_invitation, snowflake

pytestmark = pytest.mark.stack

MANIFEST = load_manifest()
POSTGRES_FUNCTIONS = [name for name, spec in MANIFEST.items() if spec.uses_postgres]

# role -> {(table, column or None): privileges}; the table in migrations/versions/0003_database_roles.py.
PRIVILEGES: dict[str, dict[tuple[str, str | None], set[str]]] = {
    "vchat_invitations": {
        ("invitations", None): {"SELECT", "INSERT", "UPDATE"},
        ("participants", None): {"SELECT", "INSERT", "UPDATE", "DELETE"},
        ("participants_id_seq", None): {"USAGE"},
        ("tickets", None): {"SELECT", "INSERT", "UPDATE"},
    },
    "vchat_invitations_completer": {
        ("invitations", "id"): {"SELECT"},
        ("invitations", "status"): {"SELECT", "UPDATE"},
        ("invitations", "end_time"): {"SELECT"},
    },
    "vchat_analytics_writer": {
        ("call_sessions", None): {"INSERT"},
        ("call_sessions", "session_id"): {"SELECT"},
    },
    # migrations/versions/0005_discord.py
    "vchat_discord_worker": {
        ("invitations", None): {"SELECT", "INSERT"},
        ("participants", None): {"SELECT"},
        ("tickets", None): {"SELECT"},
        ("discord_jobs", None): {"SELECT", "INSERT", "UPDATE"},
        ("discord_messages", None): {"SELECT", "INSERT", "UPDATE"},
    },
    # migrations/versions/0004_account_roles.py
    "vchat_account_deletion": {
        ("invitations", "id"): {"SELECT"},
        ("invitations", "host_id"): {"SELECT", "UPDATE"},
        ("invitations", "staff_id"): {"SELECT", "UPDATE"},
        ("invitations", "status"): {"SELECT", "UPDATE"},
        ("invitations", "max_participants"): {"SELECT"},
        ("invitations", "host_name"): {"UPDATE"},
        ("invitations", "staff_name"): {"UPDATE"},
        ("invitations", "vrchat_profile"): {"UPDATE"},
        ("invitations", "instance_link"): {"UPDATE"},
        ("participants", None): {"DELETE"},
        ("participants", "invitation_id"): {"SELECT"},
        ("participants", "user_id"): {"SELECT", "UPDATE"},
        ("participants", "status"): {"SELECT"},
        ("participants", "user_name"): {"UPDATE"},
        ("tickets", "user_id"): {"SELECT", "UPDATE"},
        ("tickets", "user_name"): {"UPDATE"},
    },
    "vchat_analytics_retention": {
        ("call_sessions", None): {"DELETE"},
        ("call_sessions", "session_id"): {"SELECT"},
        ("call_sessions", "started_at"): {"SELECT"},
    },
}

GRANTED = """
SELECT g.rolname, c.relname, NULL AS attname, a.privilege_type
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) a JOIN pg_roles g ON g.oid = a.grantee
WHERE n.nspname = 'public' AND g.rolname LIKE 'vchat\\_%'
UNION ALL
SELECT g.rolname, c.relname, att.attname, a.privilege_type
FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(att.attacl) a JOIN pg_roles g ON g.oid = a.grantee
WHERE n.nspname = 'public' AND g.rolname LIKE 'vchat\\_%'
"""


@pytest.fixture(scope="module")
def owner(stack: Stack) -> Iterator[Engine]:
    engine = sqlalchemy.create_engine(stack.database_url, poolclass=sqlalchemy.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def as_function(stack: Stack) -> Iterator[dict[str, Engine]]:
    """An engine per Postgres-using function, on the URL its process was given."""
    engines = {
        name: sqlalchemy.create_engine(
            stack.function_env(MANIFEST[name])["DATABASE_URL"], poolclass=sqlalchemy.pool.NullPool
        )
        for name in POSTGRES_FUNCTIONS
    }
    yield engines
    for engine in engines.values():
        engine.dispose()


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sqlalchemy.text(sql), params).all())


def sqlstate(engine: Engine, sql: str, params: dict[str, Any] | None = None) -> str:
    """Run a statement that must fail (rolled back either way); its SQLSTATE."""
    with pytest.raises(sqlalchemy.exc.DBAPIError) as caught, engine.connect() as conn:
        conn.execute(sqlalchemy.text(sql), params or {})
    return str(caught.value.orig.args[0]["C"])  # type: ignore[union-attr]


# -- who logs in ------------------------------------------------------------------------------------
def test_the_postgres_functions_are_the_expected_six() -> None:
    assert POSTGRES_FUNCTIONS == [
        "invitations_api",
        "on_room_written",
        "auto_close",
        "account_deletion",
        "discord_interactions",
        "discord_worker",
    ]
    assert {role for name in POSTGRES_FUNCTIONS for role in MANIFEST[name].database_roles} == set(PRIVILEGES)


@pytest.mark.parametrize("function", POSTGRES_FUNCTIONS)
def test_each_function_logs_in_as_its_own_non_admin_login_holding_exactly_its_roles(
    stack: Stack, owner: Engine, function: str
) -> None:
    login = database_roles.iam_database_user(function, "local", stack.project)
    url = sqlalchemy.engine.make_url(stack.function_env(MANIFEST[function])["DATABASE_URL"])
    assert url.username == login and login.startswith("fn-") and login.endswith(f"@{stack.project}.iam")
    ((can_login, admin),) = rows(
        owner,
        "SELECT rolcanlogin, rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication "
        "FROM pg_roles WHERE rolname = :name",
        name=login,
    )
    assert can_login and not admin
    held = rows(
        owner,
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = :name",
        name=login,
    )
    assert {role for (role,) in held} == set(MANIFEST[function].database_roles)


def test_functions_without_postgres_get_no_database_url(stack: Stack) -> None:
    for name, spec in MANIFEST.items():
        if not spec.uses_postgres:
            assert "DATABASE_URL" not in stack.function_env(spec), name


# -- what the groups hold ---------------------------------------------------------------------------
def test_the_groups_hold_exactly_the_documented_privileges(owner: Engine) -> None:
    found: dict[str, dict[tuple[str, str | None], set[str]]] = {}
    for role, table, column, privilege in rows(owner, GRANTED):
        found.setdefault(role, {}).setdefault((table, column), set()).add(privilege)
    assert found == PRIVILEGES


def test_every_table_is_reached_by_some_group(owner: Engine) -> None:
    """A table added without a GRANT would only fail in production: fail here."""
    tables = {
        name
        for (name,) in rows(
            owner,
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'",
        )
    }
    reached = {table for grants in PRIVILEGES.values() for (table, _) in grants}
    assert tables <= reached, f"no group may use {sorted(tables - reached)}: grant it in its migration"


def test_public_has_nothing_but_what_postgres_needs(owner: Engine) -> None:
    ((schema_acl, database_acl),) = rows(
        owner,
        "SELECT (SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'), "
        "(SELECT datacl::text FROM pg_database WHERE datname = current_database())",
    )
    # An ACL entry for PUBLIC starts with "=" (no grantee name).
    assert not any(entry.startswith("=") for entry in schema_acl.strip("{}").split(","))
    assert not any(entry.startswith("=") for entry in database_acl.strip("{}").split(","))
    ((executable,),) = rows(
        owner,
        "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND has_function_privilege('public', p.oid, 'EXECUTE')",
    )
    assert executable == 0


# -- each function can do its own work, through the domain code -------------------------------------
def test_invitations_api_runs_everything_the_api_does(as_function: dict[str, Engine]) -> None:
    engine = as_function["invitations_api"]
    host = Actor("7001", is_staff=False, name="host")
    guest = Actor("7002", is_staff=False, name="guest")
    staff = Actor("7003", is_staff=True, name="staff")
    invitation = new_invitation(host_id=host.user_id, max_participants=1)
    invitations.create_invitation(engine, invitation)
    joined = participants.set_participation(engine, invitation.id, guest, "guest", "joined")
    assert (joined.joined_count, joined.invitation_status) == (1, "full")
    assert invitations.get_invitation(engine, invitation.id, host)["joinedCount"] == 1
    assert invitations.list_invitations(engine, "full", invitation.tag, None, 50).items
    assert participants.participations(engine, guest.user_id, None, 5).items
    assert participants.leave(engine, invitation.id, guest).invitation_status == "recruiting"
    invitations.update_invitation(engine, invitation.id, {"event_name": "renamed"}, staff, assign_staff=True)
    invitations.cancel_invitation(engine, invitation.id, host)
    ticket_id = snowflake()
    support_tickets.create_ticket(engine, ticket_id, guest, "guest", "question")
    assert support_tickets.list_tickets(
        engine, user_id=guest.user_id, status=None, before=None, limit=5
    ).items
    assert support_tickets.close_ticket(engine, ticket_id)["status"] == "closed"


def test_auto_close_completes_finished_invitations(as_function: dict[str, Engine], owner: Engine) -> None:
    # Far in the past, so the sweep (cut off just after) sees this invitation and no other test's.
    start = datetime(2001, 1, 1, 12)
    invitation = new_invitation(start_time=start, end_time=start + timedelta(hours=1))
    invitations.create_invitation(owner, invitation)
    done = complete_finished_invitations(as_function["auto_close"], now=datetime(2001, 1, 2, tzinfo=UTC))
    assert done == 1
    assert rows(owner, "SELECT status FROM invitations WHERE id = :id", id=invitation.id) == [("completed",)]


def test_discord_interactions_acts_in_the_invitations_domain(as_function: dict[str, Engine]) -> None:
    engine = as_function["discord_interactions"]
    host, guest = Actor("7101", is_staff=False, name="host"), Actor("7102", is_staff=False, name="guest")
    invitation = new_invitation(host_id=host.user_id)
    invitations.create_invitation(as_function["invitations_api"], invitation)
    assert participants.set_participation(engine, invitation.id, guest, "guest", "joined").joined_count == 1
    invitations.update_invitation(engine, invitation.id, {}, Actor("7103", True, "staff"), assign_staff=True)
    invitations.cancel_invitation(engine, invitation.id, host)
    support_tickets.create_ticket(engine, snowflake(), guest, "guest", "trouble")


def test_discord_worker_creates_renders_and_records(as_function: dict[str, Engine]) -> None:
    from shared.discord import jobs

    engine = as_function["discord_worker"]
    invitation = new_invitation()
    invitations.create_invitation(engine, invitation)
    assert invitations.get_invitation(engine, invitation.id, Actor("", True))["id"] == invitation.id
    key = f"invitation.post:{snowflake()}"
    assert jobs.claim(engine, key).done is False
    jobs.save(engine, key, {"messageId": invitation.id})
    with engine.begin() as conn:
        jobs.record_message(conn, f"invitation:{invitation.id}", "1", invitation.id, "0" * 64)
        jobs.finish(conn, key, {"messageId": invitation.id})
    assert jobs.claim(engine, key).done is True
    record = jobs.claim_message(engine, f"invitation:{invitation.id}")
    assert record is not None and record.message_id == invitation.id
    jobs.release_message(engine, record.subject, "1" * 64)


def test_on_room_written_records_a_call_session_once(as_function: dict[str, Engine]) -> None:
    ended = datetime.now(UTC)
    row = CallSessionRow(
        session_id=f"roles-{uuid.uuid4().hex}",
        room_id="room",
        room_type="random",
        participant_count=2,
        started_at=ended - timedelta(minutes=3),
        ended_at=ended,
        duration_seconds=180,
        end_reason="normal",
    )
    assert record_call_session(as_function["on_room_written"], row) is True
    assert record_call_session(as_function["on_room_written"], row) is False  # redelivered event


def test_account_deletion_pseudonymises_a_users_rows(as_function: dict[str, Engine], owner: Engine) -> None:
    from shared.account.erasure import pseudonymise

    uid, pseudonym = snowflake(), f"deleted-{uuid.uuid4().hex[:12]}"
    hosted = new_invitation(host_id=uid)
    joined = new_invitation(max_participants=1)
    for invitation in (hosted, joined):
        invitations.create_invitation(owner, invitation)
    participants.set_participation(owner, joined.id, Actor(uid, False, "me"), "me", "joined")
    support_tickets.create_ticket(owner, snowflake(), Actor(uid, False, "me"), "me", "question")
    with owner.begin() as conn:  # a final row: only the erasure's change is allowed on it
        conn.execute(
            sqlalchemy.text("UPDATE invitations SET status = 'completed' WHERE id = :id"), {"id": hosted.id}
        )
    erasure = pseudonymise(as_function["account_deletion"], [uid], pseudonym)
    counts = erasure.counts
    assert counts["hosted"] == 1 and counts["seatsGivenUp"] == 1 and counts["tickets"] == 1
    assert erasure.invitations == sorted([hosted.id, joined.id])  # RETURNING works under the role
    assert rows(owner, "SELECT host_id FROM invitations WHERE id = :id", id=hosted.id) == [(pseudonym,)]
    assert rows(owner, "SELECT status FROM invitations WHERE id = :id", id=joined.id) == [("recruiting",)]
    again = pseudonymise(as_function["account_deletion"], [uid], pseudonym)
    assert again.counts == {
        "cancelled": 0, "hosted": 0, "staffed": 0, "seatsGivenUp": 0, "participations": 0, "tickets": 0,
    } and again.invitations == []  # fmt: skip


def test_a_final_invitation_takes_the_erasures_change_and_no_other(owner: Engine) -> None:
    invitation = new_invitation()
    invitations.create_invitation(owner, invitation)
    with owner.begin() as conn:
        conn.execute(
            sqlalchemy.text("UPDATE invitations SET status = 'cancelled' WHERE id = :id"),
            {"id": invitation.id},
        )
    for change in ("host_name = 'someone else'", "host_id = '42'", "staff_id = '42'", "staff_name = 'x'"):
        state = sqlstate(owner, f"UPDATE invitations SET {change} WHERE id = :id", {"id": invitation.id})
        assert state == "55000", change
    with owner.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "UPDATE invitations SET host_id = 'deleted-0123456789ab', host_name = '(deleted user)' WHERE id = :id"
            ),
            {"id": invitation.id},
        )


def test_auto_close_deletes_call_sessions_past_their_retention(
    as_function: dict[str, Engine], owner: Engine
) -> None:
    from shared.jobs.retention import delete_old_call_sessions

    old = CallSessionRow(
        session_id=f"old-{uuid.uuid4().hex}",
        room_id="room",
        room_type="random",
        participant_count=2,
        started_at=datetime(1999, 1, 1, tzinfo=UTC),
        ended_at=datetime(1999, 1, 1, 0, 5, tzinfo=UTC),
        duration_seconds=300,
        end_reason="normal",
    )
    record_call_session(owner, old)
    deleted, more = delete_old_call_sessions(as_function["auto_close"], datetime(2000, 6, 1, tzinfo=UTC), 100)
    assert deleted >= 1 and not more
    assert rows(owner, "SELECT 1 FROM call_sessions WHERE session_id = :id", id=old.session_id) == []


# -- ... and nothing of another's -------------------------------------------------------------------
CALL_SESSION = (
    "INSERT INTO call_sessions (session_id, room_id, room_type, participant_count, started_at, ended_at, "
    "duration_seconds, end_reason) VALUES ('x', 'r', 'random', 1, now(), now(), 0, 'normal')"
)
DENIED = [
    ("on_room_written", "UPDATE invitations SET status = 'cancelled' WHERE id = 'x'"),
    ("on_room_written", "SELECT host_id FROM invitations LIMIT 1"),
    ("on_room_written", "SELECT room_id FROM call_sessions LIMIT 1"),
    ("on_room_written", "DELETE FROM call_sessions WHERE session_id = 'x'"),
    (
        "on_room_written",
        "INSERT INTO tickets (id, user_id, user_name, category) VALUES ('x', 'u', 'n', 'other')",
    ),
    ("invitations_api", CALL_SESSION),
    ("invitations_api", "SELECT count(*) FROM call_sessions"),
    ("invitations_api", "DELETE FROM invitations WHERE id = 'x'"),
    ("invitations_api", "DELETE FROM tickets WHERE id = 'x'"),
    ("invitations_api", "TRUNCATE participants"),
    ("auto_close", "DELETE FROM participants WHERE id = -1"),
    ("auto_close", "SELECT vrchat_profile FROM invitations LIMIT 1"),
    ("auto_close", "SELECT host_name FROM invitations LIMIT 1"),
    ("auto_close", "UPDATE invitations SET host_name = 'x' WHERE id = 'x'"),
    ("auto_close", "SELECT count(*) FROM tickets"),
    ("auto_close", CALL_SESSION),
    ("auto_close", "SELECT update_invitation_updated_at()"),
    ("auto_close", "DELETE FROM invitations WHERE id = 'x'"),
    ("auto_close", "SELECT room_id FROM call_sessions LIMIT 1"),
    ("account_deletion", "SELECT description FROM invitations LIMIT 1"),
    ("account_deletion", "UPDATE invitations SET event_name = 'x' WHERE id = 'x'"),
    ("account_deletion", "DELETE FROM invitations WHERE id = 'x'"),
    ("account_deletion", "DELETE FROM tickets WHERE id = 'x'"),
    ("account_deletion", "SELECT category FROM tickets LIMIT 1"),
    ("account_deletion", "DELETE FROM call_sessions WHERE session_id = 'x'"),
    ("account_deletion", CALL_SESSION),
    ("on_room_written", "DELETE FROM participants WHERE id = -1"),
    ("invitations_api", "DELETE FROM call_sessions WHERE session_id = 'x'"),
    ("auto_close", "SELECT count(*) FROM discord_jobs"),
    ("invitations_api", "SELECT count(*) FROM discord_jobs"),
    ("discord_interactions", "UPDATE discord_messages SET rendered_hash = NULL"),
    ("discord_worker", "UPDATE invitations SET status = 'cancelled' WHERE id = 'x'"),
    ("discord_worker", "DELETE FROM participants WHERE id = -1"),
    (
        "discord_worker",
        "INSERT INTO tickets (id, user_id, user_name, category) VALUES ('x', 'u', 'n', 'other')",
    ),
    ("discord_worker", "DELETE FROM discord_jobs"),
    ("discord_worker", CALL_SESSION),
    *[(name, "CREATE TABLE roles_probe (id int)") for name in POSTGRES_FUNCTIONS],
    *[(name, "CREATE TEMPORARY TABLE roles_probe (id int)") for name in POSTGRES_FUNCTIONS],
]


@pytest.mark.parametrize(("function", "sql"), DENIED, ids=[f"{f}:{s[:40]}" for f, s in DENIED])
def test_a_function_cannot_do_another_ones_work(
    as_function: dict[str, Engine], function: str, sql: str
) -> None:
    assert sqlstate(as_function[function], sql) == "42501"


# -- the grant code: idempotent, converging, refusing what it cannot fix ---------------------------
@pytest.fixture
def scratch_login(owner: Engine) -> Iterator[str]:
    name = f"fn-roles-test-{uuid.uuid4().hex[:8]}@demo-vchat.iam"
    yield name
    with owner.begin() as conn:
        conn.execute(sqlalchemy.text(f"DROP ROLE IF EXISTS {database_roles.quote_ident(name)}"))


def _grant(stack: Stack, wanted: list[database_roles.Login], create: bool) -> list[str]:
    import pg8000.native

    conn = pg8000.native.Connection(
        "postgres", host="127.0.0.1", port=stack.port("postgres"), database="vchat"
    )
    try:
        return database_roles.grant(conn, wanted, create_missing=create)
    finally:
        conn.close()


def test_grant_converges_on_the_manifest_roles(stack: Stack, owner: Engine, scratch_login: str) -> None:
    both = database_roles.Login("probe", scratch_login, ("vchat_analytics_writer", "vchat_invitations"))
    assert len(_grant(stack, [both], create=True)) == 3  # CREATE ROLE + two GRANTs
    assert _grant(stack, [both], create=False) == []  # nothing left to do
    one = database_roles.Login("probe", scratch_login, ("vchat_analytics_writer",))
    quoted = database_roles.quote_ident(scratch_login)
    assert _grant(stack, [one], create=False) == [f"REVOKE vchat_invitations FROM {quoted}"]
    with pytest.raises(database_roles.GrantError, match="run the migrations"):
        _grant(stack, [database_roles.Login("probe", scratch_login, ("vchat_no_such_role",))], create=False)
    with pytest.raises(database_roles.GrantError, match="terraform apply"):
        _grant(
            stack, [database_roles.Login("probe", f"x{scratch_login}", ("vchat_invitations",))], create=False
        )


def test_the_operator_command_finds_nothing_to_change_on_the_stack(stack: Stack) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy",
            "grant-roles",
            "--project",
            stack.project,
            "--environment",
            "local",
            "--database-url",
            stack.database_url,
            "--dry-run",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and f"{len(POSTGRES_FUNCTIONS)} logins, 0 changes (dry run)" in result.stderr
