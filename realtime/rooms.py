"""Who is connected to which room on this instance, and fan-out within and between instances.

Local delivery is direct. Between instances everything goes through Redis pub/sub, one subscriber
connection per instance, subscribed per room while the instance holds a socket of that room:
- `room:events:{roomId}`: `joined` / `left` / `closed`, published by the room trigger;
- `room:relay:{roomId}`: motion and chat from sockets on other instances, and `attach` when a user
  connects (which also tells the others this instance listens). Each relay message starts with the
  origin instance's id, so an instance skips its own.
Motion is published only while another instance listens to the room (known from PUBLISH's receiver
count and from `attach`): a room whose two participants share an instance costs Redis nothing per
frame. Chat is always published. The latest frame of each user goes to `motion:{roomId}:{uid}`
(60 s TTL) in batches every `motion_flush_s` (1 s), for late joiners.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from realtime.messages import Close, dumps
from shared import keys
from shared.log import log_event

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

log = logging.getLogger("realtime.rooms")
RECONNECT_BACKOFF_S = (0.1, 0.5, 1.0, 2.0, 5.0)
SUBSCRIBE_TIMEOUT_S = 10.0


def relay_channel(room_id: str) -> str:
    return f"room:relay:{room_id}"


class Member(Protocol):
    """A connection as the registry sees it."""

    uid: str
    active: bool

    def deliver(self, data: str) -> None: ...

    def deliver_motion(self, data: str) -> None: ...

    def kick(self, code: int, reason: str) -> None: ...


@dataclass(eq=False)
class Room:
    id: str
    members: set[Member] = field(default_factory=set)
    subscribed: asyncio.Future[None] | None = None
    remote: bool = False  # another instance listens: motion must be published
    heard: int = 0  # relay messages received from other instances (orders what we learn about them)

    def others(self, uid: str) -> list[Member]:
        return [m for m in self.members if m.uid != uid]


def now_ms() -> int:
    return int(time.time() * 1000)


class Registry:
    def __init__(
        self, redis: Redis, instance_id: str, *, motion_ttl_s: int = 60, motion_flush_s: float = 1.0
    ) -> None:
        self.redis = redis
        self.instance_id = instance_id
        self.motion_ttl_s = motion_ttl_s
        self.motion_flush_s = motion_flush_s
        self.rooms: dict[str, Room] = {}
        self.latest: dict[tuple[str, str], str] = {}  # (room, uid) -> motion not yet written to Redis
        self._outgoing: list[tuple[str, str, Room | None]] = []  # (channel, message, room to learn about)
        self._outgoing_ready = asyncio.Event()
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._pubsub: PubSub | None = None
        # SUBSCRIBE / UNSUBSCRIBE go out in call order: a room left and joined again in quick
        # succession must end subscribed.
        self._subscription_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()  # referenced until done (asyncio keeps weak refs)
        self.published = 0
        self.received = 0

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        self._pubsub = self.redis.pubsub()
        # A channel of its own keeps the subscriber connection open (and in subscribe mode) while the
        # instance holds no room.
        await self._subscribe(f"realtime:instance:{self.instance_id}")
        self._tasks = [
            asyncio.create_task(self._read(), name="pubsub-reader"),
            asyncio.create_task(self._publish_loop(), name="publisher"),
            asyncio.create_task(self._flush_loop(), name="motion-flusher"),
        ]

    async def stop(self) -> None:
        try:
            await self._flush_motion()
        except Exception as exc:
            log_event(log, "motion cache write failed", logging.WARNING, error=repr(exc))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()

    @property
    def connections(self) -> int:
        return sum(len(room.members) for room in self.rooms.values())

    # -- membership -------------------------------------------------------------------------------
    async def join(self, room_id: str, member: Member) -> Room:
        """Add a (not yet active) member; returns once this instance hears the room's channels, so no
        event published after this point can be missed."""
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(room_id)
            room.subscribed = asyncio.ensure_future(
                self._subscribe(keys.room_events(room_id), relay_channel(room_id))
            )
        room.members.add(member)
        assert room.subscribed is not None
        try:
            await asyncio.shield(room.subscribed)
        except BaseException:  # Redis failed or the socket went away meanwhile: leave no trace
            self.leave(room, member)
            raise
        return room

    async def activate(self, room: Room, member: Member) -> None:
        """The member passed its checks: it replaces an older socket of the same user, here or elsewhere.

        The `attach` is published before the socket hears `ready`, so by the time a client acts on
        `ready` every other instance of the room knows this one listens (and publishes motion to it).
        """
        for other in list(room.members):
            if other is not member and other.uid == member.uid and other.active:
                other.kick(Close.REPLACED, "connected again")
        member.active = True
        heard = room.heard
        receivers = await self.redis.publish(
            relay_channel(room.id), f"{self.instance_id} attach {member.uid} -"
        )
        if int(receivers) > 1:
            room.remote = True
        elif room.heard == heard:
            room.remote = False

    def leave(self, room: Room, member: Member) -> None:
        room.members.discard(member)
        if not room.members and self.rooms.get(room.id) is room:
            del self.rooms[room.id]
            if self._pubsub is not None:
                self._spawn(self._unsubscribe(keys.room_events(room.id), relay_channel(room.id)))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- relaying ---------------------------------------------------------------------------------
    def relay_motion(self, room: Room, sender: str, data: str) -> None:
        for member in room.members:
            if member.uid != sender and member.active:
                member.deliver_motion(data)
        self.latest[(room.id, sender)] = data
        if room.remote:
            self._publish(relay_channel(room.id), f"{self.instance_id} motion {sender} {data}", room)

    def relay_chat(self, room: Room, sender: str, data: str) -> None:
        for member in room.members:
            if member.uid != sender and member.active:
                member.deliver(data)
        self._publish(relay_channel(room.id), f"{self.instance_id} chat {sender} {data}", room)

    async def cached_motion(self, room_id: str, uids: Iterable[str]) -> list[str]:
        """The latest frame of each of `uids` in the room: unflushed ones from memory, others from Redis."""
        wanted = list(uids)
        found = {uid: self.latest[(room_id, uid)] for uid in wanted if (room_id, uid) in self.latest}
        missing = [uid for uid in wanted if uid not in found]
        if missing:
            async with self.redis.pipeline(transaction=False) as pipe:
                for uid in missing:
                    pipe.hget(keys.motion(room_id, uid), "frame")
                frames = await pipe.execute()
            found.update({uid: frame for uid, frame in zip(missing, frames, strict=True) if frame})
        return [found[uid] for uid in wanted if uid in found]

    # -- Redis: publishing ------------------------------------------------------------------------
    def _publish(self, channel: str, message: str, room: Room | None) -> None:
        self._outgoing.append((channel, message, room))
        self._outgoing_ready.set()

    async def _publish_loop(self) -> None:
        # One pipeline per wake-up: under load many messages share a round trip.
        while True:
            await self._outgoing_ready.wait()
            self._outgoing_ready.clear()
            batch, self._outgoing = self._outgoing, []
            if not batch:
                continue
            # A receiver count of 1 (only us) is old news if another instance spoke since we sent.
            heard_before = [room.heard if room is not None else 0 for _, _, room in batch]
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for channel, message, _ in batch:
                        pipe.publish(channel, message)
                    receivers = await pipe.execute()
            except Exception as exc:
                log_event(log, "publish failed", logging.WARNING, error=repr(exc), dropped=len(batch))
                await asyncio.sleep(0.1)
                continue
            self.published += len(batch)
            for (_, _, room), count, heard in zip(batch, receivers, heard_before, strict=True):
                if room is None:
                    continue
                if int(count) > 1:
                    room.remote = True
                elif room.heard == heard:
                    room.remote = False

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.motion_flush_s)
            try:
                await self._flush_motion()
            except Exception as exc:
                log_event(log, "motion cache write failed", logging.WARNING, error=repr(exc))

    async def _flush_motion(self) -> None:
        if not self.latest:
            return
        pending, self.latest = self.latest, {}
        at = now_ms()
        async with self.redis.pipeline(transaction=False) as pipe:
            for (room_id, uid), frame in pending.items():
                key = keys.motion(room_id, uid)
                pipe.hset(key, mapping={"frame": frame, "timestamp": at})
                pipe.expire(key, self.motion_ttl_s)
            await pipe.execute()

    # -- Redis: subscribing -----------------------------------------------------------------------
    async def _subscribe(self, *channels: str) -> None:
        assert self._pubsub is not None
        loop = asyncio.get_running_loop()
        waiting = []
        for channel in channels:
            future = self._confirmations.get(channel)
            if future is None or future.done():
                future = self._confirmations[channel] = loop.create_future()
            waiting.append(future)
        async with self._subscription_lock:
            await self._pubsub.subscribe(*channels)
        if self._tasks:  # the reader runs: it resolves the confirmations (also after a reconnect)
            await asyncio.wait_for(asyncio.gather(*waiting), SUBSCRIBE_TIMEOUT_S)
        else:  # at start, before the reader: read the confirmations here
            while not all(f.done() for f in waiting):
                message = await self._pubsub.get_message(timeout=5.0)
                if message is None:
                    raise TimeoutError("no subscribe confirmation from Redis")
                self._dispatch(message)

    async def _unsubscribe(self, *channels: str) -> None:
        try:
            assert self._pubsub is not None
            async with self._subscription_lock:
                await self._pubsub.unsubscribe(*channels)
        except Exception as exc:
            log_event(log, "unsubscribe failed", logging.WARNING, error=repr(exc))

    async def _read(self) -> None:
        assert self._pubsub is not None
        failures = 0
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = RECONNECT_BACKOFF_S[min(failures, len(RECONNECT_BACKOFF_S) - 1)]
                failures += 1
                log_event(log, "pubsub connection lost", logging.WARNING, error=repr(exc), retryInS=delay)
                await asyncio.sleep(delay)
                continue
            if failures:
                # Reconnected (and resubscribed by redis-py): events sent meanwhile are lost, so check
                # every local socket against the room's presence again.
                failures = 0
                self._spawn(self.reconcile())
            if message is not None:
                try:
                    self._dispatch(message)
                except Exception:
                    log.exception("pubsub message not handled")

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind, channel, data = message["type"], message["channel"], message["data"]
        if kind == "subscribe":
            future = self._confirmations.pop(channel, None)
            if future is not None and not future.done():
                future.set_result(None)
            return
        if kind != "message":
            return
        self.received += 1
        if channel.startswith("room:relay:"):
            self._on_relay(channel[len("room:relay:") :], data)
        elif channel.startswith("room:events:"):
            self._on_event(channel[len("room:events:") :], data)

    def _on_relay(self, room_id: str, data: str) -> None:
        origin, kind, sender, payload = data.split(" ", 3)
        if origin == self.instance_id:
            return
        room = self.rooms.get(room_id)
        if room is None:
            return
        room.remote = True
        room.heard += 1
        if kind == "motion":
            for member in room.members:
                if member.uid != sender and member.active:
                    member.deliver_motion(payload)
        elif kind == "chat":
            for member in room.members:
                if member.uid != sender and member.active:
                    member.deliver(payload)
        elif kind == "attach":
            for member in list(room.members):
                if member.uid == sender and member.active:
                    member.kick(Close.REPLACED, "connected again")

    def _on_event(self, room_id: str, data: str) -> None:
        room = self.rooms.get(room_id)
        if room is None:
            return
        event = json.loads(data)
        kind = event.get("type")
        if kind not in ("joined", "left", "closed"):
            return
        text = dumps(event)
        for member in list(room.members):
            member.deliver(text)
        if kind == "left":
            for member in list(room.members):
                if member.uid == event.get("uid"):
                    member.kick(Close.LEFT, "left the room")
        elif kind == "closed":
            for member in list(room.members):
                member.kick(Close.ROOM_CLOSED, "room closed")

    async def reconcile(self) -> None:
        """Close the sockets of users no longer in their room's presence hash (after missed events)."""
        for room in list(self.rooms.values()):
            try:
                present = await self.redis.hkeys(keys.room_presence(room.id))
            except Exception as exc:
                log_event(log, "reconcile failed", logging.WARNING, error=repr(exc))
                return
            for member in list(room.members):
                if not present:
                    member.kick(Close.ROOM_CLOSED, "room closed")
                elif member.uid not in present:
                    member.kick(Close.LEFT, "left the room")
