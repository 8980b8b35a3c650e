"""`on_room_written` (Firestore document written)."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.firestore_events import DocumentChange, firestore_trigger


@functions_framework.cloud_event
@firestore_trigger
def on_room_written(change: DocumentChange) -> dict[str, Any]:
    return {"document": change.document, "created": change.created, "deleted": change.deleted}
