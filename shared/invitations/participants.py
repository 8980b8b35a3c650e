"""Participants: join or mark interested, leave (both under the invitation's row lock, so seats never
over-fill), and a user's participation history (Q3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.clients.postgres import autocommit_read
from shared.errors import conflict, not_found
from shared.invitations import cache, views
from shared.invitations.errors import translate_db_errors
from shared.invitations.model import Actor, Page
from shared.invitations.queries import joined_count, lock_invitation, page, require_open, set_seat_status, sql

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


# -- Q3: a user's participation history -----------------------------------------------------------
Q3 = """
SELECT i.id, i.event_name, i.start_time, i.end_time, i.tag, i.status,
       p.status AS participation, p.created_at
FROM participants p
JOIN invitations i ON i.id = p.invitation_id
WHERE p.user_id = :user_id AND i.status <> 'cancelled' {before}
ORDER BY i.start_time DESC, i.id DESC
LIMIT :limit
"""
Q3_BEFORE = "AND i.start_time <= :before_time AND (i.start_time < :before_time OR i.id < :before_id)"


def q3_sql(before: bool) -> str:
    return Q3.format(before=Q3_BEFORE if before else "")


def participations(engine: Engine, user_id: str, before: tuple[datetime, str] | None, limit: int) -> Page:
    params: dict[str, Any] = {"user_id": user_id, "limit": limit + 1}
    if before:
        params.update(before_time=before[0], before_id=before[1])
    with autocommit_read(engine) as conn:
        rows = conn.execute(sql(q3_sql(before is not None)), params).mappings().all()
    return page(rows, limit, "q3", "start_time", views.participation)


# -- participants ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Participation:
    created: bool
    status: str | None
    joined_count: int
    invitation_status: str

    def body(self, invitation_id: str, user_id: str) -> dict[str, Any]:
        return {
            "invitationId": invitation_id,
            "userId": user_id,
            "status": self.status,
            "joinedCount": self.joined_count,
            "invitationStatus": self.invitation_status,
        }


def set_participation(
    engine: Engine, invitation_id: str, actor: Actor, user_name: str, status: str
) -> Participation:
    """Join or mark interested (idempotent). A join when every seat is taken is 409 `invitation_full`."""
    with translate_db_errors(), engine.begin() as conn:
        row = lock_invitation(conn, invitation_id)
        require_open(row)
        current = conn.execute(
            sql("SELECT status FROM participants WHERE invitation_id = :id AND user_id = :user_id"),
            {"id": invitation_id, "user_id": actor.user_id},
        ).scalar()
        joined = joined_count(conn, invitation_id)
        if status == "joined" and current != "joined":
            if joined >= row["max_participants"]:
                raise conflict("the invitation is full", code="invitation_full")
            joined += 1
        elif status == "interested" and current == "joined":
            joined -= 1
        params = {"id": invitation_id, "user_id": actor.user_id, "user_name": user_name, "status": status}
        if current is None:
            conn.execute(
                sql(
                    "INSERT INTO participants (invitation_id, user_id, user_name, status) "
                    "VALUES (:id, :user_id, :user_name, :status)"
                ),
                params,
            )
        elif current != status:
            conn.execute(
                sql(
                    "UPDATE participants SET status = :status, user_name = :user_name "
                    "WHERE invitation_id = :id AND user_id = :user_id"
                ),
                params,
            )
        invitation_status = set_seat_status(conn, row, joined)
    cache.invalidate_lists()
    return Participation(current is None, status, joined, invitation_status)


def leave(engine: Engine, invitation_id: str, actor: Actor) -> Participation:
    """Remove the caller; a seat freed on a full invitation makes it recruiting again."""
    with translate_db_errors(), engine.begin() as conn:
        row = lock_invitation(conn, invitation_id)
        require_open(row)
        removed = conn.execute(
            sql("DELETE FROM participants WHERE invitation_id = :id AND user_id = :user_id RETURNING status"),
            {"id": invitation_id, "user_id": actor.user_id},
        ).scalar()
        if removed is None:
            raise not_found("you do not take part in this invitation")
        joined = joined_count(conn, invitation_id)
        invitation_status = set_seat_status(conn, row, joined)
    cache.invalidate_lists()
    return Participation(False, None, joined, invitation_status)
