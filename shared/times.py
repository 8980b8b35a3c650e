"""The one time format of every JSON response: RFC 3339, UTC, `Z`, milliseconds
(`2026-11-30T12:34:56.789Z`), whatever precision or zone the value was stored with."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(value: datetime) -> str:
    """An aware datetime (a naive one is taken as UTC, as the database stores it) as RFC 3339."""
    # isoformat, not strftime: a third of the time (a list page formats 40 of these), and it pads
    # the year to four digits, where glibc's %Y writes year 1 as "1".
    moment = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def rfc3339_or_none(value: datetime | None) -> str | None:
    return None if value is None else rfc3339(value)


def from_epoch_s(seconds: float) -> str:
    return rfc3339(datetime.fromtimestamp(seconds, UTC))
