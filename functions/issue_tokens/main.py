"""`issue_tokens` (HTTPS, Firebase ID token): LiveKit room tokens, WebSocket tokens, and the JWKS.

Routes are documented in docs/openapi/issue_tokens.yaml; the design in docs/tokens.md. The hottest
HTTP path of the product: a cache hit costs one Redis script (rate limit) and one Redis GET.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import functions_framework
from flask import Request, Response

from shared.http import Api, ApiRequest, Reply
from shared.tokens import issue, ratelimit, ws
from shared.validate import get_str, reject_unknown

api = Api("issue_tokens", stores=("firestore", "redis"))
ROOM_ID = re.compile(r"[A-Za-z0-9_-]+")  # Firestore auto ids, uuid hex, and the matching's ids
JWKS_MAX_AGE_S = 300  # verifiers refetch within 5 minutes, the lifetime of a WebSocket token


def _room_id(body: dict[str, object], *, required: bool) -> str | None:
    reject_unknown(body, ("roomId",))
    return get_str(body, "roomId", required=required, max_len=128, pattern=ROOM_ID)


@api.route("POST", "/livekit-token")
def livekit_token(request: ApiRequest) -> Reply:
    room_id = _room_id(request.json(), required=True)
    assert room_id is not None
    ratelimit.check(
        ratelimit.Limit.from_settings("livekit-token", "RATE_LIMIT_LIVEKIT_PER_MIN", 30), request.uid
    )
    body, _ = issue.livekit_token(request.uid, room_id, datetime.now(UTC))
    return Reply(200, body)


@api.route("POST", "/ws-token")
def ws_token(request: ApiRequest) -> Reply:
    room_id = _room_id(request.json(optional=True), required=False)
    ratelimit.check(ratelimit.Limit.from_settings("ws-token", "RATE_LIMIT_WS_PER_MIN", 60), request.uid)
    return Reply(200, issue.ws_token(request.uid, room_id, datetime.now(UTC)))


@api.route("GET", "/.well-known/jwks.json", auth=False)
def jwks(request: ApiRequest) -> Reply:
    return Reply(200, ws.jwks(), {"Cache-Control": f"public, max-age={JWKS_MAX_AGE_S}"})


@functions_framework.http
def issue_tokens(request: Request) -> Response:
    return api(request)
