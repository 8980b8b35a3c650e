"""Queue tickets: enqueue (POST /queue), leave (DELETE /queue, offline users) and expiry.

A ticket lives in two places that always change in the same order:
- Firestore `matchingQueue/{uid}`: the user's request, watched by the client and authoritative: the
  room-creation transaction pairs a user only while it exists.
- Redis: `matching:ticket:{uid}` (hash: id, place, gender classes, expiry, claim) plus the user's
  entries in the queue sorted sets and in the expiry index.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import keys, log
from shared.errors import conflict
from shared.matching import config, scripts, store
from shared.matching.model import Preferences, own_gender
from shared.matching.presence import mirror_status

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction

logger = log.get_logger("shared.matching.tickets")


@dataclass(frozen=True)
class Ticket:
    user_id: str
    preferences: Preferences
    priority: int
    created_at: datetime
    expires_at: datetime
    state: str  # 'queued' | 'claimed' (a worker is creating a room for it right now)

    def to_json(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "preferences": self.preferences.to_doc(),
            "priority": self.priority,
            "createdAt": self.created_at.isoformat(),
            "expiresAt": self.expires_at.isoformat(),
            "state": self.state,
        }


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def enqueue(uid: str, preferences: Preferences, now: datetime) -> Ticket:
    """Put the caller in the queue, or refresh their ticket (same place). 409 if they are in a room."""
    from google.cloud import firestore

    expires_at = now + timedelta(seconds=config.ticket_ttl_s())

    @firestore.transactional
    def write(transaction: Transaction) -> tuple[bool, datetime, str]:
        user_snap, mirror_snap = store.read(transaction, store.user_ref(uid), store.mirror_ref(uid))
        user = user_snap.to_dict() or {}
        if store.current_open_room(transaction, uid, user, now):
            raise conflict("you are already in a room: leave it first", code="already_in_room")
        mirror = mirror_snap.to_dict() if mirror_snap.exists else None
        created_at = mirror["createdAt"] if mirror and isinstance(mirror.get("createdAt"), datetime) else now
        transaction.set(
            store.mirror_ref(uid),
            {
                "userId": uid,
                "preferences": preferences.to_doc(),
                "priority": 0,
                "createdAt": created_at,
                "expiresAt": expires_at,
            },
        )
        transaction.set(
            store.user_ref(uid),
            {"status": "matching", "currentRoomId": None, "lastActiveAt": now},
            merge=True,
        )
        return mirror is not None, created_at, own_gender(user)

    refresh, created_at, gender = write(store.transaction())
    _ticket_id, _place, state = scripts.run(
        "enqueue",
        [keys.MATCHING_QUEUE, keys.MATCHING_EXPIRY],
        [
            keys.MATCHING_TICKET_PREFIX,
            keys.MATCHING_CLASS_PREFIX,
            uid,
            "refresh" if refresh else "fresh",
            uuid.uuid4().hex,
            _ms(created_at),
            _ms(expires_at),
            gender,
            preferences.want,
            0,
            config.TICKET_REDIS_GRACE_MS,
        ],
    )
    mirror_status(uid, "matching")
    log.log_event(logger, "matching ticket", uid=uid, refresh=refresh, state=state, want=preferences.want)
    return Ticket(uid, preferences, 0, created_at, expires_at, str(state))


def remove_ticket_in_redis(uid: str, expired_by_ms: int | None = None) -> int:
    return int(
        scripts.run(
            "remove",
            [keys.MATCHING_QUEUE, keys.MATCHING_EXPIRY],
            [
                keys.MATCHING_TICKET_PREFIX,
                keys.MATCHING_CLASS_PREFIX,
                uid,
                "" if expired_by_ms is None else expired_by_ms,
            ],
        )
    )


def _remove_in_firestore(uid: str, now: datetime, expired_by: datetime | None = None) -> tuple[bool, bool]:
    """Delete the mirror (only an expired one when `expired_by` is given) and turn 'matching' back to
    'online'. Returns (mirror deleted, status changed)."""
    from google.cloud import firestore

    @firestore.transactional
    def write(transaction: Transaction) -> tuple[bool, bool]:
        user_snap, mirror_snap = store.read(transaction, store.user_ref(uid), store.mirror_ref(uid))
        mirror = mirror_snap.to_dict() if mirror_snap.exists else None
        if expired_by is not None:
            expires = (mirror or {}).get("expiresAt")
            if mirror is None or (isinstance(expires, datetime) and expires > expired_by):
                return False, False  # refreshed meanwhile, or already gone
        if mirror is not None:
            transaction.delete(store.mirror_ref(uid))
        user = user_snap.to_dict() or {}
        status_changed = user_snap.exists and user.get("status") == "matching"
        if status_changed:
            transaction.update(store.user_ref(uid), {"status": "online", "lastActiveAt": now})
        return mirror is not None, bool(status_changed)

    return write(store.transaction())


def remove_from_queue(uid: str, *, reason: str) -> bool:
    """Take the user out of matching: Redis queue entry and ticket, `matchingQueue/{uid}`, and status
    'matching' -> 'online'. Idempotent; True if there was anything to remove. A pair already being
    turned into a room either loses this user (the room transaction sees no mirror) or has already
    put them in the room, never both."""
    now = datetime.now(UTC)
    removed_redis = remove_ticket_in_redis(uid) > 0
    mirror_deleted, status_changed = _remove_in_firestore(uid, now)
    if status_changed:
        mirror_status(uid, "online")
    removed = removed_redis or mirror_deleted or status_changed
    log.log_event(logger, "left matching", uid=uid, reason=reason, removed=removed)
    return removed


def expire_tickets(now: datetime, limit: int) -> int:
    """Remove up to `limit` tickets whose expiry is at or before `now` (Redis ticket and queue
    entries, Firestore mirror, status back to 'online'). Finds them in Redis's expiry index and, for
    mirrors Redis lost track of, in Firestore. Returns how many users' requests this call expired."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    now_ms = _ms(now)
    expired: set[str] = set()
    due = scripts.due(keys.MATCHING_EXPIRY, now_ms, limit)
    for uid in due:
        # The atomic Redis removal decides which of two overlapping runs owns this ticket.
        if remove_ticket_in_redis(uid, expired_by_ms=now_ms) <= 0:
            continue  # refreshed between the two reads (-1), or another run took it (0)
        _, changed = _remove_in_firestore(uid, now, expired_by=now)
        if changed:
            mirror_status(uid, "online")
        expired.add(uid)
    # Mirrors Redis lost track of (a flush, or a run that died between the two stores) are swept
    # only once Redis has nothing due, so they never race the owner of a ticket removed just above.
    if not due:
        query = (
            store.get_firestore()
            .collection(store.QUEUE)
            .where(filter=FieldFilter("expiresAt", "<=", now))
            .limit(limit)
        )
        for snap in query.stream():
            uid = snap.id
            if remove_ticket_in_redis(uid, expired_by_ms=now_ms) < 0:
                continue
            deleted, changed = _remove_in_firestore(uid, now, expired_by=now)
            if changed:
                mirror_status(uid, "online")
            if deleted or changed:
                expired.add(uid)
    if expired:
        log.log_event(logger, "matching tickets expired", count=len(expired))
    return len(expired)
