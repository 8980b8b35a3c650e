"""What `discord_worker` does with each outbox message (shapes in outbox.py).

Posting an invitation, in this order, because its id *is* the Discord message's id and cannot be
known before the message exists:
1. claim the job `invitation.post:<interaction id>` (a lease; a finished job is acknowledged as is);
2. validate the body again with the domain's rules (time has passed since the interaction);
3. post the message in the invitations channel (nonce = interaction id, `enforce_nonce`), save its id;
4. start the thread on it (a thread started from a message has the message's id, so "already has a
   thread" means it is done), save the id;
5. post the notice in the staff channel (its own nonce), save its id;
6. insert the invitation row with those three ids (a duplicate from an earlier attempt counts as
   done), record both messages, finish the job;
7. edit the interaction's reply to the host with the link (best effort: the token lives 15 minutes).
Any step that fails with something that may pass (429 beyond the deadline, 5xx, network, a busy
lease) raises, the delivery fails and Pub/Sub redelivers; the job resumes after the last saved step.
A refusal that will not pass (missing permission, unknown channel, invalid input) ends the job,
deletes a message already posted (no orphan with dead buttons) and tells the host why.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared import log
from shared.discord import jobs, outbox, render, texts
from shared.discord.config import DiscordConfig, discord_config
from shared.discord.rest import DiscordError, DiscordRest, RetryLater
from shared.errors import ApiError
from shared.invitations.model import SNOWFLAKE, Actor

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

logger = log.get_logger("shared.discord.worker")
DEADLINE_S = 40.0  # of the function's 60 s: what is left is for the database and the log line
THREAD_ALREADY_EXISTS = 160004
UNKNOWN_MESSAGE = 10008
STAFF_VIEWER = Actor("", True)


class Poison(ValueError):
    """A message no retry can fix (wrong shape): logged and acknowledged."""


def _engine() -> Engine:
    from shared.clients.postgres import get_engine

    return get_engine()


def _id(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not SNOWFLAKE.fullmatch(value):
        raise Poison(f"{name} is not a Discord id")
    return value


def handle(payload: Any, rest: DiscordRest | None = None) -> dict[str, Any]:
    """Run one outbox message; raises when Pub/Sub should deliver it again."""
    if not isinstance(payload, dict):
        raise Poison("the message is not a JSON object")
    config = discord_config()
    rest = rest or DiscordRest(config.api_url, config.bot_token, deadline_s=DEADLINE_S)
    kind = payload.get("kind")
    started = time.perf_counter()
    if kind == outbox.POST_INVITATION:
        result = post_invitation(payload, config, rest)
    elif kind == outbox.REFRESH_INVITATION:
        result = refresh_invitation(_id(payload, "invitationId"), config, rest)
    elif kind == outbox.POST_TICKET:
        result = post_ticket(payload, config, rest)
    elif kind == outbox.REFRESH_TICKET:
        result = refresh_ticket(_id(payload, "ticketId"), rest)
    else:
        raise Poison(f"unknown kind {kind!r}")
    return {
        "kind": kind,
        **result,
        "waitedS": round(rest.waited_s, 3),
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }


# -- invitations ------------------------------------------------------------------------------------
def _validate(
    body: Mapping[str, Any], host_id: str, message_id: str, thread_id: str, staff_id: str | None
) -> Any:
    from shared.invitations import validation

    return validation.new_invitation(
        {**body, "id": message_id, "threadId": thread_id, "staffMessageId": staff_id}, host_id, None
    )


def _edit_reply(rest: DiscordRest, payload: Mapping[str, Any], text: str) -> None:
    """Replace the host's "accepted" reply; a token past its 15 minutes only costs the note."""
    try:
        rest.request(
            "PATCH",
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            {"webhook_id": _id(payload, "applicationId"), "webhook_token": str(payload.get("token", ""))},
            json={"content": text, "allowed_mentions": {"parse": []}},
            bot=False,
        )
    except (DiscordError, Poison) as exc:
        log.log_event(logger, "could not edit the interaction reply", logging.INFO, error=str(exc)[:200])


def _view(body: Mapping[str, Any], host_id: str) -> dict[str, Any]:
    return {**body, "hostId": host_id, "status": "recruiting", "joinedCount": 0, "participants": []}


def post_invitation(payload: Mapping[str, Any], config: DiscordConfig, rest: DiscordRest) -> dict[str, Any]:
    from shared.invitations import invitations

    interaction_id = _id(payload, "interactionId")
    host_id = _id(payload, "hostId")
    body = payload.get("invitation")
    if not isinstance(body, dict):
        raise Poison("invitation is missing")
    engine = _engine()
    key = f"{outbox.POST_INVITATION}:{interaction_id}"
    job = jobs.claim(engine, key)
    if job.done:
        return {"job": key, "duplicate": True}
    progress = job.progress
    view = _view(body, host_id)
    try:
        _validate(body, host_id, interaction_id, interaction_id, None)
        if "messageId" not in progress:
            message = rest.request(
                "POST",
                "/channels/{channel_id}/messages",
                {"channel_id": config.channel_id},
                json={**render.invitation_message(view), "nonce": interaction_id, "enforce_nonce": True},
            )
            progress.update(messageId=message["id"], channelId=config.channel_id)
            jobs.save(engine, key, progress)
        message_id = progress["messageId"]
        link = render.message_link(config.guild_id, progress["channelId"], message_id)
        if "threadId" not in progress:
            try:
                thread = rest.request(
                    "POST",
                    "/channels/{channel_id}/messages/{message_id}/threads",
                    {"channel_id": progress["channelId"], "message_id": message_id},
                    json={"name": str(body["eventName"])[:100], "auto_archive_duration": 10080},
                )
                progress["threadId"] = thread["id"]
            except DiscordError as exc:
                if exc.code != THREAD_ALREADY_EXISTS:
                    raise
                progress["threadId"] = message_id
            jobs.save(engine, key, progress)
        if "staffMessageId" not in progress:
            staff = rest.request(
                "POST",
                "/channels/{channel_id}/messages",
                {"channel_id": config.staff_channel_id},
                json={
                    **render.staff_message(view, message_id, link),
                    "nonce": f"s{interaction_id}"[:25],
                    "enforce_nonce": True,
                },
            )
            progress.update(staffMessageId=staff["id"], staffChannelId=config.staff_channel_id)
            jobs.save(engine, key, progress)
        invitation = _validate(body, host_id, message_id, progress["threadId"], progress["staffMessageId"])
        try:
            invitations.create_invitation(engine, invitation)
        except ApiError as exc:
            if exc.code != "already_exists" or exc.field != "id":
                raise
        with engine.begin() as conn:
            jobs.record_message(
                conn,
                f"invitation:{message_id}",
                progress["channelId"],
                message_id,
                render.payload_hash(render.invitation_message(view)),
            )
            jobs.record_message(
                conn,
                f"invitation_staff:{message_id}",
                progress["staffChannelId"],
                progress["staffMessageId"],
                render.payload_hash(render.staff_message(view, message_id, link)),
            )
            jobs.finish(conn, key, progress)
    except (RetryLater, jobs.Busy):
        jobs.release(engine, key)
        raise
    except (DiscordError, ApiError) as exc:
        return _give_up(engine, key, progress, payload, rest, exc)
    except Exception:
        jobs.release(engine, key)
        raise
    _edit_reply(rest, payload, texts.INVITE_POSTED.format(link=link))
    return {"job": key, "invitationId": message_id}


def _give_up(
    engine: Engine,
    key: str,
    progress: dict[str, Any],
    payload: Mapping[str, Any],
    rest: DiscordRest,
    exc: DiscordError | ApiError,
) -> dict[str, Any]:
    reason = texts.error_text(exc) if isinstance(exc, ApiError) else f"Discord が拒否しました（{exc.status}）"
    for channel, message in (
        ("channelId", "messageId"),
        ("staffChannelId", "staffMessageId"),
    ):
        if message in progress:
            # The failure is reported below; a leftover message is the lesser harm.
            with contextlib.suppress(DiscordError):
                rest.request(
                    "DELETE",
                    "/channels/{channel_id}/messages/{message_id}",
                    {"channel_id": progress[channel], "message_id": progress[message]},
                )
    progress["error"] = str(exc)[:300]
    with engine.begin() as conn:
        jobs.finish(conn, key, progress)
    log.log_event(logger, "invitation post given up", logging.WARNING, job=key, error=str(exc)[:300])
    _edit_reply(rest, payload, texts.INVITE_FAILED.format(reason=reason))
    return {"job": key, "failed": str(exc)[:200]}


def _edit(rest: DiscordRest, record: jobs.MessageRecord, message: dict[str, Any]) -> None:
    rest.request(
        "PATCH",
        "/channels/{channel_id}/messages/{message_id}",
        {"channel_id": record.channel_id, "message_id": record.message_id},
        json=message,
    )


def _refresh(engine: Engine, subject: str, rest: DiscordRest, build: Any) -> str:
    """Edit one leased message to `build(record)`; 'skipped' when it already shows that."""
    record = jobs.claim_message(engine, subject)
    if record is None:
        return "none"
    rendered_hash = None
    try:
        message = build(record)
        rendered_hash = render.payload_hash(message)
        if rendered_hash == record.rendered_hash:
            return "unchanged"
        try:
            _edit(rest, record, message)
        except DiscordError as exc:
            if exc.retryable:
                rendered_hash = None
                raise
            # Deleted by a moderator, or the bot lost access: nothing to keep up to date.
            log.log_event(
                logger, "message edit refused", logging.WARNING, subject=subject, error=str(exc)[:200]
            )
        return "edited"
    except BaseException:
        rendered_hash = None
        raise
    finally:
        jobs.release_message(engine, subject, rendered_hash)


def refresh_invitation(invitation_id: str, config: DiscordConfig, rest: DiscordRest) -> dict[str, Any]:
    from shared.invitations import invitations

    engine = _engine()
    link = render.message_link(config.guild_id, config.channel_id, invitation_id)

    # Each build reads the row under the message's lease: a change committed before the lease was
    # taken is in this edit, one committed after it has published its own refresh.
    def public(record: jobs.MessageRecord) -> dict[str, Any]:
        return render.invitation_message(invitations.get_invitation(engine, invitation_id, STAFF_VIEWER))

    def staff(record: jobs.MessageRecord) -> dict[str, Any]:
        current = invitations.get_invitation(engine, invitation_id, STAFF_VIEWER)
        return render.staff_message(current, invitation_id, link)

    results: dict[str, Any] = {"invitationId": invitation_id}
    try:
        results["message"] = _refresh(engine, f"invitation:{invitation_id}", rest, public)
        results["staffMessage"] = _refresh(engine, f"invitation_staff:{invitation_id}", rest, staff)
    except ApiError as exc:
        if exc.status != 404:
            raise
        results["message"] = "no invitation"
    return results


# -- tickets ----------------------------------------------------------------------------------------
def post_ticket(payload: Mapping[str, Any], config: DiscordConfig, rest: DiscordRest) -> dict[str, Any]:
    interaction_id = _id(payload, "interactionId")
    ticket = payload.get("ticket")
    content = payload.get("content")
    if not isinstance(ticket, dict) or not isinstance(content, str):
        raise Poison("ticket or content is missing")
    ticket_id = _id(ticket, "id")
    engine = _engine()
    key = f"{outbox.POST_TICKET}:{interaction_id}"
    job = jobs.claim(engine, key)
    if job.done:
        return {"job": key, "duplicate": True}
    progress = job.progress
    message_payload = render.ticket_message(ticket, content)
    try:
        if "messageId" not in progress:
            message = rest.request(
                "POST",
                "/channels/{channel_id}/messages",
                {"channel_id": config.staff_channel_id},
                json={**message_payload, "nonce": f"t{interaction_id}"[:25], "enforce_nonce": True},
            )
            progress.update(messageId=message["id"], channelId=config.staff_channel_id)
            jobs.save(engine, key, progress)
        with engine.begin() as conn:
            jobs.record_message(
                conn,
                f"ticket:{ticket_id}",
                progress["channelId"],
                progress["messageId"],
                render.payload_hash(message_payload),
                {"content": content},
            )
            jobs.finish(conn, key, progress)
    except DiscordError as exc:
        if exc.retryable:
            jobs.release(engine, key)
            raise
        progress["error"] = str(exc)[:300]
        with engine.begin() as conn:
            jobs.finish(conn, key, progress)
        log.log_event(logger, "ticket post given up", logging.WARNING, job=key, error=str(exc)[:300])
        return {"job": key, "failed": str(exc)[:200]}
    except Exception:
        jobs.release(engine, key)
        raise
    return {"job": key, "ticketId": ticket_id, "messageId": progress["messageId"]}


def refresh_ticket(ticket_id: str, rest: DiscordRest) -> dict[str, Any]:
    from shared.invitations import support_tickets

    engine = _engine()

    def build(record: jobs.MessageRecord) -> dict[str, Any]:
        ticket = support_tickets.get_ticket(engine, ticket_id)
        return render.ticket_message(ticket, record.context.get("content"))

    try:
        result = _refresh(engine, f"ticket:{ticket_id}", rest, build)
    except ApiError as exc:
        if exc.status != 404:
            raise
        result = "no ticket"
    return {"ticketId": ticket_id, "message": result}
