"""`invitations_api` (HTTPS): meetup invitations, participants and support tickets over Cloud SQL.

Every route needs a Firebase ID token. Lists and details take any sign-in; hosting, joining and tickets
act as a Discord member (the `discord_id` claim of a discord_auth sign-in, 403 `discord_link_required`
otherwise); staff routes need the `staff` claim discord_auth sets from the guild role. Handlers decode
and validate the request, call shared/invitations, and encode the answer; changes to an invitation
ask the Discord worker to edit its message. Contract: docs/openapi/invitations_api.yaml.
"""

from __future__ import annotations

from dataclasses import replace

import functions_framework
from flask import Request, Response

from shared.budgets import READS
from shared.clients.postgres import get_engine
from shared.config import settings
from shared.discord.publish import refresh_invitation_soon, refresh_ticket_soon
from shared.errors import forbidden
from shared.http import Api, ApiRequest, Budget, Reply
from shared.invitations import cursor, invitations, model, participants, support_tickets, validation
from shared.invitations.model import Actor

api = Api("invitations_api", stores=("postgres", "redis", "pubsub"))
INVITATION_WRITES = Budget("invitation-writes", lambda: settings().rate_limit_invitation_writes_per_min)
PARTICIPATION = Budget("participation", lambda: settings().rate_limit_participation_per_min)
SUPPORT_TICKETS = Budget("support-tickets", lambda: settings().rate_limit_support_tickets_per_min)
# The same bucket, taken by the list's cache read in its own round trip (derived from READS, so the
# two cannot disagree on its size).
LIST_READS = replace(READS, with_first_read=True)


def _actor(request: ApiRequest) -> Actor:
    assert request.caller is not None
    return Actor(
        validation.member_id(request.caller.discord_id), request.caller.is_staff, request.caller.name
    )


def _viewer(request: ApiRequest) -> Actor:
    """Reading needs only a sign-in; staff (the Discord role) still counts when the account is linked."""
    caller = request.caller
    assert caller is not None
    linked = caller.discord_id is not None
    return Actor(caller.discord_id or "", caller.is_staff and linked, caller.name)


def _require_staff(request: ApiRequest) -> Actor:
    actor = _actor(request)
    if not actor.is_staff:
        raise forbidden("staff only")
    return actor


def _invitation_id(request: ApiRequest) -> str:
    return validation.snowflake(request.params["invitation_id"], "invitationId")


def _detail(request: ApiRequest, invitation_id: str, status: int = 200) -> Reply:
    return Reply(status, invitations.get_invitation(get_engine(), invitation_id, _viewer(request)))


# -- invitations ----------------------------------------------------------------------------------
@api.route("GET", "/invitations", budget=LIST_READS, query=("status", "tag", "cursor", "limit"))
def list_invitations(request: ApiRequest) -> Reply:
    page, hit = invitations.cached_list(
        get_engine(),
        status=str(
            validation.choice(request.query("status"), "status", model.INVITATION_STATUSES, "recruiting")
        ),
        tag=validation.choice(request.query("tag"), "tag", model.TAGS, None),
        after_cursor=request.query("cursor"),
        limit=validation.page_limit(request.query("limit")),
        budget=request.budget,
    )
    return Reply(200, page, {"X-Cache": "HIT" if hit else "MISS"})


@api.route("GET", "/invitations/<invitation_id>", budget=READS)
def get_invitation(request: ApiRequest) -> Reply:
    return _detail(request, _invitation_id(request))


@api.route("POST", "/invitations", budget=INVITATION_WRITES)
def create_invitation(request: ApiRequest) -> Reply:
    actor = _actor(request)
    invitation = validation.new_invitation(request.json(), actor.user_id, actor.name)
    invitations.create_invitation(get_engine(), invitation)
    return _detail(request, invitation.id, 201)


@api.route("PATCH", "/invitations/<invitation_id>", budget=INVITATION_WRITES)
def update_invitation(request: ApiRequest) -> Reply:
    actor = _actor(request)
    invitation_id = _invitation_id(request)
    changes, assign_staff, staff_name = validation.invitation_patch(request.json(), actor.is_staff)
    if assign_staff:
        actor = Actor(actor.user_id, actor.is_staff, staff_name or actor.name or actor.user_id)
    invitations.update_invitation(get_engine(), invitation_id, changes, actor, assign_staff)
    refresh_invitation_soon(invitation_id)
    return _detail(request, invitation_id)


@api.route("POST", "/invitations/<invitation_id>/cancel", budget=INVITATION_WRITES)
def cancel_invitation(request: ApiRequest) -> Reply:
    invitation_id = _invitation_id(request)
    invitations.cancel_invitation(get_engine(), invitation_id, _actor(request))
    refresh_invitation_soon(invitation_id)
    return _detail(request, invitation_id)


# -- participants ---------------------------------------------------------------------------------
@api.route("POST", "/invitations/<invitation_id>/participants", budget=PARTICIPATION)
def join_invitation(request: ApiRequest) -> Reply:
    actor = _actor(request)
    invitation_id = _invitation_id(request)
    body = request.json()
    status = validation.participant_status(body)
    user_name = validation.display_name(body, "userName", actor.name, actor.user_id)
    result = participants.set_participation(get_engine(), invitation_id, actor, user_name, status)
    refresh_invitation_soon(invitation_id)
    return Reply(201 if result.created else 200, result.body(invitation_id, actor.user_id))


@api.route("DELETE", "/invitations/<invitation_id>/participants/me", budget=PARTICIPATION)
def leave_invitation(request: ApiRequest) -> Reply:
    actor = _actor(request)
    invitation_id = _invitation_id(request)
    result = participants.leave(get_engine(), invitation_id, actor)
    refresh_invitation_soon(invitation_id)
    return Reply(200, result.body(invitation_id, actor.user_id))


@api.route("GET", "/me/participations", budget=READS, query=("cursor", "limit"))
def my_participations(request: ApiRequest) -> Reply:
    actor = _actor(request)
    before = cursor.decode("q3", request.query("cursor"))
    limit = validation.page_limit(request.query("limit"))
    return Reply(200, participants.participations(get_engine(), actor.user_id, before, limit).body())


# -- tickets --------------------------------------------------------------------------------------
@api.route("POST", "/tickets", budget=SUPPORT_TICKETS)
def open_ticket(request: ApiRequest) -> Reply:
    actor = _actor(request)
    body = request.json()
    ticket_id, category = validation.new_ticket(body)
    user_name = validation.display_name(body, "userName", actor.name, actor.user_id)
    return Reply(201, support_tickets.create_ticket(get_engine(), ticket_id, actor, user_name, category))


@api.route("GET", "/tickets/mine", budget=READS, query=("cursor", "limit"))
def my_tickets(request: ApiRequest) -> Reply:
    actor = _actor(request)
    before = cursor.decode("tickets", request.query("cursor"))
    limit = validation.page_limit(request.query("limit"))
    page = support_tickets.list_tickets(
        get_engine(), user_id=actor.user_id, status=None, before=before, limit=limit
    )
    return Reply(200, page.body())


@api.route("GET", "/tickets", budget=READS, query=("status", "cursor", "limit"))
def list_tickets(request: ApiRequest) -> Reply:
    _require_staff(request)
    status = validation.choice(request.query("status"), "status", model.TICKET_STATUSES, "open")
    before = cursor.decode("tickets", request.query("cursor"))
    limit = validation.page_limit(request.query("limit"))
    page = support_tickets.list_tickets(get_engine(), user_id=None, status=status, before=before, limit=limit)
    return Reply(200, page.body())


@api.route("POST", "/tickets/<ticket_id>/close", budget=SUPPORT_TICKETS)
def close_ticket(request: ApiRequest) -> Reply:
    _require_staff(request)
    ticket_id = validation.snowflake(request.params["ticket_id"], "ticketId")
    closed = support_tickets.close_ticket(get_engine(), ticket_id)
    refresh_ticket_soon(ticket_id)
    return Reply(200, closed)


@functions_framework.http
def invitations_api(request: Request) -> Response:
    return api(request)
