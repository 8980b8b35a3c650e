"""Event delivery for CloudEvent functions: the Pub/Sub decoding and the handler wrapper both
Pub/Sub and Firestore triggers use (`shared.firestore_events` has the Firestore half).

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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared import log

logger = log.get_logger("shared.events")

PUBSUB_EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"


class EventDecodeError(ValueError):
    """The event is not what the function was deployed for; retrying will not help."""


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


def parse_time(raw: Any) -> datetime | None:
    if not raw:
        return None
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None


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
        event_time=parse_time(cloud_event.get_attributes().get("time")),
        topic=topic,
        data=payload,
        attributes=dict(message.get("attributes") or {}),
        message_id=message.get("messageId") or message.get("message_id"),
    )


# -- handler wrappers ---------------------------------------------------------------------------


def _too_old(event_time: datetime | None) -> bool:
    from shared.config import settings

    return (
        event_time is not None
        and (datetime.now(UTC) - event_time).total_seconds() > settings().max_event_age_s
    )


def run_handler(kind: str, event_id: str, event_time: datetime | None, call: Callable[[], Any]) -> None:
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


def pubsub_trigger(handler: Callable[[PubSubMessage], Any]) -> Callable[[Any], None]:
    """Wrap `handler(message)` as a CloudEvent function; undecodable events are logged, not retried."""

    @functools.wraps(handler)
    def entry(cloud_event: Any) -> None:
        try:
            message = decode_pubsub_event(cloud_event)
        except EventDecodeError as exc:
            log.log_event(logger, "undecodable Pub/Sub event dropped", logging.ERROR, error=str(exc))
            return
        run_handler("pubsub", message.event_id, message.event_time, lambda: handler(message))

    return entry
