"""Rooms and users in the real Firestore emulator, for the trigger and auto_close tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy

from devstack.stack import Stack
from tests.conftest import wait_for


def fs() -> Any:
    from shared.clients.firestore import get_firestore

    return get_firestore()


def rds() -> Any:
    from shared.clients.redis import get_redis

    return get_redis()


def doc(path: str) -> dict[str, Any] | None:
    snapshot = fs().document(path).get()
    return snapshot.to_dict() if snapshot.exists else None


def new_users(
    count: int, room_id: str | None = None, status: str = "in_call", last_active: datetime | None = None
) -> list[str]:
    uids = [f"u-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for uid in uids:
        data: dict[str, Any] = {
            "displayName": uid,
            "status": status,
            "lastActiveAt": last_active or datetime.now(UTC),
            "adultConfirmedAt": datetime.now(UTC),  # the queue and select rooms require it
        }
        if room_id:
            data["currentRoomId"] = room_id
        fs().collection("users").document(uid).set(data)
    return uids


def new_room(
    uids: list[str],
    status: str = "waiting",
    room_type: str = "random",
    now: datetime | None = None,
    **fields: Any,
) -> str:
    """A room written in one go (`fields` override the defaults): updating it right after creation
    would race the room trigger's transaction for the document's lock."""
    room_id = f"r-{uuid.uuid4().hex[:16]}"
    for uid in uids:
        fs().collection("users").document(uid).update({"currentRoomId": room_id})
    now = now or datetime.now(UTC)
    fs().collection("rooms").document(room_id).set(
        {
            "type": room_type,
            "createdBy": uids[0] if uids else "system",
            "participants": uids,
            "maxParticipants": 2,
            "livekitRoomName": f"lk-{room_id}",
            "status": status,
            "createdAt": now,
            "expiresAt": now + timedelta(minutes=30),
            **fields,
        }
    )
    return room_id


def active_room(stack: Stack) -> tuple[str, list[str]]:
    uids = new_users(2)
    room_id = new_room(uids)
    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "active")
    return room_id, uids


def analytics_row(stack: Stack, session_id: str) -> dict[str, Any] | None:
    engine = sqlalchemy.create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            row = (
                connection.execute(
                    sqlalchemy.text("SELECT * FROM call_sessions WHERE session_id = :id"), {"id": session_id}
                )
                .mappings()
                .first()
            )
            return dict(row) if row else None
    finally:
        engine.dispose()
