"""`on_room_written`: keeps Redis, users, call sessions and analytics consistent with a room write.

Every event reads the room's current document once and decides from it (events can arrive late or
twice). Then one transaction per step that applies: activation (2 reads, 2 writes), close (1 read,
1 write), release (2 reads + 1 write per user who left), session end (2 reads, 1 write). An event
that needs none of them costs that single read.
"""

from __future__ import annotations

from typing import Any

from shared.clients.firestore import get_firestore
from shared.clients.redis import get_redis
from shared.firestore_events import DocumentChange
from shared.rooms import lifecycle, redis_state
from shared.tokens.cache import drop_livekit_tokens


def handle_room_change(change: DocumentChange) -> dict[str, Any]:
    """Act on the room's current state (one read), so a late or repeated event cannot undo newer ones."""
    room_id = change.doc_id
    firestore = get_firestore()
    snapshot = firestore.collection(lifecycle.ROOMS).document(room_id).get()
    current = snapshot.to_dict() if snapshot.exists else None
    result: dict[str, Any] = {"roomId": room_id, "status": (current or {}).get("status")}
    redis = get_redis()
    closed = current is None or current.get("status") == "closed"

    if not closed:
        added, removed = redis_state.sync_room_presence(redis, room_id, lifecycle.participants(current))
        result["presence"] = {"added": added, "removed": removed}

    left = lifecycle.users_who_left(change.before, current)
    if left:
        result["released"] = lifecycle.release_users(firestore, room_id, left)
        result["tokensDropped"] = drop_livekit_tokens(room_id, left)

    if lifecycle.should_activate(current):
        result["activated"] = lifecycle.activate(firestore, room_id)
    elif lifecycle.should_close(current):
        # The close is a new write: its own event ends the session and cleans up.
        result["closed"] = lifecycle.close_if_needed(firestore, room_id)

    if closed:
        changed, session = lifecycle.finish_session(firestore, room_id)
        result["sessionEnded"] = changed
        if session is not None:
            result["analyticsInserted"] = _record(session)
        result["redisKeysDeleted"] = redis_state.clear_room(redis, room_id)
        result["tokensDropped"] = result.get("tokensDropped", 0) + drop_livekit_tokens(room_id)
    return result


def _record(session: lifecycle.FinishedSession) -> bool:
    from shared.analytics import CallSessionRow, record_call_session
    from shared.clients.postgres import get_engine

    quality = session.quality
    return record_call_session(
        get_engine(),
        CallSessionRow(
            session_id=session.session_id,
            room_id=session.room_id,
            room_type=session.room_type,
            participant_count=session.participant_count,
            started_at=session.started_at,
            ended_at=session.ended_at,
            duration_seconds=session.duration_seconds,
            end_reason=session.end_reason,
            avg_fps=quality.get("avgFps"),
            connection_quality=quality.get("connectionQuality"),
            audio_quality=quality.get("audioQuality"),
        ),
    )
