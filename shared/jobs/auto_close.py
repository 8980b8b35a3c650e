"""`auto_close`: one idempotent sweep, fired every minute by Cloud Scheduler through Pub/Sub.

Parts, each in bounded batches so that a backlog cannot time the function out (a part that hits its
batch limit says so in the summary and the next minute's run continues):
1. rooms `waiting`/`active` past `expiresAt`, and `waiting` rooms older than AUTO_CLOSE_WAITING_MAX_S,
   -> `closed` with closeReason `timeout`, their call sessions ended and their people released, in
   one transaction per room (shared.rooms.membership);
2. matching tickets past `expiresAt` -> removed (Redis + `matchingQueue`), user back to `online`;
3. users whose `presence:user:{uid}` key expired and who have not been active in Firestore for
   PRESENCE_WRITE_INTERVAL_S + AUTO_CLOSE_PRESENCE_GRACE_S -> `offline` (the user trigger then takes
   them out of queue and room); skipped while Redis may have just lost its data, when a missing key
   proves nothing (shared.users.state.presence_lost_recently);
4. PostgreSQL invitations `recruiting`/`full` whose `end_time` passed -> `completed`, and the Discord
   worker asked to edit their messages (one `invitation.refresh` each);
5. retention (shared/jobs/retention.py): PostgreSQL `call_sessions` rows older than
   CALL_SESSIONS_RETENTION_MONTHS deleted in batches; and, on the emulator only (it has no TTL), the
   Firestore documents whose TTL field has passed, as the production TTL policies would.

Two overlapping runs are safe: every Firestore change is a transaction that re-checks the condition,
the ticket removal is idempotent, and the invitations UPDATE skips rows another run has locked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import vocab
from shared.config import settings

if TYPE_CHECKING:
    from google.cloud.firestore import Client


# The invitations part completes at most this many batches of AUTO_CLOSE_BATCH_SIZE per run.
INVITATION_BATCHES_PER_RUN = 50


@dataclass
class Summary:
    rooms_expired: int = 0
    rooms_stale_waiting: int = 0
    tickets_expired: int = 0
    users_marked_offline: int = 0
    presence_check_skipped: bool = False
    invitations_completed: int = 0
    ttl_deleted: dict[str, int] = field(default_factory=dict)
    call_sessions_deleted: int = 0
    backlog: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    duration_ms: float = 0.0

    def as_log_fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Limits:
    batch_size: int
    waiting_max_age: timedelta
    presence_grace: timedelta  # silence beyond the heartbeat write interval before `offline`

    @classmethod
    def from_settings(cls) -> Limits:
        config = settings()
        return cls(
            batch_size=config.auto_close_batch_size,
            waiting_max_age=timedelta(seconds=config.auto_close_waiting_max_s),
            presence_grace=timedelta(
                seconds=config.presence_write_interval_s + config.auto_close_presence_grace_s
            ),
        )


def close_expired_rooms(client: Client, now: datetime, limits: Limits, summary: Summary) -> None:
    from shared.firestore_queries import expired_rooms, stale_waiting_rooms
    from shared.rooms.membership import close_if

    expired = list(expired_rooms(client, now).limit(limits.batch_size).stream())
    for snapshot in expired:
        if close_if(snapshot.id, now, vocab.TIMEOUT, lambda room: _before(room.get("expiresAt"), now)):
            summary.rooms_expired += 1
    cutoff = now - limits.waiting_max_age
    stale = list(stale_waiting_rooms(client, cutoff).limit(limits.batch_size).stream())
    for snapshot in stale:
        if close_if(
            snapshot.id,
            now,
            vocab.TIMEOUT,
            lambda room: room.get("status") == vocab.WAITING and _before(room.get("createdAt"), cutoff),
        ):
            summary.rooms_stale_waiting += 1
    if len(expired) == limits.batch_size or len(stale) == limits.batch_size:
        summary.backlog.append("rooms")


def _before(value: Any, moment: datetime) -> bool:
    return isinstance(value, datetime) and value < moment


def mark_stale_users_offline(client: Client, now: datetime, limits: Limits, summary: Summary) -> None:
    """Users whose presence key expired while Firestore still says they are around."""
    from shared.firestore_queries import stale_presence
    from shared.users.state import heard_from, mark_offline_if_stale, presence_lost_recently

    if presence_lost_recently():
        summary.presence_check_skipped = True
        return
    cutoff = now - limits.presence_grace
    candidates = list(stale_presence(client, cutoff).limit(limits.batch_size).stream())
    if not candidates:
        return
    alive_now = heard_from([snapshot.id for snapshot in candidates])
    for snapshot, alive in zip(candidates, alive_now, strict=True):
        if alive:
            continue  # heartbeats still arrive: Firestore is only written once a minute (coalescing)
        if mark_offline_if_stale(snapshot.reference, cutoff):
            summary.users_marked_offline += 1
    if len(candidates) == limits.batch_size:
        summary.backlog.append("presence")


def expire_matching_tickets(now: datetime, limits: Limits, summary: Summary) -> None:
    from shared.matching.queue import expire_tickets

    summary.tickets_expired = expire_tickets(now, limits.batch_size)
    if summary.tickets_expired == limits.batch_size:
        summary.backlog.append("tickets")


def complete_invitations(now: datetime, limits: Limits, summary: Summary) -> None:
    from shared.clients.postgres import get_engine
    from shared.discord.publish import refresh_invitations
    from shared.invitations.completion import complete_finished

    # One short UPDATE per batch (its row locks, which a join of the same invitation waits for, last
    # one batch), up to INVITATION_BATCHES_PER_RUN of them: a large backlog drains over a few minutes.
    for _ in range(INVITATION_BATCHES_PER_RUN):
        done = complete_finished(get_engine(), now=now, batch_size=limits.batch_size)
        summary.invitations_completed += len(done)
        if done:
            refresh_invitations(done)  # a failure is this part's error in the summary
        if len(done) < limits.batch_size:
            return
    summary.backlog.append("invitations")


def apply_retention(client: Client, now: datetime, limits: Limits, summary: Summary) -> None:
    from shared.clients.postgres import get_engine
    from shared.jobs.retention import delete_old_call_sessions, delete_past_ttl, ttl_is_emulated

    if ttl_is_emulated():
        summary.ttl_deleted, more = delete_past_ttl(client, now, limits.batch_size)
        if more:
            summary.backlog.append("ttl")
    summary.call_sessions_deleted, more = delete_old_call_sessions(get_engine(), now, limits.batch_size * 5)
    if more:
        summary.backlog.append("call_sessions")


def run(now: datetime | None = None, limits: Limits | None = None) -> Summary:
    """One pass. A part that fails is recorded and the others still run; the caller re-raises."""
    from shared.clients.firestore import get_firestore

    started = time.perf_counter()
    now = now or datetime.now(UTC)
    limits = limits or Limits.from_settings()
    summary = Summary()
    client = get_firestore()
    parts: list[tuple[str, Callable[[], None]]] = [
        ("rooms", lambda: close_expired_rooms(client, now, limits, summary)),
        ("tickets", lambda: expire_matching_tickets(now, limits, summary)),
        ("presence", lambda: mark_stale_users_offline(client, now, limits, summary)),
        ("invitations", lambda: complete_invitations(now, limits, summary)),
        ("retention", lambda: apply_retention(client, now, limits, summary)),
    ]
    for name, part in parts:
        try:
            part()
        except Exception as exc:  # one store being down must not stop the others
            summary.errors[name] = f"{type(exc).__name__}: {exc}"[:300]
    summary.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return summary
