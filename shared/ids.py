"""Document ids a client may name: what our rooms use, and nothing Firestore reserves.

Room ids are Firestore auto ids (20 characters) or the matching's uuid hex. Firestore forbids `.`,
`..`, slashes and ids matching `__.*__`; a client-supplied id that reached the client library as one
of those made it raise, so ids are checked at the door.
"""

from __future__ import annotations

import re

from shared.errors import invalid

ROOM_ID_PATTERN = "^[A-Za-z0-9_-]{1,128}$"
_ROOM_ID = re.compile(ROOM_ID_PATTERN.strip("^$"))
_RESERVED = re.compile(r"__.*__")


def room_id(value: object, field: str = "roomId") -> str:
    """A room id from a request, or 400 naming the field."""
    if value is None:
        raise invalid(field, "is required")
    if not isinstance(value, str):
        raise invalid(field, "must be a string")
    if not _ROOM_ID.fullmatch(value) or _RESERVED.fullmatch(value):
        raise invalid(field, "is not a room id (1 to 128 of A-Z a-z 0-9 _ -, not __reserved__)")
    return value


# Firebase uids: up to 128 characters; ours are Firebase auto ids (28 alphanumerics) and
# `discord:{snowflake}`. Anything a document id cannot be is refused.
USER_ID_PATTERN = "^[A-Za-z0-9_.:-]{1,128}$"
_USER_ID = re.compile(USER_ID_PATTERN.strip("^$"))


def user_id(value: object, field: str = "userId") -> str:
    """A user id from a request, or 400 naming the field."""
    if value is None:
        raise invalid(field, "is required")
    if not isinstance(value, str):
        raise invalid(field, "must be a string")
    if not _USER_ID.fullmatch(value) or value in (".", "..") or _RESERVED.fullmatch(value):
        raise invalid(field, "is not a user id (1 to 128 of A-Z a-z 0-9 _ . : -)")
    return value
