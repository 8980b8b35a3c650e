"""Validators for JSON request bodies and query parameters: each failure is a 400 naming the field.

One rule for `null` everywhere: a field the document marks nullable (`type: [string, "null"]`)
accepts `null` to mean "no value"; any other field must not be null, and an optional field is left
out rather than sent as null. Text is also checked for what can be stored (shared.text) and, for
one-line fields (names, titles), for control characters and line breaks.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.errors import invalid
from shared.text import is_blank, not_multi_line, not_one_line, unstorable

_MISSING = object()
# Times a client may name: RFC 3339 with a zone, the year as written 2000..2099: wide enough for
# any meetup, narrow enough for every store and every conversion (year 1 in a zone east of UTC
# overflowed on the way to UTC). The documents carry the same pattern.
TIME_PATTERN = (
    "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"
)
_TIME = re.compile(TIME_PATTERN)
# An https URL with a plain host name, printable ASCII only (non-ASCII is percent-encoded).
HTTPS_URL_PATTERN = "^https://([A-Za-z0-9.-]+)(:[0-9]{1,5})?([/?#][!-~]*)?$"
_HTTPS_URL = re.compile(HTTPS_URL_PATTERN)
_DIGITS = re.compile(r"[0-9]{1,9}")


def _present(body: Mapping[str, Any], name: str, required: bool, nullable: bool) -> tuple[bool, Any]:
    """(whether there is a value to check, the value). Raises for a missing required field and for
    a null where null is not allowed."""
    value = body.get(name, _MISSING)
    if value is _MISSING:
        if required:
            raise invalid(name, "is required")
        return False, None
    if value is None:
        if not nullable:
            raise invalid(name, "must not be null" + ("" if required else " (leave it out instead)"))
        return False, None
    return True, value


def check_text(value: str, name: str, *, one_line: bool) -> None:
    reason = unstorable(value) or (not_one_line(value) if one_line else not_multi_line(value))
    if reason:
        raise invalid(name, reason)


def get_str(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = True,
    nullable: bool = False,
    max_len: int = 1000,
    min_len: int = 1,
    one_line: bool = True,
    not_blank: bool = False,
    pattern: re.Pattern[str] | None = None,
    choices: Collection[str] | None = None,
) -> str | None:
    present, value = _present(body, name, required, nullable)
    if not present:
        return None
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    if not min_len <= len(value) <= max_len:
        raise invalid(name, f"must be {min_len} to {max_len} characters long")
    check_text(value, name, one_line=one_line)
    if not_blank and is_blank(value):
        raise invalid(name, "must not be blank")
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
    nullable: bool = False,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    present, value = _present(body, name, required, nullable)
    if not present:
        return None
    # JSON has numbers, not ints: 3.0 is the integer 3 (as JSON Schema says). bool is an int in
    # Python, never in a JSON contract.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, "must be an integer")
    if minimum is not None and value < minimum:
        raise invalid(name, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise invalid(name, f"must be at most {maximum}")
    return value


def get_bool(body: Mapping[str, Any], name: str, *, required: bool = True) -> bool | None:
    present, value = _present(body, name, required, False)
    if not present:
        return None
    if not isinstance(value, bool):
        raise invalid(name, "must be a boolean")
    return value


def get_object(body: Mapping[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
    present, value = _present(body, name, required, False)
    if not present:
        return {}
    if not isinstance(value, dict):
        raise invalid(name, "must be an object")
    return value


def get_time(
    body: Mapping[str, Any], name: str, *, required: bool = True, nullable: bool = False
) -> datetime | None:
    """An RFC 3339 date-time (TIME_PATTERN) as an aware UTC datetime."""
    raw = get_str(body, name, required=required, nullable=nullable, max_len=40)
    if raw is None:
        return None
    if not _TIME.match(raw):
        raise invalid(
            name, "must be an RFC 3339 date-time in 2000..2099 with a zone, e.g. 2030-01-31T12:00:00Z"
        )
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:  # a day or an hour that does not exist (2030-02-30, 25:00)
        raise invalid(name, "is not a date and time that exists") from None


def get_https_url(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = True,
    nullable: bool = False,
    max_len: int = 500,
    host: str | None = None,
) -> str | None:
    """An https:// URL with a host (the given one, if any): HTTPS_URL_PATTERN."""
    value = get_str(body, name, required=required, nullable=nullable, max_len=max_len)
    if value is None:
        return None
    match = _HTTPS_URL.match(value)
    if match is None:
        raise invalid(name, "must be an https:// URL with a host, in printable ASCII")
    if (
        host is not None
        and value[len("https://") :].split("/")[0].split("?")[0].split("#")[0].split(":")[0].lower() != host
    ):
        raise invalid(name, f"must be an https://{host}/ URL")
    return value


def reject_unknown(body: Mapping[str, Any], allowed: Collection[str], prefix: str = "") -> None:
    for key in body:
        if key not in allowed:
            raise invalid(prefix + key, "is not a known field")


def query_int(raw: str | None, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter (ASCII digits only)."""
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise invalid(name, f"must be an integer from {minimum} to {maximum}")
    return int(raw)
