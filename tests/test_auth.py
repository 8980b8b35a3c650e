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


def test_an_outage_of_the_certificate_endpoint_keeps_the_cached_keys_working(certs: CertServer) -> None:
    """The cache aged and Google's endpoint fails: tokens still verify with the keys in hand (no
    503), and the failing endpoint is asked again only after a backoff, not on every request."""
    verify_id_token(certs.sign(claims()), production(certs))
    certs.failing = True
    try:
        certificates._expires_at = 0.0  # the max-age ran out
        hits = certs.hits
        for _ in range(20):
            assert verify_id_token(certs.sign(claims()), production(certs)).uid == "user-123"
        assert certs.hits == hits + 1  # one refresh tried, then backing off
        certificates._retry_at = 0.0  # the backoff ran out: one more try, still serving meanwhile
        assert verify_id_token(certs.sign(claims()), production(certs)).uid == "user-123"
        assert certs.hits == hits + 2
    finally:
        certs.failing = False
    certificates._retry_at = 0.0
    verify_id_token(certs.sign(claims()), production(certs))
    assert certificates._expires_at > time.time()  # recovered: fresh keys again


def test_without_any_cached_key_an_outage_is_a_503_with_retry_after(certs: CertServer) -> None:
    from shared.errors import ApiError

    certs.failing = True
    try:
        with pytest.raises(ApiError) as caught:
            verify_id_token(certs.sign(claims()), production(certs))
    finally:
        certs.failing = False
    assert caught.value.status == 503 and caught.value.headers["Retry-After"]


def test_a_slow_refresh_holds_nobody_back(certs: CertServer) -> None:
    """While one request refreshes stale keys from a slow endpoint, others verify with the keys in
    hand instead of queueing behind a lock."""
    from concurrent.futures import ThreadPoolExecutor

    verify_id_token(certs.sign(claims()), production(certs))
    certificates._expires_at = 0.0
    hits_before = certs.hits
    certs.delay_s = 3.0
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            slow = pool.submit(verify_id_token, certs.sign(claims()), production(certs))
            while certs.hits == hits_before:  # the refresh is under way
                time.sleep(0.01)
            others = [pool.submit(verify_id_token, certs.sign(claims()), production(certs)) for _ in range(5)]
            quick = [f.result() for f in others]
            still_refreshing = not slow.done()  # they finished while the fetch was still sleeping
            slow.result()
    finally:
        certs.delay_s = 0.0
    assert all(c.uid == "user-123" for c in quick)
    assert still_refreshing


def test_unsigned_tokens_are_refused_in_a_deployed_function_even_with_the_emulator_variable() -> None:
    """A stray FIREBASE_AUTH_EMULATOR_HOST in a deployment must not open the door: K_SERVICE (set
    by Cloud Run on every deployed function) closes it."""
    token = unsigned_token("mallory", PROJECT)
    environ = {"GOOGLE_CLOUD_PROJECT": PROJECT, "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}
    assert verify_id_token(token, Settings(environ=environ)).uid == "mallory"
    with pytest.raises(AuthError, match="never when deployed"):
        verify_id_token(token, Settings(environ={**environ, "K_SERVICE": "issue_tokens"}))


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
