"""The Redis cache of LiveKit room tokens, `livekit:token:{roomId}:{uid}` (see shared/keys.py).

`issue_tokens` fills it; the room trigger drops entries when a user leaves or a room closes, so a
cached token never outlives the user's membership.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared import keys
from shared.clients.redis import get_redis


def drop_livekit_tokens(room_id: str, uids: Iterable[str] | None = None) -> int:
    """Delete cached tokens of `uids` in the room (every user's when None); returns how many existed."""
    client = get_redis()
    if uids is not None:
        names = [keys.livekit_token(room_id, uid) for uid in uids]
    else:
        # SCAN, never KEYS: a room has a handful of entries and Upstash serves SCAN incrementally.
        names = list(client.scan_iter(match=keys.livekit_token(room_id, "*"), count=200))
    return int(client.delete(*names)) if names else 0
