"""Small validators for JSON request bodies: each failure is a 400 naming the field."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from shared.errors import invalid

_MISSING = object()


def get_str(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = True,
    max_len: int = 1000,
    min_len: int = 1,
    pattern: re.Pattern[str] | None = None,
    choices: Collection[str] | None = None,
) -> str | None:
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise invalid(name, "is required")
        return None
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    if not min_len <= len(value) <= max_len:
        raise invalid(name, f"must be {min_len} to {max_len} characters long")
    if choices is not None and value not in choices:
        raise invalid(name, f"must be one of {', '.join(sorted(choices))}")
    if pattern is not None and not pattern.fullmatch(value):
        raise invalid(name, "has an invalid format")
    return value


def get_int(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = True,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise invalid(name, "is required")
        return None
    # bool is an int in Python, never in a JSON contract.
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, "must be an integer")
    if minimum is not None and value < minimum:
        raise invalid(name, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise invalid(name, f"must be at most {maximum}")
    return value


def get_object(body: Mapping[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise invalid(name, "is required")
        return {}
    if not isinstance(value, dict):
        raise invalid(name, "must be an object")
    return value


def reject_unknown(body: Mapping[str, Any], allowed: Collection[str], prefix: str = "") -> None:
    for key in body:
        if key not in allowed:
            raise invalid(prefix + key, "is not a known field")
