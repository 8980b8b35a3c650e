"""Invitations: the list (Q1), one invitation with its participants (Q2), create, change, cancel.

Each write is one short transaction; once it commits, the cached list pages are retired (cache.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.clients.postgres import autocommit_read
from shared.errors import conflict, not_found, unprocessable
from shared.invitations import cache, crypto, views
from shared.invitations.errors import translate_db_errors
from shared.invitations.model import TAGS, Actor, NewInvitation, Page
from shared.invitations.queries import (
    joined_count,
    lock_invitation,
    page,
    require_host_or_staff,
    require_open,
    seat_status,
    sql,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from shared.ratelimit import Pending


# -- Q1: the list ---------------------------------------------------------------------------------
# One ordered index range scan of idx_invitation_list (status, tag, start_time) per tag, merged: a list
# over all tags stays as cheap as a list over one (no scan through past rows of other statuses).
# The joined count is the stored invitations.joined_count (migration 0007), not counted per row.
Q1 = """
SELECT page.*
FROM (
  SELECT per_tag.* FROM unnest(CAST(:tags AS varchar[])) AS t(tag)
  CROSS JOIN LATERAL (
    SELECT i.id, i.event_name, i.start_time, i.end_time, i.tag, i.status, i.world_name, i.host_name,
           i.instance_type, i.max_participants, i.joined_count
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


def cached_list(
    engine: Engine,
    status: str,
    tag: str | None,
    after_cursor: str | None,
    limit: int,
    budget: Pending | None = None,
) -> tuple[dict[str, Any], bool]:
    """A list page as JSON and whether it came from the cache (cache-aside, see cache.py). With
    `budget`, the caller's request is taken from their bucket in the cache read's round trip."""
    from shared.invitations import cursor

    after = cursor.decode("q1", after_cursor)
    found = cache.lookup({"status": status, "tag": tag, "limit": limit, "cursor": after_cursor}, budget)
    if found.page is not None:
        return found.page, True
    body = list_invitations(engine, status, tag, after, limit).body()
    cache.store(found, body)
    return body, False


def list_invitations(
    engine: Engine, status: str, tag: str | None, after: tuple[datetime, str] | None, limit: int
) -> Page:
    tags = [tag] if tag is not None else list(TAGS)
    params: dict[str, Any] = {"status": status, "tags": tags, "limit": limit + 1}
    if after:
        params.update(after_time=after[0], after_id=after[1])
    with autocommit_read(engine) as conn:
        rows = conn.execute(sql(q1_sql(after is not None)), params).mappings().all()
    return page(rows, limit, "q1", "start_time", views.list_item)


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
    with autocommit_read(engine) as conn:
        row = conn.execute(sql(Q2), {"id": invitation_id}).mappings().first()
    if row is None:
        raise not_found(f"invitation {invitation_id} does not exist")
    return views.detail(row, viewer.user_id, viewer.is_staff)


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
        conn.execute(sql(INSERT_INVITATION), values)
    cache.invalidate_lists()


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
        row = lock_invitation(conn, invitation_id)
        require_host_or_staff(row, actor)
        require_open(row)
        start, end = values.get("start_time", row["start_time"]), values.get("end_time", row["end_time"])
        if start >= end:
            raise unprocessable(
                "endTime" if "end_time" in values else "startTime", "must be before endTime / after startTime"
            )
        if assign_staff:
            values["staff_id"] = actor.user_id
            values["staff_name"] = actor.name
        if "max_participants" in values:
            joined = joined_count(conn, invitation_id)
            if values["max_participants"] < joined:
                error = conflict(f"maxParticipants: {joined} people have already joined", code="below_joined")
                error.field = "maxParticipants"
                raise error
            values["status"] = seat_status(joined, values["max_participants"])
        if not values:
            return  # nothing to change (`assignStaff: false` alone): allowed, and a no-op
        assignments = ", ".join(f"{column} = :{column}" for column in values)
        conn.execute(
            sql(f"UPDATE invitations SET {assignments} WHERE id = :id"), {**values, "id": invitation_id}
        )
    cache.invalidate_lists()


def cancel_invitation(engine: Engine, invitation_id: str, actor: Actor) -> None:
    """Cancel (host or staff). Cancelling a cancelled invitation is a no-op; a completed one is 409."""
    with translate_db_errors(), engine.begin() as conn:
        row = lock_invitation(conn, invitation_id)
        require_host_or_staff(row, actor)
        if row["status"] == "cancelled":
            return
        require_open(row)
        conn.execute(sql("UPDATE invitations SET status = 'cancelled' WHERE id = :id"), {"id": invitation_id})
    cache.invalidate_lists()
