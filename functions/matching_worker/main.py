"""`matching_worker` (Pub/Sub `matching-requests`): pairs waiting users and creates their rooms.

Messages: {"kind": "enqueue", "uid"} from matching_api, {"kind": "sweep"} from the every-minute
schedule. Both are safe to deliver twice: a run pairs whoever is waiting now. A run that could not
settle a pair put those users back and raises, so Pub/Sub retries it; unknown kinds are logged and
acknowledged.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import functions_framework

from shared import log
from shared.events import PubSubMessage, pubsub_trigger
from shared.matching import pairing, queue, wake

logger = log.get_logger("matching_worker")
SWEEP_EXPIRE_LIMIT = 500
SWEEP_RECLAIM_LIMIT = 200


def handle(payload: Any) -> dict[str, Any]:
    kind = payload.get("kind") if isinstance(payload, dict) else None
    if kind == "enqueue":
        wake.woken()
        report = pairing.match_waiting()
        if report.limited:
            wake.request_pairing("worker")  # more were waiting than one run takes: another run
        return {"kind": kind, **report.to_json()}
    if kind == "sweep":
        now = datetime.now(UTC)
        reclaimed = pairing.reclaim_stale_claims(now, SWEEP_RECLAIM_LIMIT)
        healed = queue.heal_orphaned_claims()
        expired = queue.expire_tickets(now, SWEEP_EXPIRE_LIMIT)
        summary = {
            "kind": kind,
            "reclaimed": reclaimed.to_json(),
            "healed": healed,
            "expired": expired,
            **pairing.match_waiting().to_json(),
        }
        # The one line a successful scheduled run writes: the absence alert counts these
        # (terraform/modules/vchat/alerts.tf); a failed sweep raises before it.
        log.log_event(logger, "matching sweep finished", **summary)
        return summary
    log.log_event(logger, "unknown matching message acknowledged", logging.WARNING, kind=repr(kind)[:100])
    return {"kind": None}


@functions_framework.cloud_event
@pubsub_trigger
def matching_worker(message: PubSubMessage) -> dict[str, Any]:
    return handle(message.json())
