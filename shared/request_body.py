"""Request bodies, decoded in one place for every HTTP function.

A hostile client controls every byte, so decoding bounds everything before the body reaches a
handler: the declared size is checked before reading and the read itself stops one byte past the
limit (a chunked body declares nothing); the bytes must be strict UTF-8; JSON must be an object
nested at most MAX_DEPTH deep, with finite numbers, whose every key and string can be stored. Each
refusal is an ApiError (400/413) naming the offending field as a dotted path.
"""

from __future__ import annotations

import json
import math
from typing import IO, Any

from shared.errors import ApiError
from shared.text import unstorable

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
_CHUNK = 16 * 1024


def too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes")


def read_limited(stream: IO[bytes], declared_length: int | None, limit: int = MAX_BODY_BYTES) -> bytes:
    """At most `limit` bytes of the body; 413 as soon as it is known to be longer."""
    if declared_length is not None and declared_length > limit:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise too_large()


def _invalid_json(message: str, field: str | None = None) -> ApiError:
    prefix = f"{field}: " if field else ""
    return ApiError(400, "invalid_json", prefix + message, field=field)


def _finite(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(data: bytes) -> Any:
    """The JSON value in `data`, every string in it storable; 400 naming the field otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid_json("request body is not valid UTF-8") from None
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_constant)
    except RecursionError:
        raise _invalid_json(f"JSON is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:
        raise _invalid_json("request body is not valid JSON") from None
    check_value(value)
    return value


def check_value(value: Any) -> None:
    """Depth, and storable keys and strings, of a decoded JSON value (iterative: no recursion)."""
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    while pending:
        item, path, depth = pending.pop()
        if isinstance(item, dict | list) and depth >= MAX_DEPTH:
            raise _invalid_json(f"JSON is nested more than {MAX_DEPTH} levels deep", path or None)
        if isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else key
                reason = unstorable(key)
                if reason:
                    where = path or "body"
                    raise ApiError(400, "invalid_argument", f"{where}: a field name {reason}", field=where)
                pending.append((child, child_path, depth + 1))
        elif isinstance(item, list):
            pending.extend((child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item))
        elif isinstance(item, str):
            reason = unstorable(item)
            if reason:
                field = path or "body"
                raise ApiError(400, "invalid_argument", f"{field}: {reason}", field=field)


def decode_object(data: bytes) -> dict[str, Any]:
    value = decode_json(data)
    if not isinstance(value, dict):
        raise _invalid_json("request body must be a JSON object")
    return value
