"""What a client may send, what it receives, and the close codes (docs/asyncapi/realtime.yaml).

Pure functions: parse and validate one text frame, build the JSON the server sends. A relayed message
is the sender's validated message as sent plus `from` (the sender's uid) and `at` (server time, ms
since the epoch), serialized once and shared by every recipient.
"""

from __future__ import annotations

import json
import math
from enum import IntEnum
from itertools import chain
from typing import Any

import orjson


class Close(IntEnum):
    """Application close codes (4000-4999 are the application's by RFC 6455)."""

    INVALID_MESSAGE = 4400  # protocol misuse (binary frames)
    UNAUTHENTICATED = 4401  # token missing, malformed, tampered, expired, unknown key, already used
    FORBIDDEN = 4403  # token for another room, or not a participant of this room
    ROOM_NOT_FOUND = 4404  # no such room, or it is already closed
    TOO_SLOW = 4408  # the client does not read: chat and events overflowed, or it accepted nothing
    REPLACED = 4409  # the same user connected to the room again; the older socket is closed
    LEFT = 4410  # the user left the room
    ROOM_CLOSED = 4411  # the room was closed
    # Standard codes the server also uses: 1001 going away (instance shutting down: reconnect),
    # 1009 message too big, 1011 internal error or keepalive timeout, 1013 try again later.


TRY_AGAIN_LATER = 1013

MAX_BONES = 64  # VRM humanoid has 55 bones
MAX_EXPRESSIONS = 64
MAX_NAME = 64
MAX_ID = 64
MOTION_KEYS = frozenset({"type", "seq", "t", "position", "rotation", "expression", "bones", "lookAt"})
CHAT_KEYS = frozenset({"type", "text", "id"})


class InvalidMessage(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse(raw: str, *, motion_max_bytes: int, chat_max_chars: int) -> dict[str, Any]:
    """The validated message, or InvalidMessage(code, message) saying what is wrong."""
    try:
        # orjson: 2-5x faster than json on frames of ~100 floats (the largest cost of a relayed frame);
        # it also refuses NaN/Infinity, integers beyond 64 bits and nesting deeper than 1024.
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidMessage("invalid_json", "not JSON") from None
    if not isinstance(message, dict):
        raise InvalidMessage("invalid_message", "a message is a JSON object")
    kind = message.get("type")
    try:
        if kind == "motion":
            if len(raw) > motion_max_bytes:  # characters >= bytes/4; the frame limit bounds the bytes
                raise InvalidMessage("too_large", f"a motion frame is at most {motion_max_bytes} bytes")
            _check_motion(message)
        elif kind == "chat":
            _check_chat(message, chat_max_chars)
        else:
            raise InvalidMessage("unknown_type", "type must be motion or chat")
    except OverflowError:  # an integer of hundreds of digits is not a coordinate
        raise InvalidMessage("invalid_message", "a number is out of range") from None
    return message


def _check_motion(message: dict[str, Any]) -> None:
    unknown = set(message) - MOTION_KEYS
    if unknown:
        raise InvalidMessage("invalid_message", f"unknown field {sorted(unknown)[0]}")
    if "seq" in message and not _is_int(message["seq"], 0, 2**53):
        raise InvalidMessage("invalid_message", "seq must be a non-negative integer")
    if "t" in message and not _is_number(message["t"]):
        raise InvalidMessage("invalid_message", "t must be a number")
    for name, sizes in (("position", (3,)), ("rotation", (4,)), ("lookAt", (3,))):
        if name in message and not _is_vector(message[name], sizes):
            raise InvalidMessage("invalid_message", f"{name} must be {sizes[0]} finite numbers")
    if "expression" in message:
        _check_expression(message["expression"])
    if "bones" in message:
        _check_bones(message["bones"])


def _check_chat(message: dict[str, Any], max_chars: int) -> None:
    unknown = set(message) - CHAT_KEYS
    if unknown:
        raise InvalidMessage("invalid_message", f"unknown field {sorted(unknown)[0]}")
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidMessage("invalid_message", "text must be a non-empty string")
    if len(text) > max_chars:
        raise InvalidMessage("too_large", f"text is at most {max_chars} characters")
    if "id" in message and not (isinstance(message["id"], str) and 0 < len(message["id"]) <= MAX_ID):
        raise InvalidMessage("invalid_message", f"id must be a string of 1..{MAX_ID} characters")


def _check_expression(value: Any) -> None:
    if type(value) is not dict or len(value) > MAX_EXPRESSIONS:
        raise InvalidMessage(
            "invalid_message", f"expression must be an object of at most {MAX_EXPRESSIONS} entries"
        )
    for key, weight in value.items():
        if not (0 < len(key) <= MAX_NAME and type(weight) in NUMBER_TYPES and 0 <= weight <= 1):
            raise InvalidMessage("invalid_message", f"expression.{key[:MAX_NAME]} must be a weight 0..1")


def _check_bones(value: Any) -> None:
    # The hot loop of the service (20-55 bones per frame, 20 frames a second per user): the checks run
    # over all bones at once in C (`map`, `set`, `sum`, `chain`); only a frame that fails is walked bone
    # by bone, to name the culprit.
    if type(value) is not dict or len(value) > MAX_BONES:
        raise InvalidMessage("invalid_message", f"bones must be an object of at most {MAX_BONES} entries")
    if not value:
        return
    vectors = value.values()
    if (
        set(map(type, vectors)) == LIST_TYPE
        and set(map(len, vectors)) <= BONE_SIZES
        and "" not in value
        and max(map(len, value)) <= MAX_NAME
        and set(map(type, chain.from_iterable(vectors))) <= NUMBER_TYPES
        and math.isfinite(sum(map(sum, vectors)))
    ):
        return
    for key, vector in value.items():
        if not (0 < len(key) <= MAX_NAME and _is_vector(vector, (4, 7))):
            raise InvalidMessage("invalid_message", f"bones.{key[:MAX_NAME]} must be 4 or 7 finite numbers")
    raise InvalidMessage("invalid_message", "bones: the numbers are out of range")


NUMBER_TYPES = frozenset({int, float})
LIST_TYPE = {list}
BONE_SIZES = frozenset({4, 7})


def _is_number(value: Any) -> bool:
    return type(value) in NUMBER_TYPES and math.isfinite(value)


def _is_int(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _is_vector(value: Any, sizes: tuple[int, ...]) -> bool:
    # The hot path (20 bones x 4 numbers, 20 times a second per user): type check and finiteness in C
    # (`set(map(type, ...))`, `sum`): one infinite or NaN element makes the sum non-finite.
    return (
        type(value) is list
        and len(value) in sizes
        and set(map(type, value)) <= NUMBER_TYPES
        and math.isfinite(sum(value))
    )


# -- what the server sends ---------------------------------------------------------------------------
def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def relayed(message: dict[str, Any], sender: str, at_ms: int) -> str:
    return dumps({**message, "from": sender, "at": at_ms})


def sender_fields(sender: str) -> str:
    """The text spliced into each frame a user sends (built once per socket)."""
    return f',"from":{json.dumps(sender)},"at":'


def relayed_text(raw: str, fields: str, at_ms: int) -> str:
    """`relayed()` without serializing again: the validated frame's own text with `from` and `at`
    (`fields` from `sender_fields`) spliced in before its closing brace (the validator refused any key
    of its own named so). Motion takes this path: re-encoding ~100 numbers per frame cost more than
    the rest of the relay."""
    body = raw if raw[-1] == "}" else raw.rstrip()
    return f"{body[:-1]}{fields}{at_ms}}}"


def error(code: str, message: str) -> str:
    return dumps({"type": "error", "code": code, "message": message})
