"""The room trigger's safety net: bring users and the call session in line with a room document that
was written some other way than through `membership` (an operator, a migration, a test), or whose
writer died half-way. On the normal path each of these finds nothing to do.

Every step re-reads the current documents inside a transaction and acts only when the current
state still calls for it, so late and repeated events are harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared import documents, vocab
from shared.rooms import lifecycle
from shared.rooms.membership import activation, close_if
from shared.transactions import read, run
from shared.users.state import UserChanges, current_room

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentSnapshot, Transaction


def activate(room_id: str, now: datetime) -> bool:
    """waiting with two or more participants -> active with its call session, exactly once."""

    def body(transaction: Transaction) -> bool:
        room_snap, session_snap = read(transaction, documents.room(room_id), documents.call_session(room_id))
        room = room_snap.to_dict() if room_snap.exists else None
        if room is None or not lifecycle.should_activate(room):
            return False
        transaction.update(documents.room(room_id), activation(room_id, now))
        if not session_snap.exists:
            transaction.create(documents.call_session(room_id), lifecycle.session_start(room_id, room, now))
        return True

    return run(body)


def close(room_id: str, now: datetime) -> bool:
    """An open room that can no longer go on (written so by someone else) -> closed, everything with it."""
    return close_if(room_id, now, vocab.NORMAL, lifecycle.should_close)


def release_departed(
    room_id: str, room: dict[str, Any] | None, uids: Iterable[str], now: datetime
) -> list[str]:
    """Users who are no longer in the room (or whose room closed or vanished) but still have it as
    their `currentRoomId`. One batched read finds them; only those get a transaction."""
    from shared.clients.firestore import get_firestore

    candidates = [uid for uid in uids if not _still_in(room, uid)]
    if not candidates:
        return []
    snapshots = get_firestore().get_all([documents.user(uid) for uid in candidates])
    stuck = [snap.id for snap in snapshots if snap.exists and current_room(snap.to_dict() or {}) == room_id]
    return [uid for uid in stuck if _release(room_id, uid, now)]


def _still_in(room: dict[str, Any] | None, uid: str) -> bool:
    return room is not None and room.get("status") != vocab.CLOSED and uid in lifecycle.participants(room)


def _release(room_id: str, uid: str, now: datetime) -> bool:
    def body(transaction: Transaction) -> tuple[bool, UserChanges]:
        room_snap, user_snap = read(transaction, documents.room(room_id), documents.user(uid))
        changes = UserChanges(transaction)
        room = room_snap.to_dict() if room_snap.exists else None
        if _still_in(room, uid):
            return False, changes  # an older event: the user is (again) in the room
        return changes.release(uid, user_snap.to_dict() if user_snap.exists else None, room_id, now), changes

    released, changes = run(body)
    changes.committed()
    return released


@dataclass(frozen=True)
class FinishedSession:
    session_id: str
    room_id: str
    room_type: str
    participant_count: int
    started_at: datetime
    ended_at: datetime
    duration_seconds: int
    end_reason: str
    quality: dict[str, Any]


def finished_session(
    room_id: str, room: dict[str, Any] | None, session: DocumentSnapshot
) -> FinishedSession | None:
    """The room's ended call session, ending it first if the room closed (or vanished) some other way."""
    data = session.to_dict() if session.exists else None
    if data is None:
        return None  # never activated: no call took place
    if data.get("endedAt") is None:
        data = _end_session(room_id)
        if data is None or data.get("endedAt") is None:
            return None
    return FinishedSession(
        session_id=room_id,
        room_id=room_id,
        room_type=data.get("roomType") or (room or {}).get("type") or vocab.RANDOM,
        participant_count=len(data.get("participants") or []),
        started_at=data["startedAt"],
        ended_at=data["endedAt"],
        duration_seconds=int(data["durationSeconds"]),
        end_reason=data.get("endReason") or vocab.NORMAL,
        quality=dict(data.get("qualityMetrics") or {}),
    )


def _end_session(room_id: str) -> dict[str, Any] | None:
    def body(transaction: Transaction) -> dict[str, Any] | None:
        room_snap, session_snap = read(transaction, documents.room(room_id), documents.call_session(room_id))
        if not session_snap.exists:
            return None
        session = session_snap.to_dict() or {}
        room = room_snap.to_dict() if room_snap.exists else None
        if room is not None and room.get("status") != vocab.CLOSED:
            return None
        if session.get("endedAt") is not None:
            return session
        ended = (room or {}).get("closedAt")
        end = lifecycle.session_end(
            session.get("startedAt"),
            ended if isinstance(ended, datetime) else datetime.now(UTC),
            lifecycle.end_reason(room),
        )
        transaction.update(documents.call_session(room_id), end)
        return {**session, **end}

    return run(body)
