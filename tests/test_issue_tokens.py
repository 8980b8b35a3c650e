"""issue_tokens through the local stack: LiveKit tokens verified by LiveKit's own SDK, WebSocket tokens
verified from the JWKS by a second JOSE library (joserfc), room rules, cache, rate limit, logs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from livekit.api import TokenVerifier

from devstack.stack import Stack
from shared import keys
from tests.conftest import http
from tests.room_fixtures import doc, fs, new_room, new_users, rds


@pytest.fixture
def call(gateway: str, token: Callable[..., str]) -> Callable[..., tuple[int, Any, dict[str, str]]]:
    def call(
        path: str, uid: str | None, body: Any = None, method: str = "POST"
    ) -> tuple[int, Any, dict[str, str]]:
        headers = {"Authorization": f"Bearer {token(uid)}"} if uid else {}
        return http(method, f"{gateway}/issue_tokens{path}", body, headers)

    return call


def verifier(stack: Stack) -> TokenVerifier:
    env = stack.service_env()
    return TokenVerifier(env["LIVEKIT_API_KEY"], env["LIVEKIT_API_SECRET"])


def room_with(uids: list[str], **fields: Any) -> str:
    return new_room(uids, **fields)


def test_a_participant_gets_a_livekit_token_livekit_accepts(
    stack: Stack, call: Callable[..., tuple[int, Any, dict[str, str]]]
) -> None:
    me, other = new_users(2)
    fs().collection("users").document(me).update({"displayName": "Mika", "selectedVrmId": "vrm-42"})
    room_id = room_with([me, other])
    status, body, headers = call("/livekit-token", me, {"roomId": room_id})
    assert status == 200, body
    assert headers.get("Cache-Control") == "no-store"
    assert set(body) == {"token", "url", "room", "identity", "expiresAt"}
    assert body["url"] == stack.service_env()["LIVEKIT_URL"] and body["identity"] == me
    room = doc(f"rooms/{room_id}")
    assert room is not None and body["room"] == room["livekitRoomName"]

    claims = verifier(stack).verify(body["token"])
    assert claims.identity == me and claims.name == "Mika"
    assert (
        claims.video is not None and claims.video.room_join and claims.video.room == room["livekitRoomName"]
    )
    assert claims.video.can_publish and claims.video.can_subscribe and claims.video.can_publish_data
    assert '"vrmModelId":"vrm-42"' in claims.metadata
    import jwt

    raw = jwt.decode(body["token"], options={"verify_signature": False})
    assert raw["iss"] == stack.service_env()["LIVEKIT_API_KEY"] and raw["sub"] == me
    assert 0 < raw["exp"] - raw["nbf"] <= 3600
    assert datetime.fromisoformat(body["expiresAt"]).timestamp() == raw["exp"]
    with pytest.raises(jwt.InvalidSignatureError):
        TokenVerifier(stack.service_env()["LIVEKIT_API_KEY"], "another-secret").verify(body["token"])


def test_token_never_outlives_the_room(
    stack: Stack, call: Callable[..., tuple[int, Any, dict[str, str]]]
) -> None:
    me, other = new_users(2)
    ends = datetime.now(UTC) + timedelta(minutes=10)
    room_id = room_with([me, other], expiresAt=ends)
    status, body, _ = call("/livekit-token", me, {"roomId": room_id})
    assert status == 200
    assert verifier(stack).verify(body["token"]) is not None
    import jwt

    assert jwt.decode(body["token"], options={"verify_signature": False})["exp"] <= ends.timestamp()


def test_room_rules_404_403_409(call: Callable[..., tuple[int, Any, dict[str, str]]]) -> None:
    a, b, outsider = new_users(3)
    room_a = room_with([a, b])
    room_b = room_with(new_users(2))
    status, body, _ = call("/livekit-token", a, {"roomId": f"nope-{uuid.uuid4().hex}"})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body, _ = call("/livekit-token", a, {"roomId": room_b})
    assert status == 403 and body["error"]["code"] == "permission_denied"
    status, _, _ = call("/livekit-token", outsider, {"roomId": room_a})
    assert status == 403
    closed = room_with([a, b], status="closed")
    status, body, _ = call("/livekit-token", a, {"roomId": closed})
    assert status == 409 and body["error"]["code"] == "room_closed"
    expired = room_with([a, b], expiresAt=datetime.now(UTC) - timedelta(seconds=1))
    assert call("/livekit-token", a, {"roomId": expired})[0] == 409
    # The WebSocket token's optional room is checked the same way.
    assert call("/ws-token", a, {"roomId": room_b})[0] == 403
    assert call("/ws-token", a, {"roomId": closed})[0] == 409
    assert call("/ws-token", a, {"roomId": f"nope-{uuid.uuid4().hex}"})[0] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "roomId"),
        ({"roomId": 7}, "roomId"),
        ({"roomId": ""}, "roomId"),
        ({"roomId": "a/b"}, "roomId"),
        ({"roomId": "x" * 129}, "roomId"),
        ({"roomId": "abc", "identity": "someone-else"}, "identity"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    call: Callable[..., tuple[int, Any, dict[str, str]]], body: Any, field: str
) -> None:
    (uid,) = new_users(1)
    status, payload, _ = call("/livekit-token", uid, body)
    assert status == 400 and payload["error"]["field"] == field, payload


def test_not_json_and_no_token_are_clear_errors(gateway: str, token: Callable[..., str]) -> None:
    status, payload, _ = http(
        "POST",
        f"{gateway}/issue_tokens/livekit-token",
        b"roomId=abc",
        {"Authorization": f"Bearer {token('u-x')}", "Content-Type": "text/plain"},
    )
    assert status == 415 and "application/json" in payload["error"]["message"]
    for path in ("/livekit-token", "/ws-token"):
        status, payload, _ = http("POST", f"{gateway}/issue_tokens{path}", {"roomId": "abc"})
        assert status == 401 and payload["error"]["code"] == "unauthenticated"


def test_cached_token_is_reused_while_most_of_its_life_is_left_and_dropped_on_leave(
    stack: Stack, call: Callable[..., tuple[int, Any, dict[str, str]]]
) -> None:
    me, other = new_users(2)
    room_id = room_with([me, other])
    first = call("/livekit-token", me, {"roomId": room_id})[1]
    second = call("/livekit-token", me, {"roomId": room_id})[1]
    assert second["token"] == first["token"]  # a cache hit
    assert 0 < rds().ttl(keys.livekit_token(room_id, me)) <= 3600

    # A token past half its life is not handed out again: a new one is minted.
    import json

    key = keys.livekit_token(room_id, me)
    entry = json.loads(rds().get(key))
    lifetime = entry["expires_at"] - entry["issued_at"]
    entry["issued_at"] -= lifetime  # now more than half of it has passed
    entry["expires_at"] = int(time.time()) + lifetime // 2 - 5
    rds().set(key, json.dumps(entry), ex=600)
    third = call("/livekit-token", me, {"roomId": room_id})[1]
    # (tokens minted within one second are byte-identical, so compare the expiry it was given)
    assert datetime.fromisoformat(third["expiresAt"]).timestamp() > entry["expires_at"]
    assert json.loads(rds().get(key))["expires_at"] > entry["expires_at"]
    assert verifier(stack).verify(third["token"]) is not None

    # Leaving drops the cache (room trigger); asking again is then 403.
    from google.cloud import firestore

    from tests.conftest import wait_for

    wait_for(lambda: (doc(f"rooms/{room_id}") or {}).get("status") == "active")  # activation settled

    fs().collection("rooms").document(room_id).update({"participants": firestore.ArrayRemove([me])})
    wait_for(lambda: rds().exists(key) == 0)
    assert call("/livekit-token", me, {"roomId": room_id})[0] == 403


def test_ws_token_verifies_from_the_jwks_with_another_jose_library(
    stack: Stack, call: Callable[..., tuple[int, Any, dict[str, str]]]
) -> None:
    me, other = new_users(2)
    room_id = room_with([me, other])
    status, jwks, headers = call("/.well-known/jwks.json", None, method="GET")
    assert (
        status == 200
        and "max-age" in headers.get("Cache-Control", "")
        and "public" in headers["Cache-Control"]
    )
    assert all("d" not in key for key in jwks["keys"]), "a private key part was published"
    key_set = KeySet.import_key_set(jwks)
    for body in ({}, {"roomId": room_id}):
        status, issued, headers = call("/ws-token", me, body)
        assert status == 200 and headers.get("Cache-Control") == "no-store"
        token = jose_jwt.decode(issued["token"], key_set, algorithms=["EdDSA", "ES256"])
        claims = token.claims
        assert token.header["kid"] == jwks["keys"][0]["kid"] and token.header["alg"] == "EdDSA"
        assert claims["sub"] == me and claims["aud"] == "vchat-ws" and claims["iss"] == "vchat-issue-tokens"
        assert 0 < claims["exp"] - claims["iat"] <= 300 and len(claims["jti"]) >= 16
        assert claims.get("room") == body.get("roomId")
        assert datetime.fromisoformat(issued["expiresAt"]).timestamp() == claims["exp"]
        jose_jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": "vchat-issue-tokens"},
            aud={"essential": True, "value": "vchat-ws"},
            exp={"essential": True},
        ).validate(claims)
    assert call("/ws-token", me, {})[1]["token"] != call("/ws-token", me, {})[1]["token"]  # fresh jti


def test_rate_limit_is_429_with_retry_after_per_user_and_route(
    call: Callable[..., tuple[int, Any, dict[str, str]]],
) -> None:
    me, other = new_users(2)
    room_id = room_with([me, other])
    statuses = [call("/livekit-token", me, {"roomId": room_id})[0] for _ in range(30)]
    assert statuses == [200] * 30
    status, body, headers = call("/livekit-token", me, {"roomId": room_id})
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert 1 <= int(headers["Retry-After"]) <= 2
    assert call("/livekit-token", other, {"roomId": room_id})[0] == 200  # another user
    assert call("/ws-token", me, {})[0] == 200  # another route
    assert 0 < rds().pttl(keys.rate_limit("livekit-token", me)) <= 61_000


def _json_lines(logs: str) -> Iterator[dict[str, Any]]:
    # Split on newlines only: a logged path may hold U+2028 and the like, which splitlines() splits on.
    for line in logs.split("\n"):
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # not a JSON line, or one another test's request is still writing
        if isinstance(entry, dict):
            yield entry


def test_no_token_is_ever_logged(stack: Stack, call: Callable[..., tuple[int, Any, dict[str, str]]]) -> None:
    me, other = new_users(2)
    room_id = room_with([me, other])
    issued = [
        call("/livekit-token", me, {"roomId": room_id})[1]["token"],
        call("/ws-token", me, {})[1]["token"],
    ]
    bearer = stack  # the caller's Firebase ID token travels in a header that is never logged either
    del bearer
    logs = "".join(path.read_text(errors="replace") for path in stack.logs_dir.glob("*.log"))
    lines = list(_json_lines(logs))
    issued_lines = [line for line in lines if line.get("uid") == me and line.get("expiresAt")]
    # One line per request, carrying what the route learned: the room, the cache hit, the expiry.
    assert {line["message"] for line in issued_lines} == {"POST /livekit-token 200", "POST /ws-token 200"}
    assert [line["cacheHit"] for line in issued_lines if "cacheHit" in line] == [False]
    for token in issued:
        assert token not in logs and token.split(".")[2] not in logs
