"""Firebase ID token verification: the production path (RS256 against certificates served over HTTP,
as Google serves them) and the emulator path (unsigned tokens only with FIREBASE_AUTH_EMULATOR_HOST)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.firestore_rest import unsigned_token
from shared.auth import AuthError, bearer_token, certificates, verify_id_token
from shared.config import Settings
from tests.firebase_certs import PROJECT, CertServer, claims


@pytest.fixture(scope="module")
def certs() -> Iterator[CertServer]:
    server = CertServer()
    yield server
    server.httpd.shutdown()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    certificates.clear()


def production(certs: CertServer) -> Settings:
    return Settings(environ={"GOOGLE_CLOUD_PROJECT": PROJECT, "FIREBASE_CERTS_URL": certs.url})


def emulator() -> Settings:
    return Settings(
        environ={"GOOGLE_CLOUD_PROJECT": PROJECT, "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}
    )


def test_valid_rs256_token_is_accepted(certs: CertServer) -> None:
    caller = verify_id_token(certs.sign(claims(staff=True)), production(certs))
    assert caller.uid == "user-123"
    assert caller.email == "user@example.com"
    assert caller.is_staff


def test_certificates_are_cached_per_cache_control(certs: CertServer) -> None:
    before = certs.hits
    for _ in range(5):
        verify_id_token(certs.sign(claims()), production(certs))
    assert certs.hits - before == 1


def test_key_rotation_unknown_kid_triggers_one_refetch(certs: CertServer) -> None:
    certs.published = {"kid-0": None}
    verify_id_token(certs.sign(claims()), production(certs))
    certs.published = {"kid-0": None, "kid-1": None}
    # Just fetched: an unknown kid does not make us refetch (garbage kids cannot hammer Google) ...
    with pytest.raises(AuthError, match="unknown key"):
        verify_id_token(certs.sign(claims(), kid="kid-1"), production(certs))
    # ... but a minute later a token with the new kid makes us refetch once, and it verifies.
    certificates._fetched_at -= 120
    hits = certs.hits
    verify_id_token(certs.sign(claims(), kid="kid-1"), production(certs))
    assert certs.hits == hits + 1


@pytest.mark.parametrize(
    ("case", "token_claims", "message"),
    [
        ("expired", claims(exp=int(time.time()) - 600, iat=int(time.time()) - 4000), "expired"),
        ("not yet valid", claims(iat=int(time.time()) + 600), "not valid yet"),
        ("auth_time in future", claims(auth_time=int(time.time()) + 600), "auth_time"),
        ("wrong audience", claims(aud="another-project"), ""),
        ("wrong issuer", claims(iss="https://securetoken.google.com/another-project"), ""),
        ("empty subject", claims(sub=""), ""),
        ("missing exp", claims(exp=None), ""),
        ("missing auth_time", claims(auth_time=None), "auth_time"),
    ],
)
def test_bad_claims_are_rejected(
    certs: CertServer, case: str, token_claims: dict[str, Any], message: str
) -> None:
    with pytest.raises(AuthError) as error:
        verify_id_token(certs.sign(token_claims), production(certs))
    assert error.value.status == 401
    assert message in error.value.message


def test_tampered_token_is_rejected(certs: CertServer) -> None:
    header, _, signature = certs.sign(claims()).split(".")
    forged = jwt.utils.base64url_encode(json.dumps(claims(sub="admin")).encode()).decode()
    with pytest.raises(AuthError):
        verify_id_token(f"{header}.{forged}.{signature}", production(certs))


def test_token_signed_by_an_unpublished_key_is_rejected(certs: CertServer) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "kid-0"})
    with pytest.raises(AuthError):
        verify_id_token(token, production(certs))
    token = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "kid-unknown"})
    with pytest.raises(AuthError, match="unknown key"):
        verify_id_token(token, production(certs))


def test_hs256_signed_with_the_public_key_is_rejected(certs: CertServer) -> None:
    """The classic algorithm-confusion attack: HMAC keyed with the (public) certificate."""
    public_pem = (
        certs.keys["kid-0"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "kid-0", "typ": "JWT"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims()).encode())
    import hashlib
    import hmac

    signature = jwt.utils.base64url_encode(
        hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    )
    with pytest.raises(AuthError, match="RS256"):
        verify_id_token((header + b"." + payload + b"." + signature).decode(), production(certs))


def test_unsigned_token_is_rejected_outside_emulator_mode(certs: CertServer) -> None:
    with pytest.raises(AuthError, match="Auth emulator"):
        verify_id_token(unsigned_token("user-1", PROJECT), production(certs))


def test_unsigned_token_is_accepted_in_emulator_mode_with_claims_checked() -> None:
    assert verify_id_token(unsigned_token("user-1", PROJECT), emulator()).uid == "user-1"
    with pytest.raises(AuthError, match="audience"):
        verify_id_token(unsigned_token("user-1", PROJECT, aud="other-project"), emulator())
    with pytest.raises(AuthError, match="expired"):
        verify_id_token(unsigned_token("user-1", PROJECT, exp=int(time.time()) - 100), emulator())
    forged_signature = unsigned_token("user-1", PROJECT) + "c2lnbmF0dXJl"
    with pytest.raises(AuthError):
        verify_id_token(forged_signature, emulator())


def test_garbage_and_missing_headers_are_401() -> None:
    for value in (None, "", "Bearer", "Bearer ", "Basic abc", "Token xyz"):
        with pytest.raises(AuthError):
            bearer_token(value)
    with pytest.raises(AuthError, match="malformed"):
        verify_id_token("not.a.jwt", emulator())
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"


def test_real_auth_emulator_sign_in_is_accepted(stack: Any) -> None:
    """A token from the Firebase Auth emulator itself (sign-in with a password) passes verification."""
    from devstack import demo

    token = demo.id_token(stack.info(), "alice")
    settings = Settings(environ=stack.service_env())
    caller = verify_id_token(token, settings)
    assert caller.uid == demo.uid_of("alice")
    assert caller.email == "alice@example.com"
    staff = verify_id_token(demo.id_token(stack.info(), "staff"), settings)
    assert staff.is_staff
