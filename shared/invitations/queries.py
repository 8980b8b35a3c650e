"""What every invitations query module shares: the SQL wrapper, keyset pages, and the row lock an
invitation's writers take before they read or change its seats.

Concurrency: every change to an invitation's participants first takes the invitation's row lock
(`SELECT ... FOR UPDATE`), then counts the joined seats (index-only on idx_participant_joined) and
writes. Two joins of the same invitation therefore run one after the other and the seat count can
never pass max_participants, whatever the number of API instances. Joins of different invitations
do not wait for each other. Authorization that depends on the row (host or staff) is decided under
the same lock.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from shared.errors import conflict, forbidden, not_found
from shared.invitations import cursor
from shared.invitations.model import FINAL_STATUSES, Actor, Page

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, RowMapping


@functools.lru_cache(maxsize=256)
def sql(query: str) -> Any:
    """The statement as SQLAlchemy's text(), built once per text: building it parses the text for
    its `:name` parameters (a tenth of a millisecond of a list page), and a built one is immutable,
    so every request may share it. The texts come from code; the bound covers the UPDATE built from
    the set of fields a PATCH changes."""
    from sqlalchemy import text

    return text(query)


def page(rows: Any, limit: int, kind: str, time_column: str, render: Any, id_column: str = "id") -> Page:
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = cursor.encode(kind, last[time_column], last[id_column])
    return Page([render(row) for row in items], next_cursor)


def lock_invitation(conn: Connection, invitation_id: str) -> RowMapping:
    row = (
        conn.execute(sql("SELECT * FROM invitations WHERE id = :id FOR UPDATE"), {"id": invitation_id})
        .mappings()
        .first()
    )
    if row is None:
        raise not_found(f"invitation {invitation_id} does not exist")
    return row


def require_open(row: RowMapping) -> None:
    if row["status"] in FINAL_STATUSES:
        raise conflict(f"the invitation is {row['status']} and can no longer change", code="final_state")


def require_host_or_staff(row: RowMapping, actor: Actor) -> None:
    if not (actor.is_staff or row["host_id"] == actor.user_id):
        raise forbidden("only the host or staff may change this invitation")


def joined_count(conn: Connection, invitation_id: str) -> int:
    query = "SELECT count(*) FROM participants WHERE invitation_id = :id AND status = 'joined'"
    return int(conn.execute(sql(query), {"id": invitation_id}).scalar_one())


def seat_status(joined: int, max_participants: int) -> str:
    return "full" if joined >= max_participants else "recruiting"


def set_seat_status(conn: Connection, row: RowMapping, joined: int) -> str:
    status = seat_status(joined, row["max_participants"])
    if status != row["status"]:
        conn.execute(
            sql("UPDATE invitations SET status = :status WHERE id = :id"),
            {"status": status, "id": row["id"]},
        )
    return status
