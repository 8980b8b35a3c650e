"""One person, two doors: web sign-in through the stand-in's OAuth2 (PKCE) and discord_auth, a custom
token the Auth emulator accepts, then invitations_api as that member; staff from the guild role."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devstack.stack import Stack
from shared.config import reset_settings
from shared.discord import custom_token
from standins import discord_tools
from tests.conftest import http
from tests.discord_helpers import Discord, field, snowflake

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def info(stack: Stack) -> dict[str, Any]:
    return stack.info()


@pytest.fixture(scope="module")
def discord(stack: Stack, info: dict[str, Any]) -> Discord:
    return Discord(stack, info["discord"])


def claims_of(id_token: str) -> dict[str, Any]:
    payload = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def new_user(discord: Discord, *, staff: bool = False, member: bool = True, name: str = "ウェブ太郎") -> str:
    user_id = snowflake()
    roles = [discord.staff_role] if staff else []
    body = {
        "id": user_id,
        "username": f"web{user_id[-4:]}",
        "globalName": name,
        "roles": roles,
        "member": member,
    }
    assert http("POST", f"{discord.standin}/_users", body)[0] == 200
    return user_id


def api(info: dict[str, Any], method: str, path: str, id_token: str, body: Any = None) -> tuple[int, Any]:
    status, answer, _ = http(
        method,
        f"{info['gatewayUrl']}/invitations_api{urllib.parse.quote(path, safe='/?&=')}",
        body,
        {"Authorization": f"Bearer {id_token}"},
    )
    return status, answer


def session(info: dict[str, Any], body: Any, raw: bool = False) -> tuple[int, Any]:
    data = body if raw else json.dumps(body).encode()
    status, answer = discord_tools.post(
        f"{info['gatewayUrl']}/discord_auth/session", data, {"Content-Type": "application/json"}
    )
    return status, answer


def fresh_code(info: dict[str, Any], user: str) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    client_id = http("GET", f"{info['gatewayUrl']}/discord_auth/config")[1]["clientId"]
    return discord_tools.authorization_code(info["discord"], client_id, user, verifier, "state-1"), verifier


def test_config_tells_the_web_app_how_to_send_members_to_discord(info: dict[str, Any]) -> None:
    status, config, _ = http("GET", f"{info['gatewayUrl']}/discord_auth/config")
    assert status == 200, config
    assert config["clientId"] == info["discord"]["applicationId"]
    assert config["authorizeUrl"].endswith("/oauth2/authorize") and config["scopes"] == ["identify"]
    assert config["codeChallengeMethod"] == "S256"


def test_a_member_signs_in_and_uses_invitations_api_as_their_discord_id(
    info: dict[str, Any], discord: Discord
) -> None:
    user_id = new_user(discord, name="ウェブ花子")
    signed = discord_tools.sign_in(info, user_id)
    assert signed["session"]["discordId"] == user_id and signed["session"]["staff"] is False
    claims = claims_of(signed["idToken"])
    assert claims["sub"] == f"discord:{user_id}" and claims["discord_id"] == user_id
    assert claims["staff"] is False and claims["name"] == "ウェブ花子"
    token = signed["idToken"]
    assert api(info, "GET", "/invitations", token)[0] == 200
    # A Discord-made invitation, joined through the web: the Discord message is edited too.
    invitation = discord.new_invitation(discord.member(), seats=5)
    status, joined = api(info, "POST", f"/invitations/{invitation}/participants", token, {"status": "joined"})
    assert status == 201 and joined["userId"] == user_id and joined["joinedCount"] == 1
    message = discord.wait_for_message(invitation, lambda m: field(m, "参加") == "1/5人")
    assert field(message, "参加者") == f"<@{user_id}>"
    status, mine = api(info, "GET", "/me/participations", token)
    assert status == 200 and mine["items"][0]["invitationId"] == invitation
    status, ticket = api(info, "POST", "/tickets", token, {"id": snowflake(), "category": "question"})
    assert status == 201 and ticket["userId"] == user_id and ticket["userName"] == "ウェブ花子"
    assert api(info, "GET", "/tickets", token)[0] == 403  # not staff


def test_staff_is_the_guild_role_decided_at_each_sign_in(info: dict[str, Any], discord: Discord) -> None:
    user_id = new_user(discord, staff=True)
    signed = discord_tools.sign_in(info, user_id)
    assert signed["session"]["staff"] is True and claims_of(signed["idToken"])["staff"] is True
    assert api(info, "GET", "/tickets", signed["idToken"])[0] == 200
    # The role is taken away in Discord: the next sign-in carries no staff claim.
    body = {"id": user_id, "username": "demoted", "roles": []}
    assert http("POST", f"{discord.standin}/_users", body)[0] == 200
    again = discord_tools.sign_in(info, user_id)
    assert again["session"]["staff"] is False
    assert api(info, "GET", "/tickets", again["idToken"])[0] == 403


def test_the_demo_staff_member_signs_in_as_staff(info: dict[str, Any]) -> None:
    signed = discord_tools.sign_in(info, "staff")
    assert signed["session"]["staff"] is True and signed["session"]["name"] == "Staff Sato"


def test_someone_outside_the_guild_cannot_sign_in(info: dict[str, Any], discord: Discord) -> None:
    user_id = new_user(discord, member=False)
    code, verifier = fresh_code(info, user_id)
    status, answer = session(
        info, {"code": code, "codeVerifier": verifier, "redirectUri": discord_tools.REDIRECT_URI}
    )
    assert status == 403 and answer["error"]["code"] == "not_guild_member"


def test_a_code_works_once_and_only_with_its_verifier(info: dict[str, Any]) -> None:
    code, verifier = fresh_code(info, "alice")
    wrong = {
        "code": code,
        "codeVerifier": secrets.token_urlsafe(48),
        "redirectUri": discord_tools.REDIRECT_URI,
    }
    status, answer = session(info, wrong)
    assert status == 400 and answer["error"]["code"] == "invalid_grant"
    code, verifier = fresh_code(info, "alice")
    body = {"code": code, "codeVerifier": verifier, "redirectUri": discord_tools.REDIRECT_URI}
    assert session(info, body)[0] == 200
    status, answer = session(info, body)
    assert status == 400 and answer["error"]["code"] == "invalid_grant"
    code, verifier = fresh_code(info, "alice")
    other_redirect = {"code": code, "codeVerifier": verifier, "redirectUri": "https://elsewhere.example/cb"}
    assert session(info, other_redirect)[0] == 400


VERIFIER = "v" * 43


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": "c", "codeVerifier": VERIFIER},
        {"code": "c", "codeVerifier": VERIFIER, "redirectUri": "https://a.example/cb", "extra": 1},
        {"code": 5, "codeVerifier": VERIFIER, "redirectUri": "https://a.example/cb"},
        {"code": "c d", "codeVerifier": VERIFIER, "redirectUri": "https://a.example/cb"},
        {"code": "c", "codeVerifier": "short", "redirectUri": "https://a.example/cb"},
        {"code": "c", "codeVerifier": "v" * 129, "redirectUri": "https://a.example/cb"},
        {"code": "c", "codeVerifier": VERIFIER, "redirectUri": "javascript:alert(1)"},
        {"code": "c", "codeVerifier": VERIFIER, "redirectUri": "http://a.example/cb"},
        {"code": "c", "codeVerifier": VERIFIER, "redirectUri": "https://u:p@a.example/cb"},
        {"code": "c", "codeVerifier": VERIFIER, "redirectUri": "https://a.example/cb#x"},
        {"code": "c", "codeVerifier": VERIFIER, "redirectUri": "https://[::1/cb"},
        {"code": "c\u0000", "codeVerifier": VERIFIER, "redirectUri": "https://a.example/cb"},
        {"code": "x" * 513, "codeVerifier": VERIFIER, "redirectUri": "https://a.example/cb"},
        [1, 2],
    ],
)
def test_bad_input_is_a_4xx_never_a_5xx(info: dict[str, Any], body: Any) -> None:
    status, answer = session(info, body)
    assert status == 400 and answer["error"]["code"] in ("invalid_argument", "invalid_json"), answer


@pytest.mark.parametrize(
    "raw", [b"", b"{not json", b"\xff\xfe", b'{"code": "' + b"a" * 70000 + b'"}', b"[" * 100 + b"]" * 100]
)
def test_undecodable_bodies_are_4xx(info: dict[str, Any], raw: bytes) -> None:
    status, answer = session(info, raw, raw=True)
    assert 400 <= status < 500, answer


def test_a_web_account_without_discord_reads_but_does_not_act(
    info: dict[str, Any], token: Callable[..., str], discord: Discord
) -> None:
    web = token("x" * 28, name="Web")  # a Firebase uid from an e-mail sign-up, no discord_id claim
    assert api(info, "GET", "/invitations", web)[0] == 200
    invitation = discord.new_invitation(discord.member())
    status, detail = api(info, "GET", f"/invitations/{invitation}", web)
    assert status == 200 and detail["instanceLink"] is None
    for method, path, body in (
        ("POST", f"/invitations/{invitation}/participants", {"status": "joined"}),
        ("POST", "/tickets", {"id": snowflake(), "category": "other"}),
        ("GET", "/me/participations", None),
        ("POST", f"/invitations/{invitation}/cancel", None),
    ):
        status, answer = api(info, method, path, web, body)
        assert status == 403 and answer["error"]["code"] == "discord_link_required", (method, path)
    staff_by_hand = token("y" * 28, staff=True)  # a hand-set staff claim without Discord counts for nothing
    assert api(info, "GET", "/tickets", staff_by_hand)[1]["error"]["code"] == "discord_link_required"


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """K_SERVICE set, as on Cloud Run, for this test only: the settings read it on first use and keep
    it, so they are rebuilt on both sides (else every later test in this process is 'deployed')."""
    monkeypatch.setenv("K_SERVICE", "discord-auth")
    reset_settings()
    yield
    monkeypatch.delenv("K_SERVICE")
    reset_settings()


def test_custom_tokens_in_production_are_rs256_for_the_identity_toolkit(
    monkeypatch: pytest.MonkeyPatch, deployed: None
) -> None:
    """The IAM signer is stood in by a local RSA key (IAM is unreachable here): the token's shape."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.auth import crypt

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    account = "fn-discord-auth-prod@project.iam.gserviceaccount.com"
    monkeypatch.setattr(custom_token, "_iam_signer", lambda: (crypt.RSASigner.from_string(pem), account))
    assert not custom_token.emulator_mode()
    minted = custom_token.mint("discord:1", {"discord_id": "1", "staff": False})
    claims = jwt.decode(minted, key.public_key(), algorithms=["RS256"], audience=custom_token.AUDIENCE)
    assert claims["iss"] == claims["sub"] == account and claims["uid"] == "discord:1"
    assert claims["claims"] == {"discord_id": "1", "staff": False}
    assert claims["exp"] - claims["iat"] == 3600 and claims["iat"] <= time.time() + 1


def test_both_doors_draw_on_one_write_budget(info: dict[str, Any], discord: Discord) -> None:
    """RATE_LIMIT_SUPPORT_TICKETS_PER_MIN (5) per member, whichever door the tickets come through."""
    from shared.discord import texts

    user_id = new_user(discord, name="二つの扉")
    token = discord_tools.sign_in(info, user_id)["idToken"]
    for _ in range(2):
        status, _ = api(info, "POST", "/tickets", token, {"id": snowflake(), "category": "other"})
        assert status == 201
    member = discord_tools.member(user_id, "二つの扉")
    answers = [
        discord.submit(member, "ticket:2", {"content": "問い合わせ"})[0]["data"]["content"] for _ in range(4)
    ]
    assert [a.startswith("問い合わせを受け付けました") for a in answers] == [True, True, True, False]
    assert answers[-1] == texts.CODES["rate_limited"]
    status, answer = api(info, "POST", "/tickets", token, {"id": snowflake(), "category": "other"})
    assert status == 429 and answer["error"]["code"] == "rate_limited"
