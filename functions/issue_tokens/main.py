"""`issue_tokens` (HTTPS, Firebase ID token): LiveKit room tokens, WebSocket tokens, and the JWKS.

Routes are documented in docs/openapi/issue_tokens.yaml; the design in docs/tokens.md. The hottest
HTTP path of the product: a cache hit costs one Redis script (the rate limit and the cache read together).
"""

from __future__ import annotations

from datetime import UTC, datetime

import functions_framework
from flask import Request, Response

from shared import ids
from shared.config import settings
from shared.http import Api, ApiRequest, Budget, Reply
from shared.tokens import issue, ws
from shared.validate import get_str, reject_unknown

api = Api("issue_tokens", stores=("firestore", "redis"))
JWKS_MAX_AGE_S = 300  # verifiers refetch within 5 minutes, the lifetime of a WebSocket token


def _room_id(body: dict[str, object], *, required: bool) -> str | None:
    reject_unknown(body, ("roomId",))
    raw = get_str(body, "roomId", required=required, max_len=128)
    return None if raw is None else ids.room_id(raw)


# The budget is taken by the script that reads the token cache: a cache hit is one Redis round trip.
LIVEKIT_BUDGET = Budget("livekit-token", lambda: settings().rate_limit_livekit_per_min, with_first_read=True)


@api.route("POST", "/livekit-token", budget=LIVEKIT_BUDGET)
def livekit_token(request: ApiRequest) -> Reply:
    room_id = _room_id(request.json(), required=True)
    assert room_id is not None
    body, hit = issue.livekit_token(request.uid, room_id, datetime.now(UTC), request.budget)
    return Reply(200, body, log={"roomId": room_id, "cacheHit": hit, "expiresAt": body["expiresAt"]})


@api.route("POST", "/ws-token", budget=Budget("ws-token", lambda: settings().rate_limit_ws_per_min))
def ws_token(request: ApiRequest) -> Reply:
    room_id = _room_id(request.json(optional=True), required=False)
    body = issue.ws_token(request.uid, room_id, datetime.now(UTC))
    return Reply(200, body, log={"roomId": room_id, "expiresAt": body["expiresAt"]})


@api.route("GET", "/.well-known/jwks.json", auth=False)
def jwks(request: ApiRequest) -> Reply:
    return Reply(200, ws.jwks(), {"Cache-Control": f"public, max-age={JWKS_MAX_AGE_S}"})


@functions_framework.http
def issue_tokens(request: Request) -> Response:
    return api(request)
