"""`sync_vrm_models` (Pub/Sub `vrm-sync`, fired by Cloud Scheduler every 6 hours with `{"kind": "sync"}`).

Copies VRoid Hub's staff picks and the curator's hearted models into `vrmModels` (shared/vroid).
`{"kind": "sync", "fullCompare": true}` makes the run compare every listed document instead of
trusting the content index (after restoring `vrmModels` from a backup, or editing it by hand).
Unknown message kinds are logged and acknowledged. A refused curator authorization is logged as an
error and acknowledged too (redelivery cannot fix it; the next schedule tries again); any other
failure raises, so Pub/Sub redelivers and the idempotent sync runs again.
"""

from __future__ import annotations

import logging
from typing import Any

import functions_framework

from shared import log
from shared.clients.firestore import get_firestore
from shared.events import PubSubMessage, pubsub_trigger
from shared.vroid import job
from shared.vroid.client import VroidAuthError

logger = log.get_logger("sync_vrm_models")


@functions_framework.cloud_event
@pubsub_trigger
def sync_vrm_models(message: PubSubMessage) -> dict[str, Any]:
    payload = message.json()
    kind = payload.get("kind") if isinstance(payload, dict) else None
    if kind != "sync":
        log.log_event(
            logger, "vrm sync: message ignored", logging.WARNING, kind=kind, eventId=message.event_id
        )
        return {"ignored": True, "kind": kind}
    try:
        report = job.run(get_firestore(), full_compare=payload.get("fullCompare") is True)
    except VroidAuthError as exc:
        log.log_event(logger, "vrm sync: VRoid Hub authorization refused", logging.ERROR, error=str(exc))
        return {"failed": "vroid_auth"}
    summary = report.as_dict()
    log.log_event(logger, "vrm sync finished", eventId=message.event_id, **summary)
    return summary
