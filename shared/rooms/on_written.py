"""`on_room_written`: the bookkeeping a room write leaves behind.

The change that moved a room (a join, a leave, a pairing, a timeout) already applied its lifecycle
in its own transaction (shared.rooms.membership). What is left here: the Redis presence hash of an
open room; for a closed room, the analytics row in PostgreSQL and the Redis keys it leaves
behind. `reconcile` catches rooms written some other way. Every event reads the room's current
document first and decides from it, so a late or repeated event cannot undo a newer one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import documents, vocab
from shared.clients.redis import get_redis
from shared.firestore_events import DocumentChange
from shared.rooms import lifecycle, reconcile, redis_state
from shared.tokens import cache as token_cache


def handle_room_change(change: DocumentChange) -> dict[str, Any]:
    room_id = change.doc_id
    now = datetime.now(UTC)
    snapshot = documents.room(room_id).get()
    current = snapshot.to_dict() if snapshot.exists else None
    result: dict[str, Any] = {"roomId": room_id, "status": (current or {}).get("status")}
    redis = get_redis()
    closed = current is None or current.get("status") == vocab.CLOSED

    if not closed:
        added, removed = redis_state.sync_room_presence(redis, room_id, lifecycle.participants(current))
        result["presence"] = {"added": added, "removed": removed}

    left = lifecycle.users_who_left(change.before, current)
    if left:
        released = reconcile.release_departed(room_id, current, left, now)
        if released:
            result["released"] = released

    if lifecycle.should_activate(current):
        result["activated"] = reconcile.activate(room_id, now)
    elif lifecycle.should_close(current):
        result["closed"] = reconcile.close(room_id, now)  # its own event does the bookkeeping

    if closed:
        token_cache.revoke(room_id, room_closed=True)  # already so, unless the room was written elsewhere
        session = reconcile.finished_session(room_id, current, documents.call_session(room_id).get())
        if session is not None:
            result["analyticsInserted"] = _record(session)
        result["redisKeysDeleted"] = redis_state.clear_room(redis, room_id)
        result["tokensDropped"] = token_cache.drop_livekit_tokens(room_id)
    return result


def _record(session: reconcile.FinishedSession) -> bool:
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
