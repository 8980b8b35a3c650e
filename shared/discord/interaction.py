"""An interaction request's JSON -> a typed `Interaction`: who acts, and what they sent.

Discord's shapes (developer docs, "Receiving and Responding"): `member` (with `user`, `roles`,
`nick`) inside a guild, `user` in a DM; `data.name` and `data.options` for a slash command;
`data.custom_id` for a button and for a modal, whose text inputs come back as
`data.components[].components[]` (action rows) or `data.components[].component` (labels).
The request is signed by Discord, so a shape we do not expect is a bug or a new Discord feature:
it is a 400, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import ApiError
from shared.invitations.model import SNOWFLAKE

# Interaction types
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Response (callback) types
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
MODAL = 9

EPHEMERAL = 64  # message flag: only the person who acted sees it
NAME_MAX = 100  # host_name / user_name columns


def bad(message: str) -> ApiError:
    return ApiError(400, "invalid_interaction", message)


@dataclass(frozen=True)
class Member:
    """The person acting, as a guild member: Discord id, the name others see, role ids."""

    user_id: str
    name: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Interaction:
    id: str
    type: int
    token: str
    application_id: str
    guild_id: str | None
    channel_id: str | None
    member: Member | None
    in_guild: bool
    command: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    custom_id: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None


def _snowflake(value: Any, what: str) -> str:
    if not isinstance(value, str) or not SNOWFLAKE.fullmatch(value):
        raise bad(f"{what} is not a Discord id")
    return value


def _optional_snowflake(value: Any, what: str) -> str | None:
    return None if value is None else _snowflake(value, what)


def _display_name(member: Mapping[str, Any], user: Mapping[str, Any]) -> str:
    for candidate in (member.get("nick"), user.get("global_name"), user.get("username")):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:NAME_MAX]
    return str(user.get("id", "?"))


def _member(payload: Mapping[str, Any]) -> tuple[Member | None, bool]:
    raw_member = payload.get("member")
    if isinstance(raw_member, dict):
        user = raw_member.get("user")
        if not isinstance(user, dict):
            raise bad("member.user is missing")
        roles = raw_member.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise bad("member.roles is not a list of ids")
        user_id = _snowflake(user.get("id"), "member.user.id")
        return Member(user_id, _display_name(raw_member, user), tuple(roles)), True
    user = payload.get("user")
    if isinstance(user, dict):
        return Member(_snowflake(user.get("id"), "user.id"), _display_name({}, user)), False
    return None, False


def _options(data: Mapping[str, Any]) -> dict[str, Any]:
    options = data.get("options") or []
    if not isinstance(options, list):
        raise bad("data.options is not a list")
    found: dict[str, Any] = {}
    for option in options:
        if isinstance(option, dict) and isinstance(option.get("name"), str) and "value" in option:
            found[option["name"]] = option["value"]
    return found


def _modal_values(data: Mapping[str, Any]) -> dict[str, str]:
    """Text inputs by custom_id, from action rows (type 1) or labels (type 18)."""
    values: dict[str, str] = {}
    pending = list(data.get("components") or [])
    while pending:
        component = pending.pop()
        if not isinstance(component, dict):
            continue
        if isinstance(component.get("components"), list):
            pending.extend(component["components"])
        if isinstance(component.get("component"), dict):
            pending.append(component["component"])
        custom_id, value = component.get("custom_id"), component.get("value")
        if isinstance(custom_id, str) and isinstance(value, str):
            values[custom_id] = value
        elif isinstance(custom_id, str) and isinstance(component.get("values"), list):
            chosen = [v for v in component["values"] if isinstance(v, str)]
            values[custom_id] = chosen[0] if chosen else ""
    return values


def parse(payload: Mapping[str, Any]) -> Interaction:
    kind = payload.get("type")
    if not isinstance(kind, int) or isinstance(kind, bool):
        raise bad("type is missing")
    token = payload.get("token")
    if not isinstance(token, str) or not token or len(token) > 500:
        raise bad("token is missing")
    member, in_guild = _member(payload)
    data = payload.get("data") or {}
    if not isinstance(data, dict):
        raise bad("data is not an object")
    message = payload.get("message")
    interaction = Interaction(
        id=_snowflake(payload.get("id"), "id"),
        type=kind,
        token=token,
        application_id=_snowflake(payload.get("application_id"), "application_id"),
        guild_id=_optional_snowflake(payload.get("guild_id"), "guild_id"),
        channel_id=_optional_snowflake(
            payload.get("channel_id") or (payload.get("channel") or {}).get("id"), "channel_id"
        ),
        member=member,
        in_guild=in_guild,
        message_id=_optional_snowflake(message.get("id"), "message.id")
        if isinstance(message, dict)
        else None,
    )
    if kind == APPLICATION_COMMAND:
        name = data.get("name")
        if not isinstance(name, str):
            raise bad("data.name is missing")
        return _with(interaction, command=name, options=_options(data))
    if kind in (MESSAGE_COMPONENT, MODAL_SUBMIT):
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id or len(custom_id) > 100:
            raise bad("data.custom_id is missing")
        return _with(interaction, custom_id=custom_id, values=_modal_values(data))
    return interaction


def _with(interaction: Interaction, **changes: Any) -> Interaction:
    from dataclasses import replace

    return replace(interaction, **changes)
