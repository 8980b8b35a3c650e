"""shared.tokens without the stack: claims, key loading and rotation, missing secrets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from livekit.api import TokenVerifier

from shared.config import ConfigError, reset_settings
from shared.tokens import livekit, ws
from shared.tokens.cache import CachedToken

NOW = datetime.now(UTC).replace(microsecond=0)


def pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def configure() -> Iterator[Callable[..., None]]:
    """`configure(**env)`: process settings from exactly these variables, restored afterwards."""
    import os

    yield lambda **env: reset_settings(env) and None
    reset_settings(os.environ)


def test_livekit_claims_are_what_livekit_verifies(configure: Callable[..., None]) -> None:
    configure(LIVEKIT_URL="wss://lk.example", LIVEKIT_API_KEY="APIkey", LIVEKIT_API_SECRET="s" * 32)
    credentials = livekit.LiveKitCredentials.from_settings()
    claims = livekit.livekit_claims(
        credentials,
        "uid-1",
        "Mika",
        livekit.RoomGrant("lk-room"),
        {"vrmModelId": "v1"},
        NOW,
        NOW + timedelta(hours=1),
    )
    verified = TokenVerifier("APIkey", "s" * 32).verify(livekit.sign_livekit(credentials, claims))
    assert (
        verified.identity == "uid-1"
        and verified.name == "Mika"
        and verified.metadata == '{"vrmModelId":"v1"}'
    )
    assert verified.video is not None and verified.video.room == "lk-room" and verified.video.room_join
    for bad_expiry in (NOW, NOW + timedelta(hours=1, seconds=1)):
        with pytest.raises(ValueError):
            livekit.livekit_claims(credentials, "u", "n", livekit.RoomGrant("r"), {}, NOW, bad_expiry)
    with pytest.raises(ValueError):
        livekit.livekit_claims(
            credentials, "", "n", livekit.RoomGrant("r"), {}, NOW, NOW + timedelta(minutes=1)
        )


@pytest.mark.parametrize("missing", ["LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"])
def test_a_missing_livekit_setting_is_a_config_error(configure: Callable[..., None], missing: str) -> None:
    env = {"LIVEKIT_URL": "wss://lk.example", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "secret"}
    env[missing] = "  "
    configure(**env)
    with pytest.raises(ConfigError, match=missing):
        livekit.LiveKitCredentials.from_settings()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "WS_SIGNING_KEYS"),
        ("not json", "not JSON"),
        ("[]", "non-empty"),
        ('[{"kid": "a", "privateKey": "nope"}]', "not a PEM"),
        ('[{"privateKey": "x"}]', "kid"),
    ],
)
def test_bad_signing_keys_are_config_errors(configure: Callable[..., None], raw: str, message: str) -> None:
    configure(WS_SIGNING_KEYS=raw)
    with pytest.raises(ConfigError, match=message):
        ws.signing_keys()


def test_rotation_publishes_both_keys_and_signs_with_the_newest(configure: Callable[..., None]) -> None:
    old, new = ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())
    configure(
        WS_SIGNING_KEYS=json.dumps(
            [{"kid": "old", "privateKey": pem(old)}, {"kid": "new", "privateKey": pem(new)}]
        )
    )
    published = ws.jwks()
    assert [key["kid"] for key in published["keys"]] == ["new", "old"]
    assert {key["alg"] for key in published["keys"]} == {"ES256", "EdDSA"}
    token, expires_at = ws.sign_ws_token("uid-1", NOW, "room-1")
    assert jwt.get_unverified_header(token)["kid"] == "new" and expires_at == NOW + timedelta(minutes=5)
    decoded = jose_jwt.decode(token, KeySet.import_key_set(published), algorithms=["ES256", "EdDSA"])
    assert decoded.claims["room"] == "room-1" and decoded.claims["sub"] == "uid-1"
    # A token of the old key still verifies during the rotation.
    old_token = jwt.encode({"sub": "u"}, old, algorithm="EdDSA", headers={"kid": "old"})
    assert (
        jose_jwt.decode(old_token, KeySet.import_key_set(published), algorithms=["EdDSA"]).claims["sub"]
        == "u"
    )


def test_duplicate_kid_and_unsupported_curve_are_refused(configure: Callable[..., None]) -> None:
    key = pem(ed25519.Ed25519PrivateKey.generate())
    configure(WS_SIGNING_KEYS=json.dumps([{"kid": "a", "privateKey": key}, {"kid": "a", "privateKey": key}]))
    with pytest.raises(ConfigError, match="duplicate"):
        ws.signing_keys()
    configure(
        WS_SIGNING_KEYS=json.dumps(
            [{"kid": "p384", "privateKey": pem(ec.generate_private_key(ec.SECP384R1()))}]
        )
    )
    with pytest.raises(ConfigError, match="Ed25519 and P-256"):
        ws.signing_keys()


def test_cached_token_is_reused_only_while_more_than_half_its_life_is_left() -> None:
    cached = CachedToken("t", "room", "uid", issued_at=1000, expires_at=4600)
    assert cached.has_most_of_its_life_left(1000)
    assert cached.has_most_of_its_life_left(2799)
    assert not cached.has_most_of_its_life_left(2800)
    assert not cached.has_most_of_its_life_left(4601)
