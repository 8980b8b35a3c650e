"""One time format in every JSON response: RFC 3339, UTC, `Z`, milliseconds (shared/times.py).

Two halves. The documents: every time a response schema can hold is typed with that exact pattern
(the schemathesis pass in test_contract_fuzz.py then holds the served answers to it). The stack:
every documented operation whose answer holds a time is called once, and every string in every
answer that looks like a time must be in the one format, nested ones included (the export).
"""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml

from deploy.manifest import ROOT
from devstack.firestore_rest import unsigned_token
from devstack.stack import Stack
from tests.conftest import http

TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"
DOCUMENTS = ROOT / "docs" / "openapi"
APIS = ("matching_api", "issue_tokens", "invitations_api", "account_api", "discord_auth")
METHODS = ("get", "post", "put", "patch", "delete")
# Anything a client could take for a time: a date, a `T` or space, hours and minutes.
LOOKS_LIKE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# Response properties named like times must be typed as times (a time typed as a plain string would
# escape the pattern check below).
TIME_NAMES = re.compile(r"(At|Time)$|^(until|since)$")


def load(api: str) -> dict[str, Any]:
    return dict(yaml.safe_load((DOCUMENTS / f"{api}.yaml").read_text()))


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _schemas(spec: dict[str, Any], node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema reachable from `node`, with the property name it sits under ('' when none).
    (The documents hold no recursive schemas; the bound only keeps a future one from hanging.)"""
    stack: list[tuple[str, Any]] = [("", node)]
    for _ in range(100_000):
        if not stack:
            return
        name, current = stack.pop()
        current = _resolve(spec, current)
        if not isinstance(current, dict):
            continue
        yield name, current
        for key in ("allOf", "anyOf", "oneOf"):
            stack += [("", sub) for sub in current.get(key, [])]  # named by their parent
        if "items" in current:
            stack.append((name, current["items"]))
        for prop, sub in (current.get("properties") or {}).items():
            stack.append((prop, sub))
        if isinstance(current.get("additionalProperties"), dict):
            stack.append((name, current["additionalProperties"]))
    raise AssertionError("a recursive schema: bound the walk differently")


def response_schemas(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(operation, status, property name, schema) for every schema any documented response holds."""
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            for status, response in item[method].get("responses", {}).items():
                response = _resolve(spec, response)
                for media in (response.get("content") or {}).values():
                    for name, schema in _schemas(spec, media.get("schema")):
                        yield f"{method.upper()} {path}", str(status), name, schema


def _is_time(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "date-time"


def timed_operations() -> set[str]:
    """'api METHOD /path status' of every documented response that can hold a time."""
    found = set()
    for api in APIS:
        for operation, status, _, schema in response_schemas(load(api)):
            if _is_time(schema):
                found.add(f"{api} {operation} {status}")
    return found


@pytest.mark.parametrize("api", APIS)
def test_every_time_in_a_response_schema_has_the_one_pattern(api: str) -> None:
    wrong = sorted(
        f"{operation} {status} {name or '(item)'}: {schema.get('pattern')}"
        for operation, status, name, schema in response_schemas(load(api))
        if _is_time(schema) and schema.get("pattern") != TIME_PATTERN
    )
    assert not wrong, f"response times without the pattern {TIME_PATTERN}: {wrong}"


@pytest.mark.parametrize("api", APIS)
def test_response_properties_named_like_times_are_times(api: str) -> None:
    untyped = sorted(
        f"{operation} {status} {name}"
        for operation, status, name, schema in response_schemas(load(api))
        if name
        and TIME_NAMES.search(name)
        and not _is_time(schema)
        and not any(_is_time(_resolve(load(api), s)) for s in schema.get("anyOf", []))
    )
    assert not untyped, f"time-like response properties not typed as date-time: {untyped}"


# -- the stack ----------------------------------------------------------------------------------
def times_in(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from times_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from times_in(item, f"{path}[{index}]")
    elif isinstance(value, str) and LOOKS_LIKE_TIME.search(value):
        yield path, value


class Caller:
    """Calls the gateway, checks every time-like string of every answer, and records which
    documented (api, operation, status) answered with at least one time."""

    def __init__(self, gateway: str, project: str) -> None:
        self.gateway = gateway
        self.project = project
        self.answered: set[str] = set()

    def __call__(
        self, api: str, method: str, template: str, uid: str, body: Any = None, *, expect: int, **claims: Any
    ) -> Any:
        path = template
        values = dict(claims.pop("path", {}))
        for name, value in values.items():
            path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        query = claims.pop("query", None)
        url = f"{self.gateway}/{api}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Authorization": f"Bearer {unsigned_token(uid, self.project, **claims)}"}
        status, payload, _ = http(method, url, body, headers)
        assert status == expect, (api, method, path, status, payload)
        found = list(times_in(payload))
        wrong = [(where, value) for where, value in found if not re.fullmatch(TIME_PATTERN, value)]
        assert not wrong, f"{api} {method} {path}: times not in the one format: {wrong}"
        if found:
            self.answered.add(f"{api} {method} {template} {status}")
        return payload


@pytest.fixture
def call(stack: Stack) -> Caller:
    return Caller(stack.gateway_url, stack.project)


def _user(prefix: str) -> str:
    from tests.matching_helpers import new_user

    return new_user(prefix=prefix)


def _snowflake() -> str:
    return str(uuid.uuid4().int)[:18]


def _at(hours: float) -> str:
    # A request time in another zone and precision than the answers use: they must come back normalised.
    return (datetime.now(UTC) + timedelta(hours=hours)).astimezone().isoformat(timespec="microseconds")


@pytest.mark.stack
def test_every_documented_time_is_served_in_the_one_format(call: Caller, stack: Stack) -> None:
    staff = {"staff": True}
    # matching_api: a ticket, a select room (which issue_tokens then mints tokens for)
    queued = _user("tq")
    call("matching_api", "POST", "/queue", queued, {"preferences": {"gender": "other"}}, expect=202)
    call("matching_api", "DELETE", "/queue", queued, expect=200)
    host, guest = _user("th"), _user("tg")
    room = call("matching_api", "POST", "/rooms", host, {"maxParticipants": 2}, expect=201)
    call("matching_api", "POST", "/rooms/join", guest, {"roomCode": room["roomCode"]}, expect=200)
    room_path = {"roomId": room["roomId"]}
    call("issue_tokens", "POST", "/livekit-token", host, {"roomId": room["roomId"]}, expect=200)
    call("issue_tokens", "POST", "/ws-token", host, {"roomId": room["roomId"]}, expect=200)

    # account_api: a block, a report about the shared call, staff resolving it, a suspension
    blocker = _user("tb")
    blocked = _user("tx")
    call("account_api", "POST", "/blocks", blocker, {"userId": blocked}, expect=201)
    call("account_api", "POST", "/blocks", blocker, {"userId": blocked}, expect=200)
    call("account_api", "GET", "/blocks", blocker, expect=200)
    report = call(
        "account_api", "POST", "/reports", host, {**room_path, "userId": guest, "reason": "spam"}, expect=201
    )
    call("account_api", "GET", "/reports", host, expect=200, **staff)
    call("account_api", "POST", "/reports/{reportId}/resolve", host, {"resolution": "dismissed"},
         expect=200, path={"reportId": report["id"]}, **staff)  # fmt: skip
    call("account_api", "GET", "/reports", host, expect=200, query={"status": "resolved"}, **staff)
    until = (datetime.now(UTC) + timedelta(days=1)).astimezone().isoformat()
    suspended = _user("ts")
    call("account_api", "PUT", "/users/{userId}/suspension", host, {"until": until, "reason": "test"},
         expect=200, path={"userId": suspended}, **staff)  # fmt: skip
    # the suspended user's refusals carry `until`
    for api, template, body in (
        ("matching_api", "/queue", {}),
        ("matching_api", "/rooms", {"maxParticipants": 2}),
        ("matching_api", "/rooms/join", {"roomCode": room["roomCode"]}),
        ("issue_tokens", "/livekit-token", room_path),
        ("issue_tokens", "/ws-token", {}),
    ):
        refused = call(api, "POST", template, suspended, body, expect=403)
        assert refused["error"]["code"] == "suspended" and refused["error"]["until"], refused
    call("account_api", "GET", "/me/export", host, expect=200)
    call("account_api", "DELETE", "/me", _user("td"), expect=202)

    # invitations_api: as Discord members
    member, other = _snowflake(), _snowflake()
    as_member = {"discord_id": member, "name": "Host"}
    invitation_id = _snowflake()
    body = {
        "id": invitation_id,
        "threadId": _snowflake(),
        "eventName": "Times",
        "startTime": _at(24),
        "endTime": _at(26),
        "worldName": "World",
        "tag": "観光",
        "description": "",
        "instanceType": "friend",
        "maxParticipants": 4,
    }
    invitation = {"invitationId": invitation_id}
    call("invitations_api", "POST", "/invitations", member, body, expect=201, **as_member)
    call("invitations_api", "GET", "/invitations", member, expect=200, **as_member)
    call("invitations_api", "PATCH", "/invitations/{invitationId}", member, {"eventName": "Times 2"},
         expect=200, path=invitation, **as_member)  # fmt: skip
    call("invitations_api", "POST", "/invitations/{invitationId}/participants", other, {"status": "joined"},
         expect=201, path=invitation, discord_id=other)  # fmt: skip
    call("invitations_api", "GET", "/invitations/{invitationId}", other, expect=200, path=invitation,
         discord_id=other)  # fmt: skip
    call("invitations_api", "GET", "/me/participations", other, expect=200, discord_id=other)
    call("invitations_api", "POST", "/invitations/{invitationId}/cancel", member, expect=200,
         path=invitation, **as_member)  # fmt: skip
    ticket = _snowflake()
    call("invitations_api", "POST", "/tickets", other, {"id": ticket, "category": "question"}, expect=201,
         discord_id=other)  # fmt: skip
    call("invitations_api", "GET", "/tickets/mine", other, expect=200, discord_id=other)
    call("invitations_api", "GET", "/tickets", member, expect=200, discord_id=member, **staff)
    call("invitations_api", "POST", "/tickets/{ticketId}/close", member, expect=200, path={"ticketId": ticket},
         discord_id=member, **staff)  # fmt: skip

    # Every documented response that can hold a time was seen holding one.
    documented = timed_operations()
    missing = documented - call.answered
    assert not missing, f"documented responses with times this test did not see: {sorted(missing)}"


def test_the_one_format_itself() -> None:
    from shared.times import from_epoch_s, rfc3339

    naive = datetime(2030, 1, 31, 12, 0, 0, 987654)
    assert rfc3339(naive) == "2030-01-31T12:00:00.987Z"
    assert rfc3339(naive.replace(tzinfo=UTC).astimezone()) == "2030-01-31T12:00:00.987Z"
    tokyo = timezone(timedelta(hours=9))
    assert rfc3339(naive.replace(tzinfo=UTC).astimezone(tokyo)) == "2030-01-31T12:00:00.987Z"
    assert rfc3339(datetime(2030, 1, 1, 9, tzinfo=tokyo)) == "2030-01-01T00:00:00.000Z"
    assert rfc3339(datetime(1, 1, 1, 0, 0, 0, 999)) == "0001-01-01T00:00:00.000Z"  # four-digit years
    assert from_epoch_s(1_900_000_000) == "2030-03-17T17:46:40.000Z"
    assert all(re.fullmatch(TIME_PATTERN, value) for value in (rfc3339(naive), from_epoch_s(0)))
