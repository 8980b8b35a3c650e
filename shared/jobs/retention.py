"""Retention: what is deleted when, besides the user's own account deletion.

Firestore: each collection group's TTL policy (firestore.indexes.json `fieldOverrides` with
`"ttl": true`, deployed by Terraform as `google_firestore_field` with `ttl_config`) deletes a
document some time (typically within a day) after its server-written TTL field
(`shared.vocab.TTL_FIELDS`) has passed. The emulator implements no TTL, so the local stack's
every-minute sweep deletes the same documents by the same fields (`delete_past_ttl`); in production
the part does nothing (the fields are exempt from indexing there, so a query could not run anyway).

PostgreSQL: `call_sessions` analytics rows that started more than CALL_SESSIONS_RETENTION_MONTHS ago
are deleted in batches (`delete_old_call_sessions`), everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared import vocab
from shared.config import settings

if TYPE_CHECKING:
    from google.cloud.firestore import Client
    from sqlalchemy.engine import Engine

DELETE_OLD_CALL_SESSIONS = """
DELETE FROM call_sessions WHERE session_id IN (
  SELECT session_id FROM call_sessions
  WHERE started_at < CAST(:now AS timestamptz) - make_interval(months => :months)
  ORDER BY started_at
  LIMIT :batch
)
"""


def ttl_is_emulated() -> bool:
    """Only the emulator lacks TTL; a deployed Firestore deletes by its own policies."""
    return bool(settings().firestore_emulator_host) and not settings().deployed_service


def delete_past_ttl(client: Client, now: datetime, batch_size: int) -> tuple[dict[str, int], bool]:
    """Delete up to `batch_size` documents per collection group whose TTL field has passed. Returns
    the counts and whether any group had more waiting."""
    from shared.firestore_queries import past_ttl

    counts: dict[str, int] = {}
    more = False
    for group, ttl_field in vocab.TTL_FIELDS.items():
        snapshots = list(past_ttl(group, ttl_field, now, client).select([]).limit(batch_size).stream())
        if snapshots:
            batch = client.batch()
            for snapshot in snapshots:
                batch.delete(snapshot.reference)
            batch.commit()
            counts[group] = len(snapshots)
        more = more or len(snapshots) == batch_size
    return counts, more


def delete_old_call_sessions(
    engine: Engine, now: datetime, batch_size: int, max_batches: int = 10
) -> tuple[int, bool]:
    """Rows older than the retention, oldest first, `batch_size` per statement (a short lock each).
    Returns how many and whether more are due."""
    from sqlalchemy import text

    months = settings().call_sessions_retention_months
    deleted = 0
    for _ in range(max_batches):
        with engine.begin() as conn:
            params = {"now": now, "months": months, "batch": batch_size}
            count = conn.execute(text(DELETE_OLD_CALL_SESSIONS), params).rowcount
        deleted += count
        if count < batch_size:
            return deleted, False
    return deleted, True
