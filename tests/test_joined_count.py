"""invitations.joined_count, kept by the participants' triggers (migration 0007): it equals the
joined participants after every kind of write, and the migration's backfill set it for rows that
existed before."""

from __future__ import annotations

import threading
from datetime import datetime

import pg8000.native
import pytest
import sqlalchemy
from sqlalchemy.engine import Engine

from devstack.stack import Stack
from shared.clients.postgres import get_engine
from tests.test_invitations_schema import (
    INVITATION_SQL,
    PARTICIPANT_SQL,
    _alembic,
    insert_invitation,
    invitation,
    scalar,
    snowflake,
)

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def engine(stack: Stack) -> Engine:
    return get_engine()


def run(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(statement), params)


def stored(engine: Engine, invitation_id: str) -> int:
    return int(scalar(engine, "SELECT joined_count FROM invitations WHERE id = :id", id=invitation_id))


def counted(engine: Engine, invitation_id: str) -> int:
    query = "SELECT count(*) FROM participants WHERE invitation_id = :id AND status = 'joined'"
    return int(scalar(engine, query, id=invitation_id))


def test_every_kind_of_write_keeps_the_count(engine: Engine) -> None:
    a, b = insert_invitation(engine)["id"], insert_invitation(engine)["id"]
    assert stored(engine, a) == 0
    with engine.begin() as conn:  # one row at a time, as a join does
        for user, status in (("1", "joined"), ("2", "joined"), ("3", "interested")):
            conn.execute(sqlalchemy.text(PARTICIPANT_SQL), {"inv": a, "user": user, "status": status})
    assert stored(engine, a) == counted(engine, a) == 2
    run(  # many rows over two invitations in one statement, as a bulk load does
        engine,
        "INSERT INTO participants (invitation_id, user_id, user_name, status) "
        "SELECT inv, 'u' || g, 'name', CASE WHEN mod(g, 3) = 0 THEN 'interested' ELSE 'joined' END "
        "FROM unnest(CAST(:ids AS varchar[])) AS inv CROSS JOIN generate_series(10, 18) AS g",
        ids=[a, b],
    )
    assert (stored(engine, a), stored(engine, b)) == (counted(engine, a), counted(engine, b)) == (8, 6)
    run(
        engine,
        "UPDATE participants SET status = 'interested' WHERE invitation_id = :id AND user_id = '1'",
        id=a,
    )
    run(
        engine,
        "UPDATE participants SET status = 'joined' WHERE invitation_id = :id AND user_id = 'u12'",
        id=b,
    )
    run(
        engine, "UPDATE participants SET user_name = 'renamed' WHERE invitation_id = :id", id=a
    )  # no seat moves
    assert (stored(engine, a), stored(engine, b)) == (counted(engine, a), counted(engine, b)) == (7, 7)
    run(engine, "DELETE FROM participants WHERE user_id IN ('u10', 'u11', '3')")  # as erasure gives up seats
    assert (stored(engine, a), stored(engine, b)) == (counted(engine, a), counted(engine, b)) == (5, 5)


def test_the_count_moves_with_a_new_invitation_id(engine: Engine) -> None:
    inv = insert_invitation(engine)
    run(engine, PARTICIPANT_SQL, inv=inv["id"], user="1", status="joined")
    moved = str(int(inv["id"]) + 1)
    run(engine, "UPDATE invitations SET id = :new WHERE id = :old", new=moved, old=inv["id"])  # cascades
    assert stored(engine, moved) == counted(engine, moved) == 1


@pytest.mark.parametrize("final", ["completed", "cancelled"])
def test_a_final_invitation_keeps_its_count(engine: Engine, final: str) -> None:
    inv = insert_invitation(engine)["id"]
    run(engine, PARTICIPANT_SQL, inv=inv, user="1", status="joined")
    run(engine, "UPDATE invitations SET status = :s WHERE id = :id", s=final, id=inv)
    run(engine, "UPDATE participants SET user_name = 'x' WHERE invitation_id = :id", id=inv)  # pseudonymised
    assert stored(engine, inv) == 1


def test_concurrent_joins_of_one_invitation_all_count(engine: Engine) -> None:
    """Without the invitation's row lock first (as a writer that forgets it would): each statement
    adds its own change to the row as committed by the other."""
    inv = insert_invitation(engine)["id"]
    start = threading.Barrier(8)

    def join(user: str) -> None:
        with engine.begin() as conn:
            start.wait()
            conn.execute(sqlalchemy.text(PARTICIPANT_SQL), {"inv": inv, "user": user, "status": "joined"})

    threads = [threading.Thread(target=join, args=(str(n),)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stored(engine, inv) == counted(engine, inv) == 8


def test_the_migration_counts_the_seats_that_were_there(
    stack: Stack,
    scratch_databases: tuple[str, str],
) -> None:
    database = scratch_databases[0]
    _alembic(stack, database, "upgrade", "0006")
    conn = pg8000.native.Connection(
        "postgres", host="127.0.0.1", port=stack.port("postgres"), database=database
    )
    try:
        open_id, done_id = snowflake(), snowflake()
        for invitation_id in (open_id, done_id):
            conn.run(INVITATION_SQL, **invitation(id=invitation_id, thread_id=snowflake()))
        for user, status in (("1", "joined"), ("2", "joined"), ("3", "interested")):
            conn.run(PARTICIPANT_SQL, inv=open_id, user=user, status=status)
        conn.run(PARTICIPANT_SQL, inv=done_id, user="1", status="joined")
        conn.run("UPDATE invitations SET status = 'completed' WHERE id = :id", id=done_id)
        before = dict(conn.run("SELECT id, updated_at FROM invitations"))
        _alembic(stack, database, "upgrade", "head")
        after = {
            row[0]: (row[1], row[2])
            for row in conn.run("SELECT id, joined_count, updated_at FROM invitations")
        }
        assert after == {open_id: (2, before[open_id]), done_id: (1, before[done_id])}
        assert isinstance(before[open_id], datetime)
    finally:
        conn.close()
