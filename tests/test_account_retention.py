"""Retention: the server writes each TTL field where the thing ends, and the local sweep deletes by
the same fields what Firestore's TTL policies delete in production (the emulator has none); old
`call_sessions` rows go in batches."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy

from devstack.stack import Stack
from shared import vocab
from shared.account import reports
from shared.analytics import CallSessionRow, record_call_session
from shared.clients.firestore import get_firestore
from shared.config import reset_settings, settings
from shared.jobs import retention
from shared.rooms import membership, select
from tests.account_helpers import doc, fs, new_user

pytestmark = pytest.mark.stack
# Far in the past, so the sweeps below (with `now` just after these times) touch only this test's
# documents: every other test's TTL fields lie years later.
BASE = datetime(2002, 2, 1, 12, tzinfo=UTC)


def sweep(now: datetime) -> dict[str, int]:
    counts, more = retention.delete_past_ttl(get_firestore(), now, 500)
    assert not more
    return counts


def test_ttl_fields_are_written_where_things_end_and_the_sweep_deletes_by_them(stack: Stack) -> None:
    a, b = new_user(), new_user()
    created = select.create_select_room(a, 2, BASE)
    select.join_by_code(b, created.room_code, BASE)
    closed_at = BASE + timedelta(hours=1)
    membership.leave(a, created.room_id, closed_at)
    room = doc(f"rooms/{created.room_id}") or {}
    session = doc(f"callSessions/{created.room_id}") or {}
    assert room["status"] == "closed"
    assert room[vocab.DELETE_AT] == closed_at + timedelta(days=settings().retention_closed_room_days)
    assert session[vocab.DELETE_AT] == session["endedAt"] + timedelta(
        days=settings().retention_call_session_days
    )
    code = doc(f"roomCodes/{created.room_code}") or {}
    assert code["expiresAt"] == created.expires_at
    device = f"users/{a}/sessions/d-{uuid.uuid4().hex[:8]}"
    fs().document(device).set({"userAgent": "VChat", "expiresAt": BASE + timedelta(days=1)})
    filed = reports.file_report(a, created.room_id, b, "spam", None, BASE)
    reports.resolve(filed.body["id"], "staff-1", "dismissed", None, BASE)
    report_path = f"reports/{filed.body['id']}"

    # Each document goes once its own TTL field has passed, not before.
    assert sweep(BASE) == {}
    assert sweep(BASE + timedelta(days=1, seconds=1)) == {vocab.ROOM_CODES: 1, vocab.SESSIONS: 1}
    assert doc(f"roomCodes/{created.room_code}") is None and doc(device) is None
    assert doc(f"rooms/{created.room_id}") is not None
    assert sweep(BASE + timedelta(days=8)) == {vocab.ROOMS: 1}
    assert doc(f"rooms/{created.room_id}") is None and doc(f"callSessions/{created.room_id}") is not None
    assert sweep(BASE + timedelta(days=31)) == {vocab.CALL_SESSIONS: 1}
    assert doc(f"callSessions/{created.room_id}") is None and doc(report_path) is not None
    assert sweep(BASE + timedelta(days=366)) == {vocab.REPORTS: 1}
    assert doc(report_path) is None
    # The room's deletion is an ordinary room event: nobody is left holding it.
    assert "currentRoomId" not in (doc(f"users/{b}") or {})


def test_an_open_room_carries_no_ttl(stack: Stack) -> None:
    a = new_user()
    created = select.create_select_room(a, 2, BASE)
    assert vocab.DELETE_AT not in (doc(f"rooms/{created.room_id}") or {})
    membership.leave(a, created.room_id, BASE)  # closed: no open room of 2002 for auto_close's tests
    assert vocab.DELETE_AT in (doc(f"rooms/{created.room_id}") or {})


@pytest.fixture
def deployed() -> Iterator[None]:
    import os

    reset_settings({**os.environ, "K_SERVICE": "auto-close"})
    yield
    reset_settings()


def test_the_sweep_stands_in_for_ttl_only_on_the_emulator(stack: Stack) -> None:
    assert retention.ttl_is_emulated()


def test_a_deployed_function_leaves_ttl_to_firestore(deployed: None) -> None:
    assert not retention.ttl_is_emulated()


def test_old_call_session_rows_are_deleted_in_batches(stack: Stack) -> None:
    engine = sqlalchemy.create_engine(stack.database_url, poolclass=sqlalchemy.pool.NullPool)
    try:
        months = settings().call_sessions_retention_months
        now = datetime(1995, 6, 1, tzinfo=UTC)
        old, young = [], []
        for i in range(5):
            started = now - timedelta(days=31 * months + 40 + i)
            old.append(row(f"old-{uuid.uuid4().hex}", started))
        young.append(row(f"young-{uuid.uuid4().hex}", now - timedelta(days=20)))
        for r in old + young:
            assert record_call_session(engine, r)
        deleted, more = retention.delete_old_call_sessions(engine, now, batch_size=2, max_batches=2)
        assert (deleted, more) == (4, True)  # bounded per run; the next minute goes on
        deleted, more = retention.delete_old_call_sessions(engine, now, batch_size=2, max_batches=2)
        assert (deleted, more) == (1, False)
        with engine.connect() as conn:
            left = conn.execute(
                sqlalchemy.text("SELECT session_id FROM call_sessions WHERE session_id = ANY(:ids)"),
                {"ids": [r.session_id for r in old + young]},
            ).scalars()
            assert list(left) == [young[0].session_id]
    finally:
        engine.dispose()


def row(session_id: str, started: datetime) -> CallSessionRow:
    return CallSessionRow(
        session_id=session_id,
        room_id="room",
        room_type="select",
        participant_count=2,
        started_at=started,
        ended_at=started + timedelta(minutes=3),
        duration_seconds=180,
        end_reason="normal",
    )
