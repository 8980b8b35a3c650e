"""Room codes people read aloud and type: six characters without look-alikes (no 0/O, 1/I/L).

31 symbols ** 6 = 887 million codes; uniqueness among open rooms is enforced by the `roomCodes/{code}`
reservation document written in the room's creation transaction, not by the odds.
"""

from __future__ import annotations

import re
import secrets

from shared.errors import invalid

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6
_CODE = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
# What a person may type: the six symbols in either case, with spaces and dashes anywhere
# (docs/openapi/matching_api.yaml carries the same pattern).
TYPED_PATTERN = "^[ -]*([2-9A-HJKMNP-Za-hjkmnp-z][ -]*){6}$"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def parse_code(raw: object, field: str = "roomCode") -> str:
    """Normalise what a person typed (case, spaces, dashes) or raise 400 naming the field."""
    if raw is None:
        raise invalid(field, "is required")
    if not isinstance(raw, str):
        raise invalid(field, "must be a string")
    code = re.sub(r"[ -]", "", raw)
    if not code.isascii() or not _CODE.fullmatch(code.upper()):
        raise invalid(field, f"must be {LENGTH} characters from {ALPHABET}")
    return code.upper()
