"""`on_user_written`: mirrors presence to Redis and cleans up after a user who went offline or was deleted.

Only `status` (and deletion) matter here; a write of `lastActiveAt` alone does nothing beyond
decoding the event. A status change costs one Firestore read (the document's current state). Every effect is idempotent: the Redis SET, the queue removal (no-op when the
user is not queued) and the room leave (a transaction that checks the current participants).
"""

from __future__ import annotations

from typing import Any

from shared import keys
from shared.clients.redis import get_redis
from shared.firestore_events import DocumentChange

STATUSES = ("online", "offline", "in_call", "matching")


def handle_user_change(change: DocumentChange) -> dict[str, Any]:
    uid = change.doc_id
    before, after = change.before or {}, change.after
    result: dict[str, Any] = {"uid": uid}
    if after is None:
        get_redis().delete(keys.presence(uid))
        result["presence"] = "deleted"
        result.update(_cleanup(uid, before.get("currentRoomId")))
        return result

    if not change.field_changed("status") or after.get("status") not in STATUSES:
        result["skipped"] = "no relevant change"
        return result
    # Events can arrive late: mirror the document as it is now, not as this event saw it, so an
    # older "online" cannot overwrite a newer "offline" (one read, only when the status changed).
    from shared.clients.firestore import get_firestore

    snapshot = get_firestore().collection("users").document(uid).get()
    current = snapshot.to_dict() if snapshot.exists else None
    if current is None or current.get("status") not in STATUSES:
        result["skipped"] = "deleted or changed since"  # that write's own event does the work
        return result
    status = current["status"]
    get_redis().set(keys.presence(uid), status, ex=keys.PRESENCE_TTL_S)
    result["presence"] = status
    if status == "offline":
        result.update(_cleanup(uid, current.get("currentRoomId")))
    return result


def _cleanup(uid: str, room_id: Any) -> dict[str, Any]:
    from shared.matching.tickets import remove_from_queue

    outcome: dict[str, Any] = {"leftQueue": remove_from_queue(uid, reason="offline")}
    if isinstance(room_id, str) and room_id:
        from shared.clients.firestore import get_firestore
        from shared.rooms.lifecycle import leave_room
        from shared.tokens.cache import drop_livekit_tokens

        outcome["leftRoom"] = leave_room(get_firestore(), room_id, uid)
        outcome["tokensDropped"] = drop_livekit_tokens(room_id, [uid])
    return outcome
