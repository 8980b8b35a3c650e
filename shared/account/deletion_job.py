"""The `account_deletion` job: everything of a user, gone, in steps that can resume.

Delivered at least once by Pub/Sub (`account-deletions`, from DELETE /me). Progress is recorded in
`accountDeletions/{uid}` (`done`: the steps finished), so a redelivery after a failure goes on where
the last run stopped; a store that is down makes a step raise, and Pub/Sub redelivers later. Every
step is idempotent on its own, so two deliveries running at once are harmless too. The progress
document is deleted at the end; a message for a user without one (a late duplicate) does nothing.

Order (each step needs the ones before it to have happened):
1. profile:  out of the queue and the room; `users/{uid}` subcollections but blocks, then the user
             document itself (through shared.users.state). From here on nothing can write for the
             user again: every write path needs the profile (adult confirmation, blocks, reports).
2. blocks:   blocks by and of the user, in Firestore and in the Redis sets of both sides.
3. reports:  reports the user filed and reports about them keep their place in the moderation history
             under the pseudonym (re-keyed: a report id is derived from the uids); the reporter's own
             note is dropped; open reports about them are resolved `account_deleted`;
             `suspensions/{uid}` is deleted.
4. history:  closed rooms and call sessions list their participants: the uid becomes the pseudonym
             (the other person's call history stays whole).
5. redis:    every key named after the user (presence, ticket, rate limits, locks, cached tokens and
             revocation markers, motion), found with SCAN `*:{uid}`, and the user in room presence
             hashes.
6. postgres: the invitations database, pseudonymised (shared/account/erasure.py); the ids of the
             invitations it changed are kept with the progress for the next step.
7. discord:  the Discord worker is asked to edit those invitations' messages (host, staff and
             seats shown there); a failed publish retries this step alone.
8. auth:     the Firebase Auth user, last: until here the user could still sign in and see that the
             deletion is under way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import documents, keys, log, vocab
from shared.transactions import read, run

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, Transaction

logger = log.get_logger("shared.account.deletion_job")
SYSTEM = "system"
BATCH = 200
PROFILE_ATTEMPTS = 3


@dataclass(frozen=True)
class Request:
    uid: str
    pseudonym: str
    postgres_ids: list[str]
    now: datetime
    # What earlier steps returned (kept in the progress document, so a redelivery has them too).
    earlier: dict[str, Any] = field(default_factory=dict)


class StillActive(RuntimeError):
    """The user came back into the queue or a room while the profile step ran (retried)."""


def run_deletion(uid: str, now: datetime) -> dict[str, Any]:
    from google.api_core.exceptions import NotFound
    from google.cloud import firestore

    ref = documents.account_deletion(uid)
    snapshot = ref.get()
    if not snapshot.exists:
        log.log_event(logger, "no account deletion pending", uid=uid)
        return {"uid": uid, "skipped": "nothing pending"}
    state = snapshot.to_dict() or {}
    request = Request(
        uid,
        str(state["pseudonym"]),
        list(state.get("postgresIds") or []),
        now,
        dict(state.get("results") or {}),
    )
    done = set(state.get("done") or [])
    results: dict[str, Any] = {}
    for name, step in STEPS:
        if name in done:
            continue
        results[name] = request.earlier[name] = step(request)
        try:
            ref.update(
                {"done": firestore.ArrayUnion([name]), f"results.{name}": results[name], "updatedAt": now}
            )
        except NotFound:
            return {"uid": uid, "skipped": "finished by another delivery"}
    ref.delete()
    log.log_event(logger, "account deleted", uid=uid, steps=_summary(results))
    return {"uid": uid, "steps": results}


def _summary(results: dict[str, Any]) -> dict[str, Any]:
    """Step results for the log line: lists of ids as their lengths."""
    return {
        step: {k: len(v) if isinstance(v, list) else v for k, v in result.items()}
        for step, result in results.items()
    }


def resume_stale(
    now: datetime, older_than: timedelta = timedelta(minutes=10), limit: int = 20
) -> dict[str, Any]:
    """The schedule's sweep: run deletions requested more than `older_than` ago that have not
    finished (Pub/Sub gave up on their message after its attempts, or it was lost). One failing
    deletion does not stop the others; the next sweep retries it."""
    from shared.firestore_queries import stale_deletions

    finished, failed = [], []
    for snapshot in stale_deletions(now - older_than).limit(limit).stream():
        try:
            run_deletion(snapshot.id, now)
            finished.append(snapshot.id)
        except Exception as exc:
            log.log_event(
                logger,
                "stale account deletion failed again",
                logging.WARNING,
                uid=snapshot.id,
                error=repr(exc),
            )
            failed.append(snapshot.id)
    return {"resumed": len(finished), "failed": len(failed)}


# -- 1. profile --------------------------------------------------------------------------------------
def delete_profile(request: Request) -> dict[str, Any]:
    from shared.matching.queue import remove_from_queue
    from shared.rooms.membership import leave
    from shared.users.state import current_room

    uid = request.uid
    deleted = 0
    for _ in range(PROFILE_ATTEMPTS):
        remove_from_queue(uid, reason="account_deleted")
        snapshot = documents.user(uid).get()
        room_id = current_room(snapshot.to_dict() or {}) if snapshot.exists else None
        if room_id:
            leave(uid, room_id, request.now, missing_ok=True)
        for collection in documents.user(uid).collections():
            if collection.id != vocab.BLOCKS:  # the blocks step also clears their Redis mirror
                deleted += _delete_all(collection.select([]).stream())
        if _forget_if_idle(uid):
            return {"documents": deleted}
    raise StillActive(f"{uid} kept entering the queue or a room")


def _forget_if_idle(uid: str) -> bool:
    from shared.users.state import UserChanges, current_room

    def body(transaction: Transaction) -> tuple[bool, UserChanges | None]:
        user, entry = read(transaction, documents.user(uid), documents.queue_entry(uid))
        if not user.exists:
            return not entry.exists, None
        if entry.exists or current_room(user.to_dict() or {}):
            return False, None
        changes = UserChanges(transaction)
        changes.forget(uid)
        return True, changes

    idle, changes = run(body)
    if changes is not None:
        changes.committed()
    return idle


def _delete_all(snapshots: Any) -> int:
    from shared.clients.firestore import get_firestore

    client = get_firestore()
    count, batch = 0, client.batch()
    for snapshot in snapshots:
        batch.delete(snapshot.reference)
        count += 1
        if count % BATCH == 0:
            batch.commit()
            batch = client.batch()
    if count % BATCH:
        batch.commit()
    return count


# -- 2. blocks ---------------------------------------------------------------------------------------
def delete_blocks(request: Request) -> dict[str, Any]:
    from shared.account.blocks import forget

    return {"documents": forget(request.uid)}


# -- 3. reports and suspension ------------------------------------------------------------------------
def pseudonymise_reports(request: Request) -> dict[str, Any]:
    from shared.account.reports import report_id
    from shared.config import settings
    from shared.firestore_queries import reports_naming

    uid, pseudonym, now = request.uid, request.pseudonym, request.now
    keep_until = now + timedelta(days=settings().retention_resolved_report_days)

    def move(old: DocumentReference) -> None:
        def body(transaction: Transaction) -> None:
            (snapshot,) = read(transaction, old)
            if not snapshot.exists:
                return
            data = snapshot.to_dict() or {}
            if data.get("reporterId") == uid:
                data["reporterId"] = pseudonym
                data.pop("note", None)  # the deleted user's own words
            if data.get("reportedUserId") == uid:
                data["reportedUserId"] = pseudonym
                if data.get("status") == vocab.REPORT_OPEN:
                    data.update(
                        status=vocab.REPORT_RESOLVED,
                        resolution=vocab.RESOLVED_BY_DELETION,
                        resolvedBy=SYSTEM,
                        resolvedAt=now,
                        **{vocab.DELETE_AT: keep_until},
                    )
            new_id = report_id(str(data["roomId"]), str(data["reporterId"]), str(data["reportedUserId"]))
            transaction.set(documents.report(new_id), data)
            if new_id != old.id:
                transaction.delete(old)

        run(body)

    moved = 0
    for role in ("reporterId", "reportedUserId"):
        for snapshot in reports_naming(uid, role).select([]).stream():
            move(snapshot.reference)
            moved += 1
    documents.suspension(uid).delete()
    return {"reports": moved}


# -- 4. rooms and call sessions -----------------------------------------------------------------------
def pseudonymise_history(request: Request) -> dict[str, Any]:
    from shared.firestore_queries import rooms_naming, sessions_of
    from shared.rooms.membership import leave

    uid, pseudonym = request.uid, request.pseudonym

    def replace(ref: DocumentReference) -> None:
        def body(transaction: Transaction) -> None:
            (snapshot,) = read(transaction, ref)
            data = snapshot.to_dict() if snapshot.exists else None
            if data is None:
                return
            update: dict[str, Any] = {}
            members = data.get("participants") or []
            if uid in members:
                update["participants"] = [pseudonym if m == uid else m for m in members]
            if data.get("createdBy") == uid:
                update["createdBy"] = pseudonym
            if update:
                transaction.update(ref, update)

        run(body)

    rooms = 0
    for query in rooms_naming(uid):
        for snapshot in query.stream():
            data = snapshot.to_dict() or {}
            if data.get("status") != vocab.CLOSED and uid in (data.get("participants") or []):
                leave(uid, snapshot.id, request.now, missing_ok=True)  # an open room: leave it first
            replace(snapshot.reference)
            rooms += 1
    sessions = 0
    for snapshot in sessions_of(uid).select([]).stream():
        replace(snapshot.reference)
        sessions += 1
    return {"rooms": rooms, "callSessions": sessions}


# -- 5. Redis ----------------------------------------------------------------------------------------
def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def delete_redis_keys(request: Request) -> dict[str, Any]:
    from shared.clients.redis import get_redis
    from shared.matching.queue import forget_ticket

    uid = request.uid
    client = get_redis()
    forget_ticket(uid)
    named = [keys.presence(uid), keys.presence_synced(uid), keys.blocks(uid), keys.matching_ticket(uid)]
    # Every per-user key ends in ":{uid}" (shared/keys.py): one SCAN of the keyspace finds them all,
    # including those of budgets and rooms this code does not know by name.
    named += list(client.scan_iter(match=f"*:{_glob_escape(uid)}", count=1000))
    deleted = int(client.delete(*named)) if named else 0
    pipe = client.pipeline(transaction=False)
    for key in client.scan_iter(match=keys.room_presence("*"), count=1000):
        pipe.hdel(key, uid)
    fields = sum(int(n) for n in pipe.execute())
    return {"keys": deleted, "roomPresenceFields": fields}


# -- 6. PostgreSQL -------------------------------------------------------------------------------------
def pseudonymise_postgres(request: Request) -> dict[str, Any]:
    from shared.account.erasure import pseudonymise
    from shared.clients.postgres import get_engine
    from shared.invitations.cache import invalidate_lists

    erasure = pseudonymise(get_engine(), request.postgres_ids, request.pseudonym)
    if any(erasure.counts.values()):
        invalidate_lists()  # cached list pages named the host: retire them
    return {**erasure.counts, "invitationsChanged": erasure.invitations}


# -- 7. Discord ----------------------------------------------------------------------------------------
def refresh_discord_messages(request: Request) -> dict[str, Any]:
    """Messages of invitations without one (made through the API) are no work for the worker."""
    from shared.discord.publish import refresh_invitations

    changed = list((request.earlier.get("postgres") or {}).get("invitationsChanged") or [])
    return {"refreshRequested": refresh_invitations(changed) if changed else 0}


# -- 8. Firebase Auth ----------------------------------------------------------------------------------
def delete_auth_user(request: Request) -> dict[str, Any]:
    from shared.clients import auth

    return {"deleted": auth.delete_user(request.uid)}


STEPS: tuple[tuple[str, Callable[[Request], dict[str, Any]]], ...] = (
    ("profile", delete_profile),
    ("blocks", delete_blocks),
    ("reports", pseudonymise_reports),
    ("history", pseudonymise_history),
    ("redis", delete_redis_keys),
    ("postgres", pseudonymise_postgres),
    ("discord", refresh_discord_messages),
    ("auth", delete_auth_user),
)
