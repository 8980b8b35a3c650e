"""`discord_interactions` (HTTPS): the Discord application's Interactions Endpoint URL.

Every request is verified (Ed25519 over timestamp + raw body, 401 otherwise, as Discord requires)
before anything else reads it; PING gets PONG; commands, buttons and modal submits are answered
inside Discord's 3 s by shared/discord/handlers.py, which hands REST work to `discord_worker`
through Pub/Sub. Operator guide and message flow: docs/discord.md.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.discord import handlers, signature
from shared.discord.config import discord_config
from shared.http import Api, ApiRequest, Reply
from shared.request_body import decode_object, read_limited

api = Api("discord_interactions", stores=("postgres", "redis", "pubsub"))


@api.route("POST", "/", auth=False)
def interaction(request: ApiRequest) -> Reply:
    body = read_limited(request.raw.stream, request.raw.content_length)
    signature.verify(
        discord_config().public_key,
        request.raw.headers.get(signature.SIGNATURE_HEADER),
        request.raw.headers.get(signature.TIMESTAMP_HEADER),
        body,
    )
    return Reply(200, handlers.respond(decode_object(body)))


@functions_framework.http
def discord_interactions(request: Request) -> Response:
    return api(request)
