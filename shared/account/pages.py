"""Keyset pages of Firestore listings (newest first): `limit` and an opaque `cursor` naming the last
item of the previous page by (createdAt, document id)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.errors import invalid

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, DocumentSnapshot, Query

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 400


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"items": self.items, "nextCursor": self.next_cursor}


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def encode_cursor(created_at: datetime, doc_id: str) -> str:
    raw = json.dumps({"t": created_at.astimezone(UTC).isoformat(), "id": doc_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> tuple[datetime, str] | None:
    if raw is None:
        return None
    try:
        if len(raw) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        value = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        moment = datetime.fromisoformat(value["t"])
        doc_id = value["id"]
        if moment.tzinfo is None or not isinstance(doc_id, str) or not doc_id or "/" in doc_id:
            raise ValueError("malformed")
        return moment, doc_id
    except (ValueError, KeyError, TypeError):
        raise invalid("cursor", "is not a cursor this API returned") from None


def newest_first(
    query: Query,
    limit: int,
    cursor: tuple[datetime, str] | None,
    ref_of: Callable[[str], DocumentReference],
    view: Callable[[DocumentSnapshot], dict[str, Any]],
) -> Page:
    """One page of `query` ordered by createdAt, then document id, both descending."""
    from google.cloud.firestore import Query as Q
    from google.cloud.firestore_v1.field_path import FieldPath

    ordered = query.order_by("createdAt", direction=Q.DESCENDING).order_by(
        FieldPath.document_id(), direction=Q.DESCENDING
    )
    if cursor is not None:
        ordered = ordered.start_after({"createdAt": cursor[0], FieldPath.document_id(): ref_of(cursor[1])})
    snapshots = list(ordered.limit(limit + 1).stream())
    more = len(snapshots) > limit
    snapshots = snapshots[:limit]
    last = snapshots[-1] if more and snapshots else None
    next_cursor = encode_cursor(last.get("createdAt"), last.id) if last is not None else None
    return Page([view(snapshot) for snapshot in snapshots], next_cursor)
