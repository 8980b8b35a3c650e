"""Firebase custom tokens: the web app's Firebase sign-in for a Discord member.

A custom token is a JWT the Firebase client SDK trades for an ID token
(`signInWithCustomToken`): `iss` and `sub` are the signing service account, `aud` is the Identity
Toolkit, it lives at most an hour, `uid` is the Firebase user and `claims` are copied into that
user's ID tokens for the session.

Production signs it with the function's own service account through the IAM Credentials
`signBlob` API (google-auth's `iam.Signer`): no key file exists anywhere, and the account needs
`roles/iam.serviceAccountTokenCreator` on itself (Terraform grants exactly that). The Auth
emulator accepts unsigned tokens (`alg: none`); they are made only while FIREBASE_AUTH_EMULATOR_HOST
is set and K_SERVICE is not (K_SERVICE is set by Cloud Run, i.e. deployed).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from shared.config import settings
from shared.lazy import Lazy

AUDIENCE = "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit"
LIFETIME_S = 3600
EMULATOR_ACCOUNT = "firebase-auth-emulator@example.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _payload(uid: str, claims: dict[str, Any], account: str, now: int) -> dict[str, Any]:
    return {
        "iss": account,
        "sub": account,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + LIFETIME_S,
        "uid": uid,
        "claims": claims,
    }


def emulator_mode() -> bool:
    config = settings()
    return bool(config.auth_emulator_host) and not config.deployed_service


def mint(uid: str, claims: dict[str, Any]) -> str:
    if not 1 <= len(uid) <= 128:
        raise ValueError("a Firebase uid is 1 to 128 characters")
    now = int(time.time())
    if emulator_mode():
        header = {"alg": "none", "typ": "JWT"}
        payload = _payload(uid, claims, EMULATOR_ACCOUNT, now)
        return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."
    signer, account = _iam_signer()
    from google.auth import jwt

    return jwt.encode(signer, _payload(uid, claims, account, now)).decode()


def _create_signer() -> tuple[Any, str]:
    import google.auth
    from google.auth import iam
    from google.auth.transport.requests import Request

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    request = Request()
    account = settings().service_account_email or getattr(credentials, "service_account_email", None)
    if not account or account == "default":
        credentials.refresh(request)  # the metadata server names the runtime service account
        account = getattr(credentials, "service_account_email", None)
    if not account:
        raise RuntimeError("cannot tell which service account signs custom tokens: set SERVICE_ACCOUNT_EMAIL")
    return iam.Signer(request, credentials, account), account


_iam_signer: Lazy[tuple[Any, str]] = Lazy(_create_signer)
