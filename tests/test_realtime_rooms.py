"""The realtime registry against the stack's real Redis, two "instances" in one process with stand-in
sockets: cross-instance relay without double delivery, motion published only while someone listens,
room events, and recovery after the pub/sub connection is killed."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from devstack.stack import Stack
from realtime.messages import Close
from realtime.rooms import Registry, Room
from shared import keys


class Member:
    def __init__(self, uid: str) -> None:
        self.uid = uid
        self.active = False
        self.got: list[tuple[str, Any]] = []

    def deliver(self, data: str) -> None:
        self.got.append(("other", json.loads(data)))

    def deliver_motion(self, data: str) -> None:
        self.got.append(("motion", json.loads(data)))

    def kick(self, code: int, reason: str) -> None:
        self.got.append(("kick", code))


async def until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout_s)


def run(stack: Stack, scenario: Callable[[Registry, Registry, Any], Awaitable[None]]) -> None:
    from redis.asyncio import Redis

    async def main() -> None:
        clients = [Redis.from_url(stack.redis_url, decode_responses=True) for _ in range(3)]
        first, second = Registry(clients[0], "inst-1"), Registry(clients[1], "inst-2")
        await first.start()
        await second.start()
        try:
            await scenario(first, second, clients[2])
        finally:
            await first.stop()
            await second.stop()
            for client in clients:
                await client.aclose()

    asyncio.run(main())


async def joined(registry: Registry, room_id: str, member: Member) -> Room:
    room = await registry.join(room_id, member)
    await registry.activate(room, member)
    return room


def test_relay_between_instances_once_and_only_while_someone_listens(stack: Stack) -> None:
    async def scenario(first: Registry, second: Registry, redis: Any) -> None:
        room_id = f"r-{uuid.uuid4().hex}"
        a, b, c = Member("a"), Member("b"), Member("c")
        room1 = await joined(first, room_id, a)
        assert not room1.remote, "alone in the room: nothing to publish"
        published = first.published
        first.relay_motion(room1, "a", '{"type":"motion","seq":1,"from":"a","at":1}')
        await asyncio.sleep(0.05)
        assert first.published == published, "motion is not published while nobody else listens"

        room2 = await joined(second, room_id, b)
        await joined(second, room_id, c)
        await until(lambda: room1.remote and room2.remote)
        first.relay_motion(room1, "a", '{"type":"motion","seq":2,"from":"a","at":2}')
        first.relay_chat(room1, "a", '{"type":"chat","text":"hi","from":"a","at":3}')
        await until(lambda: len(b.got) >= 2 and len(c.got) >= 2)
        await asyncio.sleep(0.1)  # anything more would be a duplicate
        for member in (b, c):
            assert member.got == [
                ("motion", {"type": "motion", "seq": 2, "from": "a", "at": 2}),
                ("other", {"type": "chat", "text": "hi", "from": "a", "at": 3}),
            ]
        assert a.got == [], "never back to the sender"
        second.relay_motion(room2, "b", '{"type":"motion","seq":9,"from":"b","at":4}')
        await until(lambda: len(a.got) == 1)
        assert a.got[0][1]["from"] == "b" and [m for m in c.got if m[1].get("seq") == 9]

        # The same user on the other instance replaces the first socket.
        a_again = Member("a")
        await joined(second, room_id, a_again)
        await until(lambda: ("kick", Close.REPLACED) in a.got)

        # The latest frame is written to Redis for late joiners.
        await first._flush_motion()
        frame = await redis.hget(keys.motion(room_id, "a"), "frame")
        assert json.loads(frame)["seq"] == 2 and 0 < await redis.ttl(keys.motion(room_id, "a")) <= 60

        # Once the second instance has nobody in the room, the first stops publishing motion again.
        for member in (b, c, a_again):
            second.leave(room2, member)
        first.relay_motion(room1, "a", '{"type":"motion","seq":3,"from":"a","at":5}')
        await until(lambda: not room1.remote)

    run(stack, scenario)


def test_events_reach_members_and_a_lost_pubsub_connection_is_recovered(stack: Stack) -> None:
    async def scenario(first: Registry, second: Registry, redis: Any) -> None:
        from shared.rooms.events import room_event

        room_id = f"r-{uuid.uuid4().hex}"
        await redis.hset(keys.room_presence(room_id), mapping={"a": "{}", "b": "{}"})
        a, b = Member("a"), Member("b")
        await joined(first, room_id, a)
        await joined(first, room_id, b)
        await redis.publish(keys.room_events(room_id), room_event("joined", room_id, 1, "c"))
        await until(lambda: len(a.got) == 1 and len(b.got) == 1)
        assert a.got[0] == ("other", {"type": "joined", "roomId": room_id, "uid": "c", "at": 1})

        # Kill the instance's pub/sub connection; b leaves while it is down (the event is lost).
        await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await redis.hdel(keys.room_presence(room_id), "b")
        await redis.publish(keys.room_events(room_id), room_event("left", room_id, 2, "b"))
        # After reconnecting, the instance checks its sockets against the presence hash.
        await until(lambda: ("kick", Close.LEFT) in b.got, timeout_s=15)
        assert ("kick", Close.LEFT) not in a.got
        # And it is subscribed again: events flow.
        await redis.publish(keys.room_events(room_id), room_event("closed", room_id, 3))
        await until(lambda: ("kick", Close.ROOM_CLOSED) in a.got, timeout_s=15)

    run(stack, scenario)


@pytest.mark.parametrize("kind", ["left", "closed"])
def test_left_and_closed_disconnect_with_their_codes(stack: Stack, kind: str) -> None:
    async def scenario(first: Registry, second: Registry, redis: Any) -> None:
        from shared.rooms.events import room_event

        room_id = f"r-{uuid.uuid4().hex}"
        a, b = Member("a"), Member("b")
        await joined(first, room_id, a)
        await joined(second, room_id, b)
        uid = "a" if kind == "left" else None
        await redis.publish(keys.room_events(room_id), room_event(kind, room_id, 7, uid))
        await until(lambda: bool(a.got) and bool(b.got))
        await asyncio.sleep(0.05)
        code = Close.LEFT if kind == "left" else Close.ROOM_CLOSED
        assert a.got[0][1]["type"] == kind and ("kick", code) in a.got
        assert b.got[0][1]["type"] == kind
        assert (("kick", code) in b.got) == (kind == "closed")

    run(stack, scenario)
