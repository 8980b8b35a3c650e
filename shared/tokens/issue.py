"""What `issue_tokens` does per request: check the caller's room, reuse or mint a LiveKit token, sign
a WebSocket token. Tokens are never logged: the routes put room ids, cache hits and expiry times on
the request's one log line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import documents, ratelimit, safety, vocab
from shared.clients.firestore import get_firestore, in_order
from shared.config import settings
from shared.errors import ApiError, forbidden, not_found
from shared.lazy import Lazy
from shared.tokens import cache, livekit, ws

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, DocumentSnapshot

_credentials = Lazy(livekit.LiveKitCredentials.from_settings)


# The fields room_access reads, one mask for its three documents (get_all takes one; a field a
# document lacks is simply absent). A profile holds a dozen fields, timestamps among them: not
# decoding the ones the checks ignore saves about a tenth of the read's CPU (docs/bench/tokens.md).
_ROOM_FIELDS = ("participants", "status", "expiresAt", "livekitRoomName")
_PROFILE_FIELDS = ("displayName", "selectedVrmId")
ROOM_ACCESS_FIELDS = (*_ROOM_FIELDS, *_PROFILE_FIELDS, *safety.TOKEN_CHECK_FIELDS)


@dataclass(frozen=True)
class RoomAccess:
    room_id: str
    livekit_room: str
    expires_at: datetime | None
    display_name: str
    vrm_model_id: str | None


def room_access(uid: str, room_id: str, now: datetime) -> RoomAccess:
    """The caller's room, read with their profile and suspension marker in one round trip. 404 unknown
    room, 403 not a participant (checked before the status, so outsiders learn nothing about it), 409
    closed."""
    refs = [documents.room(room_id), documents.user(uid), documents.suspension_marker(uid)]
    room_snap, user_snap, marker_snap = _get_all(refs, ROOM_ACCESS_FIELDS)
    user: dict[str, Any] = (user_snap.to_dict() or {}) if user_snap.exists else {}
    safety.require_may_use_tokens(user, safety.marker_of(marker_snap), now)
    if not room_snap.exists:
        raise not_found("no such room")
    room: dict[str, Any] = room_snap.to_dict() or {}
    if uid not in (room.get("participants") or []):
        raise forbidden("you are not a participant of this room")
    expires_at = room.get("expiresAt") if isinstance(room.get("expiresAt"), datetime) else None
    if room.get("status") == vocab.CLOSED or (expires_at is not None and expires_at <= now):
        raise ApiError(409, "room_closed", "the room is closed")
    name = user.get("displayName")
    vrm = user.get("selectedVrmId")
    return RoomAccess(
        room_id=room_id,
        livekit_room=str(room.get("livekitRoomName") or room_id),
        expires_at=expires_at,
        display_name=name if isinstance(name, str) and name else uid,
        vrm_model_id=vrm if isinstance(vrm, str) and vrm else None,
    )


def _get_all(refs: list[DocumentReference], fields: tuple[str, ...]) -> list[DocumentSnapshot]:
    """`refs`' snapshots in one round trip, in the order given."""
    return in_order(refs, get_firestore().get_all(refs, field_paths=fields))


def _iso(epoch_s: int) -> str:
    from shared.times import from_epoch_s

    return from_epoch_s(epoch_s)


def livekit_token(
    uid: str, room_id: str, now: datetime, budget: ratelimit.Pending | None = None
) -> tuple[dict[str, Any], bool]:
    """The response body for /livekit-token and whether it came from the cache. `budget`: the
    caller's request, taken from their bucket by the cache read's own script.

    A cached token is returned without reading Firestore: the room trigger drops the cache entry
    the moment the user leaves or the room closes, so an entry exists only for a current member."""
    credentials = _credentials()
    now_s = now.timestamp()
    cached = cache.get_livekit_token(room_id, uid, now_s, budget)
    if cached is None:
        access = room_access(uid, room_id, now)
        ttl = timedelta(seconds=settings().livekit_token_ttl_s)
        expires_at = now + ttl
        if access.expires_at is not None:
            expires_at = min(expires_at, access.expires_at)  # never outlives the room
        not_before = now  # LiveKit's verifier allows clock skew itself (a leeway)
        claims = livekit.livekit_claims(
            credentials,
            identity=uid,
            name=access.display_name,
            grant=livekit.RoomGrant(access.livekit_room),
            metadata={"vrmModelId": access.vrm_model_id, "roomId": room_id},
            not_before=not_before,
            expires_at=expires_at,
        )
        cached = cache.CachedToken(
            token=livekit.sign_livekit(credentials, claims),
            room=access.livekit_room,
            identity=uid,
            issued_at=int(not_before.timestamp()),
            expires_at=int(claims["exp"]),  # type: ignore[call-overload]
        )
        cache.put_livekit_token(room_id, uid, cached, now_s)
        hit = False
    else:
        hit = True
    body = {
        "token": cached.token,
        "url": credentials.url,
        "room": cached.room,
        "identity": cached.identity,
        "expiresAt": _iso(cached.expires_at),
    }
    return body, hit


def ws_token(uid: str, room_id: str | None, now: datetime) -> dict[str, Any]:
    if room_id is not None:
        room_access(uid, room_id, now)
    else:
        user, marker = _get_all(
            [documents.user(uid), documents.suspension_marker(uid)], safety.TOKEN_CHECK_FIELDS
        )
        safety.require_may_use_tokens(user.to_dict() or {}, safety.marker_of(marker), now)
    token, expires_at = ws.sign_ws_token(uid, now, room_id)
    return {"token": token, "expiresAt": _iso(int(expires_at.timestamp()))}
