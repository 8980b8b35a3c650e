"""The Redis side of a room: the `room:presence:{roomId}` hash and the keys a closed room leaves behind."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from shared import keys

if TYPE_CHECKING:
    import redis

ROOM_PRESENCE_TTL_S = 24 * 3600  # a safety net: a room never outlives a day


def sync_room_presence(
    client: redis.Redis, room_id: str, participants: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Make the hash's fields equal to the participants; keep `joinedAt` of those already there.

    Returns the uids (added, removed), sorted. Idempotent: a second run with the same participants
    changes nothing and returns two empty lists.
    """
    key = keys.room_presence(room_id)
    wanted = set(participants)
    present = {uid.decode() if isinstance(uid, bytes) else uid for uid in client.hkeys(key)}
    now_ms = int(time.time() * 1000)
    added = wanted - present
    removed = present - wanted
    pipe = client.pipeline(transaction=True)
    for uid in sorted(added):
        entry = {"joinedAt": now_ms, "lastSeen": now_ms, "status": "active"}
        pipe.hsetnx(key, uid, json.dumps(entry, separators=(",", ":")))
    if removed:
        pipe.hdel(key, *sorted(removed))
    if wanted:
        pipe.expire(key, ROOM_PRESENCE_TTL_S)
    else:
        pipe.delete(key)
    pipe.execute()
    return sorted(added), sorted(removed)


def clear_room(client: redis.Redis, room_id: str) -> int:
    """Delete the presence hash and every `motion:{roomId}:*` key of a closed room (SCAN, never KEYS)."""
    doomed = [keys.room_presence(room_id)]
    doomed += list(client.scan_iter(match=keys.motion(room_id, "*"), count=200))
    return int(client.delete(*doomed))
