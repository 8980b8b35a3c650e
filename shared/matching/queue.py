"""The random-matching queue: enqueue (POST /queue), leave (DELETE /queue, offline users), expiry,
and healing tickets whose claim Redis lost.

A queue ticket lives in two places that always change in the same order:
- Firestore `matchingQueue/{uid}`: the user's request, watched by the client and authoritative: the
  room-creation transaction pairs a user only while it exists.
- Redis: `matching:ticket:{uid}` (hash: id, place, gender classes, expiry) plus the user's entry in
  their class's queue set (while waiting) or their claim mark (while a worker seats them), and in the
  expiry index.
The user's status (matching / online) changes in the same Firestore transaction, through the
user's state module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import documents, keys, log, redis_scripts, safety
from shared.config import settings
from shared.errors import conflict
from shared.matching.model import Preferences, class_queues, own_gender
from shared.transactions import read, run
from shared.users.state import UserChanges

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentSnapshot, Transaction

logger = log.get_logger("shared.matching.queue")
# Grace before Redis itself drops an expired ticket hash: the expiry sweep normally gets there first
# and also settles Firestore; this only bounds garbage if the sweep stops running.
TICKET_REDIS_GRACE_MS = 3600 * 1000


@dataclass(frozen=True)
class Ticket:
    user_id: str
    preferences: Preferences
    priority: int
    created_at: datetime
    expires_at: datetime
    state: str  # 'queued' | 'claimed' (a worker is creating a room for it right now)

    def to_json(self) -> dict[str, Any]:
        from shared.times import rfc3339

        return {
            "userId": self.user_id,
            "preferences": self.preferences.to_doc(),
            "priority": self.priority,
            "createdAt": rfc3339(self.created_at),
            "expiresAt": rfc3339(self.expires_at),
            "state": self.state,
        }


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def enqueue(uid: str, preferences: Preferences, now: datetime) -> Ticket:
    """Put the caller in the queue, or refresh their ticket (same place). 409 if they are in a room."""
    from shared.rooms.membership import current_open_room

    expires_at = now + timedelta(seconds=settings().matching_ticket_ttl_s)

    def body(transaction: Transaction) -> tuple[bool, datetime, str, UserChanges]:
        user_snap, marker_snap, entry_snap = read(
            transaction, documents.user(uid), documents.suspension_marker(uid), documents.queue_entry(uid)
        )
        user = user_snap.to_dict() or {}
        safety.require_may_match(user, safety.marker_of(marker_snap), now)
        if current_open_room(transaction, uid, user, now):
            raise conflict("you are already in a room: leave it first", code="already_in_room")
        entry = entry_snap.to_dict() if entry_snap.exists else None
        created_at = entry["createdAt"] if entry and isinstance(entry.get("createdAt"), datetime) else now
        transaction.set(
            documents.queue_entry(uid),
            {
                "userId": uid,
                "preferences": preferences.to_doc(),
                "priority": 0,
                "createdAt": created_at,
                "expiresAt": expires_at,
            },
        )
        changes = UserChanges(transaction)
        changes.enter_queue(uid, user, now)
        return entry is not None, created_at, own_gender(user), changes

    refresh, created_at, gender, changes = run(body)
    changes.committed()
    state = put_ticket(
        uid,
        "refresh" if refresh else "fresh",
        _ms(created_at),
        _ms(expires_at),
        gender,
        preferences.want,
    )
    log.log_event(logger, "matching ticket", uid=uid, refresh=refresh, state=state, want=preferences.want)
    return Ticket(uid, preferences, 0, created_at, expires_at, state)


def ticket_script(
    uid: str, mode: str, place_ms: int, expires_ms: int, gender: str, want: str
) -> tuple[list[str], list[str | int]]:
    """The keys and arguments of enqueue.lua for one ticket (mode 'fresh' or 'refresh')."""
    return (
        [keys.MATCHING_EXPIRY, keys.MATCHING_CLAIMED],
        [
            keys.MATCHING_TICKET_PREFIX,
            keys.MATCHING_CLASS_PREFIX,
            uid,
            mode,
            place_ms,
            expires_ms,
            gender,
            want,
            0,
            TICKET_REDIS_GRACE_MS,
            keys.MATCHING_CLAIM_PREFIX,
        ],
    )


def put_ticket(uid: str, mode: str, place_ms: int, expires_ms: int, gender: str, want: str) -> str:
    """Queue the user in Redis (or refresh their ticket); returns 'queued' or 'claimed'."""
    script_keys, args = ticket_script(uid, mode, place_ms, expires_ms, gender, want)
    _place, state = redis_scripts.run("matching/enqueue", script_keys, args)
    return str(state)


def stage_cancel(transaction: Transaction, entry: DocumentSnapshot) -> bool:
    """Inside another transaction that seats the user (a select room): their request is void.
    Returns whether there was one; then call `forget_ticket` once that transaction committed."""
    if not entry.exists:
        return False
    transaction.delete(entry.reference)
    return True


def forget_ticket(uid: str, expired_by_ms: int | None = None) -> int:
    """Take the user's ticket out of Redis (queue entries, ticket, expiry entry). Returns 1 if
    anything was removed, 0 if nothing, -1 if `expired_by_ms` is given and the ticket was refreshed
    past it. A claim in flight keeps its record but can no longer requeue this user."""
    return int(
        redis_scripts.run(
            "matching/remove",
            [keys.MATCHING_EXPIRY, keys.MATCHING_CLAIMED, *class_queues()],
            [
                keys.MATCHING_TICKET_PREFIX,
                keys.MATCHING_CLASS_PREFIX,
                uid,
                "" if expired_by_ms is None else expired_by_ms,
            ],
        )
    )


def _leave_in_firestore(uid: str, now: datetime, expired_by: datetime | None = None) -> tuple[bool, bool]:
    """Delete the request (only an expired one when `expired_by` is given) and turn 'matching' back
    into 'online'. Returns (request deleted, status changed)."""

    def body(transaction: Transaction) -> tuple[bool, bool, UserChanges]:
        user_snap, entry_snap = read(transaction, documents.user(uid), documents.queue_entry(uid))
        entry = entry_snap.to_dict() if entry_snap.exists else None
        changes = UserChanges(transaction)
        if expired_by is not None:
            expires = (entry or {}).get("expiresAt")
            if entry is None or (isinstance(expires, datetime) and expires > expired_by):
                return False, False, changes  # refreshed meanwhile, or already gone
        if entry is not None:
            transaction.delete(documents.queue_entry(uid))
        user = user_snap.to_dict() if user_snap.exists else None
        return entry is not None, changes.leave_queue(uid, user, now), changes

    deleted, changed, changes = run(body)
    changes.committed()
    return deleted, changed


def remove_from_queue(uid: str, *, reason: str) -> bool:
    """Take the user out of matching: Redis ticket, `matchingQueue/{uid}`, and status 'matching' ->
    'online'. Idempotent; True if there was anything to remove. A pair already being turned into a
    room either loses this user (the room transaction sees no request) or has already seated them,
    never both."""
    now = datetime.now(UTC)
    removed_redis = forget_ticket(uid) > 0
    deleted, changed = _leave_in_firestore(uid, now)
    removed = removed_redis or deleted or changed
    log.log_event(logger, "left matching", uid=uid, reason=reason, removed=removed)
    return removed


def expire_tickets(now: datetime, limit: int) -> int:
    """Remove up to `limit` tickets whose expiry is at or before `now` (Redis ticket and queue
    entries, Firestore request, status back to 'online'). Finds them in Redis's expiry index and, for
    requests Redis lost track of, in Firestore. Returns how many users' requests this call expired."""
    from shared.firestore_queries import expired_queue_entries

    now_ms = _ms(now)
    expired: set[str] = set()
    due = redis_scripts.due(keys.MATCHING_EXPIRY, now_ms, limit)
    for uid in due:
        # The atomic Redis removal decides which of two overlapping runs owns this ticket.
        if forget_ticket(uid, expired_by_ms=now_ms) <= 0:
            continue  # refreshed between the two reads (-1), or another run took it (0)
        _leave_in_firestore(uid, now, expired_by=now)
        expired.add(uid)
    # Requests Redis lost track of (a flush, or a run that died between the two stores) are swept
    # only once Redis has nothing due, so they never race the owner of a ticket removed just above.
    if not due:
        for snap in expired_queue_entries(now).limit(limit).stream():
            uid = snap.id
            if forget_ticket(uid, expired_by_ms=now_ms) < 0:
                continue
            deleted, changed = _leave_in_firestore(uid, now, expired_by=now)
            if deleted or changed:
                expired.add(uid)
    if expired:
        log.log_event(logger, "matching tickets expired", count=len(expired))
    return len(expired)


def heal_orphaned_claims(limit: int = 1000) -> int:
    """Put back in the queue every user marked claimed whose claim record is gone (Redis evicted
    or lost it): no worker will ever settle it, and its user would wait forever. Returns how many."""
    healed = redis_scripts.run(
        "matching/heal",
        [keys.MATCHING_EXPIRY, keys.MATCHING_CLAIMED],
        [keys.MATCHING_TICKET_PREFIX, keys.MATCHING_CLASS_PREFIX, keys.MATCHING_CLAIM_PREFIX, limit],
    )
    if healed:
        log.log_event(logger, "orphaned claims healed", count=int(healed))
    return int(healed)
