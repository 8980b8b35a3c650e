"""The realtime service through the test stack: real WebSocket clients, tokens from issue_tokens through
the gateway, rooms written to Firestore (whose trigger fills `room:presence` and publishes events)."""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud import firestore
from websockets.sync.client import ClientConnection

from devstack.stack import Stack
from shared import keys
from shared.tokens import ws
from tests.conftest import http, wait_for
from tests.realtime_helpers import (
    Instance,
    Json,
    closed_with,
    instance,
    log_lines,
    open_socket,
    ready,
    recv,
    recv_until,
    wait_presence,
    ws_token,
)
from tests.room_fixtures import fs, new_room, new_users, rds

MOTION = {
    "type": "motion",
    "seq": 1,
    "position": [0.0, 1.5, -0.25],
    "rotation": [0.0, 0.7071, 0.0, 0.7071],
    "expression": {"happy": 0.8, "blink": 0.1},
    "bones": {"head": [0.0, 0.1, 0.0, 0.995], "leftUpperArm": [0.1, 0.0, 0.2, 0.97]},
}


@pytest.fixture(scope="module")
def realtime_url(stack: Stack) -> str:
    info = json.loads((stack.state_dir / "stack.json").read_text())
    return str(info["realtimeUrl"])


@pytest.fixture
def tokens(gateway: str, token: Callable[..., str]) -> Callable[[str, str | None], str]:
    """`tokens(uid, room_id)`: a WebSocket token from issue_tokens for a signed-in uid."""
    return lambda uid, room_id: ws_token(gateway, token(uid), room_id)


def room_of(count: int, **fields: Any) -> tuple[str, list[str]]:
    uids = new_users(count)
    room_id = new_room(uids, **{"maxParticipants": max(2, count), **fields})
    wait_presence(room_id, uids)
    return room_id, uids


def healthz(base_ws_url: str) -> tuple[int, Any, dict[str, str]]:
    return http("GET", base_ws_url.replace("ws://", "http://") + "/healthz")


def test_healthz_counts_connections_and_unknown_paths_are_404(
    realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    status, body, headers = healthz(realtime_url)
    assert status == 200 and headers["Content-Type"] == "application/json", body
    assert body["status"] == "ok" and body["stores"]["redis"]["status"] == "ok"
    before = body["connections"]
    room_id, (a, _) = room_of(2)
    with open_socket(realtime_url, room_id, tokens(a, room_id)) as sock:
        ready(sock)
        assert healthz(realtime_url)[1]["connections"] == before + 1
    wait_for(lambda: healthz(realtime_url)[1]["connections"] == before)
    assert http("GET", realtime_url.replace("ws://", "http://") + "/nope")[0] == 404


def test_stack_json_has_the_realtime_url(stack: Stack, realtime_url: str) -> None:
    assert realtime_url == f"ws://127.0.0.1:{stack.port('realtime')}"


def test_a_participant_connects_and_gets_ready(
    realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    room_id, (a, b) = room_of(2)
    with open_socket(realtime_url, room_id, tokens(a, room_id)) as sock:
        hello = ready(sock)
        assert hello["roomId"] == room_id and hello["uid"] == a
        assert hello["participants"] == sorted([a, b])
        assert abs(hello["at"] - time.time() * 1000) < 60_000
        assert hello["limits"]["motionMaxBytes"] > 0


def _forged(uid: str, room_id: str | None, *, now: datetime | None = None) -> str:
    """A token signed with the stack's real signing key (as issue_tokens would), for cases issue_tokens
    itself refuses to mint (an outsider, a room that does not exist, an expired token)."""
    token, _ = ws.sign_ws_token(uid, now or datetime.now(UTC), room_id)
    return token


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _foreign_key_token(uid: str, room_id: str) -> str:
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    now = int(time.time())
    claims = {
        "iss": "vchat-issue-tokens",
        "aud": "vchat-ws",
        "sub": uid,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 60,
        "room": room_id,
    }
    return jwt.encode(
        claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "not-published"}
    )


def test_refusals_close_with_documented_codes(
    realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    room_id, (a, b) = room_of(2)
    other_room, (c, _) = room_of(2)
    (outsider,) = new_users(1)
    cases: list[tuple[str, str | None, int, str]] = [
        ("no token", None, 4401, "missing access_token"),
        ("not a JWT", "abc.def", 4401, "malformed token"),
        (
            "expired",
            _forged(a, room_id, now=datetime.now(UTC) - timedelta(minutes=10)),
            4401,
            "token expired",
        ),
        ("tampered", _tampered(tokens(a, room_id)), 4401, "invalid token"),
        ("unpublished key", _foreign_key_token(a, room_id), 4401, "unknown signing key"),
        ("another room's token", tokens(c, other_room), 4403, "token is not for this room"),
        ("no room claim", tokens(a, None), 4403, "token is not for this room"),
        ("non-participant", _forged(outsider, room_id), 4403, "not a participant of this room"),
        ("no such room", _forged(a, f"r-{uuid.uuid4().hex}"), 4404, "no such room, or it is closed"),
    ]
    for name, access_token, code, reason in cases:
        target = room_id
        if name == "no such room":
            import jwt

            target = jwt.decode(access_token or "", options={"verify_signature": False})["room"]
        with open_socket(realtime_url, target, access_token) as sock:
            got = closed_with(sock)
        assert (got[0], got[1]) == (code, reason) or (got[0] == code and got[1].startswith(reason)), (
            name,
            got,
        )
        assert got[2] == [], f"{name}: nothing is sent before a refusal"

    # A token opens one socket only (it travels in a URL, which may end up in a log).
    once = tokens(b, room_id)
    with open_socket(realtime_url, room_id, once) as sock:
        ready(sock)
    with open_socket(realtime_url, room_id, once) as sock:
        assert closed_with(sock)[:2] == (4401, "token already used")


def test_a_user_who_left_after_getting_a_token_is_refused(
    realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    room_id, (_, _, c) = room_of(3)
    token = tokens(c, room_id)
    fs().collection("rooms").document(room_id).update({"participants": firestore.ArrayRemove([c])})
    wait_for(lambda: c not in rds().hkeys(keys.room_presence(room_id)))
    with open_socket(realtime_url, room_id, token) as sock:
        assert closed_with(sock)[:2] == (4403, "not a participant of this room")


def test_motion_and_chat_reach_the_other_participant_and_are_not_echoed(
    realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    room_id, (a, b) = room_of(2)
    with (
        open_socket(realtime_url, room_id, tokens(a, room_id)) as sa,
        open_socket(realtime_url, room_id, tokens(b, room_id)) as sb,
    ):
        ready(sa), ready(sb)
        before = time.time() * 1000
        sa.send(json.dumps(MOTION))
        got = recv_until(sb, lambda m: m["type"] == "motion")
        assert {k: v for k, v in got.items() if k not in ("from", "at")} == MOTION  # as sent
        assert got["from"] == a and before - 1000 <= got["at"] <= time.time() * 1000 + 1000

        # Not echoed: a's next motion is b's, though a's own frame would have been queued first.
        sb.send(json.dumps({**MOTION, "seq": 2}))
        echo_or_peer = recv_until(sa, lambda m: m["type"] == "motion")
        assert echo_or_peer["from"] == b and echo_or_peer["seq"] == 2

        sa.send(json.dumps({"type": "chat", "text": "こんにちは 👋", "id": "c1"}))
        chat = recv_until(sb, lambda m: m["type"] == "chat")
        assert chat["text"] == "こんにちは 👋" and chat["from"] == a and chat["id"] == "c1"
        ack = recv_until(sa, lambda m: m["type"] in ("ack", "chat"))
        assert ack == {"type": "ack", "id": "c1", "at": chat["at"]}, "the sender gets an ack, not its chat"

        # Bad input is answered with an error; the socket stays open.
        for bad, code in (
            ("not json", "invalid_json"),
            (json.dumps({"type": "teleport"}), "unknown_type"),
            (json.dumps({**MOTION, "position": [1, 2]}), "invalid_message"),
            (json.dumps({**MOTION, "evil": 1}), "invalid_message"),
            (json.dumps({"type": "chat", "text": "x" * 501}), "too_large"),
            (json.dumps({"type": "chat", "text": "   "}), "invalid_message"),
        ):
            sa.send(bad)
            error = recv_until(sa, lambda m: m["type"] == "error")
            assert error["code"] == code, (bad[:40], error)
        sa.send(b"\x00\x01")
        assert recv_until(sa, lambda m: m["type"] == "error")["code"] == "invalid_message"
        sa.send(json.dumps({"type": "chat", "text": "still here"}))
        assert recv_until(sb, lambda m: m["type"] == "chat")["text"] == "still here"


def test_motion_is_rate_limited_per_connection(
    stack: Stack, realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    room_id, (a, b) = room_of(2)
    relayed = []
    with (
        open_socket(realtime_url, room_id, tokens(a, room_id)) as sa,
        open_socket(realtime_url, room_id, tokens(b, room_id)) as sb,
    ):
        ready(sa), ready(sb)
        for seq in range(100):  # far more than 30 in well under a second
            sa.send(json.dumps({**MOTION, "seq": seq}))
        notice = recv_until(sa, lambda m: m["type"] == "error")
        assert notice["code"] == "rate_limited"
        try:
            while True:  # until b has been quiet for a second
                message = recv(sb, timeout_s=1.0)
                if message["type"] == "motion":
                    relayed.append(message["seq"])
        except TimeoutError:
            pass
    log = stack.logs_dir / "svc-realtime.log"

    def lines() -> dict[str, dict[str, Any]]:
        found = {e["uid"]: e for e in log_lines(log, "ws closed") if e.get("roomId") == room_id}
        return found if len(found) == 2 else {}

    closed = wait_for(lines)
    limited, dropped = closed[a]["rateLimited"], closed[b]["motionDropped"]
    assert 0 < limited < 100 and len(relayed) + dropped == 100 - limited
    assert relayed == sorted(relayed) and len(relayed) >= 20


def test_a_late_joiner_gets_the_cached_motion(
    realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    room_id, (a, b) = room_of(2)
    with open_socket(realtime_url, room_id, tokens(a, room_id)) as sa:
        ready(sa)
        sa.send(json.dumps({**MOTION, "seq": 41}))
        sa.send(json.dumps({**MOTION, "seq": 42}))
        cached = wait_for(lambda: rds().hgetall(keys.motion(room_id, a)).get("frame"))
        assert json.loads(cached)["seq"] in (41, 42)
        wait_for(lambda: json.loads(rds().hget(keys.motion(room_id, a), "frame"))["seq"] == 42)
        assert 0 < rds().ttl(keys.motion(room_id, a)) <= 60
        with open_socket(realtime_url, room_id, tokens(b, room_id)) as sb:
            ready(sb)
            first = recv(sb)
            assert first["type"] == "motion" and first["from"] == a and first["seq"] == 42


def test_a_leave_and_a_close_reach_connected_clients_and_disconnect_them(
    realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    room_id, (a, b, c) = room_of(3)
    wait_for(lambda: (fs().document(f"rooms/{room_id}").get().to_dict() or {}).get("status") == "active")
    with (
        open_socket(realtime_url, room_id, tokens(a, room_id)) as sa,
        open_socket(realtime_url, room_id, tokens(b, room_id)) as sb,
        open_socket(realtime_url, room_id, tokens(c, room_id)) as sc,
    ):
        for sock in (sa, sb, sc):
            ready(sock)
        fs().collection("rooms").document(room_id).update({"participants": firestore.ArrayRemove([a])})
        code, reason, seen = closed_with(sa)
        assert (code, reason) == (4410, "left the room")
        assert any(m["type"] == "left" and m["uid"] == a for m in seen), seen
        for sock in (sb, sc):
            event = recv_until(sock, lambda m: m["type"] == "left")
            assert event["uid"] == a and event["roomId"] == room_id and isinstance(event["at"], int)
        sb.send(json.dumps({"type": "chat", "text": "still talking"}))  # the others stay connected
        assert recv_until(sc, lambda m: m["type"] == "chat")["text"] == "still talking"

        fs().collection("rooms").document(room_id).update({"status": "closed"})
        for sock in (sb, sc):
            code, reason, seen = closed_with(sock)
            assert (code, reason) == (4411, "room closed")
            assert any(m["type"] == "closed" and m["roomId"] == room_id for m in seen), seen
    # The room's Redis state is gone, so nobody can connect again (issue_tokens no longer mints a token
    # for a closed room: one minted just before the close is refused by the service).
    wait_for(lambda: not rds().exists(keys.room_presence(room_id)))
    with open_socket(realtime_url, room_id, _forged(b, room_id)) as sock:
        assert closed_with(sock)[0] == 4404


def test_joined_is_pushed_and_a_second_socket_of_a_user_replaces_the_first(
    realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    room_id, (a, b) = room_of(2, maxParticipants=3)
    with open_socket(realtime_url, room_id, tokens(a, room_id)) as sa:
        ready(sa)
        (c,) = new_users(1, room_id=room_id)
        fs().collection("rooms").document(room_id).update({"participants": firestore.ArrayUnion([c])})
        joined = recv_until(sa, lambda m: m["type"] == "joined")
        assert joined["uid"] == c and joined["roomId"] == room_id
        with open_socket(realtime_url, room_id, tokens(a, room_id)) as again:
            ready(again)
            assert closed_with(sa)[:2] == (4409, "connected again")
            again.send(json.dumps({"type": "chat", "text": "new socket works"}))
            with open_socket(realtime_url, room_id, tokens(b, room_id)) as sb:
                ready(sb)
                again.send(json.dumps({"type": "chat", "text": "hello b"}))
                assert recv_until(sb, lambda m: m["type"] == "chat")["text"] == "hello b"


def test_connection_logs_one_line_per_close_without_the_token(
    stack: Stack, realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    room_id, (a, _) = room_of(2)
    token = tokens(a, room_id)
    with open_socket(realtime_url, room_id, token) as sa:
        ready(sa)
        sa.send(json.dumps(MOTION))
        sa.send(json.dumps({"type": "chat", "text": "bye"}))
    log = stack.logs_dir / "svc-realtime.log"

    def closed_line() -> list[dict[str, Any]]:
        return [e for e in log_lines(log, "ws closed") if e.get("roomId") == room_id and e.get("uid") == a]

    (line,) = wait_for(closed_line)
    assert line["severity"] == "INFO" and line["admitted"] is True
    assert line["code"] == 1000 and line["messagesIn"] == 2 and line["messagesOut"] >= 1
    assert line["durationS"] > 0 and isinstance(line["connections"], int)
    assert [e for e in log_lines(log, "ws open") if e.get("roomId") == room_id]
    text = log.read_text()
    assert token not in text and token.split(".")[2] not in text


# -- two instances ---------------------------------------------------------------------------------
def test_participants_on_two_instances_hear_each_other_and_the_room_events(
    stack: Stack, realtime_url: str, tokens: Callable[[str, str | None], str]
) -> None:
    with instance(stack, "realtime-2") as second:
        room_id, (a, b, c) = room_of(3)
        with (
            open_socket(realtime_url, room_id, tokens(a, room_id)) as sa,
            open_socket(second.url, room_id, tokens(b, room_id)) as sb,
        ):
            ready(sa), ready(sb)
            sa.send(json.dumps({**MOTION, "seq": 7}))
            got = recv_until(sb, lambda m: m["type"] == "motion")
            assert got["from"] == a and got["seq"] == 7
            sb.send(json.dumps({**MOTION, "seq": 8}))
            got = recv_until(sa, lambda m: m["type"] == "motion")
            assert got["from"] == b and got["seq"] == 8, "not echoed across instances either"
            sb.send(json.dumps({"type": "chat", "text": "from the other instance"}))
            chat = recv_until(sa, lambda m: m["type"] == "chat")
            assert chat["from"] == b and chat["text"] == "from the other instance"

            # A late joiner on the second instance gets a's frame (written by the first instance).
            wait_for(lambda: rds().hget(keys.motion(room_id, a), "frame"))
            with open_socket(second.url, room_id, tokens(c, room_id)) as sc:
                ready(sc)
                first = recv_until(sc, lambda m: m["type"] == "motion" and m["from"] == a)
                assert first["seq"] == 7
                # One socket per user across instances: a connecting on the second replaces the first.
                with open_socket(second.url, room_id, tokens(a, room_id)) as sa2:
                    ready(sa2)
                    assert closed_with(sa)[:2] == (4409, "connected again")
                    sb.send(json.dumps({"type": "chat", "text": "once"}))
                    assert recv_until(sa2, lambda m: m["type"] == "chat")["text"] == "once"
                    # Events reach both instances: close the room.
                    fs().collection("rooms").document(room_id).update({"status": "closed"})
                    for sock in (sb, sc, sa2):
                        assert closed_with(sock)[:2] == (4411, "room closed")


# -- keepalive and backpressure ------------------------------------------------------------------
def _raw_socket(base_url: str, room_id: str, access_token: str, rcvbuf: int | None = None) -> socket.socket:
    """A client that completes the handshake and then never reads: no pongs, no draining."""
    host, port = base_url.removeprefix("ws://").split(":")
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((host, int(port)))
    key = base64.b64encode(uuid.uuid4().bytes).decode()
    sock.sendall(
        (
            f"GET /rooms/{room_id}?access_token={access_token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_an_idle_connection_that_does_not_answer_pings_is_closed(
    stack: Stack, tokens: Callable[[str, str | None], str]
) -> None:
    with instance(
        stack, "realtime-idle", REALTIME_PING_INTERVAL_S="0.5", REALTIME_PING_TIMEOUT_S="0.5"
    ) as idle:
        room_id, (a, _) = room_of(2)
        sock = _raw_socket(idle.url, room_id, tokens(a, room_id))
        try:

            def closed() -> list[dict[str, Any]]:
                return [e for e in log_lines(idle.log, "ws closed") if e.get("uid") == a]

            (line,) = wait_for(closed, timeout_s=20)
            assert line["code"] == 1011 and "ping" in line["reason"], line
        finally:
            sock.close()


@contextmanager
def _reader_behind_a_motion_backlog(
    stack: Stack, tokens: Callable[[str, str | None], str], name: str, **env: str
) -> Iterator[tuple[Instance, ClientConnection, str]]:
    """An instance with `env` (and no keepalive ping within a test, so that only the service's own
    rules can end a socket), a room of two whose second user completed the handshake and never
    reads, and the first user's socket after it sent ~4 MB of motion to the room. Yields the
    instance, the sender's socket and the reader's uid."""
    with instance(
        stack,
        name,
        REALTIME_QUEUE_MOTION="4",
        REALTIME_MOTION_PER_S="1000",
        REALTIME_PING_INTERVAL_S="600",
        **env,
    ) as started:
        room_id, (a, b) = room_of(2)
        reader = _raw_socket(started.url, room_id, tokens(b, room_id), rcvbuf=4096)
        try:
            with open_socket(started.url, room_id, tokens(a, room_id)) as sender:
                ready(sender)
                big = {**MOTION, "bones": {f"bone{i}": [0.123456789, 0.5, 0.25, 0.8] for i in range(60)}}
                for seq in range(1200):
                    sender.send(json.dumps({**big, "seq": seq}))
                yield started, sender, b
        finally:
            reader.close()


def _closed(started: Instance, uid: str) -> Json:
    """The one `ws closed` line of `uid`'s socket, once the instance has logged it."""
    (line,) = wait_for(
        lambda: [e for e in log_lines(started.log, "ws closed") if e.get("uid") == uid], timeout_s=20
    )
    return line


def test_a_slow_reader_loses_old_motion_first_and_is_closed_when_chat_backs_up(
    stack: Stack, tokens: Callable[[str, str | None], str]
) -> None:
    """The close itself must end the socket (after the close timeout, 5 s): the client cannot
    receive the close frame behind its backlog."""
    chat = {"REALTIME_QUEUE_OTHER": "16", "REALTIME_CHAT_PER_S": "100", "REALTIME_CHAT_BURST": "1000"}
    with _reader_behind_a_motion_backlog(stack, tokens, "realtime-slow", **chat) as (slow, sender, b):
        for n in range(40):  # more chat than the reader's queue holds
            sender.send(json.dumps({"type": "chat", "text": f"line {n}"}))
        line = _closed(slow, b)
        assert line["code"] == 4408 and line["motionDropped"] > 0, line
        assert sender.ping().wait(5), "the sender's socket is unaffected"


def test_a_client_that_stops_reading_while_only_motion_flows_is_dropped(
    stack: Stack, tokens: Callable[[str, str | None], str]
) -> None:
    """Motion drops its oldest frame, so nothing overflows, and websockets' keepalive ping waits
    for the full send buffer like any other write: only the stall check can end this socket."""
    backlog = _reader_behind_a_motion_backlog(stack, tokens, "realtime-stalled", REALTIME_PING_TIMEOUT_S="1")
    with backlog as (stalled, sender, b):
        line = _closed(stalled, b)
        assert line["code"] == 4408 and "accepted nothing" in line["reason"], line
        assert sender.ping().wait(5), "the sender's socket is unaffected"


# -- key rotation -----------------------------------------------------------------------------------
def test_key_rotation_a_new_kid_is_fetched_and_the_old_one_works_while_published(
    stack: Stack, tokens: Callable[[str, str | None], str]
) -> None:
    """issue_tokens gets a second key (as in docs/tokens.md): the service learns the new kid from the
    JWKS on first sight (an unknown kid refetches, at most once per WS_JWKS_MIN_REFRESH_S) and keeps
    accepting tokens of the old kid, which is still published."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    room_id, (a, b) = room_of(2)
    before = [tokens(b, room_id) for _ in range(2)]  # old kid
    old_kid = jwt.get_unverified_header(before[0])["kid"]
    process = stack.processes["fn:issue_tokens"]
    original = process.env["WS_SIGNING_KEYS"]
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    new_kid = f"rotated-{uuid.uuid4().hex[:8]}"
    with instance(stack, "realtime-rotation") as fresh:
        with open_socket(fresh.url, room_id, before[0]) as sock:  # the instance caches the old key set
            ready(sock)
        process.env["WS_SIGNING_KEYS"] = json.dumps(
            [*json.loads(original), {"kid": new_kid, "privateKey": pem.decode()}]
        )
        stack.restart_process("fn:issue_tokens")
        try:
            refusals: list[str] = []

            def new_kid_accepted() -> bool:
                token = tokens(a, room_id)
                assert jwt.get_unverified_header(token)["kid"] == new_kid, (
                    "issue_tokens signs with the newest"
                )
                with open_socket(fresh.url, room_id, token) as sock:
                    message = json.loads(sock.recv(timeout=10))
                    if message["type"] == "ready":
                        return True
                refusals.append(str(message))
                return False

            def attempt() -> bool:
                try:
                    return new_kid_accepted()
                except Exception as exc:  # refused: closed with 4401 unknown signing key
                    refusals.append(repr(exc))
                    time.sleep(0.5)
                    return False

            wait_for(attempt, timeout_s=30)
            with open_socket(fresh.url, room_id, before[1]) as sock:  # old kid, still published
                assert ready(sock)["uid"] == b
            assert jwt.get_unverified_header(before[1])["kid"] == old_kid
            loads = log_lines(fresh.log, "jwks loaded")
            assert len(loads) == 2 and new_kid in loads[-1]["kids"] and old_kid in loads[-1]["kids"], loads
            assert all("4401" in r and "unknown signing key" in r for r in refusals), refusals
        finally:
            process.env["WS_SIGNING_KEYS"] = original
            stack.restart_process("fn:issue_tokens")
