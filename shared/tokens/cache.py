"""The Redis cache of LiveKit room tokens, `livekit:token:{roomId}:{uid}` (see shared/keys.py).

`issue_tokens` fills it; the room trigger drops entries when a user leaves or a room closes, so a
cached token never outlives the user's membership.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

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


@dataclass(frozen=True)
class CachedToken:
    token: str
    room: str  # LiveKit room name
    identity: str
    issued_at: int  # epoch seconds
    expires_at: int

    def has_most_of_its_life_left(self, now_s: float) -> bool:
        """Reused only while more than half its lifetime remains, so a client never receives a token
        that is about to expire."""
        return self.expires_at - now_s > (self.expires_at - self.issued_at) / 2


def get_livekit_token(room_id: str, uid: str, now_s: float) -> CachedToken | None:
    raw = get_redis().get(keys.livekit_token(room_id, uid))
    if not raw:
        return None
    try:
        cached = CachedToken(**json.loads(raw))
    except (ValueError, TypeError):
        return None  # an entry of another shape (older version): mint a new one
    return cached if cached.has_most_of_its_life_left(now_s) else None


def put_livekit_token(room_id: str, uid: str, cached: CachedToken, now_s: float) -> None:
    ttl_s = int(cached.expires_at - now_s)
    if ttl_s > 0:
        get_redis().set(keys.livekit_token(room_id, uid), json.dumps(asdict(cached)), ex=ttl_s)
