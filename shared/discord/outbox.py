"""The messages the worker receives through Pub/Sub (topic `discord-outbox`), and their shapes.

Calls to Discord's REST API cannot be made inside an interaction's 3 s (rate limits may make them
wait), so the interactions function, invitations_api and auto_close publish one of these
(shared/discord/publish.py) and the worker (`discord_worker`) makes the calls. Every message is
JSON `{"kind": ..., ...}`:

    invitation.post     {interactionId, applicationId, token, hostId, invitation}
                        post the invitation, start its thread, tell the staff channel, store the row
                        (`invitation` is the validated camelCase body of invitations_api without
                        id/threadId); the interaction id is the idempotency key
    invitation.refresh  {invitationId}           edit its message and staff notice to the row's state
    ticket.post         {interactionId, ticket, content}   the new ticket in the staff channel
    ticket.refresh      {ticketId}               edit the ticket's staff-channel message

A refresh renders the row as it is when the worker runs, so it may be delivered twice, late or out
of order: the last edit always shows the latest state.
"""

from __future__ import annotations

from typing import Any

TOPIC = "discord-outbox"
POST_INVITATION = "invitation.post"
REFRESH_INVITATION = "invitation.refresh"
POST_TICKET = "ticket.post"
REFRESH_TICKET = "ticket.refresh"
KINDS = (POST_INVITATION, REFRESH_INVITATION, POST_TICKET, REFRESH_TICKET)


def post_invitation(
    interaction_id: str, application_id: str, token: str, host_id: str, invitation: dict[str, Any]
) -> dict[str, Any]:
    return {
        "kind": POST_INVITATION,
        "interactionId": interaction_id,
        "applicationId": application_id,
        "token": token,
        "hostId": host_id,
        "invitation": invitation,
    }


def refresh_invitation(invitation_id: str) -> dict[str, Any]:
    return {"kind": REFRESH_INVITATION, "invitationId": invitation_id}


def post_ticket(interaction_id: str, ticket: dict[str, Any], content: str) -> dict[str, Any]:
    return {"kind": POST_TICKET, "interactionId": interaction_id, "ticket": ticket, "content": content}


def refresh_ticket(ticket_id: str) -> dict[str, Any]:
    return {"kind": REFRESH_TICKET, "ticketId": ticket_id}
