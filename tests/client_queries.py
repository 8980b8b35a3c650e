"""The Firestore queries the web client runs (clients/web and examples/web): the model gallery and
the call history. The backend never runs them, but their composite indexes are part of
`firestore.indexes.json`, so tests/test_indexes.py checks them beside the backend's own."""

from __future__ import annotations

from typing import Any

from shared import vocab
from shared.firestore_queries import field


def popular_public_models(client: Any) -> Any:
    """The app's model gallery: public models, most downloaded first."""
    from google.cloud.firestore import Query

    return (
        client.collection(vocab.VRM_MODELS)
        .where(filter=field("isPublic", "==", True))
        .order_by("downloadCount", direction=Query.DESCENDING)
    )


def public_models_by_tag(client: Any, tag: str) -> Any:
    """Public models carrying `tag`, most downloaded first."""
    from google.cloud.firestore import Query

    return (
        client.collection(vocab.VRM_MODELS)
        .where(filter=field("isPublic", "==", True))
        .where(filter=field("tags", "array_contains", tag))
        .order_by("downloadCount", direction=Query.DESCENDING)
    )


def call_history(client: Any, uid: str) -> Any:
    """A user's call sessions, newest first."""
    from google.cloud.firestore import Query

    return (
        client.collection(vocab.CALL_SESSIONS)
        .where(filter=field("participants", "array_contains", uid))
        .order_by("startedAt", direction=Query.DESCENDING)
    )


def open_rooms_of(client: Any, uid: str) -> Any:
    """The rooms a user is in now (the web app's room listener, docs/frontend.md): a closed room
    leaves the result instead of staying in it for its 7 days of retention."""
    return (
        client.collection(vocab.ROOMS)
        .where(filter=field("participants", "array_contains", uid))
        .where(filter=field("status", "in", list(vocab.OPEN_ROOM_STATUSES)))
    )
