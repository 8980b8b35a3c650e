"""Every Firestore query the backend runs.

One place, so that `firestore.indexes.json` can be checked against what the code really asks:
`tests/test_indexes.py` runs each query here (and the web client's queries, `tests/client_queries.py`)
on the emulator and compares the emulator's index usage report with the declared composite
indexes. Each function takes the client and returns an unexecuted Query; callers add `.limit()`
and stream it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared import vocab

if TYPE_CHECKING:  # the Firestore client is heavy; callers already hold one
    from google.cloud.firestore import Client, Query


def field(path: str, op: str, value: object):  # type: ignore[no-untyped-def]
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(path, op, value)


def expired_rooms(client: Client, now: datetime) -> Query:
    """Open rooms whose `expiresAt` has passed (auto_close closes them with reason `timeout`)."""
    return (
        client.collection(vocab.ROOMS)
        .where(filter=field("status", "in", list(vocab.OPEN_ROOM_STATUSES)))
        .where(filter=field("expiresAt", "<", now))
    )


def stale_waiting_rooms(client: Client, cutoff: datetime) -> Query:
    """`waiting` rooms created before `cutoff` (nobody came: auto_close closes them)."""
    return (
        client.collection(vocab.ROOMS)
        .where(filter=field("status", "==", vocab.WAITING))
        .where(filter=field("createdAt", "<", cutoff))
    )


def expired_queue_entries(now: datetime, client: Client | None = None) -> Query:
    """Matching requests past their expiry (single field: no composite index needed)."""
    from shared.clients.firestore import get_firestore

    client = client or get_firestore()
    return client.collection(vocab.MATCHING_QUEUE).where(filter=field("expiresAt", "<=", now))


def stale_presence(client: Client, cutoff: datetime) -> Query:
    """Users who claim to be around but have not been active since `cutoff`."""
    return (
        client.collection(vocab.USERS)
        .where(filter=field("status", "in", list(vocab.AROUND_STATUSES)))
        .where(filter=field("lastActiveAt", "<", cutoff))
    )
