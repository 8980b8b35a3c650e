"""`auto_close`: one idempotent sweep, fired every minute by Cloud Scheduler through Pub/Sub.

Parts, each in bounded batches so that a backlog cannot time the function out (a part that hits its
batch limit says so in the summary and the next minute's run continues):
1. rooms `waiting`/`active` past `expiresAt`, and `waiting` rooms older than AUTO_CLOSE_WAITING_MAX_S,
   -> `closed` with closeReason `timeout` (the room trigger then ends the call session);
2. matching tickets past `expiresAt` -> removed (Redis + `matchingQueue`), user back to `online`;
3. users whose `presence:user:{uid}` key expired but whose Firestore status is not `offline`
   -> `offline` (the user trigger then takes them out of queue and room);
4. PostgreSQL invitations `recruiting`/`full` whose `end_time` passed -> `completed`, and the Discord
   worker asked to edit their messages (one `invitation.refresh` each).

Two overlapping runs are safe: every Firestore change is a transaction that re-checks the condition,
the ticket removal is idempotent, and the invitations UPDATE skips rows another run has locked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import keys
from shared.config import settings

if TYPE_CHECKING:
    from google.cloud.firestore import Client, DocumentSnapshot, Transaction

ACTIVE_STATUSES = ("online", "matching", "in_call")


@dataclass
class Summary:
    rooms_expired: int = 0
    rooms_stale_waiting: int = 0
    tickets_expired: int = 0
    users_marked_offline: int = 0
    invitations_completed: int = 0
    backlog: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    duration_ms: float = 0.0

    def as_log_fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Limits:
    batch_size: int
    waiting_max_age: timedelta
    presence_grace: timedelta

    @classmethod
    def from_settings(cls) -> Limits:
        config = settings()
        return cls(
            batch_size=config.int_setting("AUTO_CLOSE_BATCH_SIZE", 200, 1, 500),
            waiting_max_age=timedelta(seconds=config.int_setting("AUTO_CLOSE_WAITING_MAX_S", 600, 30, 86400)),
            presence_grace=timedelta(seconds=config.int_setting("AUTO_CLOSE_PRESENCE_GRACE_S", 60, 0, 3600)),
        )


def _close_if(
    client: Client, snapshot: DocumentSnapshot, still_due: Callable[[dict[str, Any]], bool]
) -> bool:
    """Close one room with reason `timeout` if, read again inside a transaction, it is still due."""
    from google.cloud import firestore

    @firestore.transactional
    def body(transaction: Transaction) -> bool:
        current = snapshot.reference.get(transaction=transaction)
        room = current.to_dict() if current.exists else None
        if room is None or room.get("status") not in ("waiting", "active") or not still_due(room):
            return False
        transaction.update(
            snapshot.reference,
            {"status": "closed", "closeReason": "timeout", "closedAt": firestore.SERVER_TIMESTAMP},
        )
        return True

    return bool(body(client.transaction(max_attempts=5)))


def close_expired_rooms(client: Client, now: datetime, limits: Limits, summary: Summary) -> None:
    from shared.firestore_queries import expired_rooms, stale_waiting_rooms

    expired = list(expired_rooms(client, now).limit(limits.batch_size).stream())
    for snapshot in expired:
        if _close_if(client, snapshot, lambda room: _before(room.get("expiresAt"), now)):
            summary.rooms_expired += 1
    cutoff = now - limits.waiting_max_age
    stale = list(stale_waiting_rooms(client, cutoff).limit(limits.batch_size).stream())
    for snapshot in stale:
        if _close_if(
            client,
            snapshot,
            lambda room: room.get("status") == "waiting" and _before(room.get("createdAt"), cutoff),
        ):
            summary.rooms_stale_waiting += 1
    if len(expired) == limits.batch_size or len(stale) == limits.batch_size:
        summary.backlog.append("rooms")


def _before(value: Any, moment: datetime) -> bool:
    return isinstance(value, datetime) and value < moment


def mark_stale_users_offline(client: Client, now: datetime, limits: Limits, summary: Summary) -> None:
    """Users whose presence key expired while Firestore still says they are around."""
    from google.cloud import firestore

    from shared.clients.redis import get_redis
    from shared.firestore_queries import stale_presence

    cutoff = now - limits.presence_grace
    candidates = list(stale_presence(client, cutoff).limit(limits.batch_size).stream())
    if not candidates:
        return
    pipe = get_redis().pipeline(transaction=False)
    for snapshot in candidates:
        pipe.exists(keys.presence(snapshot.id))
    for snapshot, alive in zip(candidates, pipe.execute(), strict=True):
        if alive:
            continue  # heartbeats still arrive: Firestore is only written once a minute (coalescing)

        @firestore.transactional
        def body(transaction: Transaction, snapshot: DocumentSnapshot = snapshot) -> bool:
            current = snapshot.reference.get(transaction=transaction)
            user = current.to_dict() if current.exists else None
            if user is None or user.get("status") not in ACTIVE_STATUSES:
                return False
            if not _before(user.get("lastActiveAt"), cutoff):
                return False  # active again since the query ran
            transaction.update(snapshot.reference, {"status": "offline"})
            return True

        if body(client.transaction(max_attempts=5)):
            summary.users_marked_offline += 1
    if len(candidates) == limits.batch_size:
        summary.backlog.append("presence")


def expire_matching_tickets(now: datetime, limits: Limits, summary: Summary) -> None:
    from shared.matching.tickets import expire_tickets

    summary.tickets_expired = expire_tickets(now, limits.batch_size)
    if summary.tickets_expired == limits.batch_size:
        summary.backlog.append("tickets")


def complete_invitations(now: datetime, limits: Limits, summary: Summary) -> None:
    from shared.clients.postgres import get_engine
    from shared.discord.publish import refresh_invitations
    from shared.invitations.completion import complete_finished

    # Several bounded UPDATEs, at most 10 per run: a large backlog drains over a few minutes.
    for _ in range(10):
        done = complete_finished(get_engine(), now=now, batch_size=limits.batch_size * 5)
        summary.invitations_completed += len(done)
        if done:
            refresh_invitations(done)  # a failure is this part's error in the summary
        if len(done) < limits.batch_size * 5:
            return
    summary.backlog.append("invitations")


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
    ]
    for name, part in parts:
        try:
            part()
        except Exception as exc:  # one store being down must not stop the others
            summary.errors[name] = f"{type(exc).__name__}: {exc}"[:300]
    summary.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return summary
