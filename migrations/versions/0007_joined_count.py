"""Invitations: the joined seats counted on the invitation row, kept by the database.

The list (Q1) showed each invitation's joined seats by counting its participants, a subquery per row:
21 index probes of idx_participant_joined for every page, 0.4 ms of a 1.8 ms first page measured
in one process (docs/bench/invitations.md). `invitations.joined_count` holds that number instead.

Kept by statement-level triggers on participants, not by the code that writes them: every writer
(joins and leaves in shared/invitations/participants.py, seats given up by account erasure, a
writer added later) keeps it without knowing, and a statement touching many rows updates each
invitation once (transition tables), which is what keeps a bulk load or an erasure cheap. The
function runs as its owner (SECURITY DEFINER, fixed search_path), so no group role needs a grant
on the column; EXECUTE is not checked when a trigger fires.

An invitation that is completed or cancelled keeps the count it had: the triggers skip final rows,
whose participants the code no longer changes (it refuses joins and leaves; erasure gives up seats
only in open invitations), and which trg_invitation_final_state protects. The backfill below sets
every row, final ones included, with those two triggers off for its one statement, so it does not
move updated_at. From now on a join or leave moves updated_at (the API's `updatedAt`) whether or not
it changes the status: the seat count is part of the invitation.

Counted as changes (+1 / -1), not recounted: joined_count = joined_count + delta re-reads the row
it updates, so two transactions changing one invitation's seats at once both count, whatever the
order their statements meet in (a recount in the second could miss the first's uncommitted rows).

Lock order is unchanged for joins and leaves: they hold the invitation's row lock before they
write participants (shared/invitations/queries.py), and the trigger updates that same row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _count_change(rows: str, sign: str) -> str:
    return f"SELECT invitation_id, {sign}count(*) AS delta FROM {rows} WHERE status = 'joined' GROUP BY invitation_id"


UPGRADE = f"""
ALTER TABLE invitations ADD COLUMN joined_count integer NOT NULL DEFAULT 0
  CONSTRAINT chk_invitation_joined_count CHECK (joined_count >= 0);
COMMENT ON COLUMN invitations.joined_count IS
  'participants with status joined; kept by trg_participants_count_* (migration 0007); frozen once final';

ALTER TABLE invitations DISABLE TRIGGER trg_invitation_final_state;
ALTER TABLE invitations DISABLE TRIGGER trg_invitation_updated_at;
UPDATE invitations i SET joined_count = c.joined
FROM (SELECT invitation_id, count(*) AS joined FROM participants WHERE status = 'joined'
      GROUP BY invitation_id) AS c
WHERE i.id = c.invitation_id;
ALTER TABLE invitations ENABLE TRIGGER trg_invitation_updated_at;
ALTER TABLE invitations ENABLE TRIGGER trg_invitation_final_state;

CREATE FUNCTION count_joined_seats() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  -- Each branch names only the transition tables its event has (a statement is planned when reached).
  IF TG_OP = 'INSERT' THEN
    UPDATE invitations i SET joined_count = i.joined_count + d.delta
    FROM ({_count_change("new_rows", "")}) AS d
    WHERE i.id = d.invitation_id AND i.status NOT IN ('completed', 'cancelled');
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE invitations i SET joined_count = i.joined_count + d.delta
    FROM ({_count_change("old_rows", "-")}) AS d
    WHERE i.id = d.invitation_id AND i.status NOT IN ('completed', 'cancelled');
  ELSE
    -- A row counts where it stayed: a participant whose invitation_id changed moved by the cascade of
    -- its invitation's new id, and the invitation row carried its count along.
    UPDATE invitations i SET joined_count = i.joined_count + d.delta
    FROM (SELECT n.invitation_id,
                 sum((n.status = 'joined')::int - (o.status = 'joined')::int) AS delta
          FROM new_rows n JOIN old_rows o ON o.id = n.id AND o.invitation_id = n.invitation_id
          GROUP BY n.invitation_id) AS d
    WHERE i.id = d.invitation_id AND d.delta <> 0 AND i.status NOT IN ('completed', 'cancelled');
  END IF;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION count_joined_seats() FROM PUBLIC;

CREATE TRIGGER trg_participants_count_insert AFTER INSERT ON participants
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_joined_seats();
CREATE TRIGGER trg_participants_count_update AFTER UPDATE ON participants
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_joined_seats();
CREATE TRIGGER trg_participants_count_delete AFTER DELETE ON participants
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_joined_seats();
"""

DOWNGRADE = """
DROP TRIGGER trg_participants_count_delete ON participants;
DROP TRIGGER trg_participants_count_update ON participants;
DROP TRIGGER trg_participants_count_insert ON participants;
DROP FUNCTION count_joined_seats();
ALTER TABLE invitations DROP COLUMN joined_count;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
