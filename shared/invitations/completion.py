"""Q4: complete the invitations whose end time has passed, in bounded batches.

`auto_close` calls `complete_finished` in a loop until it returns fewer than `batch_size`. Each call
is one statement in its own transaction: a CTE reads the due rows in end_time order from
idx_invitation_auto_close (end_time, open statuses only), stops after `batch_size` of them, and locks
them with FOR UPDATE SKIP LOCKED, so two overlapping runs (a slow minute, a retried message) split the
work instead of waiting on each other, and a join that holds an invitation's lock is skipped this
minute rather than blocked. A smaller batch is a shorter statement: the rows it locks are released
sooner, whatever the backlog.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared.invitations import cache
from shared.invitations.model import to_db_time, utc_now

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

Q4 = """
WITH due AS (
  SELECT id FROM invitations
  WHERE status IN ('recruiting', 'full') AND end_time < :now
  ORDER BY end_time
  LIMIT :batch_size
  FOR UPDATE SKIP LOCKED
)
UPDATE invitations i SET status = 'completed'
FROM due
WHERE i.id = due.id
RETURNING i.id
"""


def complete_finished_invitations(engine: Engine, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Mark up to `batch_size` finished invitations `completed`; returns how many changed."""
    return len(complete_finished(engine, now, batch_size))


def complete_finished(engine: Engine, now: datetime | None = None, batch_size: int = 1000) -> list[str]:
    """Like complete_finished_invitations, returning the ids (their Discord messages get edited)."""
    from sqlalchemy import text

    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = utc_now() if now is None else to_db_time(now)
    with engine.begin() as conn:
        completed = [str(row[0]) for row in conn.execute(text(Q4), {"now": cutoff, "batch_size": batch_size})]
    if completed:
        cache.invalidate_lists()
    return completed
