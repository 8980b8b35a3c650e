"""account_api's request bodies and parameters, strictly: unknown fields are refused, `null` only
where docs/openapi/account_api.yaml says the field is nullable, each refusal a 400 naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared import ids, vocab
from shared.errors import invalid
from shared.text import not_one_line
from shared.validate import get_str, reject_unknown

REASON_MAX = 500  # a suspension's reason
NOTE_MAX = 1000  # a report's note, a staff note
MAX_SUSPENSION = timedelta(days=3650)  # longer is a ban (until null)
REPORT_ID = re.compile(r"[0-9a-f]{64}")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def _not_null(body: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if name in body and body[name] is None:
            raise invalid(name, "must not be null")


def _text(body: Mapping[str, Any], name: str, max_len: int, *, required: bool) -> str | None:
    _not_null(body, name)
    value = get_str(body, name, required=required, max_len=max_len)
    if value is not None and not value.strip():
        raise invalid(name, "must not be blank")
    return value


def block_body(body: Mapping[str, Any]) -> str:
    reject_unknown(body, ("userId",))
    return ids.user_id(body.get("userId"))


@dataclass(frozen=True)
class NewReport:
    room_id: str
    user_id: str
    reason: str
    note: str | None


def report_body(body: Mapping[str, Any]) -> NewReport:
    reject_unknown(body, ("roomId", "userId", "reason", "note"))
    room_id = ids.room_id(body.get("roomId"))
    user_id = ids.user_id(body.get("userId"))
    _not_null(body, "reason")
    reason = get_str(body, "reason", choices=vocab.REPORT_REASONS)
    assert reason is not None
    return NewReport(room_id, user_id, reason, _text(body, "note", NOTE_MAX, required=False))


def resolve_body(body: Mapping[str, Any]) -> tuple[str, str | None]:
    reject_unknown(body, ("resolution", "note"))
    _not_null(body, "resolution")
    resolution = get_str(body, "resolution", choices=vocab.RESOLUTIONS)
    assert resolution is not None
    return resolution, _text(body, "note", NOTE_MAX, required=False)


def suspension_body(body: Mapping[str, Any], now: datetime) -> tuple[datetime | None, str]:
    """`until` is required and nullable (null: a ban); `reason` is required."""
    reject_unknown(body, ("until", "reason"))
    if "until" not in body:
        raise invalid("until", "is required (null for a ban without end)")
    raw = body["until"]
    until: datetime | None = None
    if raw is not None:
        if not isinstance(raw, str) or not RFC3339.fullmatch(raw):
            raise invalid("until", "must be an RFC 3339 time with a zone, e.g. 2026-12-31T23:59:59Z")
        until = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if until <= now:
            raise invalid("until", "must be in the future")
        if until - now > MAX_SUSPENSION:
            raise invalid("until", "must be within 3650 days (null for a ban)")
    reason = _text(body, "reason", REASON_MAX, required=True)
    assert reason is not None
    if not_one_line(reason):
        raise invalid("reason", "must be a single line without control characters")
    return until, reason


def report_id(raw: str) -> str:
    if not REPORT_ID.fullmatch(raw):
        raise invalid("reportId", "is not a report id (64 lowercase hex digits)")
    return raw


def report_status(raw: str | None) -> str:
    if raw is None:
        return vocab.REPORT_OPEN
    if raw not in vocab.REPORT_STATUSES:
        raise invalid("status", f"must be one of {', '.join(vocab.REPORT_STATUSES)}")
    return raw
