"""Reports: `reports/{id}` (server only), one per reporter, reported user and room.

A report is accepted only about someone who shared the room with the reporter, as its call session
records (`callSessions/{roomId}.participants` lists everyone who took part; the session is kept
RETENTION_CALL_SESSION_DAYS, which is therefore how long a call can be reported). The id is derived
from (room, reporter, reported), so the transaction's `create` makes a second report of the same
thing a 409 even when two arrive at once.

Open reports from REPORTS_SUSPEND_THRESHOLD distinct users within REPORTS_SUSPEND_WINDOW_H hold the
reported user for review (shared/account/suspensions.py); when staff have resolved the last open
report about them, the hold ends.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import documents, log, vocab
from shared.account.blocks import profile_required
from shared.config import settings
from shared.errors import ApiError, conflict, forbidden, invalid, not_found
from shared.transactions import read, run

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentSnapshot, Transaction

    from shared.account.pages import Page

logger = log.get_logger("shared.account.reports")
NOTE_MAX = 1000


def report_id(room_id: str, reporter: str, reported: str) -> str:
    return hashlib.sha256(json.dumps([room_id, reporter, reported]).encode()).hexdigest()


def not_shared() -> ApiError:
    return forbidden("you can only report someone who was in this room with you")


def view(snapshot: DocumentSnapshot, *, staff: bool) -> dict[str, Any]:
    from shared.times import rfc3339, rfc3339_or_none

    data = snapshot.to_dict() or {}
    body: dict[str, Any] = {
        "id": snapshot.id,
        "roomId": data.get("roomId"),
        "userId": data.get("reportedUserId"),
        "reason": data.get("reason"),
        "note": data.get("note"),
        "status": data.get("status"),
        "createdAt": rfc3339(data["createdAt"]),
    }
    if staff:
        body.update(
            reporterId=data.get("reporterId"),
            resolution=data.get("resolution"),
            resolvedBy=data.get("resolvedBy"),
            resolvedAt=rfc3339_or_none(data.get("resolvedAt")),
            staffNote=data.get("staffNote"),
        )
    return body


@dataclass(frozen=True)
class Filed:
    body: dict[str, Any]
    held_for_review: bool


def file_report(
    reporter: str, room_id: str, reported: str, reason: str, note: str | None, now: datetime
) -> Filed:
    if reported == reporter:
        raise invalid("userId", "you cannot report yourself")
    rid = report_id(room_id, reporter, reported)

    def body(transaction: Transaction) -> None:
        session, existing, me = read(
            transaction, documents.call_session(room_id), documents.report(rid), documents.user(reporter)
        )
        if not me.exists:  # e.g. an account being deleted: nothing may be written for it again
            raise profile_required()
        took_part = ((session.to_dict() or {}).get("participants") or []) if session.exists else []
        if reporter not in took_part or reported not in took_part:
            raise not_shared()
        if existing.exists:
            raise conflict("you already reported this user for this room", code="already_reported")
        doc: dict[str, Any] = {
            "roomId": room_id,
            "reporterId": reporter,
            "reportedUserId": reported,
            "reason": reason,
            "status": vocab.REPORT_OPEN,
            "createdAt": now,
        }
        if note is not None:
            doc["note"] = note
        transaction.create(documents.report(rid), doc)

    run(body)
    log.log_event(logger, "user reported", reportId=rid, roomId=room_id, reported=reported, reason=reason)
    held = _maybe_hold(reported, now)
    return Filed(view(documents.report(rid).get(), staff=False), held)


def _maybe_hold(reported: str, now: datetime) -> bool:
    """Counted after the report committed, so of concurrent reports the last to commit sees them all."""
    from shared.account.suspensions import hold_for_review
    from shared.firestore_queries import open_reports_about

    config = settings()
    since = now - timedelta(hours=config.reports_suspend_window_h)
    reporters = {
        snap.get("reporterId") for snap in open_reports_about(reported, since).select(["reporterId"]).stream()
    }
    if len(reporters) < config.reports_suspend_threshold:
        return False
    return hold_for_review(reported, len(reporters), now)


def list_reports(status: str, limit: int, cursor: tuple[datetime, str] | None) -> Page:
    from shared.account.pages import newest_first
    from shared.firestore_queries import reports_by_status

    return newest_first(
        reports_by_status(status), limit, cursor, documents.report, lambda snap: view(snap, staff=True)
    )


def resolve(rid: str, staff_uid: str, resolution: str, note: str | None, now: datetime) -> dict[str, Any]:
    """Staff close a report. 404 unknown, 409 `already_resolved`. The last open report about a user
    being resolved ends an automatic review hold on them."""

    def body(transaction: Transaction) -> str:
        (snapshot,) = read(transaction, documents.report(rid))
        if not snapshot.exists:
            raise not_found("no such report")
        data = snapshot.to_dict() or {}
        if data.get("status") != vocab.REPORT_OPEN:
            raise conflict("this report is already resolved", code="already_resolved")
        update: dict[str, Any] = {
            "status": vocab.REPORT_RESOLVED,
            "resolution": resolution,
            "resolvedBy": staff_uid,
            "resolvedAt": now,
            vocab.DELETE_AT: now + timedelta(days=settings().retention_resolved_report_days),
        }
        if note is not None:
            update["staffNote"] = note
        transaction.update(documents.report(rid), update)
        return str(data.get("reportedUserId"))

    reported = run(body)
    log.log_event(logger, "report resolved", reportId=rid, resolution=resolution, by=staff_uid)
    _end_review_if_done(reported)
    return view(documents.report(rid).get(), staff=True)


def _end_review_if_done(reported: str) -> None:
    from shared.account.suspensions import release_review
    from shared.firestore_queries import open_reports_about

    if not list(open_reports_about(reported).limit(1).stream()):
        release_review(reported)
