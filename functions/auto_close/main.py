"""`auto_close` (Pub/Sub `auto-close`, every minute): closes what has expired; see shared/jobs/auto_close.py."""

from __future__ import annotations

import logging
from typing import Any

import functions_framework

from shared import log
from shared.events import PubSubMessage, pubsub_trigger

logger = log.get_logger("auto_close")


@functions_framework.cloud_event
@pubsub_trigger
def auto_close(message: PubSubMessage) -> dict[str, Any]:
    from shared.jobs.auto_close import run

    payload = message.json()
    kind = payload.get("kind") if isinstance(payload, dict) else None
    if kind != "auto_close":
        log.log_event(logger, "auto_close ignored a message of unknown kind", logging.WARNING, kind=kind)
        return {"ignored": kind}
    summary = run()
    # The next minute's run is the retry: redelivering now would only overlap with it.
    log.log_event(
        logger,
        "auto_close summary",
        logging.ERROR if summary.errors else logging.INFO,
        **summary.as_log_fields(),
    )
    return {"errors": len(summary.errors)}
