"""Who is in a room, changed in one Firestore transaction with every user it affects.

So a user is never in two rooms and a room never over-fills; and whatever the change causes happens
in the same transaction: the second participant activates the room (and starts its call session),
the last-but-one leaving closes it, ends the session and releases everyone still inside. The room
trigger is then left with bookkeeping only (Redis, analytics, realtime events).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import documents, log, vocab
from shared.errors import not_found
from shared.rooms import lifecycle
from shared.tokens import cache as token_cache
from shared.transactions import read, run
from shared.users.state import UserChanges, current_room

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction

logger = log.get_logger("shared.rooms.membership")


def current_open_room(transaction: Transaction, uid: str, user: dict[str, Any], now: datetime) -> str | None:
    """The open room the user takes part in, or None (a stale id of a closed room counts as none)."""
    room_id = current_room(user)
    if room_id is None:
        return None
    (snapshot,) = read(transaction, documents.room(room_id))
    room = snapshot.to_dict() if snapshot.exists else None
    if lifecycle.is_open(room, now) and uid in lifecycle.participants(room):
        return room_id
    return None


def activation(room_id: str, now: datetime) -> dict[str, Any]:
    """Room fields of a room that becomes active now (its session has the room's id)."""
    return {"status": vocab.ACTIVE, "activatedAt": now, "sessionId": room_id}


def stage_entry(
    transaction: Transaction,
    changes: UserChanges,
    room_id: str,
    room: dict[str, Any],
    uid: str,
    now: datetime,
) -> None:
    """`uid` joins an existing open room (the caller checked it is open, not full and that the user
    is in no other room). The second participant activates a waiting room."""
    from google.cloud import firestore

    members = [*lifecycle.participants(room), uid]
    update: dict[str, Any] = {"participants": members}
    joined = {**room, "participants": members}
    if lifecycle.should_activate(joined):
        update.update(activation(room_id, now))
        transaction.create(documents.call_session(room_id), lifecycle.session_start(room_id, joined, now))
    elif room.get("status") == vocab.ACTIVE and room.get("sessionId"):
        # The session lists everyone who took part (reports check it).
        transaction.update(documents.call_session(room_id), {"participants": firestore.ArrayUnion([uid])})
    transaction.update(documents.room(room_id), update)
    changes.seat(uid, room_id, now)


def stage_close(
    transaction: Transaction,
    changes: UserChanges,
    room_id: str,
    room: dict[str, Any],
    members: Mapping[str, dict[str, Any] | None],
    now: datetime,
    reason: str,
) -> None:
    """Close the room: its status, the end of its call session, and every member released.
    `members` are the users still in it, read in this transaction. Cached tokens of the room are
    revoked before the commit."""
    token_cache.revoke(room_id, room_closed=True)
    transaction.update(
        documents.room(room_id),
        {
            "status": vocab.CLOSED,
            "closedAt": now,
            "closeReason": reason,
            "participants": list(members),
            vocab.DELETE_AT: lifecycle.closed_room_delete_at(now),  # Firestore TTL (retention)
        },
    )
    if room.get("sessionId"):
        transaction.update(
            documents.call_session(room_id), lifecycle.session_end(room.get("activatedAt"), now, reason)
        )
    for uid, user in members.items():
        changes.release(uid, user, room_id, now)


@dataclass(frozen=True)
class Left:
    was_participant: bool
    released: bool
    closed: bool

    @property
    def changed(self) -> bool:
        return self.was_participant or self.released


def leave(uid: str, room_id: str, now: datetime, *, missing_ok: bool = False) -> Left:
    """The user leaves the room: out of its participants, released, and the room closed (with its
    session ended and the others released) when it can no longer go on. Idempotent; 404 for an
    unknown room unless `missing_ok`."""
    return leave_together([uid], room_id, now, missing_ok=missing_ok)


def leave_together(uids: Sequence[str], room_id: str, now: datetime, *, missing_ok: bool = False) -> Left:
    """`leave` for several users at once, in one transaction: a block between two people in the same
    room ends their shared call for both (and closes the room when it can no longer go on, a pair's
    room always). `was_participant` / `released`: for any of them."""

    def body(transaction: Transaction) -> tuple[Left, UserChanges]:
        changes = UserChanges(transaction)
        room_snap, *user_snaps = read(
            transaction, documents.room(room_id), *(documents.user(uid) for uid in uids)
        )
        users = {snap.id: (snap.to_dict() if snap.exists else None) for snap in user_snaps}
        if not room_snap.exists:
            if missing_ok:
                released = [changes.release(uid, users[uid], room_id, now) for uid in uids]
                return Left(False, any(released), False), changes
            raise not_found("no such room")
        room = room_snap.to_dict() or {}
        members = lifecycle.participants(room)
        open_room = room.get("status") != vocab.CLOSED
        was_participant = open_room and any(uid in members for uid in uids)
        remaining = [member for member in members if member not in uids]
        closing = was_participant and lifecycle.should_close({**room, "participants": remaining})
        # (nothing to read when the last one leaves: an empty batch read is an error)
        others = read(transaction, *(documents.user(m) for m in remaining)) if closing and remaining else []
        released = [changes.release(uid, users[uid], room_id, now) for uid in uids]
        if closing:
            still_in = {snap.id: (snap.to_dict() if snap.exists else None) for snap in others}
            stage_close(transaction, changes, room_id, room, still_in, now, vocab.NORMAL)
        elif was_participant:
            transaction.update(documents.room(room_id), {"participants": remaining})
        return Left(was_participant, any(released), closing), changes

    result, changes = run(body)
    changes.committed()
    log.log_event(
        logger,
        "room left",
        roomId=room_id,
        uid=uids[0] if len(uids) == 1 else list(uids),
        left=result.was_participant,
        closed=result.closed,
    )
    return result


def close_if(room_id: str, now: datetime, reason: str, still_due: Callable[[dict[str, Any]], bool]) -> bool:
    """Close an open room if, read again inside the transaction, `still_due(room)` holds (auto_close:
    expired or waited too long). Whether it closed."""

    def body(transaction: Transaction) -> UserChanges | None:
        (snapshot,) = read(transaction, documents.room(room_id))
        room = snapshot.to_dict() if snapshot.exists else None
        if room is None or room.get("status") not in vocab.OPEN_ROOM_STATUSES or not still_due(room):
            return None
        members = lifecycle.participants(room)
        snapshots = read(transaction, *(documents.user(member) for member in members)) if members else []
        users = {snap.id: (snap.to_dict() if snap.exists else None) for snap in snapshots}
        changes = UserChanges(transaction)
        stage_close(transaction, changes, room_id, room, users, now, reason)
        return changes

    changes = run(body)
    if changes is None:
        return False
    changes.committed()
    return True
