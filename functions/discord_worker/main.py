"""`discord_worker` (Pub/Sub `discord-outbox`): the Discord REST calls that cannot fit in an
interaction's 3 s — post an invitation, start its thread, notify the staff channel, edit messages
after a change. Idempotent by interaction id; honours Discord's rate limits; a failure that may
pass fails the delivery so Pub/Sub redelivers. See shared/discord/worker.py and docs/discord.md.
"""

from __future__ import annotations

import logging
from typing import Any

import functions_framework

from shared import log
from shared.events import PubSubMessage, pubsub_trigger

logger = log.get_logger("discord_worker")


@functions_framework.cloud_event
@pubsub_trigger
def discord_worker(message: PubSubMessage) -> dict[str, Any]:
    from shared.discord.worker import Poison, handle

    try:
        return handle(message.json())
    except Poison as exc:
        # Redelivering a message of the wrong shape cannot help: say so and acknowledge it.
        log.log_event(
            logger, "outbox message dropped", logging.ERROR, error=str(exc), messageId=message.message_id
        )
        return {"dropped": str(exc)}
