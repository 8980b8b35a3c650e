"""Firebase Authentication's admin REST API (Identity Toolkit v1): disable a banned account, delete a
deleted one.

Production: `IDENTITY_TOOLKIT_URL` with the function's service account token (google-auth's
application default credentials; its role is `roles/firebaseauth.admin`, from the manifest's `auth`
store). Locally, while FIREBASE_AUTH_EMULATOR_HOST is set and the process is not deployed (no
K_SERVICE, as shared/auth.py decides for ID tokens), the Auth emulator with `Bearer owner`.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

from shared.config import settings
from shared.lazy import Lazy

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
TIMEOUT_S = 10.0


class AuthAdminError(RuntimeError):
    """The Auth admin API refused or failed (the caller retries: deletion is a Pub/Sub job)."""


class _Credentials:
    """The service account's access token, refreshed under a lock when it is about to expire."""

    def __init__(self) -> None:
        import google.auth

        self._credentials, _ = google.auth.default(scopes=list(SCOPES))
        self._lock = threading.Lock()

    def token(self) -> str:
        from google.auth.transport.requests import Request

        with self._lock:
            if not self._credentials.valid:
                self._credentials.refresh(Request())
            return str(self._credentials.token)


_credentials = Lazy(_Credentials)


def _emulator() -> str | None:
    config = settings()
    return config.auth_emulator_host if not config.deployed_service else None


def _call(method: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/projects/{project}/accounts:{method}; the JSON answer. USER_NOT_FOUND is
    `LookupError`, any other refusal `AuthAdminError`."""
    project = settings().project_id
    emulator = _emulator()
    if emulator:
        base, bearer = f"http://{emulator}/identitytoolkit.googleapis.com", "owner"
    else:
        base, bearer = settings().identity_toolkit_url.rstrip("/"), _credentials().token()
    request = urllib.request.Request(
        f"{base}/v1/projects/{project}/accounts:{method}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return dict(json.load(response) or {})
    except urllib.error.HTTPError as exc:
        try:
            message = str(json.load(exc).get("error", {}).get("message", ""))
        except ValueError:
            message = ""
        if message.startswith("USER_NOT_FOUND"):
            raise LookupError("no such Auth user") from None
        raise AuthAdminError(f"accounts:{method} answered {exc.code} {message[:200]}") from None
    except (OSError, ValueError) as exc:
        raise AuthAdminError(f"accounts:{method} failed: {type(exc).__name__}") from None


def set_disabled(uid: str, disabled: bool) -> bool:
    """Disable (a ban) or re-enable the user's Auth account; False when there is no such account."""
    try:
        _call("update", {"localId": uid, "disableUser": disabled})
    except LookupError:
        return False
    return True


def is_disabled(uid: str) -> bool | None:
    """Whether the account is disabled; None when there is no such account."""
    users = _call("lookup", {"localId": [uid]}).get("users") or []
    return bool(users[0].get("disabled")) if users else None


def delete_user(uid: str) -> bool:
    """Delete the Auth user; False when it was already gone (a repeated deletion job)."""
    try:
        _call("delete", {"localId": uid})
    except LookupError:
        return False
    return True


def ping() -> None:
    """Health check: an admin lookup of a user that does not exist (reachability and credentials)."""
    _call("lookup", {"localId": ["_health-probe"]})
