"""Firestore document CloudEvents (`google.cloud.firestore.document.v1.*`) for 2nd-gen triggers.

The data is a `DocumentEventData` protobuf. In production Eventarc sends the raw bytes; the Firestore
emulator sends them base64-encoded. Both are accepted: a serialized DocumentEventData starts with
field 1 or 2 (bytes 0x0a / 0x12), which are not base64 characters, so the two cannot be confused.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared import log
from shared.events import EventDecodeError, parse_time, run_handler

logger = log.get_logger("shared.firestore_events")

FIRESTORE_EVENT_PREFIX = "google.cloud.firestore.document.v1."


@dataclass(frozen=True)
class DocumentChange:
    event_id: str
    event_type: str
    event_time: datetime | None
    document: str  # "rooms/abc", relative to the database root
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    update_mask: tuple[str, ...] = ()
    after_update_time: datetime | None = None

    @property
    def doc_id(self) -> str:
        return self.document.rsplit("/", 1)[-1]

    @property
    def created(self) -> bool:
        return self.before is None and self.after is not None

    @property
    def deleted(self) -> bool:
        return self.before is not None and self.after is None

    def field_changed(self, name: str) -> bool:
        before = (self.before or {}).get(name)
        after = (self.after or {}).get(name)
        return bool(before != after)


# -- decoding ----------------------------------------------------------------------------------


def _timestamp(ts: Any) -> datetime:
    return datetime.fromtimestamp(ts.seconds, UTC).replace(microsecond=ts.nanos // 1000)


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value_type")
    if kind is None or kind == "null_value":
        return None
    if kind == "boolean_value":
        return value.boolean_value
    if kind == "integer_value":
        return value.integer_value
    if kind == "double_value":
        return value.double_value
    if kind == "timestamp_value":
        return _timestamp(value.timestamp_value)
    if kind == "string_value":
        return value.string_value
    if kind == "bytes_value":
        return value.bytes_value
    if kind == "reference_value":
        return value.reference_value
    if kind == "geo_point_value":
        return {"latitude": value.geo_point_value.latitude, "longitude": value.geo_point_value.longitude}
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "map_value":
        return {key: _value(item) for key, item in value.map_value.fields.items()}
    raise EventDecodeError(f"unsupported Firestore value type {kind}")


def _fields(document: Any) -> dict[str, Any]:
    return {key: _value(item) for key, item in document.fields.items()}


def _event_bytes(data: Any) -> bytes:
    if data is None:
        return b""
    if isinstance(data, str):
        data = data.encode()
    if not isinstance(data, bytes | bytearray):
        raise EventDecodeError(f"Firestore event data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data or data[0] in (0x0A, 0x12):
        return data
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error:
        raise EventDecodeError("Firestore event data is neither protobuf nor base64") from None


def _relative_path(name: str) -> str:
    marker = "/documents/"
    return name.split(marker, 1)[1] if marker in name else name


def decode_firestore_event(cloud_event: Any) -> DocumentChange:
    from google.events.cloud.firestore_v1.types import DocumentEventData

    event_type = cloud_event["type"]
    if not event_type.startswith(FIRESTORE_EVENT_PREFIX):
        raise EventDecodeError(f"not a Firestore document event: {event_type}")
    message = DocumentEventData.pb()()
    try:
        message.ParseFromString(_event_bytes(cloud_event.data))
    except Exception as exc:  # protobuf raises DecodeError, a bare Exception subclass
        raise EventDecodeError(f"Firestore event data is not a DocumentEventData: {exc}") from None
    before = _fields(message.old_value) if message.HasField("old_value") else None
    after = _fields(message.value) if message.HasField("value") else None
    name = message.value.name if message.HasField("value") else message.old_value.name
    attributes = cloud_event.get_attributes()
    document = attributes.get("document") or _relative_path(name)
    return DocumentChange(
        event_id=cloud_event["id"],
        event_type=event_type,
        event_time=parse_time(attributes.get("time")),
        document=document,
        before=before,
        after=after,
        update_mask=tuple(message.update_mask.field_paths),
        after_update_time=_timestamp(message.value.update_time) if message.HasField("value") else None,
    )


# -- handler wrapper ---------------------------------------------------------------------------


def firestore_trigger(handler: Callable[[DocumentChange], Any]) -> Callable[[Any], None]:
    """Wrap `handler(change)` as a CloudEvent function; undecodable events are logged, not retried."""

    @functools.wraps(handler)
    def entry(cloud_event: Any) -> None:
        try:
            change = decode_firestore_event(cloud_event)
        except EventDecodeError as exc:
            log.log_event(logger, "undecodable Firestore event dropped", logging.ERROR, error=str(exc))
            return
        run_handler("firestore", change.event_id, change.event_time, lambda: handler(change))

    return entry
