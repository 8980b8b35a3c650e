"""Presence heartbeats: Redis on every beat, Firestore only on a change or once per window.

A client beats every ~20 s while the app is open. Redis `presence:user:{uid}` (TTL 30 s) is the live
view; `users/{uid}.status/lastActiveAt` is written when the status changes or when the last write is
older than the coalescing window (a `presence:synced:{uid}` key with that TTL remembers the last
write), so a million idle-but-open clients cost one Firestore write per user per minute, not three.
'online' never overrides the server-set 'in_call' or 'matching'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import keys
from shared.clients.redis import get_redis
from shared.matching import config, scripts, store

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction

CLIENT_STATUSES = ("online", "offline")
SERVER_STATUSES = ("in_call", "matching")


@dataclass(frozen=True)
class Heartbeat:
    status: str  # the effective status
    written: bool  # whether Firestore was written


def mirror_status(uid: str, status: str) -> None:
    """After the server wrote users/{uid}.status (and lastActiveAt): the same in Redis."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.set(keys.presence(uid), status, ex=keys.PRESENCE_TTL_S)
    pipe.set(keys.presence_synced(uid), status, ex=config.presence_write_interval_s())
    pipe.execute()


def heartbeat(uid: str, requested: str, now: datetime) -> Heartbeat:
    effective, write = scripts.run(
        "presence",
        [keys.presence(uid), keys.presence_synced(uid)],
        [requested, keys.PRESENCE_TTL_S, config.presence_write_interval_s()],
    )
    if not int(write):
        return Heartbeat(str(effective), False)
    try:
        status = _write(uid, requested, now)
    except Exception:
        get_redis().delete(keys.presence_synced(uid))  # the next beat tries again
        raise
    if status != effective:
        mirror_status(uid, status)
    return Heartbeat(status, True)


def _write(uid: str, requested: str, now: datetime) -> str:
    from google.cloud import firestore

    @firestore.transactional
    def write(transaction: Transaction) -> str:
        (snap,) = store.read(transaction, store.user_ref(uid))
        user: dict[str, Any] = snap.to_dict() or {}
        current = user.get("status")
        status = current if requested == "online" and current in SERVER_STATUSES else requested
        transaction.set(store.user_ref(uid), {"status": status, "lastActiveAt": now}, merge=True)
        return str(status)

    return write(store.transaction())
