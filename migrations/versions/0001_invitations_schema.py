"""The invitations schema: invitations, participants, tickets (PostgreSQL 15).

Every business rule the issue lists is a constraint or trigger here, so no client (the API, the
bot, a psql session) can break it. Names are explicit: the API maps a violation that still
reaches the database back to the request field by constraint name (shared/invitations/errors.py).

Revision ID: 0001
Revises:
Create Date: 2025-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Times are TIMESTAMP(3) holding UTC (millisecond precision, as Discord timestamps); defaults are
# computed in UTC whatever the session's TimeZone says.
UTC_NOW = "(now() AT TIME ZONE 'UTC')"

# A Fernet token always starts with version byte 0x80 and a 64-bit timestamp: "gAAAAA" in base64url.
# The check keeps plaintext out of the encrypted columns.
FERNET_TOKEN = r"'^gAAAAA[A-Za-z0-9_-]+=*$'"

UPGRADE = f"""
CREATE TABLE invitations (
  id                VARCHAR(20)  PRIMARY KEY,
  thread_id         VARCHAR(20)  NOT NULL CONSTRAINT uq_invitation_thread_id UNIQUE,
  staff_message_id  VARCHAR(20),
  host_id           VARCHAR(20)  NOT NULL,
  host_name         VARCHAR(100) NOT NULL,
  event_name        VARCHAR(200) NOT NULL,
  start_time        TIMESTAMP(3) NOT NULL,
  end_time          TIMESTAMP(3) NOT NULL,
  world_name        VARCHAR(200) NOT NULL,
  world_link        VARCHAR(500),
  tag               VARCHAR(50)  NOT NULL,
  description       TEXT         NOT NULL,
  instance_type     VARCHAR(20)  NOT NULL,
  vrchat_profile    TEXT,
  instance_link     TEXT,
  max_participants  INTEGER      NOT NULL,
  status            VARCHAR(20)  NOT NULL DEFAULT 'recruiting',
  staff_id          VARCHAR(20),
  staff_name        VARCHAR(100),
  created_at        TIMESTAMP(3) NOT NULL DEFAULT {UTC_NOW},
  updated_at        TIMESTAMP(3) NOT NULL DEFAULT {UTC_NOW},
  CONSTRAINT chk_invitation_time_range CHECK (start_time < end_time),
  CONSTRAINT chk_invitation_max_participants CHECK (max_participants BETWEEN 1 AND 100),
  CONSTRAINT chk_invitation_status CHECK (status IN ('recruiting', 'full', 'completed', 'cancelled')),
  CONSTRAINT chk_invitation_instance_type
    CHECK (instance_type IN ('group', 'friend', 'friendplus', 'public')),
  CONSTRAINT chk_invitation_tag CHECK (tag IN ('観光', 'ゲーム', 'まったり', '撮影会', 'イベント', 'その他')),
  CONSTRAINT chk_invitation_event_name CHECK (event_name !~ '\\n'),
  CONSTRAINT chk_invitation_world_link CHECK (world_link IS NULL OR world_link ~* '^https://'),
  CONSTRAINT chk_invitation_vrchat_profile_encrypted
    CHECK (vrchat_profile IS NULL OR vrchat_profile ~ {FERNET_TOKEN}),
  CONSTRAINT chk_invitation_instance_link_encrypted
    CHECK (instance_link IS NULL OR instance_link ~ {FERNET_TOKEN})
);

CREATE INDEX idx_invitation_list ON invitations (status, tag, start_time);
CREATE INDEX idx_invitation_host ON invitations (host_id, start_time DESC);
CREATE INDEX idx_invitation_auto_close ON invitations (status, end_time)
  WHERE status IN ('recruiting', 'full');
CREATE INDEX idx_invitation_recent ON invitations (start_time DESC);
CREATE INDEX idx_invitation_active ON invitations (tag, start_time) WHERE status = 'recruiting';

CREATE FUNCTION update_invitation_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := {UTC_NOW};
  RETURN NEW;
END
$$;

-- Final rows are frozen. The one change still allowed is re-encrypting the two encrypted columns
-- under a newer key (key rotation), which leaves every other column as it was.
CREATE FUNCTION prevent_final_state_modification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status IN ('completed', 'cancelled')
     AND (to_jsonb(NEW) - 'vrchat_profile' - 'instance_link' - 'updated_at')
         IS DISTINCT FROM (to_jsonb(OLD) - 'vrchat_profile' - 'instance_link' - 'updated_at') THEN
    RAISE EXCEPTION 'invitation % is %: it can no longer be modified', OLD.id, OLD.status
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  RETURN NEW;
END
$$;

-- BEFORE triggers fire in name order: the final-state check runs before updated_at is touched.
CREATE TRIGGER trg_invitation_final_state BEFORE UPDATE ON invitations
  FOR EACH ROW EXECUTE FUNCTION prevent_final_state_modification();
CREATE TRIGGER trg_invitation_updated_at BEFORE UPDATE ON invitations
  FOR EACH ROW EXECUTE FUNCTION update_invitation_updated_at();

ALTER TABLE invitations ALTER COLUMN status SET STATISTICS 1000;
ALTER TABLE invitations ALTER COLUMN tag SET STATISTICS 1000;
-- Status flips (join/leave/auto-close) churn rows: vacuum and analyze sooner than the defaults.
ALTER TABLE invitations SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02);

CREATE TABLE participants (
  id             SERIAL       PRIMARY KEY,
  invitation_id  VARCHAR(20)  NOT NULL,
  user_id        VARCHAR(20)  NOT NULL,
  user_name      VARCHAR(100) NOT NULL,
  status         VARCHAR(20)  NOT NULL,
  created_at     TIMESTAMP(3) NOT NULL DEFAULT {UTC_NOW},
  CONSTRAINT fk_participant_invitation FOREIGN KEY (invitation_id)
    REFERENCES invitations (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT unique_participant UNIQUE (invitation_id, user_id),
  CONSTRAINT chk_participant_status CHECK (status IN ('joined', 'interested'))
);

CREATE INDEX idx_participant_user_history ON participants (user_id, created_at DESC);
CREATE INDEX idx_participant_invitation_status ON participants (invitation_id, status);
CREATE INDEX idx_participant_joined ON participants (invitation_id) WHERE status = 'joined';

CREATE TABLE tickets (
  id          VARCHAR(20)  PRIMARY KEY,
  user_id     VARCHAR(20)  NOT NULL,
  user_name   VARCHAR(100) NOT NULL,
  category    VARCHAR(20)  NOT NULL,
  status      VARCHAR(20)  NOT NULL DEFAULT 'open',
  created_at  TIMESTAMP(3) NOT NULL DEFAULT {UTC_NOW},
  closed_at   TIMESTAMP(3),
  CONSTRAINT chk_ticket_category CHECK (category IN ('question', 'trouble', 'other')),
  CONSTRAINT chk_ticket_status CHECK (status IN ('open', 'closed')),
  CONSTRAINT chk_ticket_closed_at CHECK (closed_at IS NULL OR closed_at >= created_at)
);

CREATE INDEX idx_ticket_open ON tickets (created_at DESC) WHERE status = 'open';
CREATE INDEX idx_ticket_user_history ON tickets (user_id, created_at DESC);

COMMENT ON TABLE invitations IS 'Meetup invitations (お誘い募集) posted by the community bot';
COMMENT ON COLUMN invitations.id IS 'Discord message id (snowflake) of the invitation post';
COMMENT ON COLUMN invitations.thread_id IS 'Discord thread id of the invitation (one invitation per thread)';
COMMENT ON COLUMN invitations.staff_message_id IS 'Discord message id of the staff channel notice';
COMMENT ON COLUMN invitations.host_id IS 'Discord user id of the host';
COMMENT ON COLUMN invitations.start_time IS 'Start time, UTC';
COMMENT ON COLUMN invitations.end_time IS 'End time, UTC; auto-close completes the invitation after it';
COMMENT ON COLUMN invitations.vrchat_profile IS
  'Host VRChat profile URL as Fernet ciphertext (INVITATIONS_ENCRYPTION_KEYS); plaintext https://vrchat.com/...';
COMMENT ON COLUMN invitations.instance_link IS
  'VRChat instance link as Fernet ciphertext (INVITATIONS_ENCRYPTION_KEYS)';
COMMENT ON COLUMN invitations.status IS 'recruiting -> full <-> recruiting -> completed | cancelled (final)';
COMMENT ON COLUMN invitations.staff_id IS 'Discord user id of the staff member who took charge';
COMMENT ON TABLE participants IS
  'Who joined or is interested in an invitation: one row per user and invitation';
COMMENT ON COLUMN participants.status IS
  'joined takes a seat (counted against max_participants); interested does not';
COMMENT ON CONSTRAINT unique_participant ON participants IS 'A user appears once per invitation';
COMMENT ON TABLE tickets IS 'Support tickets opened by members, closed by staff';
COMMENT ON COLUMN tickets.id IS 'Discord id (snowflake) of the ticket thread';
"""

DOWNGRADE = """
DROP TABLE tickets;
DROP TABLE participants;
DROP TABLE invitations;
DROP FUNCTION prevent_final_state_modification();
DROP FUNCTION update_invitation_updated_at();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
