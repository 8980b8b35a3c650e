"""Support tickets: a member opens one, staff list and close them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.clients.postgres import autocommit_read
from shared.errors import ApiError, not_found
from shared.invitations import views
from shared.invitations.errors import translate_db_errors
from shared.invitations.model import Actor, Page, utc_now
from shared.invitations.queries import page, sql

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


# -- support tickets --------------------------------------------------------------------------------------
def create_ticket(
    engine: Engine, ticket_id: str, actor: Actor, user_name: str, category: str
) -> dict[str, Any]:
    with translate_db_errors(), engine.begin() as conn:
        row = (
            conn.execute(
                sql(
                    "INSERT INTO tickets (id, user_id, user_name, category) "
                    "VALUES (:id, :user_id, :user_name, :category) RETURNING *"
                ),
                {"id": ticket_id, "user_id": actor.user_id, "user_name": user_name, "category": category},
            )
            .mappings()
            .one()
        )
    return views.ticket(row)


TICKETS = """
SELECT * FROM tickets
WHERE {where} {before}
ORDER BY created_at DESC, id DESC
LIMIT :limit
"""
TICKETS_BEFORE = "AND created_at <= :before_time AND (created_at < :before_time OR id < :before_id)"


def list_tickets(
    engine: Engine,
    *,
    user_id: str | None,
    status: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> Page:
    """A user's tickets (any status) or, for staff, the tickets in one status; newest first."""
    where = "user_id = :user_id" if user_id is not None else "status = :status"
    params: dict[str, Any] = {"user_id": user_id, "status": status, "limit": limit + 1}
    if before:
        params.update(before_time=before[0], before_id=before[1])
    query = TICKETS.format(where=where, before=TICKETS_BEFORE if before else "")
    with autocommit_read(engine) as conn:
        rows = conn.execute(sql(query), params).mappings().all()
    return page(rows, limit, "tickets", "created_at", views.ticket)


def get_ticket(engine: Engine, ticket_id: str) -> dict[str, Any]:
    with autocommit_read(engine) as conn:
        row = conn.execute(sql("SELECT * FROM tickets WHERE id = :id"), {"id": ticket_id}).mappings().first()
    if row is None:
        raise not_found(f"ticket {ticket_id} does not exist")
    return views.ticket(row)


def close_ticket(engine: Engine, ticket_id: str) -> dict[str, Any]:
    with translate_db_errors(), engine.begin() as conn:
        row = (
            conn.execute(
                sql(
                    "UPDATE tickets SET status = 'closed', closed_at = GREATEST(:now, created_at) "
                    "WHERE id = :id AND status = 'open' RETURNING *"
                ),
                {"id": ticket_id, "now": utc_now()},
            )
            .mappings()
            .first()
        )
        if row is None:
            exists = conn.execute(
                sql("SELECT status FROM tickets WHERE id = :id"), {"id": ticket_id}
            ).scalar()
            if exists is None:
                raise not_found(f"ticket {ticket_id} does not exist")
            raise ApiError(409, "already_closed", f"ticket {ticket_id} is already closed")
    return views.ticket(row)
