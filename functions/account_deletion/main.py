"""`account_deletion` (Pub/Sub `account-deletions`): finishes a DELETE /me of account_api.

Messages: {"kind": "delete_account", "uid"} from account_api, and {"kind": "sweep"} every 15 minutes
from Cloud Scheduler, which resumes deletions whose messages Pub/Sub gave up on. Idempotent and
resumable (shared/account/deletion_job.py): a store that is down makes a deletion raise, Pub/Sub
redelivers, and the next delivery goes on from the last finished step. A sweep acknowledges even when
a deletion failed (the next sweep is its retry). Unknown kinds are logged and acknowledged.
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
    from shared.account.deletion_job import resume_stale, run_deletion

    payload = message.json()
    kind = payload.get("kind") if isinstance(payload, dict) else None
    if kind == "sweep":
        summary = resume_stale(datetime.now(UTC))
        # The one line a successful scheduled run writes (the absence alert counts these).
        log.log_event(logger, "account deletion sweep finished", **summary)
        return summary
    uid = payload.get("uid") if isinstance(payload, dict) else None
    if kind != "delete_account" or not isinstance(uid, str) or not uid:
        log.log_event(logger, "account deletion message ignored", logging.WARNING, kind=repr(kind)[:100])
        return {"ignored": True}
    return run_deletion(uid, datetime.now(UTC))
