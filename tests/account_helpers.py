"""Helpers shared by the account tests: users in Firestore and the Auth emulator, calls to
account_api (and the other HTTP functions) through the gateway with real emulator ID tokens."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from devstack.firestore_rest import unsigned_token
from devstack.stack import Stack
from tests.conftest import http
from tests.room_fixtures import doc, fs, rds  # noqa: F401  (the account tests import them from here)

Call = Callable[..., tuple[int, Any]]


def new_user(prefix: str = "acct", *, adult: bool = True, **fields: Any) -> str:
    uid = f"{prefix}-{uuid.uuid4().hex[:12]}"
    data: dict[str, Any] = {
        "displayName": uid,
        "status": "online",
        "lastActiveAt": datetime.now(UTC),
        **fields,
    }
    if adult:
        data["adultConfirmedAt"] = datetime.now(UTC)
    fs().collection("users").document(uid).set(data)
    return uid


def caller(stack: Stack) -> Call:
    """`call(method, "/function/path", uid, body=None, **claims)` -> (status, JSON)."""

    def call(method: str, path: str, uid: str | None, body: Any = None, **claims: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {unsigned_token(uid, stack.project, **claims)}"} if uid else {}
        status, payload, _ = http(method, f"{stack.gateway_url}{path}", body, headers)
        return status, payload

    return call


# -- the Auth emulator (admin calls with `Bearer owner`) ------------------------------------------
def _auth(stack: Stack, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    host = stack.service_env()["FIREBASE_AUTH_EMULATOR_HOST"]
    request = urllib.request.Request(
        f"http://{host}/identitytoolkit.googleapis.com/v1/projects/{stack.project}/accounts{method}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": "Bearer owner", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def auth_user(stack: Stack, uid: str) -> None:
    status, body = _auth(stack, "", {"localId": uid, "email": f"{uid}@example.com", "password": "pw-123456"})
    assert status == 200, body


def auth_lookup(stack: Stack, uid: str) -> dict[str, Any] | None:
    status, body = _auth(stack, ":lookup", {"localId": [uid]})
    assert status == 200, body
    users = body.get("users") or []
    return users[0] if users else None


def shared_room(call: Call, *uids: str, size: int = 2) -> str:
    """A select room created by the first uid and joined by the others (active from the second on),
    through matching_api."""
    status, created = call("POST", "/matching_api/rooms", uids[0], {"maxParticipants": size})
    assert status == 201, created
    for uid in uids[1:]:
        status, joined = call("POST", "/matching_api/rooms/join", uid, {"roomCode": created["roomCode"]})
        assert status == 200, joined
    return str(created["roomId"])
