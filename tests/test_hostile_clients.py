"""What a hostile or careless client can send, through the real stack: every answer a JSON 4xx naming
the problem, never a 5xx, never another user's data, never a worker held for long."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from typing import Any

import pytest

from devstack.stack import Stack
from tests.conftest import http, wait_for
from tests.matching_helpers import new_user

pytestmark = pytest.mark.stack

HTTP_FUNCTIONS = ("issue_tokens", "matching_api", "invitations_api")
Call = Callable[..., tuple[int, Any, dict[str, str]]]


@pytest.fixture
def call(gateway: str, token: Callable[..., str]) -> Call:
    def do(
        function: str, method: str, path: str, body: Any = None, *, uid: str | None = None, **claims: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {token(uid or 'h' + uuid.uuid4().hex[:12], **claims)}"}
        return http(method, f"{gateway}/{function}{path}", body, headers)

    return do


def snowflake() -> str:
    return str(uuid.uuid4().int)[:18]


def discord_uid() -> str:
    return str(uuid.uuid4().int)[:18]


def invitation(**overrides: Any) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=1)
    body = {
        "id": snowflake(),
        "threadId": snowflake(),
        "eventName": "夜の観光",
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=2)).isoformat(),
        "worldName": "World",
        "tag": "観光",
        "description": "",
        "instanceType": "group",
        "maxParticipants": 5,
    }
    return {**body, **overrides}


# -- text no store can hold -------------------------------------------------------------------------
POISON = ["\ud800", "a\udfffb", "nul\u0000byte"]
TEXT_FIELDS = ["eventName", "worldName", "description", "hostName"]


@pytest.mark.parametrize("poison", POISON)
@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_unstorable_text_is_a_400_naming_the_field(call: Call, field: str, poison: str) -> None:
    status, body, _ = call(
        "invitations_api", "POST", "/invitations", invitation(**{field: poison}), uid=discord_uid()
    )
    assert status == 400, body
    assert body["error"]["field"] == field


def test_raw_invalid_utf8_is_a_400(gateway: str, token: Callable[..., str]) -> None:
    raw = b'{"eventName": "\xed\xa0\x80"}'  # a surrogate encoded as if it were UTF-8
    headers = {"Authorization": f"Bearer {token(discord_uid())}", "Content-Type": "application/json"}
    status, body, _ = http("POST", f"{gateway}/invitations_api/invitations", raw, headers)
    assert status == 400 and body["error"]["code"] == "invalid_json"


def test_poison_then_read_every_user_gets_only_their_own_rows(call: Call) -> None:
    """The leak: a query that fails half-way through being sent left its pooled connection out of
    step, and the next caller read another's answer. Poison every way a client can, interleaved with
    hundreds of reads by several users; each read must be the reader's own tickets, and nothing 5xx."""
    users = [discord_uid() for _ in range(6)]
    own = {}
    for uid in users:
        ticket_id = snowflake()
        status, body, _ = call(
            "invitations_api", "POST", "/tickets", {"id": ticket_id, "category": "other"}, uid=uid
        )
        assert status == 201, body
        own[uid] = ticket_id

    def poison(i: int) -> int:
        text = POISON[i % len(POISON)]
        field = TEXT_FIELDS[i % len(TEXT_FIELDS)]
        return int(
            call("invitations_api", "POST", "/invitations", invitation(**{field: text}), uid=discord_uid())[0]
        )

    def read(i: int) -> tuple[str, int, list[str]]:
        uid = users[i % len(users)]
        status, body, _ = call("invitations_api", "GET", "/tickets/mine", uid=uid)
        return uid, status, [item["id"] for item in body.get("items", [])] if status == 200 else []

    with ThreadPoolExecutor(max_workers=8) as pool:
        poisons = pool.map(poison, range(60))
        reads = list(pool.map(read, range(300)))
    assert set(poisons) == {400}
    for uid, status, ids in reads:
        assert status == 200
        assert ids == [own[uid]], f"{uid} read {ids}"


# -- shapes no decoder should trust -------------------------------------------------------------------
@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_json_nested_ten_thousand_deep_is_a_400(call: Call, function: str) -> None:
    path = {"issue_tokens": "/ws-token", "matching_api": "/queue", "invitations_api": "/invitations"}[
        function
    ]
    deep = ('{"a":' * 10_000 + "{}" + "}" * 10_000).encode()
    status, body, _ = call(function, "POST", path, deep, uid=discord_uid())
    assert status == 400 and body["error"]["code"] == "invalid_json", body


def test_a_start_time_before_year_one_in_utc_is_a_400(call: Call) -> None:
    body = invitation(startTime="0001-01-01T00:00:00+01:00")
    status, reply, _ = call("invitations_api", "POST", "/invitations", body, uid=discord_uid())
    assert status == 400 and reply["error"]["field"] == "startTime"


@pytest.mark.parametrize(
    ("function", "method", "path", "body"),
    [
        ("issue_tokens", "POST", "/livekit-token", {"roomId": "__x__"}),
        ("issue_tokens", "POST", "/ws-token", {"roomId": "__x__"}),
        ("matching_api", "POST", "/rooms/__x__/leave", None),
        ("issue_tokens", "POST", "/livekit-token", {"roomId": "a/b"}),
        ("issue_tokens", "POST", "/ws-token", {"roomId": None}),
    ],
)
def test_reserved_and_malformed_room_ids_are_a_400(
    call: Call, function: str, method: str, path: str, body: Any
) -> None:
    status, reply, _ = call(function, method, path, body)
    assert status == 400 and reply["error"]["field"] == "roomId", reply


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_a_line_break_in_the_path_is_a_json_404(call: Call, function: str) -> None:
    status, body, headers = call(function, "GET", "/no%0Awhere")
    assert status == 404
    assert headers["Content-Type"].startswith("application/json") and body["error"]["code"] == "not_found"


def _raw_post(
    stack: Stack, path: str, headers: dict[str, str], chunks: list[bytes], chunked: bool
) -> tuple[int, Any]:
    connection = HTTPConnection("127.0.0.1", stack.ports.functions["invitations_api"], timeout=30)
    try:
        connection.putrequest("POST", path)
        for name, value in headers.items():
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for chunk in chunks:
            if chunked:
                connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            else:
                connection.send(chunk)
        if chunked:
            connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_a_declared_oversized_body_is_refused_before_it_is_read(
    stack: Stack, token: Callable[..., str]
) -> None:
    """Content-Length says 10 MB and not a byte follows: the answer comes at once, not after a wait."""
    headers = {
        "Authorization": f"Bearer {token(discord_uid())}",
        "Content-Type": "application/json",
        "Content-Length": str(10 * 1024 * 1024),
    }
    status, body = _raw_post(stack, "/invitations", headers, [], chunked=False)
    assert status == 413 and body["error"]["code"] == "payload_too_large"


def test_a_chunked_body_is_cut_off_past_the_limit(stack: Stack, token: Callable[..., str]) -> None:
    headers = {"Authorization": f"Bearer {token(discord_uid())}", "Content-Type": "application/json"}
    chunks = [b'{"x": "' + b"a" * 16_000] + [b"a" * 16_000] * 6 + [b'"}']
    status, body = _raw_post(stack, "/invitations", headers, chunks, chunked=True)
    assert status == 413 and body["error"]["code"] == "payload_too_large"


# -- null where a string was promised -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("function", "method", "path", "body", "field"),
    [
        ("matching_api", "POST", "/queue", {"preferences": None}, "preferences"),
        ("matching_api", "POST", "/queue", {"preferences": {"gender": None}}, "preferences.gender"),
        ("matching_api", "POST", "/rooms/join", {"roomCode": None}, "roomCode"),
        ("issue_tokens", "POST", "/livekit-token", {"roomId": None}, "roomId"),
        ("invitations_api", "POST", "/invitations", invitation(hostName=None), "hostName"),
        ("invitations_api", "POST", "/invitations", invitation(description=None), "description"),
        (
            "invitations_api",
            "POST",
            "/tickets",
            {"id": "1", "category": "other", "userName": None},
            "userName",
        ),
    ],
)
def test_null_is_refused_where_the_document_does_not_allow_it(
    call: Call, function: str, method: str, path: str, body: Any, field: str
) -> None:
    status, reply, _ = call(function, method, path, body, uid=discord_uid())
    assert status == 400 and reply["error"]["field"] == field, reply
    assert "null" in reply["error"]["message"]


def test_null_clears_a_nullable_field(call: Call) -> None:
    host = discord_uid()
    status, created, _ = call(
        "invitations_api", "POST", "/invitations", invitation(worldLink="https://vrchat.com/w/1"), uid=host
    )
    assert status == 201 and created["worldLink"] == "https://vrchat.com/w/1"
    status, patched, _ = call(
        "invitations_api", "PATCH", f"/invitations/{created['id']}", {"worldLink": None}, uid=host
    )
    assert status == 200 and patched["worldLink"] is None


# -- one user flooding beside a bystander ---------------------------------------------------------------
def test_sixteen_parallel_queue_requests_of_one_user_do_not_hold_the_function(call: Call) -> None:
    from tests.matching_helpers import clear_matching_redis

    clear_matching_redis()  # nobody left waiting whom the worker could pair the flooder with
    flooder, bystander = new_user("male"), new_user("female")

    def flood(_: int) -> tuple[int, float]:
        started = time.monotonic()
        status = call("matching_api", "POST", "/queue", {}, uid=flooder)[0]
        return status, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=17) as pool:
        flooding = [pool.submit(flood, i) for i in range(16)]
        bystanders = [
            pool.submit(call, "matching_api", "POST", "/presence", {"status": "online"}, uid=bystander)
        ]
        results = [f.result() for f in flooding]
        assert bystanders[0].result()[0] == 200
    statuses = sorted(status for status, _ in results)
    # One at a time: each either went through (202) or was turned away at once (429 concurrent_request).
    assert set(statuses) <= {202, 429} and 202 in statuses, statuses
    # ... and after the flood the same user is served as usual (nothing stays locked).
    assert call("matching_api", "POST", "/queue", {}, uid=flooder)[0] == 202
    assert call("matching_api", "DELETE", "/queue", uid=flooder)[0] == 200


# -- budgets ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("function", "method", "path", "body", "per_minute"),
    [
        ("matching_api", "POST", "/rooms/join", {"roomCode": "ZZZZZZ"}, 10),
        ("matching_api", "POST", "/presence", {"status": "online"}, 12),
        ("matching_api", "POST", "/rooms", {"maxParticipants": 9}, 10),
        ("invitations_api", "POST", "/tickets", {"id": "notasnowflake", "category": "other"}, 5),
        ("invitations_api", "POST", "/invitations", {"id": "x"}, 10),
        ("invitations_api", "POST", "/invitations/1/participants", {"status": "joined"}, 20),
    ],
)
def test_each_write_route_has_a_per_user_budget(
    call: Call, function: str, method: str, path: str, body: Any, per_minute: int
) -> None:
    """A full minute's allowance may burst; the next request is 429 with Retry-After, whatever the
    body (invalid bodies spend budget too: the budget is checked before the body is read), and
    another user is not affected."""
    uid = discord_uid()
    for _ in range(per_minute):
        assert call(function, method, path, body, uid=uid)[0] != 429
    status, reply, headers = call(function, method, path, body, uid=uid)
    assert status == 429 and reply["error"]["code"] == "rate_limited"
    assert int(headers["Retry-After"]) >= 1
    assert call(function, method, path, body, uid=discord_uid())[0] != 429


def test_a_stranger_cannot_tell_a_full_room_from_a_missing_one(call: Call) -> None:
    owner, guest = new_user(), new_user()
    status, created, _ = call("matching_api", "POST", "/rooms", {"maxParticipants": 2}, uid=owner)
    assert status == 201
    assert call("matching_api", "POST", "/rooms/join", {"roomCode": created["roomCode"]}, uid=guest)[0] == 200
    full = call("matching_api", "POST", "/rooms/join", {"roomCode": created["roomCode"]}, uid=new_user())
    missing = call("matching_api", "POST", "/rooms/join", {"roomCode": "ZZZZZZ"}, uid=new_user())
    assert full[0] == missing[0] == 404 and full[1] == missing[1]


# -- tokens never outlive membership --------------------------------------------------------------------
def test_a_partner_never_gets_a_token_for_a_room_that_closed(call: Call) -> None:
    """The race: the room closed and the partner's currentRoomId is gone, yet a cached token used to
    be served for a moment. Repeated: once the leave has answered, the partner's next request is
    refused, every time."""
    from tests.matching_helpers import user

    for _ in range(12):
        owner, partner = new_user(), new_user()
        _, created, _ = call("matching_api", "POST", "/rooms", {"maxParticipants": 2}, uid=owner)
        room_id = created["roomId"]
        assert (
            call("matching_api", "POST", "/rooms/join", {"roomCode": created["roomCode"]}, uid=partner)[0]
            == 200
        )
        for uid in (owner, partner):  # both hold cached tokens
            assert call("issue_tokens", "POST", "/livekit-token", {"roomId": room_id}, uid=uid)[0] == 200
        assert call("matching_api", "POST", f"/rooms/{room_id}/leave", uid=owner)[1]["left"] is True
        assert "currentRoomId" not in user(partner)  # what the partner's listener sees ...
        status, body, _ = call("issue_tokens", "POST", "/livekit-token", {"roomId": room_id}, uid=partner)
        assert status in (403, 409), body  # ... and the token route agrees, at once
        status, body, _ = call("issue_tokens", "POST", "/livekit-token", {"roomId": room_id}, uid=owner)
        assert status in (403, 409), body


def test_a_select_room_rejoined_gets_tokens_again(call: Call) -> None:
    owner, guest = new_user(), new_user()
    _, created, _ = call("matching_api", "POST", "/rooms", {"maxParticipants": 3}, uid=owner)
    room_id, code = created["roomId"], created["roomCode"]
    helper = new_user()
    assert call("matching_api", "POST", "/rooms/join", {"roomCode": code}, uid=helper)[0] == 200
    assert call("matching_api", "POST", "/rooms/join", {"roomCode": code}, uid=guest)[0] == 200
    assert call("issue_tokens", "POST", "/livekit-token", {"roomId": room_id}, uid=guest)[0] == 200
    assert call("matching_api", "POST", f"/rooms/{room_id}/leave", uid=guest)[0] == 200
    assert call("issue_tokens", "POST", "/livekit-token", {"roomId": room_id}, uid=guest)[0] == 403
    assert call("matching_api", "POST", "/rooms/join", {"roomCode": code}, uid=guest)[0] == 200
    wait_for(lambda: call("issue_tokens", "POST", "/livekit-token", {"roomId": room_id}, uid=guest)[0] == 200)


def test_query_parameters_are_checked(call: Call) -> None:
    for query, field in (
        ("?limit=%C2%B2", "limit"),
        ("?unknown=1", "unknown"),
        ("?limit=1&limit=2", "limit"),
        ("?tag=", "tag"),
    ):
        status, body, _ = call("invitations_api", "GET", "/invitations" + query, uid=discord_uid())
        assert status == 400 and body["error"]["field"] == field, (query, body)
    status, body, _ = call(
        "invitations_api", "GET", "/invitations?cursor=" + urllib.parse.quote("a\nb"), uid=discord_uid()
    )
    assert status == 400 and body["error"]["field"] == "cursor"


def test_with_redis_down_answers_are_json_and_a_503_with_retry_after_not_a_500(
    stack: Stack, call: Call
) -> None:
    """Redis is an accelerator for invitations (list cache) and a store for matching. While it is
    down, budgets and the one-request-at-a-time lock step aside, invitations are still served from
    PostgreSQL, and a route that needs Redis says 503 with Retry-After, never 500."""
    reader, matcher = discord_uid(), new_user()
    stack.stop_process("redis")
    try:
        status, body, _ = call("invitations_api", "GET", "/invitations", uid=reader)
        assert status == 200 and "items" in body
        status, body, headers = call("matching_api", "POST", "/presence", {"status": "online"}, uid=matcher)
        assert status == 503 and body["error"]["code"] == "unavailable" and int(headers["Retry-After"]) >= 1
    finally:
        stack.restart_process("redis")
    assert call("matching_api", "POST", "/presence", {"status": "online"}, uid=matcher)[0] == 200
