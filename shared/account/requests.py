"""account_api's request bodies and parameters, strictly: unknown fields are refused, `null` only
where docs/openapi/account_api.yaml says the field is nullable, each refusal a 400 naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared import ids, vocab
from shared.errors import invalid, unprocessable
from shared.validate import get_str, get_time, reject_unknown

REASON_MAX = 500  # a suspension's reason
NOTE_MAX = 1000  # a report's note, a staff note
MAX_SUSPENSION = timedelta(days=3650)  # longer is a ban (until null)
REPORT_ID = re.compile(r"[0-9a-f]{64}")


def _note(body: Mapping[str, Any]) -> str | None:
    """A free-text note: optional, never null, several lines allowed, not blank."""
    return get_str(body, "note", required=False, max_len=NOTE_MAX, one_line=False, not_blank=True)


def block_body(body: Mapping[str, Any]) -> str:
    reject_unknown(body, ("userId",))
    return ids.user_id(get_str(body, "userId", max_len=128))


@dataclass(frozen=True)
class NewReport:
    room_id: str
    user_id: str
    reason: str
    note: str | None


def report_body(body: Mapping[str, Any]) -> NewReport:
    reject_unknown(body, ("roomId", "userId", "reason", "note"))
    room_id = ids.room_id(get_str(body, "roomId", max_len=128))
    user_id = ids.user_id(get_str(body, "userId", max_len=128))
    reason = get_str(body, "reason", choices=vocab.REPORT_REASONS)
    assert reason is not None
    return NewReport(room_id, user_id, reason, _note(body))


def resolve_body(body: Mapping[str, Any]) -> tuple[str, str | None]:
    reject_unknown(body, ("resolution", "note"))
    resolution = get_str(body, "resolution", choices=vocab.RESOLUTIONS)
    assert resolution is not None
    return resolution, _note(body)


def suspension_body(body: Mapping[str, Any], now: datetime) -> tuple[datetime | None, str]:
    """`until` is required and nullable (null: a ban); `reason` is required. A well-formed `until`
    in the past or too far ahead is a 422: the document cannot say "in the future"."""
    reject_unknown(body, ("until", "reason"))
    until = get_time(body, "until", nullable=True)
    if until is not None:
        if until <= now:
            raise unprocessable("until", "must be in the future")
        if until - now > MAX_SUSPENSION:
            raise unprocessable("until", "must be within 3650 days (null for a ban)")
    reason = get_str(body, "reason", max_len=REASON_MAX, not_blank=True)
    assert reason is not None
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
