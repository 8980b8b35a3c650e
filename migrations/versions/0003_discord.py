"""Discord worker records: job progress (idempotency by interaction id) and the bot's messages.

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE discord_jobs (
  job_key      VARCHAR(64) PRIMARY KEY,
  progress     JSONB       NOT NULL DEFAULT '{}'::jsonb,
  done_at      TIMESTAMPTZ,
  lease_until  TIMESTAMPTZ,
  attempts     INTEGER     NOT NULL DEFAULT 0,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT chk_discord_job_attempts CHECK (attempts >= 0)
);

CREATE INDEX idx_discord_job_done ON discord_jobs (done_at) WHERE done_at IS NOT NULL;

CREATE TABLE discord_messages (
  subject        VARCHAR(48) PRIMARY KEY,
  channel_id     VARCHAR(20) NOT NULL,
  message_id     VARCHAR(20) NOT NULL,
  rendered_hash  CHAR(64),
  context        JSONB       NOT NULL DEFAULT '{}'::jsonb,
  lease_until    TIMESTAMPTZ,
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT chk_discord_message_ids CHECK (channel_id ~ '^[0-9]{1,20}$' AND message_id ~ '^[0-9]{1,20}$')
);

COMMENT ON TABLE discord_jobs IS
  'One row per outbox job that posts to Discord, keyed by kind and interaction id: the ids Discord '
  'returned so far (progress), a lease while a worker runs it, done_at once finished';
COMMENT ON TABLE discord_messages IS
  'Messages the bot keeps up to date: invitation:{id}, invitation_staff:{id}, ticket:{id} -> where '
  'it is, the hash of the last payload sent (an identical edit is skipped), a lease while editing';
"""

DOWNGRADE = """
DROP TABLE discord_messages;
DROP TABLE discord_jobs;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
