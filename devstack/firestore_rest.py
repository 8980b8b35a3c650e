"""A small REST client for the Firestore emulator, used by the stack (demo data) and the tests.

It speaks as a given user (an unsigned emulator ID token, so `firestore.rules` apply) or as `owner`
(rules bypassed), which the Python client library cannot do: it always sends `Bearer owner`.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any


def unsigned_token(uid: str, project: str, **claims: Any) -> str:
    """An ID token as the Auth emulator issues it (`alg: none`)."""
    now = int(datetime.now(UTC).timestamp())
    payload = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "sub": uid,
        "user_id": uid,
        "firebase": {"sign_in_provider": "password", "identities": {}},
        **claims,
    }

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def to_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"nullValue": None}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"integerValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, datetime):
        return {"timestampValue": value.astimezone(UTC).isoformat().replace("+00:00", "Z")}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [to_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"mapValue": {"fields": {k: to_value(v) for k, v in value.items()}}}
    raise TypeError(f"cannot encode {type(value).__name__} as a Firestore value")


def from_value(value: dict[str, Any]) -> Any:
    ((kind, raw),) = value.items()
    if kind == "nullValue":
        return None
    if kind == "integerValue":
        return int(raw)
    if kind == "timestampValue":
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if kind == "arrayValue":
        return [from_value(v) for v in raw.get("values", [])]
    if kind == "mapValue":
        return {k: from_value(v) for k, v in raw.get("fields", {}).items()}
    return raw


class FirestoreRest:
    def __init__(self, host: str, project: str, token: str = "owner") -> None:
        self.base = f"http://{host}/v1/projects/{project}/databases/(default)/documents"
        self.emulator = f"http://{host}/emulator/v1/projects/{project}"
        self.project = project
        self.token = token

    def as_user(self, uid: str | None, **claims: Any) -> FirestoreRest:
        """The same client speaking as `uid` (None: unauthenticated)."""
        client = FirestoreRest.__new__(FirestoreRest)
        client.base, client.emulator, client.project = self.base, self.emulator, self.project
        client.token = unsigned_token(uid, self.project, **claims) if uid else ""
        return client

    def request(self, method: str, url: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode(errors="replace")

    # -- documents ------------------------------------------------------------------------------
    def get(self, path: str) -> tuple[int, dict[str, Any] | None]:
        status, body = self.request("GET", f"{self.base}/{path}")
        if status != 200:
            return status, None
        return status, {k: from_value(v) for k, v in body.get("fields", {}).items()}

    def set(self, path: str, data: dict[str, Any]) -> int:
        """Create or replace the whole document."""
        status, _ = self.request(
            "PATCH", f"{self.base}/{path}", {"fields": {k: to_value(v) for k, v in data.items()}}
        )
        return status

    def create(self, path: str, data: dict[str, Any], server_time_fields: tuple[str, ...] = ()) -> int:
        """Create the document (409 if it exists); `server_time_fields` get request.time."""
        if server_time_fields:
            return self._commit(path, data, server_time_fields, exists=False)
        parent, _, doc_id = path.rpartition("/")
        url = f"{self.base}/{parent}?documentId={urllib.parse.quote(doc_id)}"
        status, _ = self.request("POST", url, {"fields": {k: to_value(v) for k, v in data.items()}})
        return status

    def update(self, path: str, data: dict[str, Any], server_time_fields: tuple[str, ...] = ()) -> int:
        """Update only the named fields (like the SDKs' update()); `server_time_fields` get request.time."""
        if server_time_fields:
            return self._commit(path, data, server_time_fields, exists=True)
        mask = "&".join(f"updateMask.fieldPaths={urllib.parse.quote(k)}" for k in data)
        url = f"{self.base}/{path}?currentDocument.exists=true" + (f"&{mask}" if mask else "")
        status, _ = self.request("PATCH", url, {"fields": {k: to_value(v) for k, v in data.items()}})
        return status

    def _commit(
        self, path: str, data: dict[str, Any], server_time_fields: tuple[str, ...], exists: bool
    ) -> int:
        """One write through :commit, the only REST call that sets a field to the request time."""
        name = f"projects/{self.project}/databases/(default)/documents/{path}"
        fields = {k: to_value(v) for k, v in data.items() if k not in server_time_fields}
        write: dict[str, Any] = {
            "update": {"name": name, "fields": fields},
            "updateTransforms": [
                {"fieldPath": f, "setToServerValue": "REQUEST_TIME"} for f in server_time_fields
            ],
            "currentDocument": {"exists": exists},
        }
        if exists:
            write["updateMask"] = {"fieldPaths": [k for k in data if k not in server_time_fields]}
        status, _ = self.request(
            "POST", f"{self.base.rsplit('/documents', 1)[0]}/documents:commit", {"writes": [write]}
        )
        return status

    def delete(self, path: str) -> int:
        status, _ = self.request("DELETE", f"{self.base}/{path}")
        return status

    def query(
        self, collection: str, structured: dict[str, Any], parent: str = ""
    ) -> tuple[int, list[dict[str, Any]]]:
        """Run a structured query (`where`, `orderBy`, `limit` ...) on `collection`."""
        url = f"{self.base}/{parent}:runQuery" if parent else f"{self.base}:runQuery"
        status, body = self.request(
            "POST", url, {"structuredQuery": {"from": [{"collectionId": collection}], **structured}}
        )
        if status != 200 or not isinstance(body, list):
            return status, []
        return status, [
            {k: from_value(v) for k, v in item["document"].get("fields", {}).items()}
            for item in body
            if "document" in item
        ]

    def clear(self) -> None:
        """Delete every document in the emulator (owner only)."""
        self.request("DELETE", f"{self.emulator}/databases/(default)/documents")
