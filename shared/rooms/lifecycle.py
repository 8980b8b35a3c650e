"""Room lifecycle decisions, as pure functions of a room document: waiting -> active -> closed.

- A room is open while it is not closed and its `expiresAt` has not passed.
- A `waiting` room with two or more participants becomes `active`, with its call session
  `callSessions/{roomId}` created in the same transaction (a room activates at most once, so the
  room id is the session id).
- An `active` room with fewer than two participants, or a `waiting` one with none, closes; its
  call session ends with it, and every user still in it is released.
The transactions that apply these live in `membership` (the normal path: the change that causes a
transition applies it) and `reconcile` (the room trigger's safety net).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared import vocab


def participants(room: dict[str, Any] | None) -> list[str]:
    value = (room or {}).get("participants") or []
    return [uid for uid in value if isinstance(uid, str)]


def is_open(room: dict[str, Any] | None, now: datetime) -> bool:
    if not room or room.get("status") == vocab.CLOSED:
        return False
    expires = room.get("expiresAt")
    return not (isinstance(expires, datetime) and expires <= now)


def should_activate(room: dict[str, Any] | None) -> bool:
    return bool(room) and room.get("status") == vocab.WAITING and len(participants(room)) >= 2  # type: ignore[union-attr]


def should_close(room: dict[str, Any] | None) -> bool:
    if not room:
        return False
    count = len(participants(room))
    status = room.get("status")
    return (status == vocab.ACTIVE and count < 2) or (status == vocab.WAITING and count == 0)


def users_who_left(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """Participants of `before` missing from `after`; everyone when the room closed or vanished."""
    if after is None or after.get("status") == vocab.CLOSED:
        return sorted(set(participants(before)) | set(participants(after)))
    return sorted(set(participants(before)) - set(participants(after)))


def end_reason(room: dict[str, Any] | None) -> str:
    if room is None:
        return vocab.ERROR  # deleted rather than closed: not a normal end
    reason = room.get("closeReason")
    return reason if reason in vocab.END_REASONS else vocab.NORMAL


def session_start(room_id: str, room: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The call session document a room gets when it becomes active."""
    return {
        "roomId": room_id,
        "roomType": room.get("type"),
        "participants": participants(room),
        "startedAt": now,
    }


def session_end(started: Any, ended: datetime, reason: str) -> dict[str, Any]:
    """The fields that end a call session, with the time its Firestore TTL policy deletes it."""
    from shared.config import settings

    start = started if isinstance(started, datetime) else ended
    ended = max(ended, start)
    return {
        "endedAt": ended,
        "durationSeconds": int((ended - start).total_seconds()),
        "endReason": reason,
        vocab.DELETE_AT: ended + timedelta(days=settings().retention_call_session_days),
    }


def closed_room_delete_at(closed: datetime) -> datetime:
    """When the Firestore TTL policy deletes a room closed at `closed`."""
    from shared.config import settings

    return closed + timedelta(days=settings().retention_closed_room_days)
