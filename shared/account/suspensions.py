"""Suspensions: `suspensions/{uid}` (server only: kind, until, reason, who decided, when) and the
marker `users/{uid}/private/suspension = {until}` that the queue, rooms, pairing and tokens read with
the user document (shared/safety.py). Both change in one transaction, which also takes away a marker
left on the public `users/{uid}` from before the marker moved.

Kinds:
- `temporary`: staff, with `until`;
- `ban`: staff, without `until`; the Firebase Auth account is disabled as well (re-enabled when lifted
  or replaced by a temporary one), so no new ID token can be minted;
- `review`: automatic, when open reports from REPORTS_SUSPEND_THRESHOLD distinct users arrive within
  REPORTS_SUSPEND_WINDOW_H; it lasts until staff have resolved those reports (or lift it), and never
  touches the Auth account: a report brigade cannot lock anyone out of their account.

Whatever the kind, it takes effect at once: the user leaves the queue and their room (the call ends
for them; a pair's room closes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared import documents, log, vocab
from shared.errors import not_found
from shared.transactions import read, run

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentSnapshot, Transaction

logger = log.get_logger("shared.account.suspensions")
SYSTEM = "system"  # createdBy of automatic review holds


@dataclass(frozen=True)
class Suspension:
    user_id: str
    kind: str
    until: datetime | None
    reason: str
    created_by: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        from shared.times import rfc3339, rfc3339_or_none

        return {
            "userId": self.user_id,
            "kind": self.kind,
            "until": rfc3339_or_none(self.until),
            "reason": self.reason,
            "createdBy": self.created_by,
            "createdAt": rfc3339(self.created_at),
        }

    def doc(self, now: datetime) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "until": self.until,
            "reason": self.reason,
            "createdBy": self.created_by,
            "createdAt": self.created_at,
            "updatedAt": now,
        }

    @classmethod
    def from_doc(cls, uid: str, data: dict[str, Any]) -> Suspension:
        until = data.get("until")
        return cls(
            uid,
            str(data.get("kind")),
            until if isinstance(until, datetime) else None,
            str(data.get("reason") or ""),
            str(data.get("createdBy") or ""),
            data.get("createdAt") or datetime.now(UTC),
        )

    def in_force(self, now: datetime) -> bool:
        return self.until is None or self.until > now


def _set_marker(transaction: Transaction, user: DocumentSnapshot, until: datetime | None) -> None:
    transaction.set(documents.suspension_marker(user.id), {"until": until})
    _drop_public_marker(transaction, user)


def _drop_public_marker(transaction: Transaction, user: DocumentSnapshot) -> None:
    """The marker as a field of the public profile, from before it moved: anyone who knows the uid
    can read it there."""
    from google.cloud import firestore

    if user.exists and vocab.SUSPENSION in (user.to_dict() or {}):
        transaction.update(user.reference, {vocab.SUSPENSION: firestore.DELETE_FIELD})


def suspend(uid: str, until: datetime | None, reason: str, staff_uid: str, now: datetime) -> Suspension:
    """Staff: suspend `uid` until `until` (None: a ban), replacing any suspension in force. 404 for a
    user without a profile."""
    kind = vocab.SUSPENSION_TEMPORARY if until is not None else vocab.SUSPENSION_BAN
    wanted = Suspension(uid, kind, until, reason, staff_uid, now)

    def body(transaction: Transaction) -> str | None:
        user, held = read(transaction, documents.user(uid), documents.suspension(uid))
        if not user.exists:
            raise not_found("no such user")
        transaction.set(documents.suspension(uid), wanted.doc(now))
        _set_marker(transaction, user, until)
        return str((held.to_dict() or {}).get("kind")) if held.exists else None

    previous = run(body)
    if kind == vocab.SUSPENSION_BAN or previous == vocab.SUSPENSION_BAN:
        _set_auth_disabled(uid, kind == vocab.SUSPENSION_BAN)
    log.log_event(logger, "user suspended", uid=uid, kind=kind, by=staff_uid)
    take_effect(uid, now)
    return wanted


def lift(uid: str, staff_uid: str) -> bool:
    """Staff: end `uid`'s suspension (idempotent); whether there was one."""
    previous = _remove(uid, only_kind=None)
    if previous is None:
        return False
    if previous.kind == vocab.SUSPENSION_BAN:
        _set_auth_disabled(uid, False)
    log.log_event(logger, "suspension lifted", uid=uid, kind=previous.kind, by=staff_uid)
    return True


def _remove(uid: str, only_kind: str | None) -> Suspension | None:
    def body(transaction: Transaction) -> Suspension | None:
        user, held = read(transaction, documents.user(uid), documents.suspension(uid))
        if not held.exists:
            return None
        suspension = Suspension.from_doc(uid, held.to_dict() or {})
        if only_kind is not None and suspension.kind != only_kind:
            return None
        transaction.delete(documents.suspension(uid))
        transaction.delete(documents.suspension_marker(uid))
        _drop_public_marker(transaction, user)
        return suspension

    return run(body)


def hold_for_review(uid: str, reporters: int, now: datetime) -> bool:
    """Reports crossed the threshold: suspend until staff review, unless a suspension is already in
    force (a staff decision is never replaced by an automatic one). Whether a hold was placed."""
    hold = Suspension(
        uid, vocab.SUSPENSION_REVIEW, None, f"reports from {reporters} users await review", SYSTEM, now
    )

    def body(transaction: Transaction) -> bool:
        user, held = read(transaction, documents.user(uid), documents.suspension(uid))
        if not user.exists:
            return False
        if held.exists and Suspension.from_doc(uid, held.to_dict() or {}).in_force(now):
            return False
        transaction.set(documents.suspension(uid), hold.doc(now))
        _set_marker(transaction, user, None)
        return True

    placed = run(body)
    if placed:
        log.log_event(logger, "user held for review", uid=uid, reporters=reporters)
        take_effect(uid, now)
    return placed


def release_review(uid: str) -> bool:
    """Staff resolved the last open report about `uid`: an automatic hold ends (a staff suspension
    stays)."""
    lifted = _remove(uid, only_kind=vocab.SUSPENSION_REVIEW) is not None
    if lifted:
        log.log_event(logger, "review hold ended", uid=uid)
    return lifted


def move_public_marker(uid: str, now: datetime) -> str:
    """Take a marker from before the move off the public `users/{uid}`: the record decides, as it did
    when the marker was written. 'moved' (the suspension is in force: the private marker carries its
    `until`), 'dropped' (it is over, or its record is gone) or 'none' (no marker there any more)."""

    def body(transaction: Transaction) -> str:
        user, held = read(transaction, documents.user(uid), documents.suspension(uid))
        if not user.exists or vocab.SUSPENSION not in (user.to_dict() or {}):
            return "none"
        record = Suspension.from_doc(uid, held.to_dict() or {}) if held.exists else None
        if record is not None and record.in_force(now):
            _set_marker(transaction, user, record.until)
            return "moved"
        _drop_public_marker(transaction, user)
        return "dropped"

    return run(body)


def take_effect(uid: str, now: datetime) -> None:
    """Out of the queue and out of the room (the call ends for them), now. The pairing transaction
    refuses a suspended user, so a pair in flight cannot seat them afterwards."""
    from shared.matching.queue import remove_from_queue
    from shared.rooms.membership import leave
    from shared.users.state import current_room

    remove_from_queue(uid, reason="suspended")
    snapshot = documents.user(uid).get()
    room_id = current_room(snapshot.to_dict() or {}) if snapshot.exists else None
    if room_id:
        leave(uid, room_id, now, missing_ok=True)


def _set_auth_disabled(uid: str, disabled: bool) -> None:
    from shared.clients import auth

    if not auth.set_disabled(uid, disabled):
        log.log_event(logger, "no Auth account to update", uid=uid, disabled=disabled)


def current(uid: str) -> Suspension | None:
    snapshot = documents.suspension(uid).get()
    return Suspension.from_doc(uid, snapshot.to_dict() or {}) if snapshot.exists else None
