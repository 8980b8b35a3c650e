"""Select rooms (created by a user, joined by code) and leaving any room.

Every change is one Firestore transaction over the room and the users it touches, so concurrent
joins can never over-fill a room and a user is never in two rooms. Joining or creating a room
cancels the caller's random-matching request in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import log
from shared.errors import conflict, not_found
from shared.matching import codes, config, store
from shared.matching.presence import mirror_status

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction

logger = log.get_logger("shared.matching.rooms")
CODE_ATTEMPTS = 8
# Joins of one room are queued on a short Redis lock before their transaction: Firestore's
# pessimistic transactions otherwise lock-wait on each other (on the emulator until they time out).
# The lock only avoids contention; the transaction alone keeps the room from over-filling, so a
# join that waited too long goes ahead without it. The wait stays under the function's 10 s timeout.
JOIN_LOCK_TTL_S = 10.0
JOIN_LOCK_WAIT_S = 7.0


@dataclass(frozen=True)
class SelectRoom:
    room_id: str
    room_code: str
    max_participants: int
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "roomId": self.room_id,
            "roomCode": self.room_code,
            "maxParticipants": self.max_participants,
            "expiresAt": self.expires_at.isoformat(),
        }


def _enter(transaction: Transaction, uid: str, room_id: str, now: datetime, had_ticket: bool) -> None:
    transaction.set(
        store.user_ref(uid), {"status": "in_call", "currentRoomId": room_id, "lastActiveAt": now}, merge=True
    )
    if had_ticket:
        transaction.delete(store.mirror_ref(uid))


def _after_enter(uid: str, had_ticket: bool) -> None:
    if had_ticket:
        from shared.matching.tickets import remove_ticket_in_redis

        remove_ticket_in_redis(uid)
    mirror_status(uid, "in_call")


def create_select_room(uid: str, max_participants: int, now: datetime) -> SelectRoom:
    from google.cloud import firestore

    expires_at = now + timedelta(seconds=config.room_ttl_s())
    room_ref = store.get_firestore().collection(store.ROOMS).document()

    @firestore.transactional
    def write(transaction: Transaction, code: str) -> bool | None:
        user_snap, mirror_snap, code_snap = store.read(
            transaction, store.user_ref(uid), store.mirror_ref(uid), store.code_ref(code)
        )
        if code_snap.exists:
            held_by = (code_snap.to_dict() or {}).get("roomId")
            (held,) = store.read(transaction, store.room_ref(str(held_by)))
            if store.is_open(held.to_dict() if held.exists else None, now):
                return None  # the code belongs to an open room: draw another
        if store.current_open_room(transaction, uid, user_snap.to_dict() or {}, now):
            raise conflict("you are already in a room: leave it first", code="already_in_room")
        transaction.create(
            room_ref,
            {
                "type": "select",
                "roomCode": code,
                "createdBy": uid,
                "participants": [uid],
                "maxParticipants": max_participants,
                "livekitRoomName": f"vchat-{room_ref.id}",
                "status": "waiting",
                "createdAt": now,
                "expiresAt": expires_at,
            },
        )
        transaction.set(store.code_ref(code), {"roomId": room_ref.id, "expiresAt": expires_at})
        _enter(transaction, uid, room_ref.id, now, mirror_snap.exists)
        return mirror_snap.exists

    for _ in range(CODE_ATTEMPTS):
        code = codes.new_code()
        had_ticket = write(store.transaction(), code)
        if had_ticket is not None:
            _after_enter(uid, had_ticket)
            log.log_event(logger, "select room created", roomId=room_ref.id, uid=uid, size=max_participants)
            return SelectRoom(room_ref.id, code, max_participants, expires_at)
    raise RuntimeError(f"no free room code after {CODE_ATTEMPTS} draws")


def join_by_code(uid: str, code: str, now: datetime) -> str:
    """Join the open room with this code. 404 unknown/closed, 409 full or caller in another room."""
    from google.cloud import firestore

    @firestore.transactional
    def write(transaction: Transaction) -> tuple[str, bool]:
        code_snap, user_snap, mirror_snap = store.read(
            transaction, store.code_ref(code), store.user_ref(uid), store.mirror_ref(uid)
        )
        room_id = (code_snap.to_dict() or {}).get("roomId") if code_snap.exists else None
        if not room_id:
            raise not_found("no open room has this code")
        (room_snap,) = store.read(transaction, store.room_ref(room_id))
        room = room_snap.to_dict() if room_snap.exists else None
        if room is None or not store.is_open(room, now) or room.get("roomCode") != code:
            raise not_found("no open room has this code")
        participants = list(room.get("participants", []))
        current = store.current_open_room(transaction, uid, user_snap.to_dict() or {}, now)
        if uid in participants:
            if current != room_id:
                _enter(transaction, uid, room_id, now, mirror_snap.exists)
            return room_id, mirror_snap.exists
        if current:
            raise conflict("you are already in another room: leave it first", code="already_in_room")
        if len(participants) >= int(room.get("maxParticipants", 2)):
            raise conflict("the room is full", code="room_full")
        transaction.update(store.room_ref(room_id), {"participants": [*participants, uid]})
        _enter(transaction, uid, room_id, now, mirror_snap.exists)
        return room_id, mirror_snap.exists

    from shared.clients.redis import get_redis

    lock = get_redis().lock(f"lock:roomcode:{code}", timeout=JOIN_LOCK_TTL_S, sleep=0.01)
    locked = lock.acquire(blocking_timeout=JOIN_LOCK_WAIT_S)
    if not locked:
        logger.warning("room join lock not acquired in time; joining without it")
    try:
        room_id, had_ticket = write(store.transaction())
    finally:
        if locked:
            _release(lock)
    _after_enter(uid, had_ticket)
    log.log_event(logger, "select room joined", roomId=room_id, uid=uid)
    return room_id


def leave_room(uid: str, room_id: str, now: datetime) -> bool:
    """Remove the caller from the room's participants and clear their currentRoomId/status, in one
    transaction (the room's lifecycle is on_room_written's job). Idempotent; 404 for no such room."""
    from google.cloud import firestore

    @firestore.transactional
    def write(transaction: Transaction) -> tuple[bool, str | None]:
        room_snap, user_snap = store.read(transaction, store.room_ref(room_id), store.user_ref(uid))
        if not room_snap.exists:
            raise not_found("no such room")
        participants = list((room_snap.to_dict() or {}).get("participants", []))
        user = user_snap.to_dict() or {}
        was_participant = uid in participants
        if was_participant:
            transaction.update(
                store.room_ref(room_id), {"participants": [p for p in participants if p != uid]}
            )
        if not (user_snap.exists and user.get("currentRoomId") == room_id):
            return was_participant, None
        status = "online" if user.get("status") == "in_call" else str(user.get("status") or "online")
        transaction.update(
            store.user_ref(uid), {"currentRoomId": None, "status": status, "lastActiveAt": now}
        )
        return was_participant, status

    left, status = write(store.transaction())
    if status is not None:
        mirror_status(uid, status)
    log.log_event(logger, "room left", roomId=room_id, uid=uid, left=left)
    return left or status is not None


def _release(lock: Any) -> None:
    """Release the join lock; one that already expired (a very slow join) is not an error."""
    from redis.exceptions import LockError

    try:
        lock.release()
    except LockError:
        logger.warning("room join lock expired before release")
