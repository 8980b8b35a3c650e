"""Every PostgreSQL session of a function starts with limits (shared/clients/postgres.py): no statement
waits on a lock or runs for ever, no transaction stays open idle, and what PostgreSQL gives up on is
a 503 (`busy` for a write whose rows other transactions held), never a 500 or a held worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy
from sqlalchemy.exc import DBAPIError

from devstack.stack import Stack
from shared.clients import postgres
from shared.config import reset_settings, settings
from shared.errors import Busy
from shared.invitations.errors import translate_db_errors
from shared.outages import is_outage
from shared.pg_errors import sqlstate

pytestmark = pytest.mark.stack

LOCK_KEY = 731_904  # an advisory lock no code of the product takes
EngineWith = Callable[..., sqlalchemy.Engine]


@pytest.fixture
def engine_with(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[EngineWith]:
    """An engine of the function's own making, under the settings given (DB_LOCK_TIMEOUT_MS=...)."""
    engines: list[sqlalchemy.Engine] = []

    def make(**env: str) -> sqlalchemy.Engine:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        engines.append(postgres._create())
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()
    monkeypatch.undo()
    reset_settings()


def _settings_of_the_session(engine: sqlalchemy.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sqlalchemy.text(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('lock_timeout', 'statement_timeout', 'idle_in_transaction_session_timeout')"
            )
        )
        return {name: setting for name, setting in rows}


def test_a_session_starts_with_the_configured_limits(engine_with: EngineWith) -> None:
    defaults = _settings_of_the_session(postgres.get_engine())
    assert defaults == {
        "lock_timeout": str(settings().db_lock_timeout_ms),
        "statement_timeout": str(settings().db_statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings().db_statement_timeout_ms),
    }
    engine = engine_with(DB_LOCK_TIMEOUT_MS="1234", DB_STATEMENT_TIMEOUT_MS="5678")
    assert _settings_of_the_session(engine) == {
        "lock_timeout": "1234",
        "statement_timeout": "5678",
        "idle_in_transaction_session_timeout": "5678",
    }


def test_a_write_kept_waiting_past_the_lock_timeout_is_busy(engine_with: EngineWith) -> None:
    engine = engine_with(DB_LOCK_TIMEOUT_MS="200")
    lock = sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)")
    with engine.begin() as holder:
        holder.execute(lock, {"key": LOCK_KEY})
        with pytest.raises(DBAPIError) as waited, engine.begin() as conn:
            conn.execute(lock, {"key": LOCK_KEY})
        assert sqlstate(waited.value) == "55P03"  # lock_not_available
        assert is_outage(waited.value)  # any route: 503 with Retry-After
        with pytest.raises(Busy), translate_db_errors(), engine.begin() as conn:
            conn.execute(lock, {"key": LOCK_KEY})  # a write route: 503 `busy`
    with engine.begin() as conn:  # the holder is gone: the same statement goes through
        conn.execute(lock, {"key": LOCK_KEY})


def test_a_deadlock_aborts_one_side_and_that_side_is_busy(engine_with: EngineWith) -> None:
    engine = engine_with(DB_LOCK_TIMEOUT_MS="20000")  # the deadlock detector, not the lock timeout
    both_hold_one = threading.Barrier(2, timeout=10)

    def take(first: int, second: int) -> BaseException | None:
        try:
            with translate_db_errors(), engine.begin() as conn:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(:k)"), {"k": first})
                both_hold_one.wait()
                conn.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(:k)"), {"k": second})
        except Exception as exc:
            return exc
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(take, (LOCK_KEY, LOCK_KEY + 1), (LOCK_KEY + 1, LOCK_KEY)))
    failed = [outcome for outcome in outcomes if outcome is not None]
    assert len(failed) == 1, outcomes  # PostgreSQL aborted one transaction; the other committed
    assert isinstance(failed[0], Busy)
    assert sqlstate(failed[0].__cause__) == "40P01"  # type: ignore[arg-type]
    assert is_outage(failed[0].__cause__)  # type: ignore[arg-type]


def test_a_statement_past_the_statement_timeout_is_ended_as_an_outage(engine_with: EngineWith) -> None:
    engine = engine_with(DB_STATEMENT_TIMEOUT_MS="1000")
    with pytest.raises(DBAPIError) as ended, engine.connect() as conn:
        conn.execute(sqlalchemy.text("SELECT pg_sleep(30)"))
    assert sqlstate(ended.value) == "57014"  # query_canceled
    assert is_outage(ended.value)
    with engine.connect() as conn:  # the connection stays in step and serves the next statement
        assert conn.execute(sqlalchemy.text("SELECT 41 + 1")).scalar() == 42


def test_a_transaction_left_idle_is_ended_and_its_locks_released(engine_with: EngineWith) -> None:
    engine = engine_with(DB_STATEMENT_TIMEOUT_MS="1000")
    other = engine_with()  # the same limits: only the session left idle is ended
    # Whatever the driver raises on a session the server ended: a DBAPIError or a reset socket.
    with pytest.raises(Exception) as ended, engine.begin() as idle:
        idle.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # polled, not slept: the server ends it after 1 s
            with other.connect() as conn:
                taken = conn.execute(sqlalchemy.text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
                if taken.scalar():
                    conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the idle transaction still held its lock after 10 s")
        idle.execute(sqlalchemy.text("SELECT 1"))  # its session is gone
    assert is_outage(ended.value), repr(ended.value)  # a request meeting it answers 503
