"""invitations_api through the gateway of the real stack (PostgreSQL, Redis, the function process)."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy

from shared.clients.postgres import get_engine
from shared.clients.redis import get_redis
from shared.invitations import crypto
from tests.conftest import http

pytestmark = pytest.mark.stack

Call = Callable[..., tuple[int, Any, dict[str, str]]]


def snowflake() -> str:
    return str(uuid.uuid4().int)[:19]


def new_uid() -> str:
    """A Discord id: callers sign in through discord_auth, whose tokens carry it as `discord_id`."""
    return str(uuid.uuid4().int)[:18]


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def invitation_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "id": snowflake(),
        "threadId": snowflake(),
        "eventName": "夜の観光ツアー",
        "startTime": at(24),
        "endTime": at(26),
        "worldName": "The Great Pug",
        "worldLink": "https://vrchat.com/home/world/wrld_1",
        "tag": "観光",
        "description": "ゆっくり巡ります",
        "instanceType": "friendplus",
        "vrchatProfile": "https://vrchat.com/home/user/usr_host",
        "instanceLink": "https://vrchat.com/home/launch?worldId=wrld_1&instanceId=123",
        "maxParticipants": 10,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture
def call(gateway: str, token: Callable[..., str]) -> Call:
    def do(
        method: str, path: str, body: Any = None, *, uid: str, staff: bool = False, name: str | None = "Alice"
    ) -> tuple[int, Any, dict[str, str]]:
        claims: dict[str, Any] = {"staff": True} if staff else {}
        claims["discord_id"] = uid
        if name is not None:
            claims["name"] = name
        headers = {"Authorization": f"Bearer {token(uid, **claims)}"}
        return http(
            method, f"{gateway}/invitations_api{urllib.parse.quote(path, safe='/?&=%')}", body, headers
        )

    return do


def create(call: Call, host: str, **overrides: Any) -> dict[str, Any]:
    status, body, _ = call("POST", "/invitations", invitation_body(**overrides), uid=host)
    assert status == 201, body
    return dict(body)


def db_row(query: str, **params: Any) -> Any:
    with get_engine().connect() as conn:
        return conn.execute(sqlalchemy.text(query), params).mappings().first()


# -- create / read / update / cancel --------------------------------------------------------------
def test_create_returns_the_invitation_and_the_host_is_the_caller(call: Call) -> None:
    host = new_uid()
    body = invitation_body(startTime="2030-01-31T21:00:00.1234+09:00", endTime="2030-01-31T23:30:00+09:00")
    status, created, _ = call("POST", "/invitations", body, uid=host, name="ホスト")
    assert status == 201, created
    assert created["id"] == body["id"] and created["threadId"] == body["threadId"]
    assert created["hostId"] == host and created["hostName"] == "ホスト"
    assert created["startTime"] == "2030-01-31T12:00:00.123Z"  # UTC, millisecond precision
    assert created["endTime"] == "2030-01-31T14:30:00.000Z"
    assert created["status"] == "recruiting" and created["joinedCount"] == 0 and created["participants"] == []
    status, fetched, _ = call("GET", f"/invitations/{body['id']}", uid=new_uid())
    assert status == 200 and fetched["eventName"] == "夜の観光ツアー"


def test_encryption_round_trip_ciphertext_in_the_table_plaintext_through_the_api(call: Call) -> None:
    host, guest = new_uid(), new_uid()
    created = create(call, host)
    row = db_row("SELECT vrchat_profile, instance_link FROM invitations WHERE id = :id", id=created["id"])
    for column, plaintext in (
        ("vrchat_profile", "https://vrchat.com/home/user/usr_host"),
        ("instance_link", "https://vrchat.com/home/launch?worldId=wrld_1&instanceId=123"),
    ):
        assert row[column].startswith("gAAAAA") and "vrchat.com" not in row[column]
        assert crypto.decrypt(row[column]) == plaintext
    assert created["vrchatProfile"] == "https://vrchat.com/home/user/usr_host"
    assert created["instanceLink"].startswith("https://vrchat.com/home/launch")
    # Someone who has not joined sees neither the host's VRChat profile nor the instance link...
    _, seen, _ = call("GET", f"/invitations/{created['id']}", uid=guest)
    assert seen["vrchatProfile"] is None and seen["instanceLink"] is None
    # ... until they join; staff see both.
    assert (
        call("POST", f"/invitations/{created['id']}/participants", {"status": "joined"}, uid=guest)[0] == 201
    )
    _, seen, _ = call("GET", f"/invitations/{created['id']}", uid=guest)
    assert seen["instanceLink"] == created["instanceLink"]
    assert seen["vrchatProfile"] == created["vrchatProfile"]
    _, seen, _ = call("GET", f"/invitations/{created['id']}", uid=new_uid(), staff=True)
    assert (
        seen["vrchatProfile"] == created["vrchatProfile"] and seen["instanceLink"] == created["instanceLink"]
    )


def test_patch_by_host_updates_fields_and_reencrypts(call: Call) -> None:
    host = new_uid()
    created = create(call, host)
    before = db_row("SELECT updated_at FROM invitations WHERE id = :id", id=created["id"])["updated_at"]
    patch = {
        "eventName": "昼の観光",
        "worldLink": None,
        "instanceLink": "https://vrchat.com/i/2",
        "maxParticipants": 20,
    }
    status, updated, _ = call("PATCH", f"/invitations/{created['id']}", patch, uid=host)
    assert status == 200, updated
    assert updated["eventName"] == "昼の観光" and updated["worldLink"] is None
    assert updated["instanceLink"] == "https://vrchat.com/i/2" and updated["maxParticipants"] == 20
    row = db_row("SELECT instance_link, updated_at FROM invitations WHERE id = :id", id=created["id"])
    assert row["instance_link"].startswith("gAAAAA") and row["updated_at"] > before


def test_patch_permissions_and_rules(call: Call) -> None:
    host, other, staff = new_uid(), new_uid(), new_uid()
    created = create(call, host, maxParticipants=2)
    path = f"/invitations/{created['id']}"
    status, body, _ = call("PATCH", path, {"eventName": "x"}, uid=other)
    assert status == 403 and body["error"]["code"] == "permission_denied"
    status, body, _ = call("PATCH", path, {"assignStaff": True}, uid=host)
    assert status == 403 and "assignStaff" in body["error"]["message"]
    # A well-formed time before the start: the document allows it, the invitation cannot (422).
    status, body, _ = call("PATCH", path, {"endTime": "2000-01-01T00:00:00Z"}, uid=host)
    assert status == 422 and body["error"]["field"] == "endTime"
    status, body, _ = call("PATCH", path, {}, uid=host)
    assert status == 400
    status, body, _ = call("PATCH", path, {"eventName": None}, uid=host)
    assert status == 400 and body["error"]["field"] == "eventName"
    for user in (new_uid(), new_uid()):
        assert call("POST", f"{path}/participants", {"status": "joined"}, uid=user)[0] == 201
    status, body, _ = call("PATCH", path, {"maxParticipants": 1}, uid=host)
    assert status == 409 and body["error"]["field"] == "maxParticipants"
    # Raising the capacity of a full invitation reopens it; lowering it to the count fills it.
    assert call("GET", path, uid=host)[1]["status"] == "full"
    assert call("PATCH", path, {"maxParticipants": 3}, uid=host)[1]["status"] == "recruiting"
    assert call("PATCH", path, {"maxParticipants": 2}, uid=host)[1]["status"] == "full"
    # Staff assign themselves and set the staff message id.
    status, body, _ = call(
        "PATCH",
        path,
        {"assignStaff": True, "staffName": "スタッフ", "staffMessageId": "42"},
        uid=staff,
        staff=True,
    )
    assert status == 200, body
    assert (body["staffId"], body["staffName"], body["staffMessageId"]) == (staff, "スタッフ", "42")


def test_cancel_by_host_then_the_invitation_is_frozen(call: Call) -> None:
    host, guest = new_uid(), new_uid()
    created = create(call, host)
    path = f"/invitations/{created['id']}"
    assert call("POST", f"{path}/cancel", uid=guest)[0] == 403
    status, body, _ = call("POST", f"{path}/cancel", uid=host)
    assert status == 200 and body["status"] == "cancelled"
    assert call("POST", f"{path}/cancel", uid=host)[0] == 200  # idempotent
    status, body, _ = call("PATCH", path, {"eventName": "again"}, uid=host)
    assert status == 409 and body["error"]["code"] == "final_state"
    status, body, _ = call("POST", f"{path}/participants", {"status": "joined"}, uid=guest)
    assert status == 409 and body["error"]["code"] == "final_state"


def test_staff_cancels_any_invitation(call: Call) -> None:
    created = create(call, new_uid())
    status, body, _ = call("POST", f"/invitations/{created['id']}/cancel", uid=new_uid(), staff=True)
    assert status == 200 and body["status"] == "cancelled"


# -- participants ---------------------------------------------------------------------------------
def test_join_interested_leave_and_capacity_status(call: Call) -> None:
    created = create(call, new_uid(), maxParticipants=2)
    path = f"/invitations/{created['id']}/participants"
    a, b, c = new_uid(), new_uid(), new_uid()
    status, body, _ = call("POST", path, {"status": "joined", "userName": "Aさん"}, uid=a)
    assert status == 201 and body == {
        "invitationId": created["id"],
        "userId": a,
        "status": "joined",
        "joinedCount": 1,
        "invitationStatus": "recruiting",
    }
    assert call("POST", path, {"status": "joined"}, uid=a)[0] == 200  # idempotent
    status, body, _ = call("POST", path, {"status": "joined"}, uid=b)
    assert status == 201 and body["invitationStatus"] == "full" and body["joinedCount"] == 2
    status, body, _ = call("POST", path, {"status": "joined"}, uid=c)
    assert status == 409 and body["error"]["code"] == "invitation_full"
    status, body, _ = call("POST", path, {"status": "interested"}, uid=c)  # interest takes no seat
    assert status == 201 and body["invitationStatus"] == "full"
    _, detail, _ = call("GET", f"/invitations/{created['id']}", uid=c)
    assert detail["joinedCount"] == 2
    assert [(p["userId"], p["status"]) for p in detail["participants"]] == [
        (a, "joined"),
        (b, "joined"),
        (c, "interested"),
    ]
    assert detail["participants"][0]["userName"] == "Aさん"
    # Switching from joined to interested frees the seat; leaving frees it too.
    status, body, _ = call("POST", path, {"status": "interested"}, uid=b)
    assert status == 200 and body["invitationStatus"] == "recruiting" and body["joinedCount"] == 1
    assert call("POST", path, {"status": "joined"}, uid=c)[1]["invitationStatus"] == "full"
    status, body, _ = call("DELETE", f"{path}/me", uid=a)
    assert status == 200 and body["invitationStatus"] == "recruiting" and body["joinedCount"] == 1
    status, body, _ = call("DELETE", f"{path}/me", uid=a)
    assert status == 404


def test_200_concurrent_joins_on_a_10_seat_invitation_leave_exactly_10_joined(call: Call) -> None:
    created = create(call, new_uid(), maxParticipants=10)
    path = f"/invitations/{created['id']}/participants"
    users = [new_uid() for _ in range(200)]
    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(lambda uid: call("POST", path, {"status": "joined"}, uid=uid), users))
    statuses = [status for status, _, _ in results]
    assert statuses.count(201) == 10, sorted(set(statuses))
    assert statuses.count(409) == 190
    assert {body["error"]["code"] for status, body, _ in results if status == 409} == {"invitation_full"}
    row = db_row(
        "SELECT i.status, (SELECT count(*) FROM participants p"
        " WHERE p.invitation_id = i.id AND p.status = 'joined') AS joined"
        " FROM invitations i WHERE i.id = :id",
        id=created["id"],
    )
    assert (row["status"], row["joined"]) == ("full", 10)
    winners = [uid for uid, (status, _, _) in zip(users, results, strict=True) if status == 201]
    # A seat freed under contention goes to exactly one of many concurrent joiners.
    assert call("DELETE", f"{path}/me", uid=winners[0])[1]["invitationStatus"] == "recruiting"
    losers = [uid for uid, (status, _, _) in zip(users, results, strict=True) if status == 409][:50]
    with ThreadPoolExecutor(max_workers=50) as pool:
        again = list(pool.map(lambda uid: call("POST", path, {"status": "joined"}, uid=uid)[0], losers))
    assert again.count(201) == 1 and again.count(409) == 49
    assert call("GET", f"/invitations/{created['id']}", uid=winners[1])[1]["joinedCount"] == 10


def test_a_join_held_up_by_another_transaction_is_503_busy_and_then_goes_through(call: Call) -> None:
    """The function's session gives up on a row lock after DB_LOCK_TIMEOUT_MS: its request thread
    and connection are free again, and the member is told to retry, not shown a 500."""
    created = create(call, new_uid())
    path, guest = f"/invitations/{created['id']}/participants", new_uid()
    with get_engine().begin() as holder:  # an erasure, a staff edit: anything holding the row
        holder.execute(
            sqlalchemy.text("SELECT 1 FROM invitations WHERE id = :id FOR UPDATE"), {"id": created["id"]}
        )
        status, body, headers = call("POST", path, {"status": "joined"}, uid=guest)
        assert (status, body["error"]["code"], headers.get("Retry-After")) == (503, "busy", "1"), body
    status, body, _ = call("POST", path, {"status": "joined"}, uid=guest)
    assert status == 201 and body["joinedCount"] == 1, body


def test_my_participations_newest_first_without_cancelled_and_paginated(call: Call) -> None:
    me = new_uid()
    ids = []
    for hours in (30, 10, 20, 40):
        created = create(call, new_uid(), startTime=at(hours), endTime=at(hours + 1))
        assert (
            call("POST", f"/invitations/{created['id']}/participants", {"status": "joined"}, uid=me)[0] == 201
        )
        ids.append(created["id"])
    host_of_cancelled = db_row("SELECT host_id FROM invitations WHERE id = :id", id=ids[3])["host_id"]
    assert call("POST", f"/invitations/{ids[3]}/cancel", uid=host_of_cancelled)[0] == 200
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = call("GET", f"/me/participations{query}", uid=me)
        assert status == 200, page
        seen += [item["invitationId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [ids[0], ids[2], ids[1]]  # start times +30h, +20h, +10h; the cancelled one is left out
    # Well-formed but not a cursor of this list: the document allows it, the list cannot (422).
    status, body, _ = call("GET", "/me/participations?cursor=bm90LWEtY3Vyc29y", uid=me)
    assert status == 422 and body["error"]["field"] == "cursor"


# -- the list, its cursor and its cache -----------------------------------------------------------
def test_list_pages_with_cursor_match_the_database_order(call: Call) -> None:
    for start in ("2031-05-05T05:05:05Z", "2031-05-05T05:05:05Z", at(106), at(107), at(108)):
        create(
            call, new_uid(), tag="撮影会", startTime=start, endTime="2031-06-01T00:00:00Z"
        )  # equal starts: id tie-break
    with get_engine().connect() as conn:
        expected = [
            row[0]
            for row in conn.execute(
                sqlalchemy.text(
                    "SELECT id FROM invitations WHERE status = 'recruiting' AND tag = '撮影会'"
                    " ORDER BY start_time, id"
                )
            )
        ]
    seen: list[str] = []
    cursor = None
    while True:
        query = "?tag=撮影会&limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = call("GET", f"/invitations{query}", uid=new_uid())
        assert status == 200, page
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == expected and len(expected) >= 5
    # Without a tag the per-tag scans are merged into the same global order.
    with get_engine().connect() as conn:
        expected = [
            row[0]
            for row in conn.execute(
                sqlalchemy.text(
                    "SELECT id FROM invitations WHERE status = 'recruiting' ORDER BY start_time, id LIMIT 3"
                )
            )
        ]
    _, first, _ = call("GET", "/invitations?limit=2", uid=new_uid())
    _, second, _ = call("GET", f"/invitations?limit=1&cursor={first['nextCursor']}", uid=new_uid())
    assert [item["id"] for item in first["items"] + second["items"]] == expected
    assert {item["tag"] for item in page["items"]} <= {"撮影会"}


def test_list_is_cached_and_every_write_invalidates_it(call: Call) -> None:
    host, user = new_uid(), new_uid()
    listing = "/invitations?tag=まったり&limit=100"

    def get() -> tuple[str, list[dict[str, Any]]]:
        status, body, headers = call("GET", listing, uid=user)
        assert status == 200, body
        return headers["X-Cache"], body["items"]

    get()
    cache_state, _ = get()
    assert cache_state == "HIT"
    created = create(call, host, tag="まったり", maxParticipants=1)
    cache_state, items = get()
    assert cache_state == "MISS" and created["id"] in [item["id"] for item in items]
    assert get()[0] == "HIT"
    assert (
        call("POST", f"/invitations/{created['id']}/participants", {"status": "joined"}, uid=user)[0] == 201
    )
    cache_state, items = get()  # the join filled it: no longer recruiting
    assert cache_state == "MISS" and created["id"] not in [item["id"] for item in items]
    _, full, _ = call("GET", "/invitations?tag=まったり&status=full&limit=100", uid=user)
    assert [item["joinedCount"] for item in full["items"] if item["id"] == created["id"]] == [1]
    assert call("DELETE", f"/invitations/{created['id']}/participants/me", uid=user)[0] == 200
    cache_state, items = get()
    assert cache_state == "MISS" and created["id"] in [item["id"] for item in items]
    get()
    assert call("PATCH", f"/invitations/{created['id']}", {"eventName": "改名"}, uid=host)[0] == 200
    cache_state, items = get()
    assert cache_state == "MISS" and [i["eventName"] for i in items if i["id"] == created["id"]] == ["改名"]
    assert call("POST", f"/invitations/{created['id']}/cancel", uid=host)[0] == 200
    cache_state, items = get()
    assert cache_state == "MISS" and created["id"] not in [item["id"] for item in items]
    # Entries carry a TTL and the version they were computed under; nothing ever lists keys.
    version = get_redis().get("invitations:list:version")
    assert version is not None and int(version) > 0
    pages = [key for key in get_redis().scan_iter("invitations:list:*") if key != "invitations:list:version"]
    current = [key for key in pages if get_redis().get(key).partition("\n")[0] == version]
    assert current and all(0 < get_redis().ttl(key) <= 60 for key in pages)


def test_a_page_stored_under_a_retired_version_is_never_served(call: Call) -> None:
    """A reader that looked the cache up before a write and stores its page after it: the page is
    tagged with the version the write retired, so the next reader misses and sees the write."""
    from shared.invitations import cache

    user = new_uid()
    listing = "/invitations?tag=イベント&limit=100"
    query = {"status": "recruiting", "tag": "イベント", "limit": 100, "cursor": None}
    before = cache.lookup(query)  # the slow reader's lookup, before the write
    created = create(call, new_uid(), tag="イベント")
    cache.store(before, {"items": [], "nextCursor": None})  # its page, computed before the write
    status, body, headers = call("GET", listing, uid=user)
    assert status == 200 and headers["X-Cache"] == "MISS"
    assert created["id"] in [item["id"] for item in body["items"]]
    assert call("GET", listing, uid=user)[2]["X-Cache"] == "HIT"


# -- tickets --------------------------------------------------------------------------------------
def test_tickets_open_mine_staff_list_and_close(call: Call) -> None:
    user, staff = new_uid(), new_uid()
    ids = [snowflake(), snowflake()]
    for ticket_id, category in zip(ids, ("question", "trouble"), strict=True):
        status, body, _ = call(
            "POST", "/tickets", {"id": ticket_id, "category": category}, uid=user, name="Bob"
        )
        assert status == 201, body
        assert body["status"] == "open" and body["userName"] == "Bob" and body["closedAt"] is None
    status, body, _ = call("POST", "/tickets", {"id": ids[0], "category": "other"}, uid=user)
    assert status == 409 and body["error"]["field"] == "id"
    status, mine, _ = call("GET", "/tickets/mine?limit=1", uid=user)
    assert status == 200 and [t["id"] for t in mine["items"]] == [ids[1]] and mine["nextCursor"]
    status, mine, _ = call("GET", f"/tickets/mine?limit=1&cursor={mine['nextCursor']}", uid=user)
    assert [t["id"] for t in mine["items"]] == [ids[0]] and mine["nextCursor"] is None
    assert call("GET", "/tickets?status=open", uid=user)[0] == 403
    assert call("POST", f"/tickets/{ids[0]}/close", uid=user)[0] == 403
    status, open_tickets, _ = call("GET", "/tickets?status=open&limit=100", uid=staff, staff=True)
    assert status == 200 and set(ids) <= {t["id"] for t in open_tickets["items"]}
    status, closed, _ = call("POST", f"/tickets/{ids[0]}/close", uid=staff, staff=True)
    assert status == 200 and closed["status"] == "closed" and closed["closedAt"] >= closed["createdAt"]
    status, body, _ = call("POST", f"/tickets/{ids[0]}/close", uid=staff, staff=True)
    assert status == 409 and body["error"]["code"] == "already_closed"
    assert call("POST", f"/tickets/{snowflake()}/close", uid=staff, staff=True)[0] == 404
    _, open_tickets, _ = call("GET", "/tickets?limit=100", uid=staff, staff=True)
    assert ids[0] not in {t["id"] for t in open_tickets["items"]}
    _, closed_list, _ = call("GET", "/tickets?status=closed&limit=100", uid=staff, staff=True)
    assert ids[0] in {t["id"] for t in closed_list["items"]}
    # `staff` must be the boolean true, not a truthy string.
    assert call("GET", "/tickets", uid=staff, staff=False)[0] == 403


# -- bad input: a 4xx naming the field, never a 500 -----------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"eventName": ...}, "eventName"),
        ({"eventName": "two\nlines"}, "eventName"),
        ({"eventName": "x" * 201}, "eventName"),
        ({"eventName": "   "}, "eventName"),
        ({"tag": "買い物"}, "tag"),
        ({"instanceType": "private"}, "instanceType"),
        ({"maxParticipants": 0}, "maxParticipants"),
        ({"maxParticipants": 101}, "maxParticipants"),
        ({"maxParticipants": "10"}, "maxParticipants"),
        ({"maxParticipants": True}, "maxParticipants"),
        ({"startTime": "2030-01-01T10:00:00"}, "startTime"),
        ({"startTime": "tomorrow"}, "startTime"),
        ({"endTime": ...}, "endTime"),
        ({"worldLink": "http://example.com"}, "worldLink"),
        ({"vrchatProfile": "https://example.com/user"}, "vrchatProfile"),
        ({"instanceLink": "vrchat://launch"}, "instanceLink"),
        ({"description": "x" * 2001}, "description"),
        ({"id": "not-a-snowflake"}, "id"),
        ({"threadId": "1" * 21}, "threadId"),
        ({"hostName": "x" * 101}, "hostName"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(call: Call, overrides: dict[str, Any], field: str) -> None:
    status, body, _ = call("POST", "/invitations", invitation_body(**overrides), uid=new_uid())
    assert status == 400, body
    assert body["error"]["field"] == field and field in body["error"]["message"]


@pytest.mark.parametrize(
    "overrides",
    [{"startTime": at(30), "endTime": at(29)}, {"startTime": at(-3), "endTime": at(-2)}],
)
def test_create_refuses_what_the_document_allows_but_an_invitation_cannot(
    call: Call, overrides: dict[str, Any]
) -> None:
    """An end before the start, or in the past: well-formed times, so 422, not 400."""
    status, body, _ = call("POST", "/invitations", invitation_body(**overrides), uid=new_uid())
    assert status == 422, body
    assert body["error"]["field"] == "endTime" and "endTime" in body["error"]["message"]


def test_conflicts_that_only_the_database_can_see_map_to_409(call: Call) -> None:
    created = create(call, new_uid())
    status, body, _ = call("POST", "/invitations", invitation_body(id=created["id"]), uid=new_uid())
    assert (status, body["error"]["field"]) == (409, "id")
    status, body, _ = call(
        "POST", "/invitations", invitation_body(threadId=created["threadId"]), uid=new_uid()
    )
    assert (status, body["error"]["field"]) == (409, "threadId")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("GET", "/invitations?limit=0", None, 400, "limit"),
        ("GET", "/invitations?limit=101", None, 400, "limit"),
        ("GET", "/invitations?limit=abc", None, 400, "limit"),
        ("GET", "/invitations?tag=nope", None, 400, "tag"),
        ("GET", "/invitations?status=open", None, 400, "status"),
        ("GET", "/invitations?cursor=%25%25", None, 400, "cursor"),
        ("GET", "/invitations/abc", None, 400, "invitationId"),
        ("GET", "/invitations/123456789", None, 404, None),
        ("PATCH", "/invitations/123456789", {"eventName": "x"}, 404, None),
        ("POST", "/invitations/123456789/cancel", None, 404, None),
        ("POST", "/invitations/123456789/participants", {"status": "joined"}, 404, None),
        ("DELETE", "/invitations/123456789/participants/me", None, 404, None),
        ("POST", "/tickets", {"id": "1", "category": "complaint"}, 400, "category"),
        ("POST", "/tickets", {"category": "other"}, 400, "id"),
        ("GET", "/tickets/mine?cursor=eyJ4IjoxfQ", None, 422, "cursor"),
        ("POST", "/tickets/abc/close", None, 403, None),  # authorization before validation
    ],
)
def test_bad_requests_get_clear_4xx(
    call: Call, method: str, path: str, body: Any, status: int, field: str | None
) -> None:
    got, reply, _ = call(method, path, body, uid=new_uid())
    assert got == status, reply
    assert reply["error"].get("field") == field


def test_participant_body_and_content_type_are_checked(
    call: Call, gateway: str, token: Callable[..., str]
) -> None:
    created = create(call, new_uid())
    path = f"/invitations/{created['id']}/participants"
    status, body, _ = call("POST", path, {"status": "maybe"}, uid=new_uid())
    assert (status, body["error"]["field"]) == (400, "status")
    status, body, _ = call("POST", path, {"status": "joined", "userName": ""}, uid=new_uid())
    assert (status, body["error"]["field"]) == (400, "userName")
    # With no name in the body or the token, the participant goes by their id.
    nameless = new_uid()
    status, body, _ = call("POST", path, {"status": "joined"}, uid=nameless, name=None)
    assert status == 201, body
    participants = call("GET", f"/invitations/{created['id']}", uid=nameless)[1]["participants"]
    assert any(p["userId"] == nameless and p["userName"] == nameless for p in participants)
    uid = new_uid()
    headers = {"Authorization": f"Bearer {token(uid, discord_id=uid)}", "Content-Type": "text/plain"}
    status, body, _ = http("POST", f"{gateway}/invitations_api{path}", b"joined", headers)
    assert status == 415
    headers["Content-Type"] = "application/json"
    status, body, _ = http("POST", f"{gateway}/invitations_api{path}", b"{not json", headers)
    assert status == 400 and body["error"]["code"] == "invalid_json"


def test_reading_needs_a_sign_in_and_acting_a_discord_link(
    call: Call, gateway: str, token: Callable[..., str]
) -> None:
    status, body, _ = http("GET", f"{gateway}/invitations_api/invitations")
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    web = {"Authorization": f"Bearer {token('x' * 28)}"}  # a Firebase-generated uid, no discord_id claim
    assert http("GET", f"{gateway}/invitations_api/invitations", headers=web)[0] == 200
    status, body, _ = http("POST", f"{gateway}/invitations_api/invitations", invitation_body(), web)
    assert status == 403 and body["error"]["code"] == "discord_link_required"
