"""Every Firestore query the backend runs that needs more than a single-field index.

One place, so that `firestore.indexes.json` can be checked against what the code really asks:
`tests/test_indexes.py` runs each query here on the emulator and compares the emulator's index
usage report with the declared composite indexes. Each function takes the client and returns an
unexecuted Query; callers add `.limit()` and stream it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the Firestore client is heavy; callers already hold one
    from google.cloud.firestore import Client, Query

OPEN_ROOM_STATUSES = ["waiting", "active"]
# Statuses that claim the user is around; presence expiry turns them into `offline`.
ACTIVE_USER_STATUSES = ["online", "matching", "in_call"]


def _field(path: str, op: str, value: object):  # type: ignore[no-untyped-def]
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(path, op, value)


def expired_rooms(client: Client, now: datetime) -> Query:
    """Open rooms whose `expiresAt` has passed (auto_close closes them with reason `timeout`)."""
    return (
        client.collection("rooms")
        .where(filter=_field("status", "in", OPEN_ROOM_STATUSES))
        .where(filter=_field("expiresAt", "<", now))
    )


def stale_waiting_rooms(client: Client, cutoff: datetime) -> Query:
    """`waiting` rooms created before `cutoff` (nobody came: auto_close closes them)."""
    return (
        client.collection("rooms")
        .where(filter=_field("status", "==", "waiting"))
        .where(filter=_field("createdAt", "<", cutoff))
    )


def expired_tickets(client: Client, now: datetime) -> Query:
    """Matching ticket mirrors past their expiry (single field: no composite index needed)."""
    return client.collection("matchingQueue").where(filter=_field("expiresAt", "<=", now))


def stale_presence(client: Client, cutoff: datetime) -> Query:
    """Users who claim to be around but have not been active since `cutoff`."""
    return (
        client.collection("users")
        .where(filter=_field("status", "in", ACTIVE_USER_STATUSES))
        .where(filter=_field("lastActiveAt", "<", cutoff))
    )


def popular_public_models(client: Client) -> Query:
    """The app's model gallery: public models, most downloaded first."""
    from google.cloud.firestore import Query as Q

    return (
        client.collection("vrmModels")
        .where(filter=_field("isPublic", "==", True))
        .order_by("downloadCount", direction=Q.DESCENDING)
    )


def public_models_by_tag(client: Client, tag: str) -> Query:
    """Public models carrying `tag`, most downloaded first."""
    from google.cloud.firestore import Query as Q

    return (
        client.collection("vrmModels")
        .where(filter=_field("isPublic", "==", True))
        .where(filter=_field("tags", "array_contains", tag))
        .order_by("downloadCount", direction=Q.DESCENDING)
    )


def call_history(client: Client, uid: str) -> Query:
    """A user's call sessions, newest first."""
    from google.cloud.firestore import Query as Q

    return (
        client.collection("callSessions")
        .where(filter=_field("participants", "array_contains", uid))
        .order_by("startedAt", direction=Q.DESCENDING)
    )
