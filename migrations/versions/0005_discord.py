"""Discord worker records: job progress (idempotency by interaction id) and the bot's messages.

The worker gets a group role of its own, `vchat_discord_worker` (docs/operations.md "Database
roles"): it creates invitations once their message is posted and reads them (and their participants,
and tickets) to render messages, but never changes one; it owns the two tables below. The
interactions function is the domain's second door and holds `vchat_invitations`, like invitations_api.

| role | privileges |
| --- | --- |
| vchat_discord_worker | invitations SELECT, INSERT; participants SELECT; tickets SELECT; discord_jobs and discord_messages SELECT, INSERT, UPDATE |

Revision ID: 0005
Revises: 0004
Create Date: 2025-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ROLE = "vchat_discord_worker"

UPGRADE = f"""
CREATE TABLE discord_jobs (
  job_key      VARCHAR(64) PRIMARY KEY,
  progress     JSONB       NOT NULL DEFAULT '{{}}'::jsonb,
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
  context        JSONB       NOT NULL DEFAULT '{{}}'::jsonb,
  lease_until    TIMESTAMPTZ,
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT chk_discord_message_ids CHECK (channel_id ~ '^[0-9]{{1,20}}$' AND message_id ~ '^[0-9]{{1,20}}$')
);

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
    CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO {ROLE}', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO {ROLE};

-- discord_worker (shared/discord/worker.py, jobs.py): inserts the invitation after posting its
-- message (shared/invitations/invitations.create_invitation), reads an invitation with its
-- participants (Q2) and a ticket to render their messages, runs its jobs and message leases.
GRANT SELECT, INSERT ON invitations TO {ROLE};
GRANT SELECT ON participants TO {ROLE};
GRANT SELECT ON tickets TO {ROLE};
GRANT SELECT, INSERT, UPDATE ON discord_jobs, discord_messages TO {ROLE};

COMMENT ON TABLE discord_jobs IS
  'One row per outbox job that posts to Discord, keyed by kind and interaction id: the ids Discord '
  'returned so far (progress), a lease while a worker runs it, done_at once finished';
COMMENT ON TABLE discord_messages IS
  'Messages the bot keeps up to date: invitation:{id}, invitation_staff:{id}, ticket:{id} -> where '
  'it is, the hash of the last payload sent (an identical edit is skipped), a lease while editing';
"""

# The role stays (roles belong to the cluster, see 0003); this database's grants go.
DOWNGRADE = f"""
DROP TABLE discord_messages;
DROP TABLE discord_jobs;
REVOKE ALL ON invitations, participants, tickets FROM {ROLE};
REVOKE ALL ON SCHEMA public FROM {ROLE};
DO $$
BEGIN
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM {ROLE}', current_database());
END
$$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
