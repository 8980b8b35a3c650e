"""An interaction -> its response, inside Discord's 3 s.

Validation and the domain call happen here and now, with the same rules as invitations_api (one
domain, two doors): a member sees at once whether their invitation is valid, whether they got a
seat. What needs Discord's REST API (posting, threads, the staff channel, editing a message after a
change) is published to the worker (outbox.py) and happens a moment later.

Who acts is the interaction's guild member: their Discord id, the name others see in the guild, and
staff when DISCORD_STAFF_ROLE_ID is among their roles. Errors are ephemeral replies in Japanese.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shared import log
from shared.discord import commands, custom_ids, outbox, publish, render, texts
from shared.discord.config import DiscordConfig, discord_config
from shared.discord.interaction import (
    APPLICATION_COMMAND,
    CHANNEL_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    PING,
    PONG,
    UPDATE_MESSAGE,
    Interaction,
    bad,
    parse,
)
from shared.discord.jst import JstError, parse_range
from shared.errors import ApiError
from shared.invitations import model
from shared.invitations.model import Actor

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

logger = log.get_logger("shared.discord.handlers")
PAGE = 5


class InputError(ValueError):
    """What the member typed cannot be used; the message (Japanese) says what to fix."""


SHORT, PARAGRAPH = 1, 2
VRCHAT_PROFILE = re.compile(r"https://vrchat\.com/home/user/\S+", re.IGNORECASE)


def _engine() -> Engine:
    from shared.clients.postgres import get_engine

    return get_engine()


_warming = threading.Event()


def _warm_clients() -> None:
    """A new instance's first interaction may need PostgreSQL *and* Pub/Sub: connect to both in
    parallel with the handler, instead of one after the other inside Discord's 3 s."""
    if _warming.is_set():
        return
    _warming.set()

    def warm() -> None:
        from shared.clients.pubsub import get_publisher

        try:
            get_publisher()
            with _engine().connect():
                pass
        except Exception as exc:  # the handler meets the same failure and answers it
            log.log_event(logger, "warming the clients failed", logging.WARNING, error=str(exc)[:200])

    threading.Thread(target=warm, name="warm-clients", daemon=True).start()


def _spend(budget: str, actor: Actor) -> None:
    """The per-member budgets of invitations_api's write routes, in the same Redis bucket: a member
    signed in on the web is uid `discord:{id}`, so both doors draw from one allowance (429 ->
    an ephemeral 「操作が多すぎます」)."""
    from shared import ratelimit
    from shared.config import settings

    config = settings()
    per_minute = {
        "invitation-writes": config.rate_limit_invitation_writes_per_min,
        "participation": config.rate_limit_participation_per_min,
        "support-tickets": config.rate_limit_support_tickets_per_min,
    }[budget]
    ratelimit.check(ratelimit.Limit(budget, per_minute), f"discord:{actor.user_id}")


def reply(text: str) -> dict[str, Any]:
    return {"type": CHANNEL_MESSAGE, "data": render.ephemeral(text)}


def respond(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The response to a verified interaction request."""
    interaction = parse(payload)
    if interaction.type == PING:
        return {"type": PONG}
    _warm_clients()
    config = discord_config()
    if not interaction.in_guild or interaction.member is None:
        return reply(texts.GUILD_ONLY)
    if interaction.guild_id != config.guild_id:
        return reply(texts.WRONG_GUILD)
    member = interaction.member
    actor = Actor(member.user_id, config.staff_role_id in member.roles, member.name)
    try:
        return _dispatch(interaction, actor, config)
    except (JstError, InputError) as exc:
        return reply(str(exc))
    except ApiError as exc:
        if exc.code == "invalid_interaction":
            raise
        return reply(texts.error_text(exc))
    except Exception:
        logger.exception("interaction failed", extra={"fields": {"interactionId": interaction.id}})
        return reply(texts.INTERNAL)


def _dispatch(interaction: Interaction, actor: Actor, config: DiscordConfig) -> dict[str, Any]:
    if interaction.type == APPLICATION_COMMAND:
        handler = COMMAND_HANDLERS.get(interaction.command or "")
        if handler is None:
            return reply(texts.UNKNOWN_ACTION)
        return handler(interaction, actor, config)
    if interaction.type in (MESSAGE_COMPONENT, MODAL_SUBMIT):
        assert interaction.custom_id is not None
        custom_id = custom_ids.parse(interaction.custom_id)
        table = COMPONENT_HANDLERS if interaction.type == MESSAGE_COMPONENT else MODAL_HANDLERS
        component_handler = table.get(custom_id.kind)
        if component_handler is None:
            return reply(texts.UNKNOWN_ACTION)
        return component_handler(interaction, custom_id.parts, actor, config)
    return reply(texts.UNKNOWN_ACTION)


# -- slash commands ---------------------------------------------------------------------------------
def _choice(interaction: Interaction, name: str, choices: tuple[str, ...], required: bool) -> str | None:
    value = interaction.options.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or value not in choices:
        raise bad(f"option {name} is not one of the choices")
    return value


def _text_input(
    custom_id: str, label: str, placeholder: str, style: int, max_length: int, required: bool = True
) -> dict[str, Any]:
    return {
        "type": 1,
        "components": [
            {
                "type": 4,
                "custom_id": custom_id,
                "label": label,
                "placeholder": placeholder[:100],
                "style": style,
                "min_length": 1 if required else 0,
                "max_length": max_length,
                "required": required,
            }
        ],
    }


INVITE_INPUTS = (
    ("event_name", SHORT, 200, True),
    ("when", SHORT, 60, True),
    ("world", PARAGRAPH, 720, True),
    ("description", PARAGRAPH, model.DESCRIPTION_MAX, True),
    ("links", PARAGRAPH, 2 * model.URL_MAX + 10, False),
)


def invite_command(interaction: Interaction, actor: Actor, config: DiscordConfig) -> dict[str, Any]:
    tag = _choice(interaction, "tag", model.TAGS, True)
    instance_type = _choice(interaction, "instance_type", model.INSTANCE_TYPES, True)
    seats = interaction.options.get("max_participants")
    if isinstance(seats, bool) or not isinstance(seats, int) or not 1 <= seats <= model.MAX_PARTICIPANTS:
        return reply(texts.FIELD_RULES["maxParticipants"])
    assert tag is not None and instance_type is not None
    return {
        "type": MODAL,
        "data": {
            "custom_id": custom_ids.invite_modal(tag, instance_type, seats),
            "title": texts.INVITE_MODAL_TITLE,
            "components": [
                _text_input(name, *texts.INVITE_FIELDS[name], style, limit, required)
                for name, style, limit, required in INVITE_INPUTS
            ],
        },
    }


def invites_command(interaction: Interaction, actor: Actor, config: DiscordConfig) -> dict[str, Any]:
    tag = _choice(interaction, "tag", model.TAGS, False)
    return {"type": CHANNEL_MESSAGE, "data": _invitation_page(tag, None, config)}


def _invitation_page(tag: str | None, after: str | None, config: DiscordConfig) -> dict[str, Any]:
    from shared.invitations import invitations

    page, _ = invitations.cached_list(_engine(), status="recruiting", tag=tag, after_cursor=after, limit=PAGE)
    if not page["items"]:
        return render.ephemeral(texts.NO_INVITATIONS)
    next_id = custom_ids.list_page(tag, page["nextCursor"]) if page["nextCursor"] else None
    return render.invitation_list(page["items"], tag, next_id, config.guild_id, config.channel_id)


def mine_command(interaction: Interaction, actor: Actor, config: DiscordConfig) -> dict[str, Any]:
    return {"type": CHANNEL_MESSAGE, "data": _participation_page(actor, None, config)}


def _participation_page(actor: Actor, before: str | None, config: DiscordConfig) -> dict[str, Any]:
    from shared.invitations import cursor, participants

    page = participants.participations(_engine(), actor.user_id, cursor.decode("q3", before), PAGE).body()
    if not page["items"]:
        return render.ephemeral(texts.NO_PARTICIPATIONS)
    next_id = custom_ids.mine_page(page["nextCursor"]) if page["nextCursor"] else None
    return render.participation_list(page["items"], next_id, config.guild_id, config.channel_id)


def ticket_command(interaction: Interaction, actor: Actor, config: DiscordConfig) -> dict[str, Any]:
    category = _choice(interaction, "category", model.TICKET_CATEGORIES, True)
    assert category is not None
    return {
        "type": MODAL,
        "data": {
            "custom_id": custom_ids.ticket_modal(category),
            "title": texts.TICKET_MODAL_TITLE,
            "components": [_text_input("content", *texts.TICKET_FIELD, PARAGRAPH, texts.TICKET_CONTENT_MAX)],
        },
    }


def tickets_command(interaction: Interaction, actor: Actor, config: DiscordConfig) -> dict[str, Any]:
    if not actor.is_staff:
        return reply(texts.STAFF_ONLY)
    status = _choice(interaction, "status", model.TICKET_STATUSES, False) or "open"
    return {"type": CHANNEL_MESSAGE, "data": _ticket_page(status, None)}


def _ticket_page(status: str, before: str | None) -> dict[str, Any]:
    from shared.invitations import cursor, support_tickets

    page = support_tickets.list_tickets(
        _engine(), user_id=None, status=status, before=cursor.decode("tickets", before), limit=PAGE
    ).body()
    if not page["items"]:
        return render.ephemeral(texts.NO_TICKETS)
    next_id = custom_ids.tickets_page(status, page["nextCursor"]) if page["nextCursor"] else None
    return render.ticket_list(page["items"], status, next_id)


CommandHandler = Callable[[Interaction, Actor, DiscordConfig], dict[str, Any]]
COMMAND_HANDLERS: dict[str, CommandHandler] = {
    commands.INVITE: invite_command,
    commands.INVITES: invites_command,
    commands.MINE: mine_command,
    commands.TICKET: ticket_command,
    commands.TICKETS: tickets_command,
}


# -- buttons ----------------------------------------------------------------------------------------
def _refresh(invitation_id: str) -> None:
    """The change is committed: a failed publish must not turn the member's success into an error."""
    publish.refresh_invitation_soon(invitation_id)


def invitation_button(
    interaction: Interaction, parts: tuple[str, ...], actor: Actor, config: DiscordConfig
) -> dict[str, Any]:
    from shared.invitations import invitations, participants, validation

    if not parts or parts[0] not in custom_ids.INVITATION_ACTIONS:
        return reply(texts.UNKNOWN_ACTION)
    action = parts[0]
    invitation_id = validation.snowflake(
        parts[1] if len(parts) > 1 else interaction.message_id, "invitationId"
    )
    engine = _engine()
    if action == "take" and not actor.is_staff:
        return reply(texts.STAFF_ONLY)
    _spend("participation" if action in ("join", "leave") else "invitation-writes", actor)
    try:
        if action == "join":
            result = participants.set_participation(
                engine, invitation_id, actor, actor.name or actor.user_id, "joined"
            )
        elif action == "leave":
            result = participants.leave(engine, invitation_id, actor)
        elif action == "cancel":
            invitations.cancel_invitation(engine, invitation_id, actor)
        else:
            invitations.update_invitation(engine, invitation_id, {}, actor, assign_staff=True)
    except ApiError as exc:
        if exc.status == 404 and exc.message.endswith("does not exist"):
            return reply(texts.NOT_READY)  # the worker has posted the message but not stored the row yet
        raise
    _refresh(invitation_id)
    detail = invitations.get_invitation(engine, invitation_id, actor)
    event = detail["eventName"]
    if action == "join":
        text = texts.JOINED.format(event=event, joined=result.joined_count, max=detail["maxParticipants"])
        # What the domain shows only to joined participants, host and staff, said only to the joiner.
        if detail.get("vrchatProfile"):
            text += f"\n主催のVRChat: {detail['vrchatProfile']}"
        if detail.get("instanceLink"):
            text += f"\nインスタンス: {detail['instanceLink']}"
        return reply(text)
    if action == "leave":
        return reply(
            texts.LEFT.format(event=event, joined=result.joined_count, max=detail["maxParticipants"])
        )
    if action == "cancel":
        return reply(texts.CANCELLED.format(event=event))
    return reply(texts.TAKEN.format(event=event, name=actor.name))


def _page_update(data: dict[str, Any]) -> dict[str, Any]:
    return {"type": UPDATE_MESSAGE, "data": data}


def list_button(
    interaction: Interaction, parts: tuple[str, ...], actor: Actor, config: DiscordConfig
) -> dict[str, Any]:
    if len(parts) != 2:
        raise bad("malformed list custom_id")
    tag = None if parts[0] == "-" else custom_ids.pick(model.TAGS, parts[0])
    return _page_update(_invitation_page(tag, parts[1], config))


def mine_button(
    interaction: Interaction, parts: tuple[str, ...], actor: Actor, config: DiscordConfig
) -> dict[str, Any]:
    if len(parts) != 1:
        raise bad("malformed mine custom_id")
    return _page_update(_participation_page(actor, parts[0], config))


def tickets_button(
    interaction: Interaction, parts: tuple[str, ...], actor: Actor, config: DiscordConfig
) -> dict[str, Any]:
    if not actor.is_staff:
        return reply(texts.STAFF_ONLY)
    if len(parts) != 2:
        raise bad("malformed tickets custom_id")
    return _page_update(_ticket_page(custom_ids.pick(model.TICKET_STATUSES, parts[0]), parts[1]))


def close_ticket_button(
    interaction: Interaction, parts: tuple[str, ...], actor: Actor, config: DiscordConfig
) -> dict[str, Any]:
    from shared.invitations import support_tickets, validation

    if not actor.is_staff:
        return reply(texts.STAFF_ONLY)
    ticket_id = validation.snowflake(parts[0] if parts else None, "ticketId")
    _spend("support-tickets", actor)
    support_tickets.close_ticket(_engine(), ticket_id)
    publish.refresh_ticket_soon(ticket_id)
    return reply(texts.TICKET_CLOSED.format(id=ticket_id))


ComponentHandler = Callable[[Interaction, tuple[str, ...], Actor, DiscordConfig], dict[str, Any]]
COMPONENT_HANDLERS: dict[str, ComponentHandler] = {
    "inv": invitation_button,
    "list": list_button,
    "mine": mine_button,
    "tickets": tickets_button,
    "tclose": close_ticket_button,
}


# -- modals -----------------------------------------------------------------------------------------
def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def invitation_body(interaction: Interaction, parts: tuple[str, ...], actor: Actor) -> dict[str, Any]:
    """The modal and the options carried in its custom_id -> invitations_api's JSON body."""
    if len(parts) != 3 or not parts[2].isdigit():
        raise bad("malformed invite custom_id")
    values = interaction.values
    start, end = parse_range(values.get("when", ""))
    world = _lines(values.get("world", ""))
    if not 1 <= len(world) <= 2:
        raise InputError("ワールドは1行目に名前、2行目にURL（任意）を入力してください。")
    profile: str | None = None
    instance: str | None = None
    for line in _lines(values.get("links", "")):
        if VRCHAT_PROFILE.fullmatch(line) and profile is None:
            profile = line
        elif instance is None and not VRCHAT_PROFILE.fullmatch(line):
            instance = line
        else:
            raise InputError("VRChatプロフィールとインスタンスURLは、それぞれ1つまでです。")
    return {
        "eventName": values.get("event_name", "").strip(),
        "startTime": start.isoformat(),
        "endTime": end.isoformat(),
        "worldName": world[0],
        "worldLink": world[1] if len(world) > 1 else None,
        "tag": custom_ids.pick(model.TAGS, parts[0]),
        "description": values.get("description", "").strip(),
        "instanceType": custom_ids.pick(model.INSTANCE_TYPES, parts[1]),
        "vrchatProfile": profile,
        "instanceLink": instance,
        "maxParticipants": int(parts[2]),
        "hostName": actor.name or actor.user_id,
    }


def invite_modal(
    interaction: Interaction, parts: tuple[str, ...], actor: Actor, config: DiscordConfig
) -> dict[str, Any]:
    from shared.invitations import validation

    body = invitation_body(interaction, parts, actor)
    _spend("invitation-writes", actor)
    # The domain's own check, with the interaction id standing in for the ids Discord will assign.
    validation.new_invitation({**body, "id": interaction.id, "threadId": interaction.id}, actor.user_id, None)
    publish.publish_all(
        [
            outbox.post_invitation(
                interaction.id, interaction.application_id, interaction.token, actor.user_id, body
            )
        ]
    )
    return reply(texts.INVITE_ACCEPTED.format(channel=config.channel_id))


def ticket_modal(
    interaction: Interaction, parts: tuple[str, ...], actor: Actor, config: DiscordConfig
) -> dict[str, Any]:
    from shared.invitations import support_tickets

    category = custom_ids.pick(model.TICKET_CATEGORIES, parts[0] if parts else "")
    content = interaction.values.get("content", "").strip()
    if not content:
        raise InputError("内容を入力してください。")
    _spend("support-tickets", actor)
    ticket = support_tickets.create_ticket(
        _engine(), interaction.id, actor, actor.name or actor.user_id, category
    )
    try:
        publish.publish_all(
            [outbox.post_ticket(interaction.id, ticket, content[: texts.TICKET_CONTENT_MAX])],
            timeout_s=publish.REQUEST_TIMEOUT_S,
        )
    except Exception as exc:  # the ticket exists; staff still see it with /tickets
        log.log_event(logger, "ticket post not published", logging.WARNING, error=str(exc)[:200])
    return reply(texts.TICKET_OPENED.format(id=ticket["id"]))


MODAL_HANDLERS: dict[str, ComponentHandler] = {"invite": invite_modal, "ticket": ticket_modal}
