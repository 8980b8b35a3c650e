"""A stand-in Discord for the local stack: the REST endpoints the bot and discord_auth use.

Discord is unreachable from here, so this serves what its developer docs describe, under
`/api/v10`, with Discord's error shapes (`{"message", "code"}`) and rate-limit headers
(`X-RateLimit-Limit`, `-Remaining`, `-Reset`, `-Reset-After`, `-Bucket`; a 429 carries JSON
`retry_after` and `global`, and `X-RateLimit-Scope`):

- channel messages: create (with `nonce` + `enforce_nonce`), get, edit, delete; start a thread from
  a message (the thread gets the message's id; a second start is 400 code 160004);
- guild member lookup (404 code 10007 for a non-member);
- application commands, global and guild (bulk overwrite with PUT, list with GET);
- interaction callbacks and webhooks (`@original` edits, follow-ups);
- OAuth2: `GET /oauth2/authorize?user=<name>` stands in for the consent screen and redirects with a
  code at once; `POST /oauth2/token` (authorization_code + PKCE S256, client secret checked);
  `GET /users/@me` with the bearer token.

Each route bucket allows LIMIT calls per second per top-level resource and answers 429 past it.
Tests script faults with `POST /_faults` (the next `times` calls of a route answer 429 with
`retry_after`, global or not, or a 5xx; or `exhaust`: a success that says `Remaining: 0` for
`resetAfter` seconds, after which calling early is a 429 recorded as `early`), read every call with
`GET /_calls?since=N` and messages with `GET /_messages/<id>`; `POST /_users` adds a member.

Run: python -m standins.discord serve --port 8091 --config CONFIG.json
     python -m standins.discord send ...   (sign and send an interaction: standins/discord_tools.py)
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import logging
import secrets
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
LIMIT = 50  # calls per bucket per second
ACCESS_TOKEN_TTL_S = 604_800
DEMO_USERS = {
    # name -> (id, display name, staff)
    "alice": ("284102390000000001", "Alice", False),
    "bob": ("284102390000000002", "Bob", False),
    "carol": ("284102390000000003", "Carol", False),
    "staff": ("284102390000000004", "Staff Sato", True),
}

log = logging.getLogger("standins.discord")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Snowflakes:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        with self._lock:
            value = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (1 << 17)
            self._last = max(value, self._last + 1)
            return str(self._last)


@dataclass
class Fault:
    route: str  # "POST /channels/{channel_id}/messages" or "*"
    status: int = 429  # 429 or 5xx; 200 with exhaust
    times: int = 1
    retry_after: float = 0.5
    is_global: bool = False
    exhaust: bool = False
    reset_after: float = 0.5


@dataclass
class Window:
    started: float
    count: int = 0
    reset_at: float = 0.0


@dataclass
class State:
    config: dict[str, Any]
    ids: Snowflakes = field(default_factory=Snowflakes)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    nonces: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> user
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> member of the guild
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, tuple[float, str]] = field(default_factory=dict)
    webhook_messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> @original
    faults: list[Fault] = field(default_factory=list)
    windows: dict[str, Window] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0

    def __post_init__(self) -> None:
        for name, (user_id, display, staff) in DEMO_USERS.items():
            self.add_user(user_id, name, display, [self.config["staffRoleId"]] if staff else [])

    def add_user(
        self, user_id: str, username: str, global_name: str | None, roles: list[str], member: bool = True
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "username": username,
            "global_name": global_name,
            "discriminator": "0",
            "avatar": None,
        }
        if member:
            self.members[user_id] = {
                "roles": list(roles),
                "nick": None,
                "joined_at": "2024-01-01T00:00:00+00:00",
            }
        else:
            self.members.pop(user_id, None)


def error(status: int, message: str, code: int = 0, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"message": message, "code": code}, status=status, headers=headers)


def bucket_of(route: str) -> str:
    return hashlib.sha1(route.encode()).hexdigest()[:16]


class StandIn:
    def __init__(self, state: State) -> None:
        self.state = state

    # -- plumbing ---------------------------------------------------------------------------------
    def route(
        self, method: str, template: str, handler: Handler, auth: str | None = "bot"
    ) -> tuple[str, str, Handler]:
        route_key = f"{method} {template}"

        async def wrapped(request: web.Request) -> web.StreamResponse:
            body: Any = None
            if request.can_read_body and request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    return self._record(request, route_key, body, error(400, "400: Bad Request", 50109))
            elif request.can_read_body:
                body = dict(await request.post())
            if (
                auth == "bot"
                and request.headers.get("Authorization") != f"Bot {self.state.config['botToken']}"
            ):
                return self._record(request, route_key, body, error(401, "401: Unauthorized"))
            major = next(
                (
                    request.match_info[k]
                    for k in ("channel_id", "guild_id", "webhook_id")
                    if k in request.match_info
                ),
                "",
            )
            limited = self._limit(route_key, major)
            if limited is not None:
                return self._record(request, route_key, body, limited, early=True)
            fault = self._take_fault(route_key)
            if fault is not None and not fault.exhaust:
                return self._record(
                    request, route_key, body, self._fault_response(fault, route_key), fault=True
                )
            request["json"] = body
            response = await handler(request)
            self._rate_headers(response, route_key, major, fault)
            return self._record(request, route_key, body, response)

        return method, PREFIX + template, wrapped

    def _record(
        self,
        request: web.Request,
        route: str,
        body: Any,
        response: web.StreamResponse,
        *,
        fault: bool = False,
        early: bool = False,
    ) -> web.StreamResponse:
        state = self.state
        state.seq += 1
        if isinstance(body, dict):
            body = {
                k: ("***" if k in ("client_secret", "code_verifier", "code") else v) for k, v in body.items()
            }
        state.calls.append(
            {
                "seq": state.seq,
                "at": time.time(),
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status,
                "json": body,
                "fault": fault,
                "early": early,
            }
        )
        del state.calls[:-5000]
        return response

    def _take_fault(self, route: str) -> Fault | None:
        for fault in self.state.faults:
            if fault.times > 0 and fault.route in ("*", route):
                fault.times -= 1
                self.state.faults = [f for f in self.state.faults if f.times > 0]
                return fault
        return None

    def _fault_response(self, fault: Fault, route: str) -> web.Response:
        if fault.status == 429:
            headers = {
                "Retry-After": str(max(1, round(fault.retry_after))),
                "X-RateLimit-Scope": "global" if fault.is_global else "user",
                "X-RateLimit-Bucket": bucket_of(route),
                "X-RateLimit-Limit": str(LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
            }
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            return web.json_response(
                {
                    "message": "You are being rate limited.",
                    "retry_after": fault.retry_after,
                    "global": fault.is_global,
                },
                status=429,
                headers=headers,
            )
        return error(fault.status, f"{fault.status}: scripted failure")

    def _limit(self, route: str, major: str) -> web.Response | None:
        """Discord's per-route limit: LIMIT calls a second per bucket and top-level resource."""
        key = f"{bucket_of(route)}:{major}"
        now = time.monotonic()
        window = self.state.windows.get(key)
        if window is None or now >= window.reset_at:
            window = Window(now, 0, now + 1.0)
            self.state.windows[key] = window
        if window.count >= LIMIT:
            retry_after = round(window.reset_at - now, 3)
            return web.json_response(
                {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
                status=429,
                headers={
                    "X-RateLimit-Scope": "user",
                    "X-RateLimit-Bucket": bucket_of(route),
                    "X-RateLimit-Limit": str(LIMIT),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "Retry-After": str(max(1, round(retry_after))),
                },
            )
        window.count += 1
        return None

    def _rate_headers(
        self, response: web.StreamResponse, route: str, major: str, fault: Fault | None
    ) -> None:
        key = f"{bucket_of(route)}:{major}"
        window = self.state.windows[key]
        if fault is not None and fault.exhaust:
            window.count = LIMIT
            window.reset_at = time.monotonic() + fault.reset_after
        reset_after = max(0.0, window.reset_at - time.monotonic())
        response.headers.update(
            {
                "X-RateLimit-Bucket": bucket_of(route),
                "X-RateLimit-Limit": str(LIMIT),
                "X-RateLimit-Remaining": str(max(0, LIMIT - window.count)),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            }
        )

    def _channels(self) -> set[str]:
        config = self.state.config
        return {config["channelId"], config["staffChannelId"], *self.state.threads}

    # -- channels ---------------------------------------------------------------------------------
    async def create_message(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel_id"]
        if channel_id not in self._channels():
            return error(404, "Unknown Channel", 10003)
        body = request["json"] or {}
        if not (body.get("content") or body.get("embeds") or body.get("components")):
            return error(400, "Cannot send an empty message", 50006)
        nonce = body.get("nonce")
        if nonce is not None and (not isinstance(nonce, str | int) or len(str(nonce)) > 25):
            return error(400, "Invalid Form Body (nonce)", 50035)
        now = time.time()
        if nonce is not None and body.get("enforce_nonce"):
            seen = self.state.nonces.get((channel_id, str(nonce)))
            if seen is not None and now - seen[0] < 300 and seen[1] in self.state.messages:
                return web.json_response(self.state.messages[seen[1]])
        message = {
            "id": self.state.ids.next(),
            "channel_id": channel_id,
            "type": 0,
            "author": {"id": self.state.config["applicationId"], "username": "V-Chat Bot", "bot": True},
            "content": body.get("content", ""),
            "embeds": body.get("embeds", []),
            "components": body.get("components", []),
            "nonce": nonce,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now)),
            "edited_timestamp": None,
            "edits": 0,
        }
        self.state.messages[message["id"]] = message
        if nonce is not None:
            self.state.nonces[(channel_id, str(nonce))] = (now, message["id"])
        return web.json_response(message)

    def _message(self, request: web.Request) -> dict[str, Any] | None:
        message = self.state.messages.get(request.match_info["message_id"])
        if message is None or message["channel_id"] != request.match_info["channel_id"]:
            return None
        return message

    async def get_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        return web.json_response(message) if message else error(404, "Unknown Message", 10008)

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message is None:
            return error(404, "Unknown Message", 10008)
        body = request["json"] or {}
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        message["edits"] += 1
        return web.json_response(message)

    async def delete_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message is None:
            return error(404, "Unknown Message", 10008)
        del self.state.messages[message["id"]]
        return web.Response(status=204)

    async def start_thread(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message is None:
            return error(404, "Unknown Message", 10008)
        if message["id"] in self.state.threads:
            return error(400, "A thread has already been created for this message", 160004)
        name = str((request["json"] or {}).get("name") or "")
        if not 1 <= len(name) <= 100:
            return error(400, "Invalid Form Body (name)", 50035)
        thread = {
            "id": message["id"],  # a thread started from a message shares its id
            "type": 11,
            "guild_id": self.state.config["guildId"],
            "parent_id": message["channel_id"],
            "name": name,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": (request["json"] or {}).get("auto_archive_duration", 4320),
            },
        }
        self.state.threads[message["id"]] = thread
        message["thread"] = thread
        return web.json_response(thread, status=201)

    # -- guild ------------------------------------------------------------------------------------
    async def guild_member(self, request: web.Request) -> web.Response:
        if request.match_info["guild_id"] != self.state.config["guildId"]:
            return error(404, "Unknown Guild", 10004)
        user_id = request.match_info["user_id"]
        member = self.state.members.get(user_id)
        if member is None:
            return error(404, "Unknown Member", 10007)
        return web.json_response({**member, "user": self.state.users[user_id]})

    # -- commands ---------------------------------------------------------------------------------
    def _commands_key(self, request: web.Request) -> str | None:
        if request.match_info["application_id"] != self.state.config["applicationId"]:
            return None
        return request.match_info.get("guild_id", "global")

    async def put_commands(self, request: web.Request) -> web.Response:
        key = self._commands_key(request)
        body = request["json"]
        if key is None:
            return error(403, "Missing Access", 50001)
        if not isinstance(body, list) or len(body) > 100:
            return error(400, "Invalid Form Body", 50035)
        registered = []
        for command in body:
            if not isinstance(command, dict) or not isinstance(command.get("name"), str):
                return error(400, "Invalid Form Body (name)", 50035)
            if not 1 <= len(command.get("description", "")) <= 100:
                return error(400, "Invalid Form Body (description)", 50035)
            registered.append(
                {
                    **command,
                    "id": self.state.ids.next(),
                    "application_id": self.state.config["applicationId"],
                    "version": self.state.ids.next(),
                }
            )
        self.state.commands[key] = registered
        return web.json_response(registered)

    async def get_commands(self, request: web.Request) -> web.Response:
        key = self._commands_key(request)
        if key is None:
            return error(403, "Missing Access", 50001)
        return web.json_response(self.state.commands.get(key, []))

    # -- interactions and webhooks ----------------------------------------------------------------
    async def interaction_callback(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def edit_original(self, request: web.Request) -> web.Response:
        if request.match_info["webhook_id"] != self.state.config["applicationId"]:
            return error(404, "Unknown Webhook", 10015)
        token = request.match_info["webhook_token"]
        message = self.state.webhook_messages.setdefault(
            token, {"id": self.state.ids.next(), "content": "", "embeds": [], "components": [], "edits": 0}
        )
        body = request["json"] or {}
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key]
        message["edits"] += 1
        return web.json_response(message)

    async def get_original(self, request: web.Request) -> web.Response:
        message = self.state.webhook_messages.get(request.match_info["webhook_token"])
        return web.json_response(message) if message else error(404, "Unknown Message", 10008)

    async def follow_up(self, request: web.Request) -> web.Response:
        if request.match_info["webhook_id"] != self.state.config["applicationId"]:
            return error(404, "Unknown Webhook", 10015)
        body = request["json"] or {}
        return web.json_response(
            {"id": self.state.ids.next(), "content": body.get("content", ""), "flags": body.get("flags", 0)}
        )

    # -- OAuth2 -----------------------------------------------------------------------------------
    async def authorize(self, request: web.Request) -> web.StreamResponse:
        """Stands in for Discord's consent screen: the member named by `user` approves at once."""
        query = request.query
        config = self.state.config
        if query.get("client_id") != config["clientId"] or query.get("response_type") != "code":
            return error(400, "invalid client_id or response_type")
        if "identify" not in query.get("scope", "").split():
            return error(400, "scope must include identify")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return error(400, "PKCE (S256) is required by this stand-in")
        user = query.get("user", "")
        user_id = DEMO_USERS[user][0] if user in DEMO_USERS else user
        if user_id not in self.state.users:
            return error(400, f"unknown stand-in user {user!r}")
        code = secrets.token_urlsafe(24)
        self.state.codes[code] = {
            "user_id": user_id,
            "redirect_uri": query.get("redirect_uri", ""),
            "challenge": query["code_challenge"],
            "scope": query.get("scope", ""),
            "expires": time.time() + 600,
        }
        location = (
            f"{query.get('redirect_uri', '')}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        )
        return web.Response(status=302, headers={"Location": location})

    async def token(self, request: web.Request) -> web.Response:
        form = request["json"] or {}
        config = self.state.config
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            with contextlib.suppress(ValueError):
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != config["clientId"] or client_secret != config["clientSecret"]:
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "authorization_code":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        grant = self.state.codes.pop(str(form.get("code", "")), None)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            grant is None
            or grant["expires"] < time.time()
            or grant["redirect_uri"] != form.get("redirect_uri")
            or grant["challenge"] != challenge
        ):
            return web.json_response(
                {"error": "invalid_grant", "error_description": 'Invalid "code" in request.'}, status=400
            )
        access = secrets.token_urlsafe(24)
        self.state.access_tokens[access] = (time.time() + ACCESS_TOKEN_TTL_S, grant["user_id"])
        return web.json_response(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_TTL_S,
                "refresh_token": secrets.token_urlsafe(24),
                "scope": grant["scope"],
            }
        )

    async def me(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        entry = (
            self.state.access_tokens.get(auth.removeprefix("Bearer ").strip())
            if auth.startswith("Bearer ")
            else None
        )
        if entry is None or entry[0] < time.time():
            return error(401, "401: Unauthorized")
        return web.json_response(self.state.users[entry[1]])

    # -- control ----------------------------------------------------------------------------------
    async def get_calls(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0") or 0)
        calls = [c for c in self.state.calls if c["seq"] > since]
        return web.json_response({"calls": calls, "last": self.state.seq})

    async def add_faults(self, request: web.Request) -> web.Response:
        body = await request.json()
        for raw in body.get("faults", [body]):
            self.state.faults.append(
                Fault(
                    route=str(raw.get("route", "*")),
                    status=int(raw.get("status", 429)),
                    times=int(raw.get("times", 1)),
                    retry_after=float(raw.get("retryAfter", 0.5)),
                    is_global=bool(raw.get("global", False)),
                    exhaust=bool(raw.get("exhaust", False)),
                    reset_after=float(raw.get("resetAfter", 0.5)),
                )
            )
        return web.json_response({"faults": [vars(f) for f in self.state.faults]})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.state.faults.clear()
        self.state.windows.clear()
        return web.json_response({"faults": []})

    async def add_user(self, request: web.Request) -> web.Response:
        body = await request.json()
        user_id = str(body["id"])
        self.state.add_user(
            user_id,
            str(body.get("username", f"user{user_id[-4:]}")),
            body.get("globalName"),
            [str(r) for r in body.get("roles", [])],
            member=bool(body.get("member", True)),
        )
        return web.json_response(
            {"user": self.state.users[user_id], "member": self.state.members.get(user_id)}
        )

    async def list_users(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                name: {
                    **self.state.users[user_id],
                    "roles": self.state.members.get(user_id, {}).get("roles", []),
                }
                for name, (user_id, _, _) in DEMO_USERS.items()
            }
        )

    async def peek_message(self, request: web.Request) -> web.Response:
        message = self.state.messages.get(request.match_info["message_id"])
        return web.json_response(message) if message else error(404, "Unknown Message", 10008)

    async def peek_original(self, request: web.Request) -> web.Response:
        message = self.state.webhook_messages.get(request.match_info["token"])
        return web.json_response(message) if message else error(404, "Unknown Message", 10008)

    async def peek_commands(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.commands)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})


def make_app(config: dict[str, Any]) -> web.Application:
    standin = StandIn(State(config))
    app = web.Application(client_max_size=1024**2)
    routes = [
        standin.route("POST", "/channels/{channel_id}/messages", standin.create_message),
        standin.route("GET", "/channels/{channel_id}/messages/{message_id}", standin.get_message),
        standin.route("PATCH", "/channels/{channel_id}/messages/{message_id}", standin.edit_message),
        standin.route("DELETE", "/channels/{channel_id}/messages/{message_id}", standin.delete_message),
        standin.route("POST", "/channels/{channel_id}/messages/{message_id}/threads", standin.start_thread),
        standin.route("GET", "/guilds/{guild_id}/members/{user_id}", standin.guild_member),
        standin.route("PUT", "/applications/{application_id}/commands", standin.put_commands),
        standin.route("GET", "/applications/{application_id}/commands", standin.get_commands),
        standin.route(
            "PUT", "/applications/{application_id}/guilds/{guild_id}/commands", standin.put_commands
        ),
        standin.route(
            "GET", "/applications/{application_id}/guilds/{guild_id}/commands", standin.get_commands
        ),
        standin.route(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
            standin.interaction_callback,
            None,
        ),
        standin.route(
            "PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", standin.edit_original, None
        ),
        standin.route(
            "GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", standin.get_original, None
        ),
        standin.route("POST", "/webhooks/{webhook_id}/{webhook_token}", standin.follow_up, None),
        standin.route("GET", "/oauth2/authorize", standin.authorize, None),
        standin.route("POST", "/oauth2/token", standin.token, None),
        standin.route("GET", "/users/@me", standin.me, None),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    app.router.add_get("/_calls", standin.get_calls)
    app.router.add_post("/_faults", standin.add_faults)
    app.router.add_delete("/_faults", standin.clear_faults)
    app.router.add_post("/_users", standin.add_user)
    app.router.add_get("/_users", standin.list_users)
    app.router.add_get("/_messages/{message_id}", standin.peek_message)
    app.router.add_get("/_originals/{token}", standin.peek_original)
    app.router.add_get("/_commands", standin.peek_commands)
    app.router.add_get("/healthz", standin.healthz)
    return app


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("send", "token"):
        from standins import discord_tools

        return discord_tools.main(args)
    parser = argparse.ArgumentParser(prog="python -m standins.discord", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="serve", choices=["serve"])
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument(
        "--config", type=Path, required=True, help="JSON: botToken, applicationId, clientId, ..."
    )
    parsed = parser.parse_args(args)
    logging.basicConfig(level=logging.WARNING)
    config = json.loads(parsed.config.read_text())
    web.run_app(make_app(config), host="127.0.0.1", port=parsed.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
