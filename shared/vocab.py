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
# subcollections of users/{uid}
PRIVATE: Final = "private"
VRM_SETTINGS: Final = "vrmSettings"
SESSIONS: Final = "sessions"

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
