"""What a button's or a modal's `custom_id` carries (Discord caps it at 100 characters).

A component interaction also brings the message it sits on, so the invitation buttons need no id:
the invitation's id *is* that message's id. Everything else a later click or submit needs (the
command options chosen before a modal, a list's cursor) travels in the custom_id, so the
interactions function keeps no state between two interactions.

    inv:<action>[:<invitation id>]            join | leave | cancel | take
    invite:<tag>:<instance type>:<seats>      the /invite modal (indexes into the domain's tuples)
    ticket:<category>                         the /ticket modal
    list:<tag or ->:<cursor>                  /invites, next page
    mine:<cursor>                             /mine, next page
    tickets:<status>:<cursor>                 /tickets, next page
    tclose:<ticket id>                        close a ticket (staff)
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import ApiError
from shared.invitations import model

MAX_LENGTH = 100
INVITATION_ACTIONS = ("join", "leave", "cancel", "take")


@dataclass(frozen=True)
class CustomId:
    kind: str
    parts: tuple[str, ...]


def _join(*parts: str) -> str:
    value = ":".join(parts)
    if len(value) > MAX_LENGTH:
        raise ValueError(f"custom_id longer than {MAX_LENGTH} characters: {value[:40]}...")
    return value


def invitation_button(action: str, invitation_id: str | None = None) -> str:
    if action not in INVITATION_ACTIONS:
        raise ValueError(action)
    return _join("inv", action, invitation_id) if invitation_id else _join("inv", action)


def invite_modal(tag: str, instance_type: str, max_participants: int) -> str:
    return _join(
        "invite",
        str(model.TAGS.index(tag)),
        str(model.INSTANCE_TYPES.index(instance_type)),
        str(max_participants),
    )


def ticket_modal(category: str) -> str:
    return _join("ticket", str(model.TICKET_CATEGORIES.index(category)))


def list_page(tag: str | None, cursor: str) -> str:
    return _join("list", "-" if tag is None else str(model.TAGS.index(tag)), cursor)


def mine_page(cursor: str) -> str:
    return _join("mine", cursor)


def tickets_page(status: str, cursor: str) -> str:
    return _join("tickets", str(model.TICKET_STATUSES.index(status)), cursor)


def ticket_close(ticket_id: str) -> str:
    return _join("tclose", ticket_id)


def parse(raw: str) -> CustomId:
    kind, _, rest = raw.partition(":")
    return CustomId(kind, tuple(rest.split(":")) if rest else ())


def pick(values: tuple[str, ...], raw_index: str) -> str:
    """values[int(raw_index)]; anything else is a malformed custom_id (400)."""
    if not raw_index.isdigit() or int(raw_index) >= len(values):
        raise ApiError(400, "invalid_interaction", "custom_id names an unknown choice")
    return values[int(raw_index)]
