"""Every Redis key the backend uses, in one place (names from the data design)."""

from __future__ import annotations

PRESENCE_TTL_S = 30


def presence(uid: str) -> str:
    """String `online|offline|in_call|matching`, TTL PRESENCE_TTL_S."""
    return f"presence:user:{uid}"


def matching_ticket(uid: str) -> str:
    """Hash: the user's matching preferences and expiry."""
    return f"{MATCHING_TICKET_PREFIX}{uid}"


def room_presence(room_id: str) -> str:
    """Hash: uid -> JSON {joinedAt, lastSeen, status}."""
    return f"room:presence:{room_id}"


def motion(room_id: str, uid: str) -> str:
    """Hash with TTL (60 s): the latest motion frame of a user in a room, written by the realtime service:
    `frame` (the message as relayed, JSON) and `timestamp` (ms when written)."""
    return f"motion:{room_id}:{uid}"


def room_events(room_id: str) -> str:
    """Pub/sub channel: JSON `{"type": "joined"|"left"|"closed", "roomId", "uid"?, "at"}` from the room
    trigger, heard by every realtime instance holding a socket of the room."""
    return f"room:events:{room_id}"


def ws_token_used(jti: str) -> str:
    """String with TTL until the token's expiry: a WebSocket token's `jti` already used to connect."""
    return f"ws:jti:{jti}"


def livekit_token(room_id: str, uid: str) -> str:
    """String (JSON) with TTL: a minted LiveKit token, reused while most of its life is left."""
    return f"livekit:token:{room_id}:{uid}"


def livekit_revoked(room_id: str, uid: str | None = None) -> str:
    """String with TTL: the user left the room (or, without a uid, the room closed): no token of
    theirs (of anyone's) is served from or put into the cache."""
    return f"livekit:revoked:{room_id}" if uid is None else f"livekit:revoked:{room_id}:{uid}"


def rate_limit(route: str, uid: str) -> str:
    """Hash: a user's token bucket for one budget (tokens, last refill)."""
    return f"ratelimit:{route}:{uid}"


def user_lock(scope: str, uid: str) -> str:
    """String with TTL: one request of the user is changing `scope` (shared/user_lock.py)."""
    return f"lock:{scope}:{uid}"


def room_code_lock(code: str) -> str:
    """String with TTL: joins of one select room queue here before their transaction."""
    return f"lock:roomcode:{code}"


# -- matching (shared/matching/) -----------------------------------------------------------------
# The pairing scripts build per-user key names from these prefixes inside Redis (the members of the
# queue are only known there), so the prefixes are the one definition of those names.
MATCHING_TICKET_PREFIX = "matching:ticket:"
MATCHING_CLASS_PREFIX = "matching:queue:random:"  # + "{gender}:{want}": the queue, one set per class
MATCHING_CLAIM_PREFIX = "matching:claim:"
MATCHING_EXPIRY = "matching:expiry"  # sorted set: score = ticket expiry (ms), member = uid
MATCHING_CLAIMS = "matching:claims"  # sorted set: score = claim deadline (ms), member = pair id
MATCHING_CLAIMED = "matching:claimed"  # hash: uid -> pair id, for the users of the claims in flight
MATCHING_WAKE = "matching:wake"  # string with TTL: a worker run has been asked for and not started


def matching_class_queue(gender: str, want: str) -> str:
    """Sorted set of the waiting users of one (own gender, wanted gender) class: score = place (the
    request's time, ms), member = "{uid}|{ticket expiry (ms)}". The 16 class sets together are the
    random queue."""
    return f"{MATCHING_CLASS_PREFIX}{gender}:{want}"


def matching_claim(pair_id: str) -> str:
    """Hash: a pair taken off the queue by a worker and not yet settled (uids, places)."""
    return f"{MATCHING_CLAIM_PREFIX}{pair_id}"


PRESENCE_EPOCH = "presence:epoch"  # string, no TTL: when this Redis started holding presence (ms)


def presence_synced(uid: str) -> str:
    """String: the status last written to Firestore by a heartbeat, TTL = write-coalescing window."""
    return f"presence:synced:{uid}"


# -- blocks (shared/account/blocks.py, read by shared/matching/pair.lua) --------------------------------
BLOCKS_PREFIX = "blocks:"
# Refreshed by every block written or learned. Only users with blocks have a set; one that expires
# costs a refused claim per pair (the room transaction relearns it), so the TTL only bounds memory.
BLOCKS_TTL_S = 30 * 86400


def blocks(uid: str) -> str:
    """Set: the uids `uid` blocked or was blocked by (both directions)."""
    return f"{BLOCKS_PREFIX}{uid}"


# -- invitations (shared/invitations/) -------------------------------------------------------------
INVITATION_LIST_VERSION = "invitations:list:version"  # integer, INCR on every invitation write


def invitation_list(query_digest: str) -> str:
    """String with TTL: one cached page of GET /invitations, "{version}\n{JSON page}" (the list
    version it was computed under; shared/invitations/cache.py)."""
    return f"invitations:list:{query_digest}"
