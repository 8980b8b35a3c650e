"""Web sign-in with Discord: OAuth2 authorization code with PKCE -> who the member is -> staff or not.

The browser sends the member to Discord's authorize page (scope `identify`, its own `state` and
PKCE `code_challenge`), checks `state` when Discord redirects back, and hands the `code` and the
`code_verifier` to discord_auth. Here the code is exchanged at Discord's token endpoint (with the
client secret, which never leaves the server), `users/@me` says who it is, and the guild member
lookup (with the bot token) says whether they belong to the community and hold the staff role.
The result is a Firebase custom token for uid `discord:{id}` with the claims `discord_id`, `staff`
and `name`: staff is decided at every sign-in, from the guild role, never set by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.discord import custom_token
from shared.discord.config import DiscordConfig, discord_config
from shared.discord.rest import DiscordError, DiscordRest
from shared.errors import ApiError
from shared.invitations.model import SNOWFLAKE

SCOPES = ("identify",)
UNKNOWN_MEMBER = 10007
DEADLINE_S = 8.0  # a person is waiting on the other side


@dataclass(frozen=True)
class Session:
    discord_id: str
    name: str
    staff: bool
    custom_token: str

    def body(self) -> dict[str, Any]:
        return {
            "customToken": self.custom_token,
            "discordId": self.discord_id,
            "uid": f"discord:{self.discord_id}",
            "name": self.name,
            "staff": self.staff,
        }


def _unavailable(exc: DiscordError) -> ApiError:
    headers = {"Retry-After": str(max(1, round(exc.retry_after or 1)))}
    return ApiError(503, "discord_unavailable", "Discord did not answer; try again shortly", headers=headers)


def _exchange(rest: DiscordRest, config: DiscordConfig, code: str, verifier: str, redirect_uri: str) -> str:
    try:
        token = rest.request(
            "POST",
            "/oauth2/token",
            form={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            basic=(config.client_id, config.client_secret),
            bot=False,
        )
    except DiscordError as exc:
        if exc.retryable:
            raise _unavailable(exc) from None
        if exc.status in (400, 401) and "invalid_grant" in str(exc):
            raise ApiError(
                400,
                "invalid_grant",
                "the code is invalid, expired, already used, or does not match the verifier",
            ) from None
        raise ApiError(502, "discord_refused", f"Discord refused the code exchange ({exc.status})") from None
    access = token.get("access_token") if isinstance(token, dict) else None
    if not isinstance(access, str) or "identify" not in str(token.get("scope", "")).split():
        raise ApiError(400, "invalid_grant", "the authorization did not grant the identify scope")
    return access


def _user(rest: DiscordRest, access_token: str) -> tuple[str, str]:
    try:
        user = rest.request("GET", "/users/@me", bearer=access_token)
    except DiscordError as exc:
        if exc.retryable:
            raise _unavailable(exc) from None
        raise ApiError(502, "discord_refused", f"Discord refused users/@me ({exc.status})") from None
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not SNOWFLAKE.fullmatch(user_id):
        raise ApiError(502, "discord_refused", "Discord answered users/@me without a user id")
    name = user.get("global_name") or user.get("username") or user_id
    return user_id, str(name)[:100]


def _member(rest: DiscordRest, config: DiscordConfig, user_id: str) -> dict[str, Any] | None:
    try:
        member = rest.request(
            "GET", "/guilds/{guild_id}/members/{user_id}", {"guild_id": config.guild_id, "user_id": user_id}
        )
    except DiscordError as exc:
        if exc.retryable:
            raise _unavailable(exc) from None
        if exc.status == 404:
            return None
        raise ApiError(502, "discord_refused", f"Discord refused the member lookup ({exc.status})") from None
    return member if isinstance(member, dict) else None


def sign_in(code: str, verifier: str, redirect_uri: str, rest: DiscordRest | None = None) -> Session:
    config = discord_config()
    rest = rest or DiscordRest(config.api_url, config.bot_token, deadline_s=DEADLINE_S)
    access = _exchange(rest, config, code, verifier, redirect_uri)
    user_id, name = _user(rest, access)
    member = _member(rest, config, user_id)
    if member is None:
        raise ApiError(403, "not_guild_member", "sign-in is for members of the community's Discord server")
    roles = member.get("roles") if isinstance(member.get("roles"), list) else []
    staff = config.staff_role_id in (roles or [])
    nick = member.get("nick")
    if isinstance(nick, str) and nick.strip():
        name = nick.strip()[:100]
    token = custom_token.mint(f"discord:{user_id}", {"discord_id": user_id, "staff": staff, "name": name})
    return Session(user_id, name, staff, token)
