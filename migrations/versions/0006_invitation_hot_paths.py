"""Invitations: indexes that match the list (Q1) and the auto-close (Q4) exactly, and fewer of them.

Measured at 100,000 invitations / 1,000,000 participants (docs/bench/invitations.md):

- Q4, the auto-close UPDATE, costs a new heap tuple plus one entry in every index whose predicate the
  completed row still matches (a status change can never be a HOT update: status is indexed). The
  cost grows with that number of indexes, and each due row also paid a PL/pgSQL call of the
  final-state trigger that could only return NEW (the row was still open).
  - idx_invitation_recent (start_time DESC) is read by no query: dropped, one index entry less per
    changed row for every status change (auto-close, join, leave, cancel).
  - trg_invitation_final_state now fires only `WHEN (OLD.status IN ('completed', 'cancelled'))`: the
    function's own first test, evaluated without entering PL/pgSQL. Same rule, same name, so it still
    runs before trg_invitation_updated_at (BEFORE triggers fire in name order).
  - idx_invitation_auto_close becomes (end_time) for the open statuses: the due rows come out in
    end_time order and the scan stops after one batch. On (status, end_time) the two statuses were two
    ranges, so every batch bitmap-scanned and sorted the whole backlog before its LIMIT.
- Q1, the recruiting list, orders by (start_time, id) within a tag: idx_invitation_active becomes
  (tag, start_time, id) for recruiting rows, the list's filter and order exactly, so each per-tag scan
  reads its 21 rows in order (no sort) and a cursor starts the range at (start_time, id).
  idx_invitation_list still serves the lists of the other statuses.

Index builds take a write lock on invitations for their duration (well under a second at 100,000
rows); nothing here needs a grant (indexes and triggers act for every role).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
DROP INDEX idx_invitation_recent;

DROP INDEX idx_invitation_auto_close;
CREATE INDEX idx_invitation_auto_close ON invitations (end_time) WHERE status IN ('recruiting', 'full');

DROP INDEX idx_invitation_active;
CREATE INDEX idx_invitation_active ON invitations (tag, start_time, id) WHERE status = 'recruiting';

DROP TRIGGER trg_invitation_final_state ON invitations;
CREATE TRIGGER trg_invitation_final_state BEFORE UPDATE ON invitations
  FOR EACH ROW WHEN (OLD.status IN ('completed', 'cancelled'))
  EXECUTE FUNCTION prevent_final_state_modification();
"""

DOWNGRADE = """
DROP TRIGGER trg_invitation_final_state ON invitations;
CREATE TRIGGER trg_invitation_final_state BEFORE UPDATE ON invitations
  FOR EACH ROW EXECUTE FUNCTION prevent_final_state_modification();

DROP INDEX idx_invitation_active;
CREATE INDEX idx_invitation_active ON invitations (tag, start_time) WHERE status = 'recruiting';

DROP INDEX idx_invitation_auto_close;
CREATE INDEX idx_invitation_auto_close ON invitations (status, end_time)
  WHERE status IN ('recruiting', 'full');

CREATE INDEX idx_invitation_recent ON invitations (start_time DESC);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
