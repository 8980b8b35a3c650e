"""Blocks: `users/{uid}/blocks/{otherUid}` in Firestore (authoritative, owner-readable by the rules,
written only here) and a Redis mirror that lets the atomic pairing step skip blocked pairs.

The mirror `blocks:{uid}` is a set of everyone `uid` blocked *or was blocked by*, so pair.lua can
refuse a pair with SISMEMBER on either user's set. It is a hint, not the safeguard: the room
transaction reads the pair's block documents and refuses a blocked pair whatever Redis says. Blocks
are mirrored when they are made; a pair the mirror missed (the set expired after BLOCKS_TTL_S or
Redis lost it) is refused by that transaction once, which writes it back into both sets, so pair.lua
skips it from then on. Enqueue therefore never queries Firestore for blocks: a collection-group query
per enqueue would cost more than the rare refused claim it saves. An unblock racing a block keeps the
pair apart until the set expires, the safe side.

A block between two people in the same room ends their shared call for both
(shared/rooms/membership.leave_together).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import documents, keys, log, vocab
from shared.clients.redis import get_redis
from shared.config import settings
from shared.errors import ApiError, conflict, invalid, not_found
from shared.transactions import read, run

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentSnapshot, Transaction

    from shared.account.pages import Page

logger = log.get_logger("shared.account.blocks")


def profile_required() -> ApiError:
    return ApiError(403, "profile_required", "create your profile (users/{uid}) first")


@dataclass(frozen=True)
class Block:
    user_id: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        from shared.times import rfc3339

        return {"userId": self.user_id, "createdAt": rfc3339(self.created_at)}


def _view(snapshot: DocumentSnapshot) -> dict[str, Any]:
    data = snapshot.to_dict() or {}
    return Block(snapshot.id, data["createdAt"]).to_json()


# -- Firestore -------------------------------------------------------------------------------------
def block(uid: str, other: str, now: datetime) -> tuple[Block, bool]:
    """`uid` blocks `other` (idempotent). Returns the block and whether it is new. 404 for an unknown
    user, 409 `too_many_blocks` past MAX_BLOCKS_PER_USER."""
    if other == uid:
        raise invalid("userId", "you cannot block yourself")
    held = _count(uid)

    def body(transaction: Transaction) -> tuple[Block, bool]:
        me, them, existing = read(
            transaction, documents.user(uid), documents.user(other), documents.block(uid, other)
        )
        if not me.exists:
            raise profile_required()
        if not them.exists:
            raise not_found("no such user")
        if existing.exists:
            return Block(other, (existing.to_dict() or {})["createdAt"]), False
        if held >= settings().max_blocks_per_user:
            raise conflict(
                f"you hold {held} blocks, the most allowed: remove some first", code="too_many_blocks"
            )
        transaction.create(documents.block(uid, other), {"userId": other, "createdAt": now})
        return Block(other, now), True

    result, created = run(body)
    mirror_add(uid, other)
    if created:
        log.log_event(logger, "user blocked", uid=uid, other=other)
    end_shared_call(uid, other, now)
    return result, created


def unblock(uid: str, other: str) -> bool:
    """Remove `uid`'s block of `other` (idempotent); whether there was one. The mirror keeps the pair
    apart while `other` still blocks `uid`."""

    def body(transaction: Transaction) -> tuple[bool, bool]:
        mine, theirs = read(transaction, documents.block(uid, other), documents.block(other, uid))
        if mine.exists:
            transaction.delete(mine.reference)
        return mine.exists, theirs.exists

    removed, reverse = run(body)
    if removed and not reverse:
        mirror_remove(uid, other)
    if removed:
        log.log_event(logger, "user unblocked", uid=uid, other=other)
    return bool(removed)


def list_blocks(uid: str, limit: int, cursor: tuple[datetime, str] | None) -> Page:
    from shared.account.pages import newest_first

    query = documents.user(uid).collection(vocab.BLOCKS)
    return newest_first(query, limit, cursor, lambda doc_id: documents.block(uid, doc_id), _view)


def _count(uid: str) -> int:
    result = documents.user(uid).collection(vocab.BLOCKS).count().get()
    return int(result[0][0].value)


def end_shared_call(uid: str, other: str, now: datetime) -> bool:
    """When both are in the same open room, both leave it (the room closes when it cannot go on).
    Read after the block committed, so a room that seated them concurrently is seen."""
    from shared.clients.firestore import get_firestore
    from shared.rooms.membership import leave_together
    from shared.users.state import current_room

    snapshots = get_firestore().get_all([documents.user(uid), documents.user(other)])
    rooms = {snap.id: current_room(snap.to_dict() or {}) for snap in snapshots if snap.exists}
    room_id = rooms.get(uid)
    if room_id is None or rooms.get(other) != room_id:
        return False
    left = leave_together([uid, other], room_id, now, missing_ok=True)
    log.log_event(logger, "shared call ended by a block", roomId=room_id, closed=left.closed)
    return left.was_participant


# -- the Redis mirror ------------------------------------------------------------------------------
def mirror_add(a: str, b: str) -> None:
    pipe = get_redis().pipeline(transaction=True)
    for one, other in ((a, b), (b, a)):
        pipe.sadd(keys.blocks(one), other)
        pipe.expire(keys.blocks(one), keys.BLOCKS_TTL_S)
    pipe.execute()


def mirror_remove(a: str, b: str) -> None:
    pipe = get_redis().pipeline(transaction=True)
    pipe.srem(keys.blocks(a), b)
    pipe.srem(keys.blocks(b), a)
    pipe.execute()


# -- account deletion ------------------------------------------------------------------------------
def forget(uid: str) -> int:
    """Every block by or of `uid`, in Firestore and in both users' Redis sets (the deletion job).
    Idempotent; returns how many block documents were deleted."""
    from shared.clients.firestore import get_firestore
    from shared.firestore_queries import blocks_naming

    client = get_firestore()
    deleted = 0
    for snap in documents.user(uid).collection(vocab.BLOCKS).select([]).stream():
        mirror_remove(uid, snap.id)
        snap.reference.delete()
        deleted += 1
    for snap in blocks_naming(uid, client).select([]).stream():
        owner = snap.reference.parent.parent.id  # type: ignore[union-attr]
        mirror_remove(uid, owner)
        snap.reference.delete()
        deleted += 1
    get_redis().delete(keys.blocks(uid))
    return deleted
