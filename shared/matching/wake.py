"""Waking the matching worker: one Pub/Sub message per burst of enqueues, not one per user.

A worker run pairs everyone waiting, so a message sent while an earlier one is still unclaimed adds
only a delivery. An enqueue publishes only when it is the one that sets `matching:wake` (NX, with a
TTL in case the message is lost); the worker deletes the key before it starts claiming. A ticket
queued before that delete is seen by the run that deleted it; one queued after it finds the key gone
and sends a message of its own. The every-minute sweep pairs whatever a lost message left waiting.
"""

from __future__ import annotations

import contextlib
import logging

from shared import keys, log
from shared.clients.redis import get_redis

logger = log.get_logger("shared.matching.wake")
TOPIC = "matching-requests"
WAKE_TTL_MS = 5000


def request_pairing(uid: str, topic: str = TOPIC) -> bool:
    """After a ticket is queued: make sure a worker run will see it. Whether a message was sent."""
    from redis.exceptions import RedisError

    from shared.clients.pubsub import publish_json

    try:
        if not get_redis().set(keys.MATCHING_WAKE, uid, nx=True, px=WAKE_TTL_MS):
            return False  # a run that has not started claiming yet will see this ticket
    except RedisError:
        pass  # no coalescing without Redis; a message too many is harmless
    try:
        publish_json(topic, {"kind": "enqueue", "uid": uid}, timeout_s=5.0)
    except Exception as exc:
        # The ticket stays queued: the next enqueue (the key is gone) or the minute sweep wakes a run.
        with contextlib.suppress(RedisError):  # else the key's TTL lets a later enqueue publish
            get_redis().delete(keys.MATCHING_WAKE)
        log.log_event(logger, "matching request not published", logging.WARNING, uid=uid, error=repr(exc))
        return False
    return True


def woken() -> None:
    """A worker run is about to claim: later tickets must send a message of their own."""
    get_redis().delete(keys.MATCHING_WAKE)
