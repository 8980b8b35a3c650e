"""Request JSON -> typed values. Each rule mirrors a CHECK constraint (or a column length), so bad
input is a 400 naming the field before any SQL runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.errors import ApiError, forbidden, invalid
from shared.invitations import model
from shared.validate import get_int, get_str, reject_unknown

HTTPS_URL = re.compile(r"https://\S+", re.IGNORECASE)
VRCHAT_URL = re.compile(r"https://vrchat\.com/\S*", re.IGNORECASE)
NO_NEWLINE = re.compile(r"[^\r\n]+")

CREATE_FIELDS = (
    "id",
    "threadId",
    "staffMessageId",
    "hostName",
    "eventName",
    "startTime",
    "endTime",
    "worldName",
    "worldLink",
    "tag",
    "description",
    "instanceType",
    "vrchatProfile",
    "instanceLink",
    "maxParticipants",
)
# PATCH: JSON field -> column. `staffMessageId` and `assignStaff` are staff-only.
PATCH_COLUMNS = {
    "eventName": "event_name",
    "startTime": "start_time",
    "endTime": "end_time",
    "worldName": "world_name",
    "worldLink": "world_link",
    "tag": "tag",
    "description": "description",
    "instanceType": "instance_type",
    "vrchatProfile": "vrchat_profile",
    "instanceLink": "instance_link",
    "maxParticipants": "max_participants",
    "staffMessageId": "staff_message_id",
}
NULLABLE = {"worldLink", "vrchatProfile", "instanceLink", "staffMessageId"}
STAFF_ONLY = {"staffMessageId", "assignStaff", "staffName"}


def snowflake(value: str | None, field: str) -> str:
    if value is None or not model.SNOWFLAKE.fullmatch(value):
        raise invalid(field, "must be a Discord id (1 to 20 digits)")
    return value


def get_time(body: Mapping[str, Any], name: str) -> datetime:
    raw = get_str(body, name, max_len=40)
    assert raw is not None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(name, "must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z") from None
    if parsed.tzinfo is None:
        raise invalid(name, "must include a time zone (Z or +09:00)")
    return model.to_db_time(parsed)


def _field(body: Mapping[str, Any], name: str, required: bool) -> Any:
    """One invitation field, validated; None when absent (or explicitly null if allowed)."""
    if name in ("startTime", "endTime"):
        return get_time(body, name) if required or body.get(name) is not None else None
    if name == "maxParticipants":
        return get_int(body, name, required=required, minimum=1, maximum=model.MAX_PARTICIPANTS)
    rules: dict[str, dict[str, Any]] = {
        "eventName": {"max_len": 200, "pattern": NO_NEWLINE},
        "worldName": {"max_len": 200},
        "worldLink": {"max_len": model.URL_MAX, "pattern": HTTPS_URL},
        "tag": {"max_len": 50, "choices": model.TAGS},
        "description": {"max_len": model.DESCRIPTION_MAX},
        "instanceType": {"max_len": 20, "choices": model.INSTANCE_TYPES},
        "vrchatProfile": {"max_len": model.URL_MAX, "pattern": VRCHAT_URL},
        "instanceLink": {"max_len": model.URL_MAX, "pattern": HTTPS_URL},
        "hostName": {"max_len": 100},
    }
    if name == "staffMessageId":
        value = get_str(body, name, required=required, max_len=20)
        return None if value is None else snowflake(value, name)
    value = get_str(body, name, required=required, **rules[name])
    if value is not None and name in ("eventName", "worldName", "hostName") and not value.strip():
        raise invalid(name, "must not be blank")
    return value


def display_name(body: Mapping[str, Any], name: str, fallback: str | None) -> str:
    """A user-facing name from the body, else the token's `name` claim (at most 100 characters)."""
    if body.get(name) is None and fallback:
        return fallback[:100]
    value = get_str(body, name, max_len=100)
    assert value is not None
    if not value.strip():
        raise invalid(name, "must not be blank")
    return value


def member_id(discord_id: str | None) -> str:
    """Users are stored by Discord id: hosting, joining and tickets need an account signed in with
    Discord (the `discord_id` claim discord_auth sets); reading does not."""
    if discord_id is None:
        raise ApiError(
            403, "discord_link_required", "sign in with Discord (discord_auth) to host, join or open tickets"
        )
    return discord_id


def new_invitation(body: Mapping[str, Any], host_id: str, host_name_claim: str | None) -> model.NewInvitation:
    reject_unknown(body, CREATE_FIELDS)
    values = {
        name: _field(body, name, required=False) for name in CREATE_FIELDS if name not in ("id", "threadId")
    }
    for name in ("eventName", "startTime", "endTime", "worldName", "tag", "description", "instanceType"):
        if values[name] is None:
            raise invalid(name, "is required")
    if values["maxParticipants"] is None:
        raise invalid("maxParticipants", "is required")
    if values["startTime"] >= values["endTime"]:
        raise invalid("endTime", "must be after startTime")
    if values["endTime"] <= model.utc_now():
        raise invalid("endTime", "must be in the future")
    return model.NewInvitation(
        id=snowflake(get_str(body, "id", max_len=20), "id"),
        thread_id=snowflake(get_str(body, "threadId", max_len=20), "threadId"),
        staff_message_id=values["staffMessageId"],
        host_id=host_id,
        host_name=display_name(body, "hostName", host_name_claim),
        event_name=values["eventName"],
        start_time=values["startTime"],
        end_time=values["endTime"],
        world_name=values["worldName"],
        world_link=values["worldLink"],
        tag=values["tag"],
        description=values["description"],
        instance_type=values["instanceType"],
        vrchat_profile=values["vrchatProfile"],
        instance_link=values["instanceLink"],
        max_participants=values["maxParticipants"],
    )


def invitation_patch(body: Mapping[str, Any], is_staff: bool) -> tuple[dict[str, Any], bool, str | None]:
    """(column -> new value, assign the caller as staff?, staff name) for PATCH /invitations/{id}."""
    reject_unknown(body, (*PATCH_COLUMNS, "assignStaff", "staffName"))
    if not is_staff:
        for name in STAFF_ONLY:
            if name in body:
                raise forbidden(f"{name}: only staff may set it")
    changes: dict[str, Any] = {}
    for name, column in PATCH_COLUMNS.items():
        if name not in body:
            continue
        if body[name] is None:
            if name not in NULLABLE:
                raise invalid(name, "must not be null")
            changes[column] = None
        else:
            changes[column] = _field(body, name, required=True)
    assign = body.get("assignStaff", False)
    if not isinstance(assign, bool):
        raise invalid("assignStaff", "must be a boolean")
    staff_name = None
    if "staffName" in body:
        if not assign:
            raise invalid("staffName", "is only used with assignStaff: true")
        staff_name = display_name(body, "staffName", None)
    if not changes and not assign:
        raise invalid("body", "names no field to change")
    return changes, assign, staff_name


def page_limit(raw: str | None) -> int:
    if raw is None:
        return model.DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= model.MAX_PAGE:
        raise invalid("limit", f"must be an integer from 1 to {model.MAX_PAGE}")
    return int(raw)


def choice(raw: str | None, field: str, choices: tuple[str, ...], default: str | None) -> str | None:
    if raw is None:
        return default
    if raw not in choices:
        raise invalid(field, f"must be one of {', '.join(choices)}")
    return raw


def participant_status(body: Mapping[str, Any]) -> str:
    reject_unknown(body, ("status", "userName"))
    value = get_str(body, "status", max_len=20, choices=model.PARTICIPANT_STATUSES)
    assert value is not None
    return value


def new_ticket(body: Mapping[str, Any]) -> tuple[str, str]:
    """(id, category) of POST /tickets."""
    reject_unknown(body, ("id", "category", "userName"))
    ticket_id = snowflake(get_str(body, "id", max_len=20), "id")
    category = get_str(body, "category", max_len=20, choices=model.TICKET_CATEGORIES)
    assert category is not None
    return ticket_id, category
