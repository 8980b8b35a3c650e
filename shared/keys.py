"""Every Redis key the backend uses, in one place (names from the data design)."""

from __future__ import annotations

PRESENCE_TTL_S = 30
MATCHING_QUEUE = "matching:queue:random"  # sorted set: score = enqueue time (ms), member = uid


def presence(uid: str) -> str:
    """String `online|offline|in_call|matching`, TTL PRESENCE_TTL_S."""
    return f"presence:user:{uid}"


def matching_ticket(uid: str) -> str:
    """Hash: the user's matching preferences and expiry."""
    return f"matching:ticket:{uid}"


def room_presence(room_id: str) -> str:
    """Hash: uid -> JSON {joinedAt, lastSeen, status}."""
    return f"room:presence:{room_id}"


def motion(room_id: str, uid: str) -> str:
    """Hash with TTL: the latest motion frame of a user in a room (written by the WebSocket server)."""
    return f"motion:{room_id}:{uid}"


def livekit_token(room_id: str, uid: str) -> str:
    return f"livekit:token:{room_id}:{uid}"


def rate_limit(route: str, uid: str) -> str:
    return f"ratelimit:{route}:{uid}"


INVITATION_LIST_VERSION = "invitations:list:version"  # integer, INCR on every invitation write


def invitation_list(version: str, query_digest: str) -> str:
    """String (JSON page) with TTL: one cached page of GET /invitations under a cache version."""
    return f"invitations:list:v{version}:{query_digest}"
