"""What account_api decided, enforced where the action happens: the queue, select rooms, pairing and
both token routes call these with the user document they already read in their own transaction, so a
check costs no extra round trip (blocks, which live in their own documents, are the one exception:
joining a select room reads them in the same transaction).

- Adults only: `users/{uid}.adultConfirmedAt` (set once by the owner, rules: `== request.time`);
  without it the queue and select rooms answer 403 `adult_confirmation_required`.
- Suspension: `users/{uid}.suspension = {until: timestamp | null}`, written with `suspensions/{uid}`
  by shared/account/suspensions.py; while it lasts the queue, select rooms and tokens answer 403
  `suspended` with `until` (null: until staff lift it), and the pairing transaction refuses the user.
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
    from google.cloud.firestore import DocumentReference, Transaction


@dataclass(frozen=True)
class Suspended:
    until: datetime | None  # None: until staff lift it


def adult_confirmed(user: dict[str, Any]) -> bool:
    return isinstance(user.get(vocab.ADULT_CONFIRMED_AT), datetime)


def suspension(user: dict[str, Any], now: datetime) -> Suspended | None:
    """The suspension in force on the user document, if any (a passed `until` is none)."""
    marker = user.get(vocab.SUSPENSION)
    if not isinstance(marker, dict):
        return None
    until = marker.get("until")
    if isinstance(until, datetime):
        return Suspended(until) if until > now else None
    return Suspended(None)


def is_suspended(user: dict[str, Any], now: datetime) -> bool:
    return suspension(user, now) is not None


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


# The user fields require_may_use_tokens reads: the token routes read only these (and what the
# token itself carries), not the whole profile.
TOKEN_CHECK_FIELDS: tuple[str, ...] = (vocab.SUSPENSION,)


def require_may_use_tokens(user: dict[str, Any], now: datetime) -> None:
    """Token routes: a suspended user gets no LiveKit or WebSocket token."""
    held = suspension(user, now)
    if held is not None:
        raise suspended_error(held.until)


def require_may_match(user: dict[str, Any], now: datetime) -> None:
    """The queue and select rooms (create and join): not suspended, and a confirmed adult."""
    require_may_use_tokens(user, now)
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
