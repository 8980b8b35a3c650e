"""`on_room_written` (Firestore `rooms/{roomId}` written): room lifecycle, call sessions, analytics."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.firestore_events import DocumentChange, firestore_trigger
from shared.rooms.on_written import handle_room_change


@functions_framework.cloud_event
@firestore_trigger
def on_room_written(change: DocumentChange) -> dict[str, Any]:
    return handle_room_change(change)
