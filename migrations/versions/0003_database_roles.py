"""Database roles: one NOLOGIN group role per function group, holding exactly what its code runs.

Functions never log in as the owner. Each deployed function logs in as its own IAM database user
(Terraform's `google_sql_user`, locally a LOGIN role of the same name) and is granted the group
roles its manifest entry names (`database_roles`) by `python -m deploy grant-roles`. A statement a
group does not need fails with `permission denied` (SQLSTATE 42501), locally as in production.

| role | used by | privileges (from the SQL the code runs) |
| --- | --- | --- |
| vchat_invitations | invitations_api | invitations SELECT, INSERT, UPDATE; participants SELECT, INSERT, UPDATE, DELETE (+ its id sequence); tickets SELECT, INSERT, UPDATE |
| vchat_invitations_completer | auto_close | invitations SELECT (id, status, end_time), UPDATE (status) |
| vchat_analytics_writer | on_room_written | call_sessions INSERT, SELECT (session_id) |

No DELETE of invitations or tickets (nothing deletes them), no TRUNCATE, REFERENCES or TRIGGER for
anyone. The foreign key of participants is checked with the owner's rights, so vchat_invitations
needs no REFERENCES. Column grants keep auto_close away from names and the encrypted columns.

No default privileges for tables: every area lives in schema `public`, so a default would hand a
later table of one area to the groups of all others. A migration that adds a table grants it in
the same file (tests/test_database_roles.py fails for a table no group can reach). The defaults that
are set remove what PostgreSQL gives PUBLIC on later functions (EXECUTE).

Roles belong to the whole cluster, not to one database: they are created only if missing (a second
database of the same cluster, a restore, a re-run) and downgrade revokes this database's grants but
leaves the roles, which other databases of the cluster may still use.

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

ROLES = ("vchat_invitations", "vchat_invitations_completer", "vchat_analytics_writer")

CREATE_ROLES = "\n".join(
    f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
    CREATE ROLE {role} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END
$$;"""
    for role in ROLES
)

# PostgreSQL 15 already took CREATE on schema public from PUBLIC; USAGE of the schema and CONNECT /
# TEMPORARY on the database are still PUBLIC's, so any login of the cluster (another IAM user, a
# forgotten test login) could connect and see the schema. Only the groups keep them.
UPGRADE = f"""
{CREATE_ROLES}

DO $$
BEGIN
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO {", ".join(ROLES)}', current_database());
END
$$;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO {", ".join(ROLES)};

-- Trigger functions fire without EXECUTE; nobody calls them directly.
REVOKE EXECUTE ON FUNCTION update_invitation_updated_at() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION prevent_final_state_modification() FROM PUBLIC;
-- Global (not IN SCHEMA): a per-schema default can only add to the global one, never take away.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- invitations_api (shared/invitations/repository.py): lists and details (Q1-Q3), creates and
-- patches invitations, cancels them (UPDATE status), locks a row with SELECT ... FOR UPDATE (needs
-- UPDATE), joins / leaves (INSERT / UPDATE / DELETE participants), opens and closes tickets.
GRANT SELECT, INSERT, UPDATE ON invitations TO vchat_invitations;
GRANT SELECT, INSERT, UPDATE, DELETE ON participants TO vchat_invitations;
GRANT USAGE ON SEQUENCE participants_id_seq TO vchat_invitations;
GRANT SELECT, INSERT, UPDATE ON tickets TO vchat_invitations;

-- auto_close (shared/invitations/auto_close.py, Q4): picks due rows by status and end_time, locks
-- them FOR UPDATE SKIP LOCKED and sets status = 'completed'. The BEFORE UPDATE triggers rewrite
-- updated_at on the row itself, which needs no privilege on that column.
GRANT SELECT (id, status, end_time) ON invitations TO vchat_invitations_completer;
GRANT UPDATE (status) ON invitations TO vchat_invitations_completer;

-- on_room_written (shared/analytics.py): INSERT ... ON CONFLICT (session_id) DO NOTHING. The
-- conflict target is read to find the existing row, so it needs SELECT on that column (only).
GRANT INSERT, SELECT (session_id) ON call_sessions TO vchat_analytics_writer;
"""

DOWNGRADE = f"""
REVOKE ALL ON invitations, participants, tickets, call_sessions FROM {", ".join(ROLES)};
REVOKE ALL ON SEQUENCE participants_id_seq FROM vchat_invitations;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
GRANT EXECUTE ON FUNCTION update_invitation_updated_at() TO PUBLIC;
GRANT EXECUTE ON FUNCTION prevent_final_state_modification() TO PUBLIC;
REVOKE ALL ON SCHEMA public FROM {", ".join(ROLES)};
GRANT USAGE ON SCHEMA public TO PUBLIC;
DO $$
BEGIN
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM {", ".join(ROLES)}', current_database());
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END
$$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
