"""A constraint violation that reaches PostgreSQL becomes the same 4xx the validation would give.

The validation in `validation.py` runs first, so this is the safety net for what only the database
can know (a duplicate id or thread, a row frozen by the final-state trigger) and for any client
that bypasses the checks. The constraint names come from the migrations. A write whose rows stayed
held by other transactions (past DB_LOCK_TIMEOUT_MS, or a deadlock PostgreSQL broke by aborting it)
is 503 `busy`, as a contended Firestore transaction is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared import pg_errors
from shared.errors import ApiError, Busy, conflict, invalid, unprocessable

# constraint -> (JSON field, message) for CHECK violations (400)
CHECKS = {
    "chk_invitation_time_range": ("endTime", "must be after startTime"),
    "chk_invitation_max_participants": ("maxParticipants", "must be between 1 and 100"),
    "chk_invitation_status": ("status", "is not a valid invitation status"),
    "chk_invitation_instance_type": ("instanceType", "is not a valid instance type"),
    "chk_invitation_tag": ("tag", "is not a valid tag"),
    "chk_invitation_event_name": ("eventName", "must be a single line"),
    "chk_invitation_world_link": ("worldLink", "must be an https:// URL"),
    "chk_invitation_vrchat_profile_encrypted": ("vrchatProfile", "must be stored encrypted"),
    "chk_invitation_instance_link_encrypted": ("instanceLink", "must be stored encrypted"),
    "chk_participant_status": ("status", "must be joined or interested"),
    "chk_ticket_category": ("category", "must be question, trouble or other"),
    "chk_ticket_status": ("status", "must be open or closed"),
    "chk_ticket_closed_at": ("closedAt", "must not be before createdAt"),
}
# CHECKs about how fields relate, which a schema cannot say (422, like the validation's own).
UNPROCESSABLE = frozenset({"chk_invitation_time_range", "chk_ticket_closed_at"})
# constraint -> (JSON field, message) for UNIQUE / primary key violations (409)
UNIQUES = {
    "invitations_pkey": ("id", "an invitation with this id already exists"),
    "uq_invitation_thread_id": ("threadId", "an invitation for this thread already exists"),
    "unique_participant": ("userId", "this user already takes part in the invitation"),
    "tickets_pkey": ("id", "a ticket with this id already exists"),
}

UNIQUE_VIOLATION = "23505"
CHECK_VIOLATION = "23514"
FOREIGN_KEY_VIOLATION = "23503"
NOT_NULL_VIOLATION = "23502"
STRING_TOO_LONG = "22001"
FINAL_STATE = "55000"  # object_not_in_prerequisite_state, raised by trg_invitation_final_state


def to_api_error(exc: BaseException) -> ApiError | None:
    """The answer for a database error: a 4xx where the request is at fault, 503 `busy` where other
    writers held its rows too long; None for anything else."""
    diag = pg_errors.fields(exc)
    code, constraint = diag.get("C"), diag.get("n", "")
    if code == CHECK_VIOLATION and constraint in CHECKS:
        if constraint in UNPROCESSABLE:
            return unprocessable(*CHECKS[constraint])
        return invalid(*CHECKS[constraint])
    if code == UNIQUE_VIOLATION and constraint in UNIQUES:
        field, message = UNIQUES[constraint]
        error = conflict(message, code="already_exists")
        error.field = field
        return error
    if code == FOREIGN_KEY_VIOLATION:
        return ApiError(404, "not_found", "the invitation does not exist")
    if code == NOT_NULL_VIOLATION:
        column = diag.get("c", "value")
        return ApiError(400, "invalid_argument", f"{column}: is required", field=column)
    if code == STRING_TOO_LONG:
        return ApiError(400, "invalid_argument", "a value is longer than its column allows")
    if code == FINAL_STATE:
        return conflict(
            "the invitation is completed or cancelled and can no longer change", code="final_state"
        )
    if code in pg_errors.CONTENDED:
        return Busy()
    return None


@contextmanager
def translate_db_errors() -> Iterator[None]:
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except DBAPIError as exc:
        error = to_api_error(exc)
        if error is None:
            raise
        raise error from exc
