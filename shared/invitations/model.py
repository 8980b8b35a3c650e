"""Allowed values (the CHECK constraints of migrations/versions/0001), records and time helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

TAGS = ("観光", "ゲーム", "まったり", "撮影会", "イベント", "その他")
INVITATION_STATUSES = ("recruiting", "full", "completed", "cancelled")
OPEN_STATUSES = ("recruiting", "full")
FINAL_STATUSES = ("completed", "cancelled")
INSTANCE_TYPES = ("group", "friend", "friendplus", "public")
PARTICIPANT_STATUSES = ("joined", "interested")
TICKET_CATEGORIES = ("question", "trouble", "other")
TICKET_STATUSES = ("open", "closed")

MAX_PARTICIPANTS = 100
DESCRIPTION_MAX = 2000  # the column is TEXT; the design caps it in the application
URL_MAX = 500
SNOWFLAKE = re.compile(r"[0-9]{1,20}")  # Discord ids
DEFAULT_PAGE = 20
MAX_PAGE = 100


@dataclass(frozen=True)
class NewInvitation:
    id: str
    thread_id: str
    staff_message_id: str | None
    host_id: str
    host_name: str
    event_name: str
    start_time: datetime  # naive UTC, millisecond precision (TIMESTAMP(3))
    end_time: datetime
    world_name: str
    world_link: str | None
    tag: str
    description: str
    instance_type: str
    vrchat_profile: str | None  # plaintext; encrypted when written
    instance_link: str | None
    max_participants: int


@dataclass(frozen=True)
class Actor:
    """Who is acting: the caller's Discord id, staff claim and display name."""

    user_id: str
    is_staff: bool
    name: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_cursor: str | None

    def body(self) -> dict:
        return {"items": self.items, "nextCursor": self.next_cursor}


def utc_now() -> datetime:
    """Now as the database stores it: naive UTC, millisecond precision."""
    return to_db_time(datetime.now(UTC))


def to_db_time(value: datetime) -> datetime:
    """An aware datetime -> naive UTC truncated to milliseconds (TIMESTAMP(3) semantics)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: say which time zone it is in")
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def iso(value: datetime | None) -> str | None:
    """A naive-UTC database time in the API's one time format (shared/times.py)."""
    from shared.times import rfc3339_or_none

    return rfc3339_or_none(value)
