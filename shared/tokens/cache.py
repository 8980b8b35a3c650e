"""The Redis cache of LiveKit room tokens, and the revocations that keep it from outliving membership.

`livekit:token:{roomId}:{uid}` holds a minted token (see shared/keys.py). A cache hit reads nothing
else, so membership is enforced on the cache itself: before a transaction that takes a user out of a
room (or closes it) commits, the user's (or the room's) revocation marker is set and the entry
deleted; reads and writes of the cache are scripts that see the marker. Any request that observes
the leave (the room closed, `currentRoomId` gone) therefore misses the cache and is refused by the
Firestore check. Seating a user in a room clears their marker once the seat has committed (a select
room may be rejoined); a closed room never reopens, so its marker stays until it expires.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from shared import keys, ratelimit
from shared.clients.redis import get_redis
from shared.lazy import Lazy

# Longer than any token lives (LIVEKIT_TOKEN_TTL_S <= 3600): a marker outlasts every entry it guards.
REVOCATION_TTL_S = 3600 + 60

# The entry unless a revocation marker guards it: a Lua function, read alone (_GET) or after taking
# from the caller's budget in the same script (_TAKE_AND_GET), so that a cache hit is one round trip.
_CACHED_ENTRY = """
local function cached_entry(entry, user_revoked, room_revoked)
  if redis.call('EXISTS', user_revoked, room_revoked) > 0 then return false end
  return redis.call('GET', entry)
end
"""
# KEYS: 1 token entry, 2 user's revocation marker, 3 room's revocation marker
_GET = _CACHED_ENTRY + "return cached_entry(KEYS[1], KEYS[2], KEYS[3])"
# KEYS: 1 the caller's bucket, then as _GET; ARGV: shared.ratelimit.bucket_args
_TAKE_AND_GET = ratelimit.taking_first(_CACHED_ENTRY, "cached_entry(KEYS[2], KEYS[3], KEYS[4])")
# KEYS as _GET; ARGV: 1 entry JSON, 2 TTL (s)
_PUT = """
if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
_get_script = Lazy(lambda: get_redis().register_script(_GET))
_take_and_get_script = Lazy(lambda: get_redis().register_script(_TAKE_AND_GET))
_put_script = Lazy(lambda: get_redis().register_script(_PUT))


def _keys(room_id: str, uid: str) -> list[str]:
    return [
        keys.livekit_token(room_id, uid),
        keys.livekit_revoked(room_id, uid),
        keys.livekit_revoked(room_id),
    ]


def revoke(room_id: str, uids: Iterable[str] = (), *, room_closed: bool = False) -> None:
    """No cached token of these users (of anyone, when the room closes) is served or stored again."""
    pipe = get_redis().pipeline(transaction=False)
    for uid in uids:
        pipe.set(keys.livekit_revoked(room_id, uid), "1", ex=REVOCATION_TTL_S)
        pipe.delete(keys.livekit_token(room_id, uid))
    if room_closed:
        pipe.set(keys.livekit_revoked(room_id), "1", ex=REVOCATION_TTL_S)
    pipe.execute()


def allow(room_id: str, uid: str) -> None:
    """The user holds a seat again (after it committed): their tokens may be cached again."""
    get_redis().delete(keys.livekit_revoked(room_id, uid))


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


def get_livekit_token(
    room_id: str, uid: str, now_s: float, budget: ratelimit.Pending | None = None
) -> CachedToken | None:
    """The cached token, if it may be served. With `budget`, the caller's request is taken from
    their bucket in the same script (429 when it is empty, before anything is read)."""
    if budget is None:
        raw = _get_script()(keys=_keys(room_id, uid))
    else:
        raw = budget.take_with(_take_and_get_script(), _keys(room_id, uid), [])[0]
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
        _put_script()(keys=_keys(room_id, uid), args=[json.dumps(asdict(cached)), ttl_s])
