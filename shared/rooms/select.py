"""Select rooms: created by a user, joined by its code.

Each is one Firestore transaction over the room, its code reservation and the user (through
`membership` and the user's state), so concurrent joins can never over-fill a room and a user is
never in two rooms. Creating or joining cancels the caller's random-matching request in the same
transaction. To someone outside it, a full room and a missing one look the same (404), so codes
cannot be probed for which rooms exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import documents, keys, log, safety, vocab
from shared.config import settings
from shared.errors import ApiError, conflict
from shared.matching import queue
from shared.rooms import codes, lifecycle, membership
from shared.transactions import read, run
from shared.users.state import UserChanges

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction

logger = log.get_logger("shared.rooms.select")
CODE_ATTEMPTS = 8
# Joins of one room queue on a short Redis lock before their transaction: Firestore's pessimistic
# transactions otherwise lock-wait on each other. The lock only avoids contention; the transaction
# alone keeps the room from over-filling, so a join that waited too long goes ahead without it.
JOIN_LOCK_TTL_S = 10.0
JOIN_LOCK_WAIT_S = 3.0


def no_room_with_this_code() -> ApiError:
    return ApiError(404, "not_found", "no open room with a free place has this code")


@dataclass(frozen=True)
class SelectRoom:
    room_id: str
    room_code: str
    max_participants: int
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        from shared.times import rfc3339

        return {
            "roomId": self.room_id,
            "roomCode": self.room_code,
            "maxParticipants": self.max_participants,
            "expiresAt": rfc3339(self.expires_at),
        }


def create_select_room(uid: str, max_participants: int, now: datetime) -> SelectRoom:
    expires_at = now + timedelta(seconds=settings().matching_room_ttl_s)
    room_ref = documents.new_room()
    room_id = room_ref.id

    def body(transaction: Transaction, code: str) -> tuple[bool, UserChanges] | None:
        user_snap, marker_snap, entry_snap, code_snap = read(
            transaction,
            documents.user(uid),
            documents.suspension_marker(uid),
            documents.queue_entry(uid),
            documents.room_code(code),
        )
        safety.require_may_match(user_snap.to_dict() or {}, safety.marker_of(marker_snap), now)
        if code_snap.exists:
            held_by = str((code_snap.to_dict() or {}).get("roomId"))
            (held,) = read(transaction, documents.room(held_by))
            if lifecycle.is_open(held.to_dict() if held.exists else None, now):
                return None  # the code belongs to an open room: draw another
        if membership.current_open_room(transaction, uid, user_snap.to_dict() or {}, now):
            raise conflict("you are already in a room: leave it first", code="already_in_room")
        transaction.create(
            room_ref,
            {
                "type": vocab.SELECT,
                "roomCode": code,
                "createdBy": uid,
                "participants": [uid],
                "maxParticipants": max_participants,
                "livekitRoomName": f"vchat-{room_id}",
                "status": vocab.WAITING,
                "createdAt": now,
                "expiresAt": expires_at,
            },
        )
        transaction.set(documents.room_code(code), {"roomId": room_id, "expiresAt": expires_at})
        changes = UserChanges(transaction)
        changes.seat(uid, room_id, now)
        return queue.stage_cancel(transaction, entry_snap), changes

    for _ in range(CODE_ATTEMPTS):
        code = codes.new_code()
        result = run(lambda transaction, code=code: body(transaction, code))  # type: ignore[misc]
        if result is not None:
            had_ticket, changes = result
            changes.committed()
            if had_ticket:
                queue.forget_ticket(uid)
            log.log_event(logger, "select room created", roomId=room_id, uid=uid, size=max_participants)
            return SelectRoom(room_id, code, max_participants, expires_at)
    raise RuntimeError(f"no free room code after {CODE_ATTEMPTS} draws")


def join_by_code(uid: str, code: str, now: datetime) -> str:
    """Join the open room with this code. 404 when no open room with a free place has it, 409 when the
    caller is in another room."""

    def body(transaction: Transaction) -> tuple[str, bool, UserChanges]:
        code_snap, user_snap, marker_snap, entry_snap = read(
            transaction,
            documents.room_code(code),
            documents.user(uid),
            documents.suspension_marker(uid),
            documents.queue_entry(uid),
        )
        safety.require_may_match(user_snap.to_dict() or {}, safety.marker_of(marker_snap), now)
        room_id = (code_snap.to_dict() or {}).get("roomId") if code_snap.exists else None
        if not isinstance(room_id, str) or not room_id:
            raise no_room_with_this_code()
        (room_snap,) = read(transaction, documents.room(room_id))
        room = room_snap.to_dict() if room_snap.exists else None
        if room is None or not lifecycle.is_open(room, now) or room.get("roomCode") != code:
            raise no_room_with_this_code()
        members = lifecycle.participants(room)
        current = membership.current_open_room(transaction, uid, user_snap.to_dict() or {}, now)
        changes = UserChanges(transaction)
        if uid in members:
            if current != room_id:
                changes.seat(uid, room_id, now)
            return room_id, queue.stage_cancel(transaction, entry_snap), changes
        if current:
            raise conflict("you are already in another room: leave it first", code="already_in_room")
        if len(members) >= int(room.get("maxParticipants", 2)):
            raise no_room_with_this_code()
        if safety.blocked_with_any(transaction, uid, members):
            raise no_room_with_this_code()  # as for a full room: a block is not revealed
        membership.stage_entry(transaction, changes, room_id, room, uid, now)
        return room_id, queue.stage_cancel(transaction, entry_snap), changes

    from shared.clients.redis import get_redis

    lock = get_redis().lock(keys.room_code_lock(code), timeout=JOIN_LOCK_TTL_S, sleep=0.01)
    locked = lock.acquire(blocking_timeout=JOIN_LOCK_WAIT_S)
    if not locked:
        logger.warning("room join lock not acquired in time; joining without it")
    try:
        room_id, had_ticket, changes = run(body)
    finally:
        if locked:
            _release(lock)
    changes.committed()
    if had_ticket:
        queue.forget_ticket(uid)
    log.log_event(logger, "select room joined", roomId=room_id, uid=uid)
    return room_id


def _release(lock: Any) -> None:
    """Release the join lock; one that already expired (a very slow join) is not an error."""
    from redis.exceptions import LockError

    try:
        lock.release()
    except LockError:
        logger.warning("room join lock expired before release")
