"""The words of the data model: Firestore collection names and the values of its status fields.

Beside `keys.py` (Redis key names), this is the one place these strings are spelled; the rules
(`firestore.rules`) and the clients use the same values.
"""

from __future__ import annotations

from typing import Final

# -- collections ---------------------------------------------------------------------------------
USERS: Final = "users"
ROOMS: Final = "rooms"
MATCHING_QUEUE: Final = "matchingQueue"  # {uid}: the user's random-matching request
ROOM_CODES: Final = "roomCodes"  # {code}: {roomId, expiresAt}, reserving a code among open rooms
CALL_SESSIONS: Final = "callSessions"  # {roomId}: one per room that became active
VRM_MODELS: Final = "vrmModels"
SERVER_STATE: Final = "serverState"
HEALTH_PROBE: Final = "_health"  # a document that need not exist, read by /healthz
REPORTS: Final = "reports"  # {id}: one user's report about another after a shared call (server only)
SUSPENSIONS: Final = (
    "suspensions"  # {uid}: the user's current suspension, its reason and author (server only)
)
ACCOUNT_DELETIONS: Final = "accountDeletions"  # {uid}: progress of a deletion job (server only)
# subcollections of users/{uid}
PRIVATE: Final = "private"  # {docId}: owner-readable only; clients write `profile` alone
VRM_SETTINGS: Final = "vrmSettings"
SESSIONS: Final = "sessions"
BLOCKS: Final = "blocks"  # {otherUid}: users the owner blocked (written by account_api only)
USER_SUBCOLLECTIONS: Final = (PRIVATE, VRM_SETTINGS, SESSIONS, BLOCKS)

# -- users/{uid}.status --------------------------------------------------------------------------
OFFLINE: Final = "offline"
ONLINE: Final = "online"
MATCHING: Final = "matching"  # set by the server while a queue ticket exists
IN_CALL: Final = "in_call"  # set by the server while currentRoomId names an open room
USER_STATUSES: Final = (ONLINE, OFFLINE, IN_CALL, MATCHING)
CLIENT_STATUSES: Final = (ONLINE, OFFLINE)  # what a client may ask for
SERVER_STATUSES: Final = (MATCHING, IN_CALL)  # what only the server sets
AROUND_STATUSES: Final = (ONLINE, MATCHING, IN_CALL)  # claims the user is around

# -- rooms/{roomId} ------------------------------------------------------------------------------
WAITING: Final = "waiting"
ACTIVE: Final = "active"
CLOSED: Final = "closed"
OPEN_ROOM_STATUSES: Final = (WAITING, ACTIVE)
RANDOM: Final = "random"  # rooms/{id}.type: paired by the matching worker
SELECT: Final = "select"  # created by a user, joined by code
ROOM_TYPES: Final = (RANDOM, SELECT)
SYSTEM_CREATOR: Final = "system"  # createdBy of random rooms: no user owns them

# -- why a room closed (rooms.closeReason, callSessions.endReason, call_sessions.end_reason) -------
NORMAL: Final = "normal"  # people left
TIMEOUT: Final = "timeout"  # past expiresAt, or waited too long
ERROR: Final = "error"  # the room vanished instead of closing
END_REASONS: Final = (NORMAL, TIMEOUT, ERROR)

# -- safety (shared/safety.py, shared/account/) --------------------------------------------------
ADULT_CONFIRMED_AT: Final = "adultConfirmedAt"  # users/{uid}: set once by the owner, == request.time
# users/{uid}/private/suspension: {until: timestamp | null}, the server's marker while suspended,
# readable by its owner alone. Before it, the marker was a field of the same name on the public
# users/{uid}, where anyone who knew the uid could read it; `python -m deploy suspension-markers`
# moves those, and the checks still honour one until it has run.
SUSPENSION: Final = "suspension"
# suspensions/{uid}.kind
SUSPENSION_TEMPORARY: Final = "temporary"  # staff, with `until`
SUSPENSION_BAN: Final = "ban"  # staff, without `until`: the Firebase Auth account is disabled too
SUSPENSION_REVIEW: Final = "review"  # automatic after reports, until staff reviewed them
SUSPENSION_KINDS: Final = (SUSPENSION_TEMPORARY, SUSPENSION_BAN, SUSPENSION_REVIEW)
# reports/{id}
REPORT_OPEN: Final = "open"
REPORT_RESOLVED: Final = "resolved"
REPORT_STATUSES: Final = (REPORT_OPEN, REPORT_RESOLVED)
REPORT_REASONS: Final = ("harassment", "nudity", "violence", "hate", "spam", "underage", "other")
RESOLUTIONS: Final = ("dismissed", "actioned")
RESOLVED_BY_DELETION: Final = "account_deleted"  # an open report whose subject deleted the account

# -- retention: the server-written field each collection group's TTL policy deletes by -------------
# (firestore.indexes.json `fieldOverrides` with "ttl": true -> Terraform google_firestore_field;
# the emulator has no TTL, so the local sweep deletes by the same fields: shared/jobs/retention.py)
DELETE_AT: Final = "deleteAt"
TTL_FIELDS: Final = {
    ROOMS: DELETE_AT,  # closed rooms: set at close
    CALL_SESSIONS: DELETE_AT,  # ended call sessions: set when the session ends
    ROOM_CODES: "expiresAt",  # code reservations: the room's own expiry
    SESSIONS: "expiresAt",  # users/{uid}/sessions: the device session's expiry (client, <= 30 days)
    REPORTS: DELETE_AT,  # resolved reports: set at resolution
}
