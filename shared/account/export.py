"""GET /me/export: everything the backend's Firestore holds about the caller, as one JSON document
(the right of access and portability).

Included: the profile and its subcollections (private, vrmSettings, sessions, blocks), the matching
request, the call sessions the caller took part in (without the other participants' ids: those are
other people's data), the reports the caller filed (not who reported the caller), and the caller's
suspension with its reason. Not included: the invitations database (PostgreSQL), which
invitations_api already serves to its owner (`GET /me/participations`, `GET /tickets/mine`); see
docs/account.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared import documents, vocab
from shared.account.firestore_json import to_json

SESSION_FIELDS = ("roomId", "roomType", "startedAt", "endedAt", "durationSeconds", "endReason")
REPORT_FIELDS = ("roomId", "reportedUserId", "reason", "note", "status", "createdAt", "resolution")


def export(uid: str, now: datetime) -> dict[str, Any]:
    from shared.firestore_queries import reports_naming, sessions_of

    user_ref = documents.user(uid)
    profile = user_ref.get()
    body: dict[str, Any] = {
        "userId": uid,
        "exportedAt": to_json(now),
        "profile": to_json(profile.to_dict()) if profile.exists else None,
    }
    for name in vocab.USER_SUBCOLLECTIONS:
        body[name] = {snap.id: to_json(snap.to_dict()) for snap in user_ref.collection(name).stream()}
    request = documents.queue_entry(uid).get()
    body["matchingRequest"] = to_json(request.to_dict()) if request.exists else None
    body["callSessions"] = [
        {
            "id": snap.id,
            **{k: to_json(v) for k, v in (snap.to_dict() or {}).items() if k in SESSION_FIELDS},
            "participantCount": len((snap.to_dict() or {}).get("participants") or []),
        }
        for snap in sessions_of(uid).stream()
    ]
    body["reportsFiled"] = [
        {"id": snap.id, **{k: to_json(v) for k, v in (snap.to_dict() or {}).items() if k in REPORT_FIELDS}}
        for snap in reports_naming(uid, "reporterId").stream()
    ]
    suspension = documents.suspension(uid).get()
    if suspension.exists:
        data = suspension.to_dict() or {}
        body["suspension"] = to_json({k: data.get(k) for k in ("kind", "until", "reason", "createdAt")})
    else:
        body["suspension"] = None
    return body
