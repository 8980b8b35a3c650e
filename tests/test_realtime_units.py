"""The realtime service's pure parts without the stack: settings, message validation, the bounded
outbox and rate limits, the JWKS cache (rotation, refetch limits, failures) and token verification,
the documents against the code, and what the service imports."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from typing import Any

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deploy.manifest import ROOT
from realtime import messages
from realtime.config import ConfigError, Settings
from realtime.messages import Close, InvalidMessage
from realtime.outbox import Outbox, Overflow, TokenBucket
from realtime.tokens import JwksCache, KeysUnavailable, TokenError, TokenVerifier
from shared.rooms.events import room_event

BASE_ENV = {"REDIS_URL": "redis://127.0.0.1:6379/0", "WS_JWKS_URL": "http://127.0.0.1:1/jwks.json"}


# -- settings ---------------------------------------------------------------------------------------
def test_settings_defaults_and_overrides() -> None:
    settings = Settings.from_env(BASE_ENV)
    assert settings.issuer == "vchat-issue-tokens" and settings.audience == "vchat-ws"
    assert settings.port == 8080 and settings.motion_per_s == 30 and not settings.compression
    assert settings.max_frame_bytes >= settings.motion_max_bytes
    custom = Settings.from_env(
        {**BASE_ENV, "PORT": "9000", "REALTIME_COMPRESSION": "deflate", "K_REVISION": "rev-1"}
    )
    assert custom.port == 9000 and custom.compression and custom.instance_id.startswith("rev-1-")
    assert Settings.from_env(BASE_ENV).instance_id != Settings.from_env(BASE_ENV).instance_id


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WS_JWKS_URL": "http://x/j"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://127.0.0.1"}, "WS_JWKS_URL"),
        ({**BASE_ENV, "REDIS_URL": "http://x"}, "REDIS_URL"),
        ({**BASE_ENV, "PORT": "http"}, "PORT"),
        ({**BASE_ENV, "REALTIME_MOTION_PER_S": "0"}, "REALTIME_MOTION_PER_S"),
        ({**BASE_ENV, "REALTIME_COMPRESSION": "gzip"}, "REALTIME_COMPRESSION"),
    ],
)
def test_a_bad_setting_fails_at_start_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_a_secret_value_is_never_in_the_error() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE_ENV, "REDIS_URL": "ftp://user:hunter2@host"})
    assert "hunter2" not in str(error.value)


# -- messages ---------------------------------------------------------------------------------------
def parse(message: Any) -> dict[str, Any]:
    raw = message if isinstance(message, str) else json.dumps(message)
    return messages.parse(raw, motion_max_bytes=8192, chat_max_chars=500)


FULL_MOTION = {
    "type": "motion",
    "seq": 3,
    "t": 12.5,
    "position": [0, 1.5, -2],
    "rotation": [0, 0, 0, 1],
    "lookAt": [0, 1, 5],
    "expression": {"happy": 1, "blink": 0.25},
    "bones": {"head": [0, 0.1, 0, 0.99], "hips": [0, 1, 0, 0, 0, 0, 1]},
}


def test_valid_messages_pass_unchanged() -> None:
    assert parse(FULL_MOTION) == FULL_MOTION
    assert parse({"type": "motion"}) == {"type": "motion"}
    assert parse({"type": "chat", "text": "hi", "id": "x1"}) == {"type": "chat", "text": "hi", "id": "x1"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{", "invalid_json"),
        ('{"type":"motion","position":[NaN,0,0]}', "invalid_json"),
        ('{"type":"motion","position":[1e400,0,0]}', "invalid_json"),
        ('{"type":"motion","position":[1e308,1e308,0]}', "invalid_message"),
        ('{"type":"motion","seq":' + "9" * 400 + "}", "invalid_json"),
        ("[" * 5000 + "]" * 5000, "invalid_json"),
        ("[1]", "invalid_message"),
        ('{"type":"dance"}', "unknown_type"),
        ('{"text":"no type"}', "unknown_type"),
        ('{"type":"motion","position":[0,0]}', "invalid_message"),
        ('{"type":"motion","position":[0,0,"1"]}', "invalid_message"),
        ('{"type":"motion","position":[0,0,true]}', "invalid_message"),
        ('{"type":"motion","rotation":{"x":0}}', "invalid_message"),
        ('{"type":"motion","seq":-1}', "invalid_message"),
        ('{"type":"motion","seq":1.5}', "invalid_message"),
        ('{"type":"motion","t":"now"}', "invalid_message"),
        ('{"type":"motion","expression":{"happy":2}}', "invalid_message"),
        ('{"type":"motion","expression":[]}', "invalid_message"),
        ('{"type":"motion","bones":{"head":[0,0,0]}}', "invalid_message"),
        ('{"type":"motion","bones":{"":[0,0,0,1]}}', "invalid_message"),
        ('{"type":"motion","from":"me"}', "invalid_message"),
        ('{"type":"motion","at":1}', "invalid_message"),
        ('{"type":"chat","text":""}', "invalid_message"),
        ('{"type":"chat","text":42}', "invalid_message"),
        ('{"type":"chat","text":"hi","from":"me"}', "invalid_message"),
        ('{"type":"chat","text":"hi","id":""}', "invalid_message"),
    ],
)
def test_invalid_messages_name_their_problem(raw: str, code: str) -> None:
    with pytest.raises(InvalidMessage) as error:
        parse(raw)
    assert error.value.code == code


def test_limits_on_sizes() -> None:
    too_many_bones = {
        "type": "motion",
        "bones": {f"b{i}": [0, 0, 0, 1] for i in range(messages.MAX_BONES + 1)},
    }
    with pytest.raises(InvalidMessage):
        parse(too_many_bones)
    with pytest.raises(InvalidMessage, match="at most 500"):
        parse({"type": "chat", "text": "あ" * 501})
    assert parse({"type": "chat", "text": "あ" * 500})["text"] == "あ" * 500
    with pytest.raises(InvalidMessage) as error:
        messages.parse(
            json.dumps({"type": "motion", "t": 1.0, "seq": 1}), motion_max_bytes=10, chat_max_chars=5
        )
    assert error.value.code == "too_large"


def test_relayed_frames_are_the_sent_text_plus_from_and_at() -> None:
    raw = json.dumps(FULL_MOTION) + "  \n"
    spliced = messages.relayed_text(raw, messages.sender_fields("u-1"), 1700000000123)
    assert json.loads(spliced) == {**FULL_MOTION, "from": "u-1", "at": 1700000000123}
    tight = messages.relayed_text('{"type":"motion"}', messages.sender_fields('u"x'), 1)
    assert json.loads(tight) == {"type": "motion", "from": 'u"x', "at": 1}
    assert json.loads(messages.relayed({"type": "chat", "text": "é"}, 'u"2', 5)) == {
        "type": "chat",
        "text": "é",
        "from": 'u"2',
        "at": 5,
    }


# -- outbox and rate limits -------------------------------------------------------------------------
def test_outbox_drops_the_oldest_motion_and_never_chat() -> None:
    async def scenario() -> None:
        box = Outbox(motion_max=3, other_max=2)
        for n in range(5):
            box.put_motion(f"m{n}")
        box.put("chat-1")
        assert box.dropped == 2 and len(box) == 4
        await asyncio.wait_for(box.wait(), 1)
        other, motion = box.take()
        assert other == ["chat-1"] and motion == ["m2", "m3", "m4"]  # other lane first, newest motion kept
        box.put("a")
        box.put("b")
        with pytest.raises(Overflow):
            box.put("c")
        box.put_close()  # a close always fits: it follows what is queued
        assert box.take()[0] == ["a", "b", None]

    asyncio.run(scenario())


def test_outbox_wait_blocks_until_something_is_queued() -> None:
    async def scenario() -> None:
        box = Outbox(4, 4)
        waiter = asyncio.create_task(box.wait())
        await asyncio.sleep(0)
        assert not waiter.done()
        box.put_motion("m")
        await asyncio.wait_for(waiter, 1)

    asyncio.run(scenario())


def test_token_bucket() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5  # one token back
    assert bucket.take() and not bucket.take()
    now[0] += 100  # never more than the burst
    assert sum(bucket.take() for _ in range(10)) == 3


# -- JWKS cache and verification --------------------------------------------------------------------
class Keys:
    """Signing keys and the JWKS issue_tokens would publish for them, served by a fake fetch."""

    def __init__(self) -> None:
        self.private: dict[str, Any] = {}
        self.published: list[dict[str, Any]] = []
        self.fetches = 0
        self.fail = False
        self.max_age: float | None = 300

    def add(self, kid: str, kind: str = "ed25519") -> None:
        from shared.tokens.ws import _b64url

        if kind == "ed25519":
            key: Any = Ed25519PrivateKey.generate()
            from cryptography.hazmat.primitives import serialization

            x = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(x), "alg": "EdDSA"}
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            numbers = key.public_key().public_numbers()
            jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": _b64url(numbers.x.to_bytes(32, "big")),
                "y": _b64url(numbers.y.to_bytes(32, "big")),
                "alg": "ES256",
            }
        self.private[kid] = key
        self.published.append({**jwk, "kid": kid, "use": "sig"})

    def drop(self, kid: str) -> None:
        self.published = [k for k in self.published if k["kid"] != kid]

    async def fetch(self, url: str) -> tuple[dict[str, Any], float | None]:
        self.fetches += 1
        if self.fail:
            raise OSError("JWKS endpoint down")
        return {"keys": list(self.published)}, self.max_age

    def token(self, kid: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": "vchat-issue-tokens",
            "aud": "vchat-ws",
            "sub": "u-1",
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + 300,
            "room": "r-1",
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.private[kid]
        algorithm = "EdDSA" if isinstance(key, Ed25519PrivateKey) else "ES256"
        return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def verifier(keys: Keys, clock: list[float], min_refresh_s: float = 10) -> TokenVerifier:
    cache = JwksCache("http://jwks", min_refresh_s=min_refresh_s, fetch=keys.fetch, clock=lambda: clock[0])
    return TokenVerifier(cache, issuer="vchat-issue-tokens", audience="vchat-ws")


def test_verifies_eddsa_and_es256_and_caches_the_key_set() -> None:
    keys, clock = Keys(), [1000.0]
    keys.add("a")
    keys.add("b", "p256")
    check = verifier(keys, clock)
    claims = asyncio.run(check.verify(keys.token("a")))
    assert (claims.uid, claims.room) == ("u-1", "r-1") and len(claims.jti) == 32
    assert asyncio.run(check.verify(keys.token("b"))).uid == "u-1"
    assert keys.fetches == 1
    clock[0] += 301  # past max-age: refreshed
    asyncio.run(check.verify(keys.token("a")))
    assert keys.fetches == 2


def test_rotation_an_unknown_kid_refetches_at_most_once_per_interval() -> None:
    keys, clock = Keys(), [1000.0]
    keys.add("old")
    check = verifier(keys, clock)
    asyncio.run(check.verify(keys.token("old")))
    keys.add("new")  # issue_tokens appended a key and now signs with it
    clock[0] += 11
    assert asyncio.run(check.verify(keys.token("new"))).uid == "u-1"
    assert keys.fetches == 2
    assert asyncio.run(check.verify(keys.token("old"))).uid == "u-1", "old kid valid while published"
    # Made-up kids: one refetch at most per interval, then refused without fetching.
    for _ in range(20):
        with pytest.raises(TokenError, match="unknown signing key"):
            asyncio.run(check.verify(_with_kid(keys, f"ghost-{uuid.uuid4().hex}")))
    assert keys.fetches == 2
    # Once the old key is unpublished and the cache refreshed, its tokens are refused.
    keys.drop("old")
    clock[0] += 301
    with pytest.raises(TokenError, match="unknown signing key"):
        asyncio.run(check.verify(keys.token("old")))


def _with_kid(keys: Keys, kid: str) -> str:
    keys.private[kid] = keys.private["new"]
    return keys.token(kid)


def test_concurrent_verifications_share_one_fetch() -> None:
    keys, clock = Keys(), [1000.0]
    keys.add("a")
    check = verifier(keys, clock)

    async def many() -> None:
        await asyncio.gather(*(check.verify(keys.token("a")) for _ in range(20)))

    asyncio.run(many())
    assert keys.fetches == 1


def test_a_failed_refresh_keeps_the_last_key_set_and_no_key_set_at_all_is_unavailable() -> None:
    keys, clock = Keys(), [1000.0]
    keys.add("a")
    check = verifier(keys, clock)
    asyncio.run(check.verify(keys.token("a")))
    keys.fail = True
    clock[0] += 301
    assert asyncio.run(check.verify(keys.token("a"))).uid == "u-1"
    fresh = verifier(keys, clock)
    with pytest.raises(KeysUnavailable):
        asyncio.run(fresh.verify(keys.token("a")))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 60}, "token expired"),
        ({"aud": "someone-else"}, "invalid token"),
        ({"iss": "evil"}, "invalid token"),
        ({"jti": None}, "invalid token"),
        ({"sub": None}, "invalid token"),
        ({"room": 7}, "room claim is not a string"),
    ],
)
def test_claims_are_checked(overrides: dict[str, Any], reason: str) -> None:
    keys, clock = Keys(), [1000.0]
    keys.add("a")
    with pytest.raises(TokenError, match=reason):
        asyncio.run(verifier(keys, clock).verify(keys.token("a", **overrides)))


def test_tampering_hs256_and_alg_none_are_refused() -> None:
    keys, clock = Keys(), [1000.0]
    keys.add("a")
    keys.add("p", "p256")
    check = verifier(keys, clock)
    header, _, signature = keys.token("a").split(".")
    other = keys.token("a", sub="someone-else").split(".")[1]
    with pytest.raises(TokenError, match="invalid token"):
        asyncio.run(check.verify(f"{header}.{other}.{signature}"))
    public_x = keys.published[0]["x"]  # the classic confusion: the public key used as an HMAC secret
    hs = jwt.encode({"sub": "u-1"}, public_x, algorithm="HS256", headers={"kid": "a"})
    with pytest.raises(TokenError, match="unsupported algorithm"):
        asyncio.run(check.verify(hs))
    unsigned = jwt.encode({"sub": "u-1"}, None, algorithm="none", headers={"kid": "a"})
    with pytest.raises(TokenError, match="unsupported algorithm"):
        asyncio.run(check.verify(unsigned))
    # An ES256 token presented under an EdDSA key's kid.
    es = keys.token("p")
    es_header = jwt.get_unverified_header(es)
    assert es_header["alg"] == "ES256"
    swapped = jwt.encode({"sub": "u-1"}, keys.private["p"], algorithm="ES256", headers={"kid": "a"})
    with pytest.raises(TokenError, match="does not match"):
        asyncio.run(check.verify(swapped))
    with pytest.raises(TokenError, match="malformed"):
        asyncio.run(check.verify("not-a-jwt"))


# -- events, documents and imports ------------------------------------------------------------------
def test_room_event_shape() -> None:
    assert json.loads(room_event("left", "r-1", 5, "u-1")) == {
        "type": "left",
        "roomId": "r-1",
        "uid": "u-1",
        "at": 5,
    }
    assert json.loads(room_event("closed", "r-1", 5)) == {"type": "closed", "roomId": "r-1", "at": 5}


def test_asyncapi_document_matches_the_code() -> None:
    doc = yaml.safe_load((ROOT / "docs" / "asyncapi" / "realtime.yaml").read_text())
    assert doc["asyncapi"].startswith("3.")
    documented = {int(code) for code in doc["info"]["x-close-codes"]}
    assert {int(code) for code in Close} <= documented
    assert {1001, 1009, 1011, 1013} <= documented
    names = set(doc["components"]["messages"])
    assert {
        "motion",
        "chat",
        "relayedMotion",
        "relayedChat",
        "ready",
        "ack",
        "error",
        "joined",
        "left",
        "closed",
    } <= names
    motion = doc["components"]["schemas"]["motion"]["properties"]
    assert set(motion) == set(messages.MOTION_KEYS)
    chat = doc["components"]["schemas"]["chat"]["properties"]
    assert set(chat) == set(messages.CHAT_KEYS)
    text = (ROOT / "docs" / "realtime.md").read_text()
    for code in Close:
        assert str(int(code)) in text, code


def test_the_service_imports_no_cloud_client() -> None:
    probe = (
        "import sys, realtime.app, realtime.__main__; "
        "print(sorted(m for m in sys.modules if m.startswith(('google.cloud.', 'grpc', 'sqlalchemy', 'flask', 'aiohttp'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_the_image_copies_every_module_the_service_imports_and_pins_every_package() -> None:
    import ast

    dockerfile = (ROOT / "realtime" / "Dockerfile").read_text()
    requirements = (ROOT / "realtime" / "requirements.txt").read_text().lower()
    third_party = {"websockets": "websockets", "redis": "redis", "jwt": "pyjwt", "orjson": "orjson"}
    third_party |= {"uvloop": "uvloop", "cryptography": "cryptography"}
    for source in (ROOT / "realtime").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                top = name.split(".")[0]
                if top == "shared" and name.count(".") == 1:
                    module = name.split(".")[1]
                    assert f"shared/{module}.py" in dockerfile, f"{source.name} imports {name}"
                elif top in third_party:
                    assert f"{third_party[top]}==" in requirements, f"{source.name} imports {top}"
                elif top not in ("realtime", "shared", "__future__"):
                    assert top in sys.stdlib_module_names, f"{source.name} imports {top}: pin it"
