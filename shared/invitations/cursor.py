"""Opaque cursors for keyset pagination (never OFFSET): the sort key of the last row served.

A cursor is base64url(JSON [kind, time, id]); `kind` stops a cursor of one list from being replayed
on another. Anything that does not decode is a 400 on the `cursor` parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime

from shared.errors import invalid, unprocessable
from shared.invitations.model import SNOWFLAKE

_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,200}")


def encode(kind: str, sort_time: datetime, row_id: str) -> str:
    raw = json.dumps([kind, sort_time.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(kind: str, cursor: str | None) -> tuple[datetime, str] | None:
    """400 for what cannot be a cursor at all (the document's pattern), 422 for a well-formed one
    that this list never returned."""
    if cursor is None:
        return None
    if not _SHAPE.fullmatch(cursor):
        raise invalid("cursor", "must be 1 to 200 characters of A-Z a-z 0-9 _ -")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_kind, sort_time, row_id = json.loads(raw)
        parsed = datetime.fromisoformat(sort_time)
        if cursor_kind != kind or parsed.tzinfo is not None or not SNOWFLAKE.fullmatch(str(row_id)):
            raise ValueError("foreign cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise unprocessable("cursor", "is not a cursor returned by this list") from None
    return parsed, str(row_id)
