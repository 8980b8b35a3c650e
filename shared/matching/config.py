"""Matching settings, read from the environment on first use (see docs/matching.md)."""

from __future__ import annotations

from shared.config import settings


def ticket_ttl_s() -> int:
    """How long a queue ticket lives unless the client refreshes it with another POST /queue."""
    return settings().int_setting("MATCHING_TICKET_TTL_S", 300, 10, 3600)


def room_ttl_s() -> int:
    """Lifetime of a room (random or select); auto_close closes rooms past expiresAt."""
    return settings().int_setting("MATCHING_ROOM_TTL_S", 7200, 60, 86400)


def claim_timeout_s() -> int:
    """A pair claimed by a worker that has not settled it within this time is settled by the sweep."""
    return settings().int_setting("MATCHING_CLAIM_TIMEOUT_S", 30, 5, 600)


def batch_pairs() -> int:
    """Pairs taken off the queue by one run of the pairing script."""
    return settings().int_setting("MATCHING_BATCH_PAIRS", 16, 1, 256)


def max_pairs_per_run() -> int:
    """Upper bound of pairs one worker invocation settles (later messages take the rest)."""
    return settings().int_setting("MATCHING_MAX_PAIRS_PER_RUN", 512, 1, 100000)


def presence_write_interval_s() -> int:
    """Heartbeats write users/{uid} at most this often while the status does not change."""
    return settings().int_setting("PRESENCE_WRITE_INTERVAL_S", 60, 1, 3600)


# Grace before Redis itself drops an expired ticket hash: the expiry sweep normally gets there first
# and also settles Firestore; this only bounds garbage if the sweep stops running.
TICKET_REDIS_GRACE_MS = 3600 * 1000
