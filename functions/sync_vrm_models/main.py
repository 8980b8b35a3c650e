"""`sync_vrm_models` (Pub/Sub)."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.events import PubSubMessage, pubsub_trigger


@functions_framework.cloud_event
@pubsub_trigger
def sync_vrm_models(message: PubSubMessage) -> dict[str, Any]:
    return {"topic": message.topic, "attributes": message.attributes}
