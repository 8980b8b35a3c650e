"""`account_deletion` (Pub/Sub `account-deletions`): finishes a DELETE /me of account_api.

Message: {"kind": "delete_account", "uid"}. Idempotent and resumable (shared/account/deletion_job.py):
a store that is down makes it raise, Pub/Sub redelivers, and the next delivery goes on from the last
finished step. Unknown kinds are logged and acknowledged.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import functions_framework

from shared import log
from shared.events import PubSubMessage, pubsub_trigger

logger = log.get_logger("account_deletion")


@functions_framework.cloud_event
@pubsub_trigger
def account_deletion(message: PubSubMessage) -> dict[str, Any]:
    from shared.account.deletion_job import run_deletion

    payload = message.json()
    kind = payload.get("kind") if isinstance(payload, dict) else None
    uid = payload.get("uid") if isinstance(payload, dict) else None
    if kind != "delete_account" or not isinstance(uid, str) or not uid:
        log.log_event(logger, "account deletion message ignored", logging.WARNING, kind=repr(kind)[:100])
        return {"ignored": True}
    return run_deletion(uid, datetime.now(UTC))
