"""issue_tokens in production auth mode: its own functions-framework process without the Auth
emulator, verifying RS256 ID tokens against certificates served like Google's. Every forged or
stale Firebase token is a 401 JSON error, and nothing is issued for it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from deploy.manifest import load_manifest
from devstack.firestore_rest import unsigned_token
from devstack.stack import Stack, free_port
from tests.conftest import http, wait_for
from tests.firebase_certs import PROJECT, CertServer, claims
from tests.room_fixtures import new_room, new_users


@pytest.fixture(scope="module")
def certs() -> Iterator[CertServer]:
    server = CertServer()
    yield server
    server.httpd.shutdown()


@pytest.fixture(scope="module")
def production_url(stack: Stack, certs: CertServer) -> Iterator[str]:
    assert stack.project == PROJECT
    spec = load_manifest()["issue_tokens"]
    env = stack.function_env(spec)
    env.pop("FIREBASE_AUTH_EMULATOR_HOST")
    env["FIREBASE_CERTS_URL"] = certs.url
    port = free_port()
    log = (stack.logs_dir / "fn-issue_tokens-production.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "functions-framework"),
            f"--target={spec.entry_point}",
            f"--source={spec.source_dir / 'main.py'}",
            "--host=127.0.0.1",
            f"--port={port}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _reachable(f"{url}/healthz"), timeout_s=60)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def _reachable(url: str) -> bool:
    try:
        return http("GET", url)[0] == 200
    except OSError:
        return False


def hs256_with_the_public_key(certs: CertServer, token_claims: dict[str, Any]) -> str:
    public_pem = (
        certs.keys["kid-0"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "kid-0", "typ": "JWT"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(token_claims).encode())
    signature = jwt.utils.base64url_encode(
        hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    )
    return (header + b"." + payload + b"." + signature).decode()


def tampered(certs: CertServer, uid: str) -> str:
    header, _, signature = certs.sign(claims(sub="someone-else")).split(".")
    forged = jwt.utils.base64url_encode(json.dumps(claims(sub=uid)).encode()).decode()
    return f"{header}.{forged}.{signature}"


def test_a_valid_rs256_token_gets_a_livekit_token(production_url: str, certs: CertServer) -> None:
    me, other = new_users(2)
    room_id = new_room([me, other])
    token = certs.sign(claims(sub=me))
    status, body, _ = http(
        "POST", f"{production_url}/livekit-token", {"roomId": room_id}, {"Authorization": f"Bearer {token}"}
    )
    assert status == 200 and body["identity"] == me


BAD_TOKENS = {
    "expired": lambda certs, uid: certs.sign(
        claims(sub=uid, iat=1_000_000, auth_time=1_000_000, exp=1_000_100)
    ),
    "not yet valid": lambda certs, uid: certs.sign(claims(sub=uid, iat=4_000_000_000)),
    "wrong audience": lambda certs, uid: certs.sign(claims(sub=uid, aud="another-project")),
    "wrong issuer": lambda certs, uid: certs.sign(
        claims(sub=uid, iss="https://securetoken.google.com/another")
    ),
    "alg none": lambda certs, uid: unsigned_token(uid, PROJECT),
    "HS256 keyed with the public key": lambda certs, uid: hs256_with_the_public_key(certs, claims(sub=uid)),
    "tampered payload": tampered,
    "garbage": lambda certs, uid: "not-a-jwt",
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_firebase_tokens_are_401_and_issue_nothing(
    production_url: str, certs: CertServer, stack: Stack, case: str
) -> None:
    me, other = new_users(2)
    room_id = new_room([me, other])
    token = BAD_TOKENS[case](certs, me)
    for path, body in (("/livekit-token", {"roomId": room_id}), ("/ws-token", {})):
        status, payload, headers = http(
            "POST", f"{production_url}{path}", body, {"Authorization": f"Bearer {token}"}
        )
        assert status == 401, (case, path, payload)
        assert payload["error"]["code"] == "unauthenticated" and "token" not in payload
        assert headers.get("Cache-Control") == "no-store"
    from shared import keys
    from tests.room_fixtures import rds

    assert rds().exists(keys.livekit_token(room_id, me)) == 0
    assert token not in (stack.logs_dir / "fn-issue_tokens-production.log").read_text(errors="replace")
