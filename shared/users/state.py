"""A user's state, owned here and nowhere else.

    offline <-> online -> matching -> in_call -> online        (any of them -> offline)

- online / offline: what the client asks for (a heartbeat, or a direct write the rules allow);
- matching: the user has a queue ticket (shared.matching.queue);
- in_call: `currentRoomId` names the open room the user takes part in (shared.rooms).
"No room" has one representation: `currentRoomId` is absent.

This module is the only writer of `users/{uid}.status`, `.currentRoomId` and `.lastActiveAt`
(besides the client's own writes the rules allow), of the Redis presence mirror
`presence:user:{uid}` and of its coalescing key, and it decides what a transition means for cached
room tokens. A transition happens inside the Firestore transaction of the operation that causes
it: `UserChanges(transaction)` stages the user writes; token revocations run at once (so they
precede the commit), and `committed()` mirrors the new statuses and allows tokens once it has
committed. The user trigger mirrors writes that did not come through here (the client's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import documents, keys, redis_scripts, vocab
from shared.clients.redis import get_redis
from shared.config import settings
from shared.tokens import cache as token_cache
from shared.transactions import read, run

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, Transaction

ROOM_FIELD = "currentRoomId"


def current_room(user: dict[str, Any]) -> str | None:
    room_id = user.get(ROOM_FIELD)
    return room_id if isinstance(room_id, str) and room_id else None


class UserChanges:
    """The user side of one transaction: staged writes, then what follows in Redis.

    Create one inside the transaction body (a retried body starts afresh) and return it; call
    `committed()` after the transaction has committed.
    """

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction
        self._statuses: dict[str, str] = {}
        self._after: list[Callable[[], None]] = []

    def _write(self, uid: str, update: dict[str, Any], *, create: bool = False) -> None:
        if create:
            self._transaction.set(documents.user(uid), update, merge=True)
        else:
            self._transaction.update(documents.user(uid), update)
        if "status" in update:
            self._statuses[uid] = update["status"]

    def enter_queue(self, uid: str, user: dict[str, Any], now: datetime) -> None:
        """-> matching (the caller has checked the user is in no open room)."""
        from google.cloud import firestore

        update: dict[str, Any] = {"status": vocab.MATCHING, "lastActiveAt": now}
        if ROOM_FIELD in user:
            update[ROOM_FIELD] = firestore.DELETE_FIELD  # a stale id of a closed room
        self._write(uid, update, create=True)

    def leave_queue(self, uid: str, user: dict[str, Any] | None, now: datetime) -> bool:
        """matching -> online; any other status stays. Whether the status changed."""
        if user is None or user.get("status") != vocab.MATCHING:
            return False
        self._write(uid, {"status": vocab.ONLINE, "lastActiveAt": now})
        return True

    def seat(self, uid: str, room_id: str, now: datetime) -> None:
        """-> in_call in `room_id`. Its tokens may be cached again once this has committed."""
        self._write(uid, {"status": vocab.IN_CALL, ROOM_FIELD: room_id, "lastActiveAt": now}, create=True)
        self._after.append(lambda: token_cache.allow(room_id, uid))

    def release(self, uid: str, user: dict[str, Any] | None, room_id: str, now: datetime) -> bool:
        """Out of `room_id`: no room, in_call -> online (offline stays offline). Cached tokens are
        revoked now, before the commit. False when the user is not (any more) in that room."""
        token_cache.revoke(room_id, [uid])
        if user is None or current_room(user) != room_id:
            return False
        from google.cloud import firestore

        update: dict[str, Any] = {ROOM_FIELD: firestore.DELETE_FIELD, "lastActiveAt": now}
        if user.get("status") == vocab.IN_CALL:
            update["status"] = vocab.ONLINE
        self._write(uid, update)
        return True

    def forget(self, uid: str) -> None:
        """The account is deleted: the user document goes (the deletion job has deleted its
        subcollections and taken the user out of queue and room first); the presence mirror follows
        once this has committed."""
        self._transaction.delete(documents.user(uid))
        self._statuses.pop(uid, None)
        self._after.append(lambda: forget_presence(uid))

    def go_offline(self, uid: str) -> None:
        """-> offline (the sweep: the user stopped answering). The user trigger then takes them out
        of queue and room."""
        self._write(uid, {"status": vocab.OFFLINE})

    def committed(self) -> None:
        mirror_presence(self._statuses)
        for action in self._after:
            action()


def mirror_presence(statuses: dict[str, str], *, just_written: bool = True) -> None:
    """Statuses of Firestore documents into the Redis mirror. `just_written`: this process wrote them
    a moment ago, so the coalescing key learns it too and the next heartbeat does not write the same
    status again (the trigger, which only read them, must not claim that)."""
    if not statuses:
        return
    interval = settings().presence_write_interval_s
    pipe = get_redis().pipeline(transaction=False)
    for uid, status in statuses.items():
        pipe.set(keys.presence(uid), status, ex=keys.PRESENCE_TTL_S)
        if just_written:
            pipe.set(keys.presence_synced(uid), status, ex=interval)
    pipe.execute()


def mirrored_status(uid: str) -> str | None:
    value = get_redis().get(keys.presence(uid))
    return str(value) if value is not None else None


def heard_from(uids: list[str]) -> list[bool]:
    """For each user, whether a heartbeat (or a transition) refreshed their presence key lately."""
    pipe = get_redis().pipeline(transaction=False)
    for uid in uids:
        pipe.exists(keys.presence(uid))
    return [bool(alive) for alive in pipe.execute()]


def forget_presence(uid: str) -> None:
    get_redis().delete(keys.presence(uid), keys.presence_synced(uid))


# -- heartbeats ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Heartbeat:
    status: str  # the effective status
    written: bool  # whether Firestore was written


def heartbeat(uid: str, requested: str, now: datetime) -> Heartbeat:
    """A client's "I am here" (every ~20 s while the app is open): Redis on every beat, Firestore
    only on a change or once per PRESENCE_WRITE_INTERVAL_S (presence.lua decides), so a million
    idle-but-open clients cost one Firestore write per user per minute. 'online' never overrides
    the server-set 'in_call' or 'matching'."""
    effective, write = redis_scripts.run(
        "users/presence",
        [keys.presence(uid), keys.presence_synced(uid), keys.PRESENCE_EPOCH],
        [requested, keys.PRESENCE_TTL_S, settings().presence_write_interval_s],
    )
    if not int(write):
        return Heartbeat(str(effective), False)
    try:
        status, written = run(lambda transaction: _heartbeat_write(transaction, uid, requested, now))
    except Exception:
        get_redis().delete(keys.presence_synced(uid))  # the next beat tries again
        raise
    if status != effective:
        mirror_presence({uid: status})
    return Heartbeat(status, written)


def _heartbeat_write(transaction: Transaction, uid: str, requested: str, now: datetime) -> tuple[str, bool]:
    (snapshot,) = read(transaction, documents.user(uid))
    if not snapshot.exists:
        # No profile (not created yet, or the account was deleted and an old ID token still beats):
        # a status alone would be a stub the client's own profile create could no longer replace.
        return requested, False
    current = (snapshot.to_dict() or {}).get("status")
    status = current if requested == vocab.ONLINE and current in vocab.SERVER_STATUSES else requested
    transaction.update(documents.user(uid), {"status": status, "lastActiveAt": now})
    return str(status), True


# -- presence after Redis lost its data ---------------------------------------------------------
def presence_lost_recently() -> bool:
    """Whether Redis may have lost its presence keys within the last key lifetime + grace.

    `presence:epoch` (no TTL, Redis's own clock) is set once by the first heartbeat a Redis server
    sees. When it is missing, Redis was flushed or replaced: a missing presence key then says nothing
    about the user until the clients' heartbeats had time to come back, so nobody is marked offline
    meanwhile.
    """
    client = get_redis()
    seconds, micros = client.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    epoch = client.get(keys.PRESENCE_EPOCH)
    if epoch is None:
        client.set(keys.PRESENCE_EPOCH, now_ms, nx=True)
        return True
    window_ms = (keys.PRESENCE_TTL_S + settings().auto_close_presence_grace_s) * 1000
    return now_ms - int(epoch) < window_ms


def mark_offline_if_stale(ref: DocumentReference, cutoff: datetime) -> bool:
    """The sweep's transition: a user who claims to be around but has been silent since `cutoff`
    (checked again inside the transaction) -> offline."""

    def body(transaction: Transaction) -> UserChanges | None:
        (snapshot,) = read(transaction, ref)
        user = snapshot.to_dict() if snapshot.exists else None
        if user is None or user.get("status") not in vocab.AROUND_STATUSES:
            return None
        last = user.get("lastActiveAt")
        if not (isinstance(last, datetime) and last < cutoff):
            return None  # active again since the query ran
        changes = UserChanges(transaction)
        changes.go_offline(ref.id)
        return changes

    changes = run(body)
    if changes is None:
        return False
    changes.committed()
    return True
