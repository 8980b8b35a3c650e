"""A statement that fails half-way through being sent must not leave its connection in the pool.

pg8000 encodes parameters while it writes a message; a lone surrogate fails that encoding after
part of the request may already be on the wire. Were the connection pooled again, the next query on
it would read the answer meant for another: another user's rows.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pg8000.legacy
import pytest
import sqlalchemy

from devstack.stack import Stack
from shared.clients import postgres

pytestmark = pytest.mark.stack


def _echo(engine: sqlalchemy.Engine, value: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sqlalchemy.text("SELECT CAST(:v AS text)"), {"v": value}).scalar()


def test_a_half_sent_statement_never_returns_to_the_pool(stack: Stack) -> None:
    engine = postgres.get_engine()
    for _ in range(5):
        with pytest.raises(Exception), engine.connect() as conn:  # noqa: B017 - whatever the driver raises
            conn.execute(sqlalchemy.text("SELECT CAST(:v AS text)"), {"v": "poison \ud800 " + "x" * 5000})
    values = [uuid.uuid4().hex for _ in range(300)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda v: _echo(engine, v), values))
    assert answers == values
    postgres.ping()  # the health check's nonce round trip agrees


class _FlushCounter:
    """Wraps a pg8000 connection's socket file: each flush sends what a round trip waits on."""

    def __init__(self, file: Any) -> None:
        self.file, self.flushes = file, 0

    def flush(self) -> None:
        self.flushes += 1
        self.file.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)


def test_a_one_statement_read_costs_two_round_trips_and_leaves_no_transaction(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "PING_AFTER_IDLE_S", 0.0)  # every checkout pings, as after a pause
    engine = postgres._create()  # its own pool: used from one thread, it holds one connection
    try:
        with postgres.autocommit_read(engine) as conn:
            raw = conn.connection.dbapi_connection
        counter = _FlushCounter(raw._sock)
        raw._sock = counter
        with postgres.autocommit_read(engine) as conn:
            assert conn.connection.dbapi_connection is raw
            assert conn.execute(sqlalchemy.text("SELECT CAST(:v AS text)"), {"v": "x"}).scalar() == "x"
            assert not raw._in_transaction
        # The pre-ping (one simple query) and the statement (pg8000 sends Parse, Describe, then
        # Bind/Execute, waiting after each); no BEGIN and no ROLLBACK (a simple query and three more).
        assert counter.flushes == 1 + 3
        assert raw.autocommit is False  # what comes next on this connection is transactional again
        counter.flushes = 0
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT CAST(:v AS text)"), {"v": "x"}).scalar() == "x"
            assert raw._in_transaction
        assert counter.flushes == 1 + 1 + 3 + 3
        with engine.begin() as conn:
            first = conn.execute(sqlalchemy.text("SELECT txid_current()")).scalar()
            assert conn.execute(sqlalchemy.text("SELECT txid_current()")).scalar() == first
        monkeypatch.setattr(postgres, "PING_AFTER_IDLE_S", 60.0)  # reused at once, as under load
        counter.flushes = 0
        with postgres.autocommit_read(engine) as conn:
            assert conn.execute(sqlalchemy.text("SELECT CAST(:v AS text)"), {"v": "x"}).scalar() == "x"
        assert counter.flushes == 3  # the statement alone: no pre-ping
    finally:
        engine.dispose()


def _terminate_backend_of(engine: sqlalchemy.Engine, database_url: str) -> Any:
    """Ends the server side of the pool's one connection, as Cloud SQL may while it is idle in the
    pool (maintenance, failover); returns the client side."""
    with postgres.autocommit_read(engine) as conn:
        dead = conn.connection.dbapi_connection
        pid = conn.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar()
    admin = sqlalchemy.create_engine(database_url, poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as conn:
        assert conn.execute(sqlalchemy.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    return dead


def test_an_idle_connection_that_fails_the_pre_ping_is_replaced(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "PING_AFTER_IDLE_S", 0.0)
    engine = postgres._create()
    try:
        dead = _terminate_backend_of(engine, stack.database_url)
        with postgres.autocommit_read(engine) as conn:
            assert conn.connection.dbapi_connection is not dead
            assert conn.execute(sqlalchemy.text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()


def test_a_connection_closed_just_after_use_fails_one_statement_as_an_outage_and_is_replaced(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.outages import is_outage

    monkeypatch.setattr(postgres, "PING_AFTER_IDLE_S", 60.0)  # inside the window: no pre-ping
    engine = postgres._create()
    try:
        dead = _terminate_backend_of(engine, stack.database_url)
        # Depending on timing the driver reads the server's FATAL goodbye (a DBAPIError) or finds the
        # socket reset (a ConnectionResetError, not wrapped): an outage either way, never a 500.
        with pytest.raises(Exception) as failure, postgres.autocommit_read(engine) as conn:
            assert conn.connection.dbapi_connection is dead
            conn.execute(sqlalchemy.text("SELECT 41 + 1"))
        assert is_outage(failure.value), repr(failure.value)  # the route answers 503 with Retry-After
        with postgres.autocommit_read(engine) as conn:
            assert conn.connection.dbapi_connection is not dead
            assert conn.execute(sqlalchemy.text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT %s, %s",
        "SELECT '%s' || %s -- %s\n, %s",
        "SELECT E'\\'%s', \"%s\", $$%s$$, %%s, %s",
        'SELECT to_char(%s, \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\')',
    ],
)
def test_the_memoized_placeholder_rewrite_is_pg8000s(statement: str) -> None:
    postgres.memoize_placeholder_rewrite()
    memoized = pg8000.legacy.convert_paramstyle
    assert memoized.memoized
    args = ("a", "b", "c")
    assert memoized("format", statement, args) == memoized.original("format", statement, args)
    assert memoized("format", statement, args)[1] is args


def test_the_memoized_rewrite_refuses_what_pg8000_refuses() -> None:
    postgres.memoize_placeholder_rewrite()
    memoized = pg8000.legacy.convert_paramstyle
    for convert in (memoized, memoized.original):
        with pytest.raises(pg8000.legacy.InterfaceError):
            convert("format", "SELECT %d", (1,))


def test_server_reported_errors_keep_the_connection(stack: Stack) -> None:
    engine = sqlalchemy.create_engine(stack.database_url, pool_size=1, max_overflow=0)
    sqlalchemy.event.listen(engine, "handle_error", postgres._invalidate_unless_server_error)
    with engine.connect() as conn:
        first = conn.connection.dbapi_connection
        with pytest.raises(sqlalchemy.exc.DBAPIError):
            conn.execute(sqlalchemy.text("SELECT 1 / 0"))
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection is first  # a division by zero left it in step
        with pytest.raises(Exception):  # noqa: B017
            conn.execute(sqlalchemy.text("SELECT CAST(:v AS text)"), {"v": "\ud800"})
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection is not first
        assert conn.execute(sqlalchemy.text("SELECT 41 + 1")).scalar() == 42
    engine.dispose()


@pytest.mark.parametrize(
    "literal",
    [
        "2025-01-01 00:00:00",
        "2025-01-01 00:00:00.5",
        "2026-11-30 06:30:12.345",
        "1999-12-31 23:59:59.999999",
        "infinity",
        "-infinity",
        "12000-01-01 00:00:00",
    ],
)
def test_timestamps_read_through_the_pool_equal_pg8000s_own_reading(stack: Stack, literal: str) -> None:
    from pg8000.converters import timestamp_in

    with postgres.get_engine().connect() as conn:
        value = conn.execute(sqlalchemy.text("SELECT CAST(:v AS timestamp)"), {"v": literal}).scalar()
        text = conn.execute(
            sqlalchemy.text("SELECT CAST(CAST(:v AS timestamp) AS text)"), {"v": literal}
        ).scalar()
    expected = timestamp_in(text)  # what the driver's default reader makes of the server's text
    assert value == expected and type(value) is type(expected)
