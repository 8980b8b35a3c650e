"""Pub/Sub publisher. Honors PUBSUB_EMULATOR_HOST like the library does."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shared.config import settings
from shared.lazy import Lazy

if TYPE_CHECKING:
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]


def _create() -> pubsub_v1.PublisherClient:
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    return pubsub_v1.PublisherClient()


get_publisher: Lazy[pubsub_v1.PublisherClient] = Lazy(_create)


def publish_json(topic: str, payload: dict[str, Any], timeout_s: float = 10.0, **attributes: str) -> str:
    """Publish `payload` as JSON to `topic` and wait for the server's message id."""
    publisher = get_publisher()
    path = publisher.topic_path(settings().project_id, topic)
    data = json.dumps(payload, separators=(",", ":")).encode()
    return str(publisher.publish(path, data, **attributes).result(timeout=timeout_s))


def ping(timeout_s: float = 2.0) -> None:
    """Health check: Pub/Sub answers this instance with its credentials.

    A function's service account holds roles/pubsub.publisher (topics.publish) and nothing to read
    topics with, so looking a topic up is answered 403 in production (and 404 by the emulator for
    this probe's name): either is an answer from a reachable service that accepted who we are. A
    timeout, an unavailable service or refused credentials (401) propagate at once: the store is down.
    """
    from google.api_core import exceptions

    publisher = get_publisher()
    try:
        publisher.get_topic(
            request={"topic": publisher.topic_path(settings().project_id, "healthz-probe")},
            timeout=timeout_s,
            retry=None,  # one attempt: the library's default retries an unreachable service for a minute
        )
    except (exceptions.PermissionDenied, exceptions.NotFound):
        return
