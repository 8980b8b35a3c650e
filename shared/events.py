"""Decoding of the CloudEvents that trigger event functions, and the wrappers event handlers use.

Firestore (`google.cloud.firestore.document.v1.*`): the data is a `DocumentEventData` protobuf. In
production Eventarc sends the raw bytes; the Firestore emulator sends them base64-encoded. Both are
accepted: a serialized DocumentEventData starts with field 1 or 2 (bytes 0x0a / 0x12), which are
not base64 characters, so the two cannot be confused.

Pub/Sub (`google.cloud.pubsub.topic.v1.messagePublished`): `{"message": {"data", "attributes",
"messageId", "publishTime"}, "subscription"}` with the topic in the event's `source`.

Handlers are delivered at least once and get the event id for idempotency. An exception escapes to
functions-framework, which answers 500 so that the platform retries; events older than
MAX_EVENT_AGE_S are dropped with a log line instead (a retry loop must end somewhere).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared import log

logger = log.get_logger("shared.events")

FIRESTORE_EVENT_PREFIX = "google.cloud.firestore.document.v1."
PUBSUB_EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"
DEFAULT_MAX_EVENT_AGE_S = 3600


class EventDecodeError(ValueError):
    """The event is not what the function was deployed for; retrying will not help."""


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


@dataclass(frozen=True)
class PubSubMessage:
    event_id: str
    event_time: datetime | None
    topic: str | None
    data: bytes
    attributes: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None

    def json(self) -> Any:
        if not self.data:
            return {}
        try:
            return json.loads(self.data)
        except (ValueError, UnicodeDecodeError):
            raise EventDecodeError("Pub/Sub message data is not JSON") from None


# -- Firestore ----------------------------------------------------------------------------------


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


def _parse_time(raw: Any) -> datetime | None:
    if not raw:
        return None
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None


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
        event_time=_parse_time(attributes.get("time")),
        document=document,
        before=before,
        after=after,
        update_mask=tuple(message.update_mask.field_paths),
        after_update_time=_timestamp(message.value.update_time) if message.HasField("value") else None,
    )


# -- Pub/Sub ------------------------------------------------------------------------------------


def decode_pubsub_event(cloud_event: Any) -> PubSubMessage:
    if cloud_event["type"] != PUBSUB_EVENT_TYPE:
        raise EventDecodeError(f"not a Pub/Sub message event: {cloud_event['type']}")
    data = cloud_event.data
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except ValueError:
            raise EventDecodeError("Pub/Sub event data is not JSON") from None
    message = (data or {}).get("message")
    if not isinstance(message, dict):
        raise EventDecodeError("Pub/Sub event has no message")
    try:
        payload = base64.b64decode(message.get("data") or "", validate=True)
    except binascii.Error:
        raise EventDecodeError("Pub/Sub message data is not base64") from None
    source = cloud_event.get_attributes().get("source", "")
    topic = source.rsplit("/topics/", 1)[1] if "/topics/" in source else None
    return PubSubMessage(
        event_id=cloud_event["id"],
        event_time=_parse_time(cloud_event.get_attributes().get("time")),
        topic=topic,
        data=payload,
        attributes=dict(message.get("attributes") or {}),
        message_id=message.get("messageId") or message.get("message_id"),
    )


# -- handler wrappers ---------------------------------------------------------------------------


def _max_age_s() -> int:
    raw = os.environ.get("MAX_EVENT_AGE_S", "")
    return int(raw) if raw.isdigit() else DEFAULT_MAX_EVENT_AGE_S


def _too_old(event_time: datetime | None) -> bool:
    return event_time is not None and (datetime.now(UTC) - event_time).total_seconds() > _max_age_s()


def _run(kind: str, event_id: str, event_time: datetime | None, call: Callable[[], Any]) -> None:
    if _too_old(event_time):
        log.log_event(logger, f"{kind} event dropped: too old", logging.WARNING, eventId=event_id)
        return
    started = time.perf_counter()
    try:
        result = call()
    except Exception:
        log.log_event(
            logger,
            f"{kind} event failed; the platform will retry",
            logging.ERROR,
            eventId=event_id,
            durationMs=round((time.perf_counter() - started) * 1000, 2),
        )
        raise
    log.log_event(
        logger,
        f"{kind} event handled",
        eventId=event_id,
        durationMs=round((time.perf_counter() - started) * 1000, 2),
        result=result,
    )


def firestore_trigger(handler: Callable[[DocumentChange], Any]) -> Callable[[Any], None]:
    """Wrap `handler(change)` as a CloudEvent function; undecodable events are logged, not retried."""

    @functools.wraps(handler)
    def entry(cloud_event: Any) -> None:
        try:
            change = decode_firestore_event(cloud_event)
        except EventDecodeError as exc:
            log.log_event(logger, "undecodable Firestore event dropped", logging.ERROR, error=str(exc))
            return
        _run("firestore", change.event_id, change.event_time, lambda: handler(change))

    return entry


def pubsub_trigger(handler: Callable[[PubSubMessage], Any]) -> Callable[[Any], None]:
    """Wrap `handler(message)` as a CloudEvent function; undecodable events are logged, not retried."""

    @functools.wraps(handler)
    def entry(cloud_event: Any) -> None:
        try:
            message = decode_pubsub_event(cloud_event)
        except EventDecodeError as exc:
            log.log_event(logger, "undecodable Pub/Sub event dropped", logging.ERROR, error=str(exc))
            return
        _run("pubsub", message.event_id, message.event_time, lambda: handler(message))

    return entry
