"""Room lifecycle driven by `rooms/{roomId}` writes: waiting -> active -> closed.

Events arrive at least once and in any order, so every step re-reads the current documents inside a
Firestore transaction and acts only when the current state still calls for it. The event only says
which room (and which users left it) to look at; it never decides on its own.

- activate: a `waiting` room with >= 2 participants becomes `active`; its call session
  `callSessions/{roomId}` is created in the same transaction (a room activates at most once, so the
  room id is the session id and a second delivery finds the session already there).
- close: an `active` room with < 2 participants, or a `waiting` one with none, becomes `closed`
  (closeReason `normal`; auto_close closes expired rooms with `timeout`).
- release: a user who is no longer a participant (or whose room closed) gets `currentRoomId` cleared
  and, if they were `in_call`, status `online`.
- finish: a closed room's call session gets `endedAt`, `durationSeconds`, `endReason`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud.firestore import Client, Transaction

ROOMS = "rooms"
USERS = "users"
CALL_SESSIONS = "callSessions"
END_REASONS = ("normal", "timeout", "error")


def participants(room: dict[str, Any] | None) -> list[str]:
    value = (room or {}).get("participants") or []
    return [uid for uid in value if isinstance(uid, str)]


def should_activate(room: dict[str, Any] | None) -> bool:
    return bool(room) and room.get("status") == "waiting" and len(participants(room)) >= 2  # type: ignore[union-attr]


def should_close(room: dict[str, Any] | None) -> bool:
    if not room:
        return False
    count = len(participants(room))
    status = room.get("status")
    return (status == "active" and count < 2) or (status == "waiting" and count == 0)


def users_who_left(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """Participants of `before` missing from `after`; everyone when the room closed or vanished."""
    if after is None or after.get("status") == "closed":
        return sorted(set(participants(before)) | set(participants(after)))
    return sorted(set(participants(before)) - set(participants(after)))


def end_reason(room: dict[str, Any] | None) -> str:
    if room is None:
        return "error"  # deleted rather than closed: not a normal end
    reason = room.get("closeReason")
    return reason if reason in END_REASONS else "normal"


def _run_transaction(client: Client, body: Any) -> Any:
    """Run `body(transaction)` in a retried transaction and return its result."""
    from google.cloud import firestore

    return firestore.transactional(body)(client.transaction(max_attempts=10))


@dataclass(frozen=True)
class Outcome:
    """What one step changed, for the event's log line (empty when nothing needed doing)."""

    activated: bool = False
    closed: bool = False
    session_ended: bool = False
    released: tuple[str, ...] = ()


def activate(client: Client, room_id: str) -> bool:
    """waiting -> active with its call session, exactly once."""
    from google.cloud import firestore

    room_ref = client.collection(ROOMS).document(room_id)
    session_ref = client.collection(CALL_SESSIONS).document(room_id)

    def body(transaction: Transaction) -> bool:
        snapshot = room_ref.get(transaction=transaction)
        room = snapshot.to_dict() if snapshot.exists else None
        if not should_activate(room):
            return False
        session = session_ref.get(transaction=transaction)
        assert room is not None
        transaction.update(
            room_ref,
            {"status": "active", "activatedAt": firestore.SERVER_TIMESTAMP, "sessionId": room_id},
        )
        if not session.exists:
            transaction.create(
                session_ref,
                {
                    "roomId": room_id,
                    "roomType": room.get("type"),
                    "participants": participants(room),
                    "startedAt": firestore.SERVER_TIMESTAMP,
                },
            )
        return True

    return bool(_run_transaction(client, body))


def close_if_needed(client: Client, room_id: str) -> bool:
    from google.cloud import firestore

    room_ref = client.collection(ROOMS).document(room_id)

    def body(transaction: Transaction) -> bool:
        snapshot = room_ref.get(transaction=transaction)
        if not snapshot.exists or not should_close(snapshot.to_dict()):
            return False
        transaction.update(
            room_ref,
            {"status": "closed", "closedAt": firestore.SERVER_TIMESTAMP, "closeReason": "normal"},
        )
        return True

    return bool(_run_transaction(client, body))


def release_users(client: Client, room_id: str, uids: Iterable[str]) -> list[str]:
    """Clear `currentRoomId` of users who are no longer in the room (or whose room closed)."""
    from google.cloud import firestore

    room_ref = client.collection(ROOMS).document(room_id)
    released = []
    for uid in uids:
        user_ref = client.collection(USERS).document(uid)

        def body(transaction: Transaction, user_ref: Any = user_ref, uid: str = uid) -> bool:
            room_snapshot = room_ref.get(transaction=transaction)
            user_snapshot = user_ref.get(transaction=transaction)
            if not user_snapshot.exists:
                return False
            user = user_snapshot.to_dict() or {}
            if user.get("currentRoomId") != room_id:
                return False  # already released, or already in another room
            room = room_snapshot.to_dict() if room_snapshot.exists else None
            still_in = room is not None and room.get("status") != "closed" and uid in participants(room)
            if still_in:
                return False  # an older event: the user is (again) in the room
            update: dict[str, Any] = {"currentRoomId": firestore.DELETE_FIELD}
            if user.get("status") == "in_call":
                update["status"] = "online"
            transaction.update(user_ref, update)
            return True

        if _run_transaction(client, body):
            released.append(uid)
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


def finish_session(client: Client, room_id: str) -> tuple[bool, FinishedSession | None]:
    """End the room's call session if the room is closed (or gone); returns (changed, session)."""
    session_ref = client.collection(CALL_SESSIONS).document(room_id)
    room_ref = client.collection(ROOMS).document(room_id)

    def body(transaction: Transaction) -> tuple[bool, dict[str, Any] | None]:
        room_snapshot = room_ref.get(transaction=transaction)
        session_snapshot = session_ref.get(transaction=transaction)
        if not session_snapshot.exists:
            return False, None  # never activated: nothing to end
        session = session_snapshot.to_dict() or {}
        room = room_snapshot.to_dict() if room_snapshot.exists else None
        if room is not None and room.get("status") != "closed":
            return False, None
        if session.get("endedAt") is not None:
            return False, session
        started = session.get("startedAt") or datetime.now(UTC)
        ended = (room or {}).get("closedAt") or datetime.now(UTC)
        ended = max(ended, started)
        update = {
            "endedAt": ended,
            "durationSeconds": int((ended - started).total_seconds()),
            "endReason": end_reason(room),
        }
        transaction.update(session_ref, update)
        return True, {**session, **update, "roomType": session.get("roomType") or (room or {}).get("type")}

    changed, session = _run_transaction(client, body)
    if session is None or session.get("endedAt") is None:
        return changed, None
    return changed, FinishedSession(
        session_id=room_id,
        room_id=room_id,
        room_type=session.get("roomType") or "random",
        participant_count=len(session.get("participants") or []),
        started_at=session["startedAt"],
        ended_at=session["endedAt"],
        duration_seconds=int(session["durationSeconds"]),
        end_reason=session.get("endReason") or "normal",
        quality=dict(session.get("qualityMetrics") or {}),
    )


def leave_room(client: Client, room_id: str, uid: str) -> bool:
    """Remove `uid` from the room's participants (a user who went offline or was deleted)."""
    from google.cloud import firestore

    room_ref = client.collection(ROOMS).document(room_id)

    def body(transaction: Transaction) -> bool:
        snapshot = room_ref.get(transaction=transaction)
        if not snapshot.exists:
            return False
        room = snapshot.to_dict() or {}
        if room.get("status") == "closed" or uid not in participants(room):
            return False
        transaction.update(room_ref, {"participants": firestore.ArrayRemove([uid])})
        return True

    return bool(_run_transaction(client, body))
