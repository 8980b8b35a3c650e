"""Helpers shared by the matching tests: users in Firestore, a clean matching state in Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.clients.firestore import get_firestore
from shared.clients.redis import get_redis
from shared.matching.model import class_queues


def new_user(gender: str | None = None, prefix: str = "u", **fields: Any) -> str:
    uid = f"{prefix}-{uuid.uuid4().hex[:12]}"
    doc: dict[str, Any] = {
        "displayName": uid,
        "status": "online",
        "lastActiveAt": datetime.now(UTC),
        "adultConfirmedAt": datetime.now(UTC),  # the queue and select rooms require it
        **fields,
    }
    if gender:
        doc["gender"] = gender
    get_firestore().collection("users").document(uid).set(doc)
    return uid


def user(uid: str) -> dict[str, Any]:
    return get_firestore().collection("users").document(uid).get().to_dict() or {}


def mirror(uid: str) -> dict[str, Any] | None:
    snap = get_firestore().collection("matchingQueue").document(uid).get()
    return snap.to_dict() if snap.exists else None


def room(room_id: str) -> dict[str, Any] | None:
    snap = get_firestore().collection("rooms").document(room_id).get()
    return snap.to_dict() if snap.exists else None


def queued_entries(key: str) -> list[tuple[str, float]]:
    """(uid, place) of one class set, oldest first: its members are "{uid}|{ticket expiry}"."""
    return [
        (str(member).split("|")[0], score)
        for member, score in get_redis().zrange(key, 0, -1, withscores=True)
    ]


def waiting() -> list[str]:
    """Everyone in the random queue (all class sets), oldest first."""
    entries = [(score, uid) for key in class_queues() for uid, score in queued_entries(key)]
    return [uid for _, uid in sorted(entries)]


def place(uid: str) -> float | None:
    """The user's place in the random queue (their class set's score), None when not waiting."""
    for key in class_queues():
        for member, score in queued_entries(key):
            if member == uid:
                return float(score)
    return None


def clear_matching_redis() -> None:
    r = get_redis()
    names = list(r.scan_iter("matching:*", count=1000))
    if names:
        r.delete(*names)
