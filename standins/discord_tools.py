"""Acting as Discord and as a member against the local stack (tests, the benchmark and developers).

Discord sends each interaction to the Interactions Endpoint URL signed with the application's key;
locally `.dev/stack.json` has that URL (`discord.interactionsUrl`) and the key's private half
(`discord.testSigningKey`), so a developer can play Discord:

    python -m standins.discord send --user alice "/invite tag:ゲーム instance_type:friend max_participants:8"
        (the modal that comes back is filled with demo values, or --field name=value, and submitted)
    python -m standins.discord send --user bob --message MESSAGE_ID button:join
    python -m standins.discord send --user alice "/invites tag:ゲーム"
    python -m standins.discord send --user staff "/tickets"
    python -m standins.discord token alice
        (web sign-in: the stand-in's OAuth consent -> discord_auth -> the Auth emulator -> an ID token)

Users are the stand-in's demo members (alice, bob, carol, staff — staff has the staff role) or a
Discord id. `--stack PATH` reads another stack.json (the test stack's).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import secrets
import shlex
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STACK = ROOT / ".dev" / "stack.json"
REDIRECT_URI = "http://localhost:5173/auth/discord/callback"
APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT = 2, 3, 5
_counter = itertools.count(1)


# -- payloads ---------------------------------------------------------------------------------------
def snowflake() -> str:
    """A fresh Discord-style id (time-ordered, unique within this process)."""
    return str(((int(time.time() * 1000) - 1_420_070_400_000) << 22) | (2 << 17) | (next(_counter) % 4096))


def member(user_id: str, name: str, roles: list[str] | None = None) -> dict[str, Any]:
    return {
        "user": {
            "id": user_id,
            "username": name.lower().replace(" ", "_"),
            "global_name": name,
            "discriminator": "0",
        },
        "roles": list(roles or []),
        "nick": None,
        "permissions": "0",
    }


def _base(
    discord: dict[str, Any], kind: int, who: dict[str, Any], data: dict[str, Any] | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": discord["applicationId"],
        "type": kind,
        "token": "itk_" + secrets.token_urlsafe(48),
        "version": 1,
        "guild_id": discord["guildId"],
        "channel_id": discord["channelId"],
        "member": who,
        "locale": "ja",
        "guild_locale": "ja",
    }
    if data is not None:
        payload["data"] = data
    return payload


def ping(discord: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": snowflake(),
        "application_id": discord["applicationId"],
        "type": 1,
        "token": "ping",
        "version": 1,
    }


def command(
    discord: dict[str, Any], who: dict[str, Any], name: str, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    data = {
        "id": snowflake(),
        "name": name,
        "type": 1,
        "options": [
            {"name": key, "type": 4 if isinstance(value, int) else 3, "value": value}
            for key, value in (options or {}).items()
        ],
    }
    return _base(discord, APPLICATION_COMMAND, who, data)


def button(
    discord: dict[str, Any], who: dict[str, Any], custom_id: str, message: dict[str, Any]
) -> dict[str, Any]:
    payload = _base(discord, MESSAGE_COMPONENT, who, {"custom_id": custom_id, "component_type": 2})
    payload["message"] = message
    payload["channel_id"] = message.get("channel_id", discord["channelId"])
    return payload


def modal_submit(
    discord: dict[str, Any], who: dict[str, Any], custom_id: str, values: dict[str, str]
) -> dict[str, Any]:
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
    return _base(discord, MODAL_SUBMIT, who, {"custom_id": custom_id, "components": rows})


def demo_invitation(days: int = 1) -> dict[str, str]:
    day = (datetime.now() + timedelta(days=days)).strftime("%Y-%m-%d")
    return {
        "event_name": "ローカルお試し募集",
        "when": f"{day} 21:00 - 23:00",
        "world": "The Great Pug\nhttps://vrchat.com/home/world/wrld_demo",
        "description": "make dev から送ったお試しの募集です。",
        "links": "",
    }


# -- signing and sending ----------------------------------------------------------------------------
def signed_headers(seed_hex: str, body: bytes, timestamp: str | None = None) -> dict[str, str]:
    from shared.discord.signature import sign

    stamp = timestamp or str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-Signature-Ed25519": sign(seed_hex, stamp, body),
        "X-Signature-Timestamp": stamp,
        "User-Agent": "Discord-Interactions/1.0 (+https://discord.com)",
    }


def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float = 30.0) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def send(discord: dict[str, Any], payload: dict[str, Any], seed_hex: str | None = None) -> tuple[int, Any]:
    """Sign `payload` as Discord would and POST it to the Interactions Endpoint URL."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    return post(discord["interactionsUrl"], body, signed_headers(seed_hex or discord["testSigningKey"], body))


def _get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
        return json.load(response)


def standin_url(discord: dict[str, Any]) -> str:
    """The stand-in's own root (its control endpoints live beside /api/v10)."""
    return str(discord["apiUrl"]).removesuffix("/api/v10")


# -- web sign-in ------------------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def authorization_code(discord: dict[str, Any], client_id: str, user: str, verifier: str, state: str) -> str:
    """What the browser gets back from Discord's consent screen (the stand-in approves at once)."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(
        {
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "identify",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "user": user,
        }
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(f"{discord['apiUrl']}/oauth2/authorize?{query}", timeout=10)
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise
        location = urllib.parse.urlsplit(exc.headers["Location"])
        params = dict(urllib.parse.parse_qsl(location.query))
        if params.get("state") != state:
            raise RuntimeError("the state came back changed") from None
        return params["code"]
    raise RuntimeError("the authorize endpoint did not redirect")


def sign_in(info: dict[str, Any], user: str) -> dict[str, Any]:
    """Discord OAuth -> discord_auth -> Auth emulator: the session and the Firebase ID token."""
    gateway = info["gatewayUrl"]
    config = _get_json(f"{gateway}/discord_auth/config")
    verifier = secrets.token_urlsafe(48)
    code = authorization_code(info["discord"], config["clientId"], user, verifier, secrets.token_urlsafe(12))
    body = json.dumps({"code": code, "codeVerifier": verifier, "redirectUri": REDIRECT_URI}).encode()
    status, session = post(f"{gateway}/discord_auth/session", body, {"Content-Type": "application/json"})
    if status != 200:
        raise RuntimeError(f"discord_auth answered {status}: {session}")
    auth_host = info["FIREBASE_AUTH_EMULATOR_HOST"]
    body = json.dumps({"token": session["customToken"], "returnSecureToken": True}).encode()
    status, signed = post(
        f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=local",
        body,
        {"Content-Type": "application/json"},
    )
    if status != 200:
        raise RuntimeError(f"the Auth emulator answered {status}: {signed}")
    return {"session": session, "idToken": signed["idToken"]}


# -- command line -----------------------------------------------------------------------------------
def _member_of(discord: dict[str, Any], user: str) -> dict[str, Any]:
    users = _get_json(f"{standin_url(discord)}/_users")
    if user in users:
        found = users[user]
        return member(found["id"], found["global_name"] or found["username"], found["roles"])
    if user.isdigit():
        return member(user, f"user{user[-4:]}")
    raise SystemExit(f"unknown user {user!r}: one of {', '.join(users)} or a Discord id")


def _parse_command(text: str) -> tuple[str, dict[str, Any]]:
    from shared.discord.commands import COMMANDS

    words = shlex.split(text)
    name = words[0].removeprefix("/")
    definition = next((c for c in COMMANDS if c["name"] == name), None)
    if definition is None:
        raise SystemExit(f"no command /{name}: one of {', '.join('/' + c['name'] for c in COMMANDS)}")
    types = {o["name"]: o["type"] for o in definition["options"]}
    options: dict[str, Any] = {}
    for word in words[1:]:
        key, _, value = word.partition(":")
        if key not in types:
            raise SystemExit(f"/{name} has no option {key!r}: {', '.join(types) or 'none'}")
        options[key] = int(value) if types[key] == 4 else value
    return name, options


def _send_cli(args: argparse.Namespace) -> int:
    info = json.loads(Path(args.stack).read_text())
    discord = info["discord"]
    who = _member_of(discord, args.user)
    if args.action.startswith("button:"):
        if not args.message:
            raise SystemExit("a button needs --message MESSAGE_ID (the message it is on)")
        message = _get_json(f"{standin_url(discord)}/_messages/{args.message}")
        payload = button(discord, who, args.action.removeprefix("button:"), message)
    else:
        name, options = _parse_command(args.action)
        payload = command(discord, who, name, options)
    status, answer = send(discord, payload)
    print(json.dumps({"status": status, "response": answer}, ensure_ascii=False, indent=2))
    if status == 200 and isinstance(answer, dict) and answer.get("type") == 9:
        values = (
            demo_invitation()
            if answer["data"]["custom_id"].startswith("invite:")
            else {"content": "ローカルからの問い合わせです。"}
        )
        for field in args.field:
            key, _, value = field.partition("=")
            values[key] = value.replace("\\n", "\n")
        submit = modal_submit(discord, who, answer["data"]["custom_id"], values)
        status, answer = send(discord, submit)
        print("modal submitted with", json.dumps(values, ensure_ascii=False))
        print(json.dumps({"status": status, "response": answer}, ensure_ascii=False, indent=2))
        if status == 200 and submit["data"]["custom_id"].startswith("invite:"):
            _print_posted(discord, submit["token"])
    return 0 if status == 200 else 1


def _print_posted(discord: dict[str, Any], token: str) -> None:
    """The worker edits the host's reply once the invitation is posted: show where it went."""
    for _ in range(50):
        try:
            original = _get_json(f"{standin_url(discord)}/_originals/{urllib.parse.quote(token)}")
        except urllib.error.HTTPError:
            time.sleep(0.2)
            continue
        print("the worker says:", original["content"])
        message_id = str(original["content"]).rstrip("/").rsplit("/", 1)[-1]
        if message_id.isdigit():
            print(f"try: make discord-interaction USER=bob CMD='button:inv:join' MESSAGE={message_id}")
        return
    print("the worker has not posted it yet; see .dev/logs/fn-discord_worker.log")


def _token_cli(args: argparse.Namespace) -> int:
    info = json.loads(Path(args.stack).read_text())
    result = sign_in(info, args.user)
    print(result["idToken"])
    print(json.dumps(result["session"] | {"customToken": "..."}, ensure_ascii=False), file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m standins.discord", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    send_parser = commands.add_parser("send", help="sign and send an interaction as a member")
    send_parser.add_argument("--user", default="alice", help="alice, bob, carol, staff or a Discord id")
    send_parser.add_argument("--message", help="the message a button is on (for button:<custom_id>)")
    send_parser.add_argument("--field", action="append", default=[], help="modal value name=value")
    send_parser.add_argument("--stack", default=str(DEFAULT_STACK))
    send_parser.add_argument("action", help='"/command option:value ..." or button:<custom_id>')
    send_parser.set_defaults(run=_send_cli)
    token_parser = commands.add_parser("token", help="sign in on the web as a member; prints an ID token")
    token_parser.add_argument("user", nargs="?", default="alice")
    token_parser.add_argument("--stack", default=str(DEFAULT_STACK))
    token_parser.set_defaults(run=_token_cli)
    args = parser.parse_args(argv)
    return int(args.run(args))
