"""`matching_api` (HTTPS, Firebase ID token): random queue, select rooms by code, presence heartbeat.

Routes are documented in docs/openapi/matching_api.yaml (tests/test_matching_openapi.py keeps the two
in step). The domain code is in shared/matching/.
"""

from __future__ import annotations

from datetime import UTC, datetime

import functions_framework
from flask import Request, Response

from shared import ids, vocab
from shared.config import settings
from shared.http import Api, ApiRequest, Budget, Reply
from shared.matching import model, queue, wake
from shared.rooms import codes, membership, select
from shared.users import state
from shared.validate import get_int, get_str, reject_unknown

api = Api("matching_api", stores=("firestore", "redis", "pubsub"))
# Every route here changes the caller's own user document: one request of a user at a time.
USER_STATE = "user-state"
QUEUE = Budget("queue", lambda: settings().rate_limit_queue_per_min)


def _now() -> datetime:
    return datetime.now(UTC)


@api.route("POST", "/queue", budget=QUEUE, exclusive=USER_STATE)
def join_queue(request: ApiRequest) -> Reply:
    preferences = model.parse_queue_body(request.json(optional=True))
    ticket = queue.enqueue(request.uid, preferences, _now())
    wake.request_pairing(request.uid)
    return Reply(202, ticket.to_json())


@api.route("DELETE", "/queue", budget=QUEUE, exclusive=USER_STATE)
def leave_queue(request: ApiRequest) -> Reply:
    return Reply(200, {"removed": queue.remove_from_queue(request.uid, reason="user_left")})


@api.route(
    "POST",
    "/rooms",
    budget=Budget("room-create", lambda: settings().rate_limit_room_create_per_min),
    exclusive=USER_STATE,
)
def create_room(request: ApiRequest) -> Reply:
    body = request.json()
    reject_unknown(body, ("maxParticipants",))
    size = get_int(body, "maxParticipants", minimum=model.MIN_ROOM_SIZE, maximum=model.MAX_ROOM_SIZE)
    assert size is not None
    room = select.create_select_room(request.uid, size, _now())
    return Reply(201, room.to_json())


@api.route(
    "POST",
    "/rooms/join",
    budget=Budget("room-join", lambda: settings().rate_limit_room_join_per_min),
    exclusive=USER_STATE,
)
def join_room(request: ApiRequest) -> Reply:
    body = request.json()
    reject_unknown(body, ("roomCode",))
    code = codes.parse_code(get_str(body, "roomCode", max_len=32))
    return Reply(200, {"roomId": select.join_by_code(request.uid, code, _now())})


@api.route(
    "POST",
    "/rooms/<room_id>/leave",
    budget=Budget("room-leave", lambda: settings().rate_limit_room_leave_per_min),
    exclusive=USER_STATE,
)
def leave_room(request: ApiRequest) -> Reply:
    room_id = ids.room_id(request.params["room_id"])
    left = membership.leave(request.uid, room_id, _now())
    return Reply(200, {"roomId": room_id, "left": left.changed})


@api.route(
    "POST",
    "/presence",
    budget=Budget("presence", lambda: settings().rate_limit_presence_per_min),
    exclusive=USER_STATE,
)
def heartbeat(request: ApiRequest) -> Reply:
    body = request.json()
    reject_unknown(body, ("status",))
    status = get_str(body, "status", choices=vocab.CLIENT_STATUSES)
    assert status is not None
    beat = state.heartbeat(request.uid, status, _now())
    return Reply(200, {"status": beat.status, "written": beat.written})


@functions_framework.http
def matching_api(request: Request) -> Response:
    return api(request)
