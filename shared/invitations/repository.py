"""The invitations SQL: Q1-Q3 from the design, and every write in one short transaction.

Concurrency: every change to an invitation's participants first takes the invitation's row lock
(`SELECT ... FOR UPDATE`), then counts the joined seats (index-only on idx_participant_joined) and
writes. Two joins of the same invitation therefore run one after the other and the seat count can
never pass max_participants, whatever the number of API instances. Joins of different invitations
do not wait for each other.

Authorization that depends on the row (host or staff) is decided under the same lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.errors import ApiError, conflict, forbidden, invalid, not_found
from shared.invitations import crypto, cursor, views
from shared.invitations.errors import translate_db_errors
from shared.invitations.model import FINAL_STATUSES, TAGS, NewInvitation, Page, utc_now

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine, RowMapping


@dataclass(frozen=True)
class Actor:
    """Who is acting: the caller's Discord id, staff claim and display name."""

    user_id: str
    is_staff: bool
    name: str | None = None


def _sql(query: str) -> Any:
    from sqlalchemy import text

    return text(query)


# -- Q1: the list ---------------------------------------------------------------------------------
# One ordered index range scan of idx_invitation_list (status, tag, start_time) per tag, merged: a list
# over all tags stays as cheap as a list over one (no scan through past rows of other statuses).
# The joined count is taken for the page's rows only, index-only on idx_participant_joined.
Q1 = """
SELECT page.*,
       (SELECT count(*) FROM participants p
        WHERE p.invitation_id = page.id AND p.status = 'joined') AS joined_count
FROM (
  SELECT per_tag.* FROM unnest(CAST(:tags AS varchar[])) AS t(tag)
  CROSS JOIN LATERAL (
    SELECT i.id, i.event_name, i.start_time, i.end_time, i.tag, i.status, i.world_name, i.host_name,
           i.instance_type, i.max_participants
    FROM invitations i
    WHERE i.status = :status AND i.tag = t.tag {after}
    ORDER BY i.start_time, i.id
    LIMIT :limit
  ) AS per_tag
  ORDER BY per_tag.start_time, per_tag.id
  LIMIT :limit
) AS page
ORDER BY page.start_time, page.id
"""
# Written as a range plus a tie-break (not a row comparison) so the index range scan starts at the cursor.
Q1_AFTER = "AND i.start_time >= :after_time AND (i.start_time > :after_time OR i.id > :after_id)"


def q1_sql(after: bool) -> str:
    return Q1.format(after=Q1_AFTER if after else "")


def list_invitations(
    engine: Engine, status: str, tag: str | None, after: tuple[datetime, str] | None, limit: int
) -> Page:
    tags = [tag] if tag is not None else list(TAGS)
    params: dict[str, Any] = {"status": status, "tags": tags, "limit": limit + 1}
    if after:
        params.update(after_time=after[0], after_id=after[1])
    with engine.connect() as conn:
        rows = conn.execute(_sql(q1_sql(after is not None)), params).mappings().all()
    return _page(rows, limit, "q1", "start_time", views.list_item)


def _page(rows: Any, limit: int, kind: str, time_column: str, render: Any, id_column: str = "id") -> Page:
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = cursor.encode(kind, last[time_column], last[id_column])
    return Page([render(row) for row in items], next_cursor)


# -- Q2: one invitation with its participants and joined count ------------------------------------
Q2 = """
SELECT i.*,
       COALESCE(
         json_agg(json_build_object(
           'userId', p.user_id, 'userName', p.user_name, 'status', p.status,
           'since', to_char(p.created_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
         ) ORDER BY p.created_at, p.id) FILTER (WHERE p.id IS NOT NULL),
         '[]'::json
       ) AS participants,
       count(p.id) FILTER (WHERE p.status = 'joined') AS joined_count
FROM invitations i
LEFT JOIN participants p ON p.invitation_id = i.id
WHERE i.id = :id
GROUP BY i.id
"""


def get_invitation(engine: Engine, invitation_id: str, viewer: Actor) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(_sql(Q2), {"id": invitation_id}).mappings().first()
    if row is None:
        raise not_found(f"invitation {invitation_id} does not exist")
    return views.detail(row, viewer.user_id, viewer.is_staff)


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
    with engine.connect() as conn:
        rows = conn.execute(_sql(q3_sql(before is not None)), params).mappings().all()
    return _page(rows, limit, "q3", "start_time", views.participation)


# -- invitation writes ----------------------------------------------------------------------------
INSERT_INVITATION = """
INSERT INTO invitations (id, thread_id, staff_message_id, host_id, host_name, event_name, start_time,
  end_time, world_name, world_link, tag, description, instance_type, vrchat_profile, instance_link,
  max_participants)
VALUES (:id, :thread_id, :staff_message_id, :host_id, :host_name, :event_name, :start_time, :end_time,
  :world_name, :world_link, :tag, :description, :instance_type, :vrchat_profile, :instance_link,
  :max_participants)
"""


def create_invitation(engine: Engine, invitation: NewInvitation) -> None:
    values = dict(invitation.__dict__)
    values["vrchat_profile"] = crypto.encrypt(invitation.vrchat_profile)
    values["instance_link"] = crypto.encrypt(invitation.instance_link)
    with translate_db_errors(), engine.begin() as conn:
        conn.execute(_sql(INSERT_INVITATION), values)


def _lock_invitation(conn: Connection, invitation_id: str) -> RowMapping:
    row = (
        conn.execute(_sql("SELECT * FROM invitations WHERE id = :id FOR UPDATE"), {"id": invitation_id})
        .mappings()
        .first()
    )
    if row is None:
        raise not_found(f"invitation {invitation_id} does not exist")
    return row


def _require_open(row: RowMapping) -> None:
    if row["status"] in FINAL_STATUSES:
        raise conflict(f"the invitation is {row['status']} and can no longer change", code="final_state")


def _require_host_or_staff(row: RowMapping, actor: Actor) -> None:
    if not (actor.is_staff or row["host_id"] == actor.user_id):
        raise forbidden("only the host or staff may change this invitation")


def _joined_count(conn: Connection, invitation_id: str) -> int:
    query = "SELECT count(*) FROM participants WHERE invitation_id = :id AND status = 'joined'"
    return int(conn.execute(_sql(query), {"id": invitation_id}).scalar_one())


def _seat_status(joined: int, max_participants: int) -> str:
    return "full" if joined >= max_participants else "recruiting"


# Columns a PATCH may set (the SET clause is built from this list only, never from input).
PATCHABLE = frozenset(
    {
        "event_name",
        "start_time",
        "end_time",
        "world_name",
        "world_link",
        "tag",
        "description",
        "instance_type",
        "vrchat_profile",
        "instance_link",
        "max_participants",
        "staff_message_id",
    }
)


def update_invitation(
    engine: Engine, invitation_id: str, changes: dict[str, Any], actor: Actor, assign_staff: bool
) -> None:
    unknown = set(changes) - PATCHABLE
    if unknown:
        raise ValueError(f"not patchable: {sorted(unknown)}")
    values = dict(changes)
    for column in ("vrchat_profile", "instance_link"):
        if column in values:
            values[column] = crypto.encrypt(values[column])
    with translate_db_errors(), engine.begin() as conn:
        row = _lock_invitation(conn, invitation_id)
        _require_host_or_staff(row, actor)
        _require_open(row)
        start, end = values.get("start_time", row["start_time"]), values.get("end_time", row["end_time"])
        if start >= end:
            raise invalid(
                "endTime" if "end_time" in values else "startTime", "must be before endTime / after startTime"
            )
        if assign_staff:
            values["staff_id"] = actor.user_id
            values["staff_name"] = actor.name
        if "max_participants" in values:
            joined = _joined_count(conn, invitation_id)
            if values["max_participants"] < joined:
                error = conflict(f"maxParticipants: {joined} people have already joined", code="below_joined")
                error.field = "maxParticipants"
                raise error
            values["status"] = _seat_status(joined, values["max_participants"])
        assignments = ", ".join(f"{column} = :{column}" for column in values)
        conn.execute(
            _sql(f"UPDATE invitations SET {assignments} WHERE id = :id"), {**values, "id": invitation_id}
        )


def cancel_invitation(engine: Engine, invitation_id: str, actor: Actor) -> None:
    """Cancel (host or staff). Cancelling a cancelled invitation is a no-op; a completed one is 409."""
    with translate_db_errors(), engine.begin() as conn:
        row = _lock_invitation(conn, invitation_id)
        _require_host_or_staff(row, actor)
        if row["status"] == "cancelled":
            return
        _require_open(row)
        conn.execute(
            _sql("UPDATE invitations SET status = 'cancelled' WHERE id = :id"), {"id": invitation_id}
        )


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
        row = _lock_invitation(conn, invitation_id)
        _require_open(row)
        current = conn.execute(
            _sql("SELECT status FROM participants WHERE invitation_id = :id AND user_id = :user_id"),
            {"id": invitation_id, "user_id": actor.user_id},
        ).scalar()
        joined = _joined_count(conn, invitation_id)
        if status == "joined" and current != "joined":
            if joined >= row["max_participants"]:
                raise conflict("the invitation is full", code="invitation_full")
            joined += 1
        elif status == "interested" and current == "joined":
            joined -= 1
        params = {"id": invitation_id, "user_id": actor.user_id, "user_name": user_name, "status": status}
        if current is None:
            conn.execute(
                _sql(
                    "INSERT INTO participants (invitation_id, user_id, user_name, status) "
                    "VALUES (:id, :user_id, :user_name, :status)"
                ),
                params,
            )
        elif current != status:
            conn.execute(
                _sql(
                    "UPDATE participants SET status = :status, user_name = :user_name "
                    "WHERE invitation_id = :id AND user_id = :user_id"
                ),
                params,
            )
        seat_status = _set_seat_status(conn, row, joined)
    return Participation(current is None, status, joined, seat_status)


def leave(engine: Engine, invitation_id: str, actor: Actor) -> Participation:
    """Remove the caller; a seat freed on a full invitation makes it recruiting again."""
    with translate_db_errors(), engine.begin() as conn:
        row = _lock_invitation(conn, invitation_id)
        _require_open(row)
        removed = conn.execute(
            _sql(
                "DELETE FROM participants WHERE invitation_id = :id AND user_id = :user_id RETURNING status"
            ),
            {"id": invitation_id, "user_id": actor.user_id},
        ).scalar()
        if removed is None:
            raise not_found("you do not take part in this invitation")
        joined = _joined_count(conn, invitation_id)
        seat_status = _set_seat_status(conn, row, joined)
    return Participation(False, None, joined, seat_status)


def _set_seat_status(conn: Connection, row: RowMapping, joined: int) -> str:
    status = _seat_status(joined, row["max_participants"])
    if status != row["status"]:
        conn.execute(
            _sql("UPDATE invitations SET status = :status WHERE id = :id"),
            {"status": status, "id": row["id"]},
        )
    return status


# -- tickets --------------------------------------------------------------------------------------
def create_ticket(
    engine: Engine, ticket_id: str, actor: Actor, user_name: str, category: str
) -> dict[str, Any]:
    with translate_db_errors(), engine.begin() as conn:
        row = (
            conn.execute(
                _sql(
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
    with engine.connect() as conn:
        rows = conn.execute(_sql(query), params).mappings().all()
    return _page(rows, limit, "tickets", "created_at", views.ticket)


def close_ticket(engine: Engine, ticket_id: str) -> dict[str, Any]:
    with translate_db_errors(), engine.begin() as conn:
        row = (
            conn.execute(
                _sql(
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
                _sql("SELECT status FROM tickets WHERE id = :id"), {"id": ticket_id}
            ).scalar()
            if exists is None:
                raise not_found(f"ticket {ticket_id} does not exist")
            raise ApiError(409, "already_closed", f"ticket {ticket_id} is already closed")
    return views.ticket(row)


# -- key rotation ---------------------------------------------------------------------------------
def reencrypt_all(engine: Engine, batch_size: int = 500, keys: str | None = None) -> int:
    """Re-encrypt every encrypted value not yet under the newest key; returns the rows rewritten.

    Run after putting a new key first in INVITATIONS_ENCRYPTION_KEYS, before dropping the old one.
    `keys` overrides the configured keys (same format). Final rows are re-encrypted too: the
    final-state trigger allows a change of the ciphertext columns alone.
    """
    rewritten, after = 0, ""
    while True:
        with engine.begin() as conn:
            rows = (
                conn.execute(
                    _sql(
                        "SELECT id, vrchat_profile, instance_link FROM invitations WHERE id > :after "
                        "AND (vrchat_profile IS NOT NULL OR instance_link IS NOT NULL) "
                        "ORDER BY id LIMIT :limit FOR UPDATE"
                    ),
                    {"after": after, "limit": batch_size},
                )
                .mappings()
                .all()
            )
            for row in rows:
                if not (
                    crypto.is_current(row["vrchat_profile"], keys)
                    and crypto.is_current(row["instance_link"], keys)
                ):
                    conn.execute(
                        _sql("UPDATE invitations SET vrchat_profile = :p, instance_link = :l WHERE id = :id"),
                        {
                            "p": crypto.rotate(row["vrchat_profile"], keys),
                            "l": crypto.rotate(row["instance_link"], keys),
                            "id": row["id"],
                        },
                    )
                    rewritten += 1
        if len(rows) < batch_size:
            return rewritten
        after = rows[-1]["id"]
