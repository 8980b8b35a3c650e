"""Account deletion and retention: two group roles, and final invitations that can be pseudonymised.

| role | used by | privileges (from the SQL the code runs) |
| --- | --- | --- |
| vchat_account_deletion | account_deletion | invitations SELECT (id, host_id, staff_id, status, max_participants), UPDATE (status, host_id, host_name, staff_id, staff_name, vrchat_profile, instance_link); participants SELECT (invitation_id, user_id, status), UPDATE (user_id, user_name), DELETE; tickets SELECT (user_id), UPDATE (user_id, user_name) |
| vchat_analytics_retention | auto_close | call_sessions SELECT (session_id, started_at), DELETE |

shared/account/erasure.py pseudonymises a deleted user's rows (docs/account.md, "Deletion policy").
A completed or cancelled invitation is frozen by trg_invitation_final_state; the one new change it
allows is the erasure's: a people column (host_id, host_name, staff_id, staff_name) may only become
the deleted-user form, `deleted-…` for an id and the placeholder '(deleted user)' for a name. Any
other change of a final row still raises. `CREATE OR REPLACE` keeps the function's owner and
privileges (no EXECUTE for PUBLIC, migration 0003).

Revision ID: 0004
Revises: 0003
Create Date: 2025-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLES = ("vchat_account_deletion", "vchat_analytics_retention")
PLACEHOLDER_NAME = "(deleted user)"  # shared/account/erasure.py PLACEHOLDER_NAME
PSEUDONYM_PATTERN = "deleted-%"  # shared/account/deletion.py PSEUDONYM_PREFIX

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

PEOPLE = "'host_id' - 'host_name' - 'staff_id' - 'staff_name'"
FINAL_STATE = f"""
CREATE OR REPLACE FUNCTION prevent_final_state_modification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status IN ('completed', 'cancelled') AND (
       (to_jsonb(NEW) - 'vrchat_profile' - 'instance_link' - 'updated_at' - {PEOPLE})
         IS DISTINCT FROM (to_jsonb(OLD) - 'vrchat_profile' - 'instance_link' - 'updated_at' - {PEOPLE})
    OR (NEW.host_id IS DISTINCT FROM OLD.host_id AND NEW.host_id NOT LIKE '{PSEUDONYM_PATTERN}')
    OR (NEW.host_name IS DISTINCT FROM OLD.host_name AND NEW.host_name <> '{PLACEHOLDER_NAME}')
    OR (NEW.staff_id IS DISTINCT FROM OLD.staff_id
        AND coalesce(NEW.staff_id, '') NOT LIKE '{PSEUDONYM_PATTERN}')
    OR (NEW.staff_name IS DISTINCT FROM OLD.staff_name
        AND NEW.staff_name IS DISTINCT FROM '{PLACEHOLDER_NAME}')
  ) THEN
    RAISE EXCEPTION 'invitation % is %: it can no longer be modified', OLD.id, OLD.status
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  RETURN NEW;
END
$$;
"""

FINAL_STATE_BEFORE = """
CREATE OR REPLACE FUNCTION prevent_final_state_modification() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""

UPGRADE = f"""
{CREATE_ROLES}

DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO {", ".join(ROLES)}', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO {", ".join(ROLES)};

{FINAL_STATE}

-- account_deletion (shared/account/erasure.py): finds the user's rows by id (SELECT of the filtered
-- and returned columns), cancels open invitations they host, pseudonymises the people columns,
-- gives up their seats in open invitations (DELETE ... USING invitations ... RETURNING) and lets a
-- full invitation recruit again (counts joined seats).
GRANT SELECT (id, host_id, staff_id, status, max_participants) ON invitations TO vchat_account_deletion;
GRANT UPDATE (status, host_id, host_name, staff_id, staff_name, vrchat_profile, instance_link)
  ON invitations TO vchat_account_deletion;
GRANT SELECT (invitation_id, user_id, status) ON participants TO vchat_account_deletion;
GRANT UPDATE (user_id, user_name), DELETE ON participants TO vchat_account_deletion;
GRANT SELECT (user_id) ON tickets TO vchat_account_deletion;
GRANT UPDATE (user_id, user_name) ON tickets TO vchat_account_deletion;

-- auto_close (shared/jobs/retention.py): deletes call_sessions rows older than
-- CALL_SESSIONS_RETENTION_MONTHS in batches, picked by started_at (indexed) and session_id.
GRANT SELECT (session_id, started_at), DELETE ON call_sessions TO vchat_analytics_retention;
"""

DOWNGRADE = f"""
{FINAL_STATE_BEFORE}
REVOKE ALL ON invitations, participants, tickets, call_sessions FROM {", ".join(ROLES)};
REVOKE ALL ON SCHEMA public FROM {", ".join(ROLES)};
DO $$
BEGIN
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM {", ".join(ROLES)}', current_database());
END
$$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
