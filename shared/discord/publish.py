"""Publishing outbox messages (shapes in outbox.py) to the worker's topic."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from shared import log
from shared.discord import outbox

logger = log.get_logger("shared.discord.publish")
# Inside a request someone waits on (Discord gives an interaction 3 s): never wait long for Pub/Sub.
REQUEST_TIMEOUT_S = 2.0


def publish_all(messages: Iterable[dict[str, Any]], timeout_s: float = 10.0) -> list[str]:
    """Publish every message (in parallel) and wait for their ids; raises if one failed."""
    from shared.clients.pubsub import get_publisher
    from shared.config import settings

    publisher = get_publisher()
    path = publisher.topic_path(settings().project_id, outbox.TOPIC)
    futures = [
        publisher.publish(path, json.dumps(message, separators=(",", ":")).encode(), kind=message["kind"])
        for message in messages
    ]
    return [str(future.result(timeout=timeout_s)) for future in futures]


def refresh_invitations(invitation_ids: Iterable[str]) -> int:
    """Ask the worker to bring these invitations' messages up to date; returns how many."""
    ids = list(dict.fromkeys(invitation_ids))
    publish_all([outbox.refresh_invitation(i) for i in ids])
    return len(ids)


def refresh_invitation_soon(invitation_id: str) -> None:
    """After a committed change: a failed publish must not turn the change into an error for the
    person who made it. It is logged; the next change's refresh repairs the message."""
    _best_effort(outbox.refresh_invitation(invitation_id))


def refresh_ticket_soon(ticket_id: str) -> None:
    _best_effort(outbox.refresh_ticket(ticket_id))


def _best_effort(message: dict[str, Any]) -> None:
    try:
        publish_all([message], timeout_s=REQUEST_TIMEOUT_S)
    except Exception as exc:
        log.log_event(
            logger,
            "could not ask the Discord worker to edit a message",
            logging.WARNING,
            outbox=message,
            error=f"{type(exc).__name__}: {exc}"[:300],
        )
