"""`discord_auth` (HTTPS): sign in on the web with Discord.

`GET /config` tells the web app how to send a member to Discord (client id, authorize URL, scopes,
PKCE method); `POST /session {code, codeVerifier, redirectUri}` trades the authorization code for a
Firebase custom token (uid `discord:{id}`, claims `discord_id`, `staff`, `name`) that the app signs in
with. Contract: docs/openapi/discord_auth.yaml; flow: shared/discord/oauth.py, docs/discord.md.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import functions_framework
from flask import Request, Response

from shared.discord import oauth
from shared.discord.config import discord_config
from shared.errors import invalid
from shared.http import Api, ApiRequest, Reply
from shared.validate import get_str, reject_unknown

api = Api("discord_auth", stores=("redis",))

CODE = re.compile(r"[A-Za-z0-9._~-]+")
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 section 4.1
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _redirect_uri(value: str) -> str:
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise invalid("redirectUri", "must be an absolute URL") from None
    if parts.fragment or not host or parts.username or parts.password:
        raise invalid("redirectUri", "must be an absolute URL without user info or fragment")
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.netloc.split(":")[0] in LOCAL_HOSTS):
        raise invalid("redirectUri", "must be https (http only for localhost)")
    return value


@api.route("GET", "/config", auth=False)
def config(request: ApiRequest) -> Reply:
    settings = discord_config()
    return Reply(
        200,
        {
            "clientId": settings.client_id,
            "authorizeUrl": settings.authorize_url,
            "scopes": list(oauth.SCOPES),
            "codeChallengeMethod": "S256",
        },
        {"Cache-Control": "public, max-age=300"},
    )


@api.route("POST", "/session", auth=False)
def session(request: ApiRequest) -> Reply:
    body = request.json()
    reject_unknown(body, ("code", "codeVerifier", "redirectUri"))
    code = get_str(body, "code", max_len=512, pattern=CODE)
    verifier = get_str(body, "codeVerifier", min_len=43, max_len=128, pattern=VERIFIER)
    redirect_uri = _redirect_uri(str(get_str(body, "redirectUri", max_len=500)))
    assert code is not None and verifier is not None
    return Reply(200, oauth.sign_in(code, verifier, redirect_uri).body())


@functions_framework.http
def discord_auth(request: Request) -> Response:
    return api(request)
