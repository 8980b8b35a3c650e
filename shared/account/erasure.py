"""The invitations database's part of an account deletion (PostgreSQL, role vchat_account_deletion).

The community's history must stay consistent (who came to which meetup, seat counts, the staff's
ticket queue), so rows are pseudonymised rather than deleted, except where the person's absence is
the truth:
- invitations the user hosts that are still open are cancelled (nobody will host them); every
  invitation they hosted keeps its event data but gets the pseudonym as host_id, the placeholder as
  host_name, and loses vrchat_profile and instance_link (links that lead to the person);
- invitations where they took charge as staff: staff_id / staff_name pseudonymised;
- their seats in open invitations are given up (a full invitation recruits again); their past
  participations are pseudonymised (counts and history stay right);
- their support tickets are pseudonymised (the staff queue keeps the case, without the person).
The ids of every invitation changed are returned: their Discord messages show the host and the
seats, so the job asks the Discord worker to edit them (deletion_job's `discord` step). A ticket's
message in the staff channel is the staff's record of what was asked and is left as posted.
The pseudonym is random ("deleted-" + 12 hex digits, fits VARCHAR(20), never a Discord id), one per
deleted account (so "the same deleted person hosted these three" stays true), and it is never stored
next to the uid once the job has finished. `call_sessions` rows carry no user id at all.

Every statement is idempotent: a second run finds no row with the user's ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

PLACEHOLDER_NAME = "(deleted user)"  # also in migrations/versions/0004 (the final-row trigger)
PSEUDONYM_PREFIX = "deleted-"

CANCEL_HOSTED = """
UPDATE invitations SET status = 'cancelled'
WHERE host_id = ANY(:ids) AND status IN ('recruiting', 'full')
RETURNING id
"""
PSEUDONYMISE_HOSTED = """
UPDATE invitations
SET host_id = :pseudonym, host_name = :placeholder, vrchat_profile = NULL, instance_link = NULL
WHERE host_id = ANY(:ids)
RETURNING id
"""
PSEUDONYMISE_STAFF = """
UPDATE invitations SET staff_id = :pseudonym, staff_name = :placeholder WHERE staff_id = ANY(:ids)
RETURNING id
"""
GIVE_UP_OPEN_SEATS = """
DELETE FROM participants p USING invitations i
WHERE p.invitation_id = i.id AND p.user_id = ANY(:ids) AND i.status IN ('recruiting', 'full')
RETURNING p.invitation_id
"""
RECRUIT_AGAIN = """
UPDATE invitations i SET status = 'recruiting'
WHERE i.id = ANY(:freed) AND i.status = 'full'
  AND (SELECT count(*) FROM participants p WHERE p.invitation_id = i.id AND p.status = 'joined')
      < i.max_participants
"""
PSEUDONYMISE_PARTICIPATIONS = """
UPDATE participants SET user_id = :pseudonym, user_name = :placeholder WHERE user_id = ANY(:ids)
RETURNING invitation_id
"""
PSEUDONYMISE_TICKETS = """
UPDATE tickets SET user_id = :pseudonym, user_name = :placeholder WHERE user_id = ANY(:ids)
"""


@dataclass(frozen=True)
class Erasure:
    counts: dict[str, int]  # rows changed per statement
    invitations: list[str]  # every invitation whose row or participants changed


def pseudonymise(engine: Engine, ids: list[str], pseudonym: str) -> Erasure:
    """One transaction over every row naming one of `ids`."""
    from sqlalchemy import text

    if not ids:
        return Erasure({}, [])
    params = {"ids": ids, "pseudonym": pseudonym, "placeholder": PLACEHOLDER_NAME}
    counts: dict[str, int] = {}
    touched: set[str] = set()
    with engine.begin() as conn:

        def changed(statement: str, name: str) -> list[str]:
            rows = [str(row[0]) for row in conn.execute(text(statement), params)]
            counts[name] = len(rows)
            return rows

        touched.update(changed(CANCEL_HOSTED, "cancelled"))
        touched.update(changed(PSEUDONYMISE_HOSTED, "hosted"))
        touched.update(changed(PSEUDONYMISE_STAFF, "staffed"))
        freed = sorted(set(changed(GIVE_UP_OPEN_SEATS, "seatsGivenUp")))
        counts["seatsGivenUp"] = len(freed)  # invitations, not rows: one person may hold two ids
        touched.update(freed)
        if freed:
            counts["recruitingAgain"] = conn.execute(text(RECRUIT_AGAIN), {"freed": freed}).rowcount
        touched.update(changed(PSEUDONYMISE_PARTICIPATIONS, "participations"))
        counts["tickets"] = conn.execute(text(PSEUDONYMISE_TICKETS), params).rowcount
    return Erasure(counts, sorted(touched))
