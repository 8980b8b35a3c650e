"""A newcomer's first five minutes: demo users (in the Auth emulator and Firestore), a few public VRM
models, how to get an ID token, and one example request per HTTP function."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from devstack.firestore_rest import FirestoreRest

if TYPE_CHECKING:
    from devstack.stack import Stack

PASSWORD = "vchat-demo-password"
USERS: dict[str, dict[str, Any]] = {
    "alice": {"displayName": "Alice", "gender": "female", "staff": False},
    "bob": {"displayName": "Bob", "gender": "male", "staff": False},
    "carol": {"displayName": "Carol", "gender": "other", "staff": False},
    "staff": {"displayName": "Staff Sato", "gender": "other", "staff": True},
}
MODELS = [
    ("demo-model-1", "Sakura", "VRoid Project", ["girl", "casual"], 1520),
    ("demo-model-2", "Kaito", "VRoid Project", ["boy", "school"], 980),
    ("demo-model-3", "Robo", "Demo Author", ["robot"], 310),
]


def _auth(info: dict[str, Any], path: str, body: dict[str, Any], admin: bool = False) -> dict[str, Any]:
    host = info["FIREBASE_AUTH_EMULATOR_HOST"]
    headers = {"Content-Type": "application/json"}
    if admin:
        headers["Authorization"] = "Bearer owner"
    request = urllib.request.Request(
        f"http://{host}/identitytoolkit.googleapis.com/v1/{path}",
        data=json.dumps(body).encode(),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


def uid_of(user: str) -> str:
    return f"demo-{user}"


def ensure_auth_user(info: dict[str, Any], user: str, staff: bool = False) -> None:
    project = info["projectId"]
    try:
        _auth(
            info,
            f"projects/{project}/accounts",
            {
                "localId": uid_of(user),
                "email": f"{user}@example.com",
                "password": PASSWORD,
                "displayName": USERS.get(user, {}).get("displayName", user),
            },
            admin=True,
        )
    except urllib.error.HTTPError as exc:
        if exc.code != 400:  # 400 DUPLICATE_LOCAL_ID: already there
            raise
    if staff:
        _auth(
            info,
            f"projects/{project}/accounts:update",
            {"localId": uid_of(user), "customAttributes": json.dumps({"staff": True})},
            admin=True,
        )


def id_token(info: dict[str, Any], user: str, staff: bool = False) -> str:
    """Sign in as a demo user through the Auth emulator and return the ID token."""
    if not info.get("FIREBASE_AUTH_EMULATOR_HOST"):
        raise SystemExit("this stack runs without the Auth emulator")
    ensure_auth_user(info, user, staff=staff or USERS.get(user, {}).get("staff", False))
    result = _auth(
        info,
        "accounts:signInWithPassword?key=local",
        {"email": f"{user}@example.com", "password": PASSWORD, "returnSecureToken": True},
    )
    return str(result["idToken"])


def load(stack: Stack) -> None:
    info = stack.info()
    firestore = FirestoreRest(info["FIRESTORE_EMULATOR_HOST"], info["projectId"])
    now = datetime.now(UTC)
    for user, profile in USERS.items():
        if info.get("FIREBASE_AUTH_EMULATOR_HOST"):
            ensure_auth_user(info, user, staff=bool(profile["staff"]))
        _, existing = firestore.get(f"users/{uid_of(user)}")
        if existing is None:
            firestore.set(
                f"users/{uid_of(user)}",
                {
                    "displayName": profile["displayName"],
                    "username": user,
                    "gender": profile["gender"],
                    "status": "offline",
                    "createdAt": now,
                    "lastActiveAt": now,
                    # Demo users are adults: the queue and select rooms require the confirmation.
                    "adultConfirmedAt": now,
                },
            )
            firestore.set(f"users/{uid_of(user)}/private/profile", {"email": f"{user}@example.com"})
        elif "adultConfirmedAt" not in existing:  # created by an older version of this file
            firestore.update(f"users/{uid_of(user)}", {"adultConfirmedAt": now})
    for model_id, name, author, tags, downloads in MODELS:
        firestore.set(
            f"vrmModels/{model_id}",
            {
                "vroidModelId": model_id,
                "name": name,
                "description": f"{name}, a demo model",
                "authorName": author,
                "thumbnailUrl": f"https://example.com/{model_id}.png",
                "license": {
                    "type": "vroid_hub",  # as the sync maps a VRM 0.x model (docs/vroid.md)
                    "allowModification": False,
                    "allowRedistribution": False,
                    "requireCredit": True,
                },
                "tags": tags,
                "ageLimit": {"isR18": False, "isR15": False},
                "isPublic": True,
                "downloadCount": downloads,
                "createdAt": now,
                "syncedAt": now,
            },
        )


def banner(stack: Stack, info: dict[str, Any]) -> str:
    gw = info["gatewayUrl"]
    web_app = info.get("webAppUrl")
    lines = [
        "",
        "V-Chat local stack",
        *(
            [f"  web app          {web_app}   (open it in two windows, sign up twice, match: README)"]
            if web_app
            else []
        ),
        f"  gateway          {gw}   (HTTP functions at {gw}/<function>/<path>)",
        f"  event router     {info['eventRouterUrl']}   (GET /deliveries, GET /scheduler/jobs)",
        f"  Firestore        {info['FIRESTORE_EMULATOR_HOST']}",
        f"  Pub/Sub          {info['PUBSUB_EMULATOR_HOST']}",
        f"  Auth emulator    {info['FIREBASE_AUTH_EMULATOR_HOST']}",
        f"  PostgreSQL       {info['DATABASE_URL']}",
        f"  Redis            {info['REDIS_URL']}",
        f"  VRoid Hub (stand-in) {info['vroidHubUrl']}",
        f"  realtime (WebSocket) {info['realtimeUrl']}/rooms/<roomId>?access_token=<ws-token>",
        f"  Discord (stand-in)   {info['discord']['apiUrl']}   (GET /_calls, /_messages/<id>; slash commands registered)",
        f"  Discord interactions {info['discord']['interactionsUrl']}",
        f"  LiveKit          {info['livekit']['url']} (api key {info['livekit']['apiKey']})",
        f"  endpoints as JSON: {stack.state_dir / 'stack.json'}   logs: {info['logs']}",
        "",
        "Demo users: alice, bob, carol, staff (password in devstack/demo.py). An ID token:",
        "  TOKEN=$(make token USER=alice)",
        "Try:",
        f"  curl {gw}/issue_tokens/healthz",
        f'  curl -X POST {gw}/matching_api/queue -H "Authorization: Bearer $TOKEN" '
        "-H 'Content-Type: application/json' -d '{\"preferences\":{}}'",
        f'  curl -X POST {gw}/issue_tokens/ws-token -H "Authorization: Bearer $TOKEN"',
        f"  curl '{gw}/invitations_api/invitations?tag=ゲーム' -H \"Authorization: Bearer $TOKEN\"",
        "Play Discord (signed interactions as a guild member; the modal is filled with demo values):",
        "  make discord-interaction USER=alice CMD='/invite tag:ゲーム instance_type:friend max_participants:8'",
        "  make discord-interaction USER=bob CMD='button:inv:join' MESSAGE=<message id from the reply or /invites>",
        "  make discord-interaction USER=staff CMD='/tickets'",
        "Sign in on the web with Discord (hosting and joining through invitations_api need it):",
        "  DTOKEN=$(make -s discord-token USER=alice)",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)
