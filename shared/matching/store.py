"""Firestore names and small helpers shared by the matching transactions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.clients.firestore import get_firestore

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, DocumentSnapshot, Transaction

USERS = "users"
ROOMS = "rooms"
QUEUE = "matchingQueue"
ROOM_CODES = "roomCodes"  # {code}: {roomId, expiresAt}: reservation making codes unique among open rooms
SYSTEM_CREATOR = "system"  # createdBy of random rooms: no user owns them
TRANSACTION_ATTEMPTS = 30  # joins of one room contend on its document; aborted attempts are retried


def user_ref(uid: str) -> DocumentReference:
    return get_firestore().collection(USERS).document(uid)


def mirror_ref(uid: str) -> DocumentReference:
    return get_firestore().collection(QUEUE).document(uid)


def room_ref(room_id: str) -> DocumentReference:
    return get_firestore().collection(ROOMS).document(room_id)


def code_ref(code: str) -> DocumentReference:
    return get_firestore().collection(ROOM_CODES).document(code)


def read(transaction: Transaction, *refs: DocumentReference) -> list[DocumentSnapshot]:
    """Snapshots of `refs` inside the transaction, in the order given."""
    by_path = {snap.reference.path: snap for snap in transaction.get_all(list(refs))}
    return [by_path[ref.path] for ref in refs]


def transaction() -> Transaction:
    return get_firestore().transaction(max_attempts=TRANSACTION_ATTEMPTS)


def is_open(room: dict[str, Any] | None, now: datetime) -> bool:
    if not room or room.get("status") == "closed":
        return False
    expires = room.get("expiresAt")
    return not (isinstance(expires, datetime) and expires <= now)


def current_open_room(transaction: Transaction, uid: str, user: dict[str, Any], now: datetime) -> str | None:
    """The open room the user is in, or None (a stale currentRoomId of a closed room counts as none)."""
    room_id = user.get("currentRoomId")
    if not room_id or not isinstance(room_id, str):
        return None
    (snap,) = read(transaction, room_ref(room_id))
    room = snap.to_dict() if snap.exists else None
    if is_open(room, now) and uid in (room or {}).get("participants", []):
        return room_id
    return None
