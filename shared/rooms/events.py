"""Room events for the realtime service: `joined`, `left`, `closed` on the Redis channel `room:events:{roomId}`.

Published by the room trigger right after it changes the presence hash, so every realtime instance
holding a socket of the room hears them (Redis pub/sub: fire and forget, nobody listening is fine).
The realtime service relays them to the room's sockets, disconnects a user who left and everyone
when the room closes. Events can repeat (a redelivered trigger event): receivers treat them as state.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shared import keys

if TYPE_CHECKING:
    import redis


def room_event(kind: str, room_id: str, at_ms: int, uid: str | None = None) -> str:
    event: dict[str, Any] = {"type": kind, "roomId": room_id}
    if uid is not None:
        event["uid"] = uid
    event["at"] = at_ms
    return json.dumps(event, separators=(",", ":"))


def publish_room_events(
    client: redis.Redis,
    room_id: str,
    joined: Iterable[str] = (),
    left: Iterable[str] = (),
    closed: bool = False,
) -> int:
    """Publish one event per joined and left uid, then `closed`; returns how many were published."""
    at_ms = int(time.time() * 1000)
    events = [room_event("joined", room_id, at_ms, uid) for uid in sorted(joined)]
    events += [room_event("left", room_id, at_ms, uid) for uid in sorted(left)]
    if closed:
        events.append(room_event("closed", room_id, at_ms))
    if not events:
        return 0
    channel = keys.room_events(room_id)
    pipe = client.pipeline(transaction=False)
    for event in events:
        pipe.publish(channel, event)
    pipe.execute()
    return len(events)
