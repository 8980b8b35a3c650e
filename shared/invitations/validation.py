"""Request JSON -> typed values. Each rule mirrors a CHECK constraint (or a column length), so bad
input is a 400 naming the field before any SQL runs. docs/openapi/invitations_api.yaml states the
same rules; the nullable fields are exactly the nullable columns (null means "no value")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from shared.errors import ApiError, forbidden, invalid, unprocessable
from shared.invitations import model
from shared.validate import get_bool, get_https_url, get_int, get_str, get_time, query_int, reject_unknown

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
NULLABLE = frozenset({"worldLink", "vrchatProfile", "instanceLink", "staffMessageId"})
STAFF_ONLY = {"staffMessageId", "assignStaff", "staffName"}
NAME_MAX = 100
TITLE_MAX = 200


def snowflake(value: str | None, field: str) -> str:
    if value is None or not model.SNOWFLAKE.fullmatch(value):
        raise invalid(field, "must be a Discord id (1 to 20 digits)")
    return value


def _db_time(body: Mapping[str, Any], name: str, required: bool) -> datetime | None:
    value = get_time(body, name, required=required)
    return None if value is None else model.to_db_time(value)


def _staff_message_id(body: Mapping[str, Any], name: str, required: bool) -> str | None:
    value = get_str(body, name, required=required, nullable=True, max_len=20)
    return None if value is None else snowflake(value, name)


# field -> validator(body, name, required). Each one enforces nullability itself.
FIELD_RULES: dict[str, Callable[[Mapping[str, Any], str, bool], Any]] = {
    "eventName": lambda b, n, r: get_str(b, n, required=r, max_len=TITLE_MAX, not_blank=True),
    "worldName": lambda b, n, r: get_str(b, n, required=r, max_len=TITLE_MAX, not_blank=True),
    "hostName": lambda b, n, r: get_str(b, n, required=r, max_len=NAME_MAX, not_blank=True),
    "worldLink": lambda b, n, r: get_https_url(b, n, required=r, nullable=True, max_len=model.URL_MAX),
    "vrchatProfile": lambda b, n, r: get_https_url(
        b, n, required=r, nullable=True, max_len=model.URL_MAX, host="vrchat.com"
    ),
    "instanceLink": lambda b, n, r: get_https_url(b, n, required=r, nullable=True, max_len=model.URL_MAX),
    "tag": lambda b, n, r: get_str(b, n, required=r, max_len=50, choices=model.TAGS),
    "description": lambda b, n, r: get_str(
        b, n, required=r, min_len=0, max_len=model.DESCRIPTION_MAX, one_line=False
    ),
    "instanceType": lambda b, n, r: get_str(b, n, required=r, max_len=20, choices=model.INSTANCE_TYPES),
    "maxParticipants": lambda b, n, r: get_int(b, n, required=r, minimum=1, maximum=model.MAX_PARTICIPANTS),
    "startTime": _db_time,
    "endTime": _db_time,
    "staffMessageId": _staff_message_id,
}
REQUIRED_ON_CREATE = (
    "eventName",
    "startTime",
    "endTime",
    "worldName",
    "tag",
    "description",
    "instanceType",
    "maxParticipants",
)


def display_name(body: Mapping[str, Any], name: str, *fallbacks: str | None) -> str:
    """A user-facing name from the body, else the first fallback that is set (the token's `name`
    claim, then the caller's id), cut to NAME_MAX."""
    if name not in body:
        for fallback in fallbacks:
            if fallback and fallback.strip():
                return fallback[:NAME_MAX]
    value = get_str(body, name, max_len=NAME_MAX, not_blank=True)
    assert value is not None
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
        name: FIELD_RULES[name](body, name, name in REQUIRED_ON_CREATE)
        for name in CREATE_FIELDS
        if name in FIELD_RULES and name != "hostName"
    }
    if values["startTime"] >= values["endTime"]:
        raise unprocessable("endTime", "must be after startTime")
    if values["endTime"] <= model.utc_now():
        raise unprocessable("endTime", "must be in the future")
    return model.NewInvitation(
        id=snowflake(get_str(body, "id", max_len=20), "id"),
        thread_id=snowflake(get_str(body, "threadId", max_len=20), "threadId"),
        staff_message_id=values["staffMessageId"],
        host_id=host_id,
        host_name=display_name(body, "hostName", host_name_claim, host_id),
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
    changes: dict[str, Any] = {
        column: FIELD_RULES[name](body, name, True) for name, column in PATCH_COLUMNS.items() if name in body
    }
    assign = bool(get_bool(body, "assignStaff", required=False))
    staff_name = None
    if "staffName" in body:
        if not assign:
            raise invalid("staffName", "is only used with assignStaff: true")
        staff_name = get_str(body, "staffName", max_len=NAME_MAX, not_blank=True)
    if not body:
        raise invalid("body", "names no field to change")
    return changes, assign, staff_name


def page_limit(raw: str | None) -> int:
    return query_int(raw, "limit", default=model.DEFAULT_PAGE, minimum=1, maximum=model.MAX_PAGE)


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
