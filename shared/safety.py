"""What account_api decided, enforced where the action happens: the queue, select rooms, pairing and
both token routes call these with the user document and suspension marker they read in one round
trip of their own transaction (blocks, which live in their own documents, are read there as well
when joining a select room).

- Adults only: `users/{uid}.adultConfirmedAt` (set once by the owner, rules: `== request.time`);
  without it the queue and select rooms answer 403 `adult_confirmation_required`.
- Suspension: the marker `users/{uid}/private/suspension = {until: timestamp | null}`, written with
  `suspensions/{uid}` by shared/account/suspensions.py and read in the same round trip as the user
  document (it is private: a stranger who knows a uid must not learn that its owner is suspended or
  held for review); while it lasts the queue, select rooms and tokens answer 403 `suspended` with
  `until` (null: until staff lift it), and the pairing transaction refuses the user.
- Blocks: two users either of whom blocked the other are never paired (pair.lua, with the pairing
  transaction as a second line) and cannot join each other's select room (the same 404 as a full
  room: a block is not revealed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import documents, vocab
from shared.errors import ApiError
from shared.transactions import read

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, DocumentSnapshot, Transaction


@dataclass(frozen=True)
class Suspended:
    until: datetime | None  # None: until staff lift it


def adult_confirmed(user: dict[str, Any]) -> bool:
    return isinstance(user.get(vocab.ADULT_CONFIRMED_AT), datetime)


def marker_of(snapshot: DocumentSnapshot) -> dict[str, Any] | None:
    """The suspension marker's data, None when the user has none."""
    return (snapshot.to_dict() or {}) if snapshot.exists else None


def suspension(user: dict[str, Any], marker: dict[str, Any] | None, now: datetime) -> Suspended | None:
    """The suspension in force, if any (a passed `until` is none). `marker`: the data of
    `users/{uid}/private/suspension` (None: no such document); `user`: `users/{uid}`, which may still
    carry the marker as a field from before it moved (`python -m deploy suspension-markers`)."""
    held = marker if marker is not None else user.get(vocab.SUSPENSION)
    if not isinstance(held, dict):
        return None
    until = held.get("until")
    if isinstance(until, datetime):
        return Suspended(until) if until > now else None
    return Suspended(None)


def is_suspended(user: dict[str, Any], marker: dict[str, Any] | None, now: datetime) -> bool:
    return suspension(user, marker, now) is not None


def suspended_error(until: datetime | None) -> ApiError:
    from shared.times import rfc3339_or_none

    message = "your account is suspended" + (
        " until the time in `until`" if until else " until staff review it"
    )
    return ApiError(403, "suspended", message, details={"until": rfc3339_or_none(until)})


def adult_confirmation_required() -> ApiError:
    return ApiError(
        403,
        "adult_confirmation_required",
        "confirm that you are an adult first (users/{uid}.adultConfirmedAt)",
    )


# The fields require_may_use_tokens reads, as one mask for the user document (a marker from before
# the move) and the marker document: the token routes read only these, not the whole profile.
TOKEN_CHECK_FIELDS: tuple[str, ...] = (vocab.SUSPENSION, "until")


def require_may_use_tokens(user: dict[str, Any], marker: dict[str, Any] | None, now: datetime) -> None:
    """Token routes: a suspended user gets no LiveKit or WebSocket token."""
    held = suspension(user, marker, now)
    if held is not None:
        raise suspended_error(held.until)


def require_may_match(user: dict[str, Any], marker: dict[str, Any] | None, now: datetime) -> None:
    """The queue and select rooms (create and join): not suspended, and a confirmed adult."""
    require_may_use_tokens(user, marker, now)
    if not adult_confirmed(user):
        raise adult_confirmation_required()


def block_refs(uid: str, others: Iterable[str]) -> list[DocumentReference]:
    """Both directions' block documents between `uid` and each of `others`."""
    refs: list[DocumentReference] = []
    for other in others:
        if other != uid:
            refs += [documents.block(uid, other), documents.block(other, uid)]
    return refs


def blocked_with_any(transaction: Transaction, uid: str, others: Iterable[str]) -> bool:
    """Whether `uid` and any of `others` blocked one another, read inside the caller's transaction
    (so a block committed meanwhile aborts and retries it instead of being missed)."""
    refs = block_refs(uid, others)
    return bool(refs) and any(snap.exists for snap in read(transaction, *refs))
