"""`on_user_written` (Firestore `users/{userId}` written): presence mirror, offline users leave queue and room."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.firestore_events import DocumentChange, firestore_trigger
from shared.users.on_written import handle_user_change


@functions_framework.cloud_event
@firestore_trigger
def on_user_written(change: DocumentChange) -> dict[str, Any]:
    return handle_user_change(change)
