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


def blocks_naming(uid: str, client: Client | None = None) -> Query:
    """Every `users/{x}/blocks/{uid}`: who blocked `uid` (a collection-group query on the `userId`
    field, which firestore.indexes.json indexes for collection-group scope)."""
    from shared.clients.firestore import get_firestore

    client = client or get_firestore()
    return client.collection_group(vocab.BLOCKS).where(filter=field("userId", "==", uid))


def open_reports_about(uid: str, since: datetime | None = None, client: Client | None = None) -> Query:
    """Open reports about `uid` (created at or after `since`, when given): the review threshold and
    whether any report still awaits staff."""
    from shared.clients.firestore import get_firestore

    client = client or get_firestore()
    query = (
        client.collection(vocab.REPORTS)
        .where(filter=field("reportedUserId", "==", uid))
        .where(filter=field("status", "==", vocab.REPORT_OPEN))
    )
    if since is not None:
        query = query.where(filter=field("createdAt", ">=", since))
    # Ordered by createdAt in both forms, so one composite index serves them.
    return query.order_by("createdAt")


def reports_by_status(status: str, client: Client | None = None) -> Query:
    """Reports in one status, for staff (callers order by createdAt, newest first)."""
    from shared.clients.firestore import get_firestore

    client = client or get_firestore()
    return client.collection(vocab.REPORTS).where(filter=field("status", "==", status))


def reports_naming(uid: str, role: str, client: Client | None = None) -> Query:
    """Reports `uid` filed (role `reporterId`) or is the subject of (`reportedUserId`)."""
    from shared.clients.firestore import get_firestore

    client = client or get_firestore()
    return client.collection(vocab.REPORTS).where(filter=field(role, "==", uid))


def rooms_naming(uid: str, client: Client | None = None) -> list[Query]:
    """Rooms that name `uid`: as a participant, or as the creator of a select room."""
    from shared.clients.firestore import get_firestore

    client = client or get_firestore()
    rooms = client.collection(vocab.ROOMS)
    return [
        rooms.where(filter=field("participants", "array_contains", uid)),
        rooms.where(filter=field("createdBy", "==", uid)),
    ]


def sessions_of(uid: str, client: Client | None = None) -> Query:
    """Call sessions `uid` took part in."""
    from shared.clients.firestore import get_firestore

    client = client or get_firestore()
    return client.collection(vocab.CALL_SESSIONS).where(filter=field("participants", "array_contains", uid))


def public_suspension_markers(client: Client | None = None) -> Query:
    """Users whose public profile still carries the suspension marker, from before it moved to
    `users/{uid}/private/suspension` (`python -m deploy suspension-markers`)."""
    from shared.clients.firestore import get_firestore

    client = client or get_firestore()
    return client.collection(vocab.USERS).where(filter=field(vocab.SUSPENSION, "!=", None))


def stale_deletions(cutoff: datetime, client: Client | None = None) -> Query:
    """Account deletions requested before `cutoff` and still not finished (the job deletes its
    progress document when done): their messages were dead-lettered or lost."""
    from shared.clients.firestore import get_firestore

    client = client or get_firestore()
    return client.collection(vocab.ACCOUNT_DELETIONS).where(filter=field("requestedAt", "<", cutoff))


# -- emulator only: what Firestore's TTL policies delete in production -----------------------------
# The TTL fields are exempt from indexing in production (firestore.indexes.json): these queries run
# only against the emulator, which has no TTL (shared/jobs/retention.py).
def past_ttl(collection_group: str, ttl_field: str, now: datetime, client: Client) -> Query:
    return client.collection_group(collection_group).where(filter=field(ttl_field, "<=", now))
