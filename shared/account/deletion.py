"""DELETE /me: record the request and hand it to the `account_deletion` job (Pub/Sub
`account-deletions`), which does the work (shared/account/deletion_job.py).

The request is `accountDeletions/{uid}` (server only): when it was asked, the user's ids in the
invitations database (the uid itself when it fits, the Discord id of the token's `discord_id` claim)
and the random pseudonym the job writes wherever history must stay consistent. It is written once:
asking again (a retry, a double click) republishes the same job, which is idempotent.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import documents, log
from shared.errors import ApiError
from shared.transactions import read, run

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction

logger = log.get_logger("shared.account.deletion")
TOPIC = "account-deletions"
KIND = "delete_account"
PENDING = "pending"
PSEUDONYM_PREFIX = "deleted-"  # shared/account/erasure.py and migration 0004 rely on it
POSTGRES_ID_MAX = 20  # invitations identify people by VARCHAR(20) ids (Discord snowflakes)
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")


def new_pseudonym() -> str:
    """20 characters, never a Discord id (it has letters), unrelated to the uid."""
    return PSEUDONYM_PREFIX + secrets.token_hex(6)


def postgres_ids(uid: str, claims: dict[str, Any]) -> list[str]:
    """The ids the invitations database may know the user by (shared/invitations/validation.caller_id)."""
    ids = [uid] if len(uid) <= POSTGRES_ID_MAX else []
    discord_id = claims.get("discord_id")
    if isinstance(discord_id, str) and _SNOWFLAKE.fullmatch(discord_id) and discord_id not in ids:
        ids.append(discord_id)
    return ids


def request_deletion(uid: str, claims: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Record the request (once) and publish the job. 503 when the job could not be published (the
    request stays recorded; asking again publishes it)."""
    from shared.clients.pubsub import publish_json
    from shared.times import rfc3339

    def body(transaction: Transaction) -> dict[str, Any]:
        (snapshot,) = read(transaction, documents.account_deletion(uid))
        if snapshot.exists:
            return snapshot.to_dict() or {}
        doc = {
            "status": PENDING,
            "requestedAt": now,
            "postgresIds": postgres_ids(uid, claims),
            "pseudonym": new_pseudonym(),
            "done": [],
        }
        transaction.create(documents.account_deletion(uid), doc)
        return doc

    doc = run(body)
    try:
        publish_json(TOPIC, {"kind": KIND, "uid": uid}, timeout_s=5.0)
    except Exception as exc:
        log.log_event(logger, "account deletion not published", logging.WARNING, uid=uid, error=repr(exc))
        raise ApiError(
            503,
            "unavailable",
            "your deletion request is recorded but could not be started: call again in a moment",
            headers={"Retry-After": "5"},
        ) from None
    log.log_event(logger, "account deletion requested", uid=uid)
    requested = doc.get("requestedAt")
    return {"status": PENDING, "requestedAt": rfc3339(requested) if isinstance(requested, datetime) else None}
