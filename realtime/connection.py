"""One participant's socket, from the opening handshake to its close.

Admission (after the handshake, so a refusal can carry a close code a browser can read): the token
from `?access_token=`, its `room` claim, single use of its `jti`, then the user must be in the
room's presence hash (checked once more after a short wait: the room trigger may be a few ms
behind). Then a reader (validate, rate-limit, relay) and a writer (drain the bounded outbox) run
until either side closes. One log line per socket when it ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.protocol import OPEN

from realtime import messages
from realtime.config import Settings
from realtime.messages import Close, InvalidMessage
from realtime.outbox import Outbox, Overflow, TokenBucket
from realtime.rooms import Registry, Room, now_ms
from realtime.tokens import KeysUnavailable, TokenError, TokenVerifier
from shared import keys
from shared.log import log_event

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from websockets.asyncio.server import ServerConnection

log = logging.getLogger("realtime.connection")
INTERNAL_ERROR = 1011


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Connection:
    def __init__(
        self,
        ws: ServerConnection,
        room_id: str,
        *,
        settings: Settings,
        registry: Registry,
        verifier: TokenVerifier,
        redis: Redis,
    ) -> None:
        self.ws = ws
        self.room_id = room_id
        self.settings = settings
        self.registry = registry
        self.verifier = verifier
        self.redis = redis
        self.uid = ""
        self.active = False
        self.room: Room | None = None
        self.outbox = Outbox(settings.queue_motion, settings.queue_other)
        self.motion_bucket = TokenBucket(settings.motion_per_s, settings.motion_per_s)
        self.chat_bucket = TokenBucket(settings.chat_per_s, settings.chat_burst)
        self.closing: tuple[int, str] | None = None
        self.messages_in = 0
        self.messages_out = 0
        self.invalid = 0
        self.rate_limited = 0
        self._rate_notice_at = 0.0
        self._closer: asyncio.Future[None] | None = None
        self._writer_idle = False  # the writer waits on an empty outbox (the fast path may write)

    # -- what the registry calls ------------------------------------------------------------------
    def deliver(self, data: str) -> None:
        try:
            self.outbox.put(data)
        except Overflow:
            # The writer is stuck on a client that does not read: close now rather than behind it.
            if self.closing is None:
                self.closing = (Close.TOO_SLOW, "too slow: chat and events backlog full")
                self._closer = asyncio.ensure_future(self._close_or_drop())

    def deliver_motion(self, data: str) -> None:
        # Fast path: with nothing queued and room in the socket's write buffer, write the frame now,
        # through websockets' Sans-I/O layer (`protocol.send_text`, `data_to_send`), instead of
        # waking the writer task: one task switch less per frame, the relay's largest overhead after
        # parsing. Anything else (a backlog, a full buffer, a closing socket) goes through the outbox.
        ws = self.ws
        if (
            self._writer_idle
            and not self.outbox
            and ws.protocol.state is OPEN
            and ws.transport.get_write_buffer_size() < ws.write_limit_high
        ):
            try:
                ws.protocol.send_text(data.encode())
                for chunk in ws.protocol.data_to_send():
                    ws.transport.write(chunk)
            except Exception:  # this runs in the sender's task: a dying socket must not hurt the sender
                return
            self.messages_out += 1
            return
        self.outbox.put_motion(data)

    def kick(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            self.outbox.put_close()

    # -- lifecycle --------------------------------------------------------------------------------
    async def run(self) -> None:
        started = time.monotonic()
        admitted = False
        code, reason = INTERNAL_ERROR, "internal error"
        try:
            try:
                await self._admit()
                admitted = True
            except Refused as refusal:
                code, reason = refusal.code, refusal.reason
                await self.ws.close(code, reason)
                return
            log_event(
                log,
                "ws open",
                roomId=self.room_id,
                uid=self.uid,
                instance=self.registry.instance_id,
                connections=self.registry.connections,
            )
            code, reason = await self._serve()
        except ConnectionClosed:
            code, reason = self._peer_close()
        except Exception:
            log.exception("connection failed", extra={"fields": {"roomId": self.room_id, "uid": self.uid}})
            code, reason = INTERNAL_ERROR, "internal error"
            await self.ws.close(code, reason)
        finally:
            if self.room is not None:
                self.registry.leave(self.room, self)
            log_event(
                log,
                "ws closed",
                logging.INFO if admitted or code != INTERNAL_ERROR else logging.ERROR,
                roomId=self.room_id,
                uid=self.uid or None,
                admitted=admitted,
                code=code,
                reason=reason,
                durationS=round(time.monotonic() - started, 3),
                messagesIn=self.messages_in,
                messagesOut=self.messages_out,
                motionDropped=self.outbox.dropped,
                rateLimited=self.rate_limited,
                invalid=self.invalid,
                instance=self.registry.instance_id,
                connections=self.registry.connections,
            )

    async def _admit(self) -> None:
        query = parse_qs(urlsplit(self.ws.request.path if self.ws.request else "").query)
        token = (query.get("access_token") or [""])[0]
        if not token:
            raise Refused(Close.UNAUTHENTICATED, "missing access_token")
        try:
            claims = await self.verifier.verify(token)
        except TokenError as exc:
            raise Refused(Close.UNAUTHENTICATED, exc.reason) from None
        except KeysUnavailable:
            raise Refused(messages.TRY_AGAIN_LATER, "token keys unavailable, retry") from None
        if claims.room != self.room_id:
            raise Refused(Close.FORBIDDEN, "token is not for this room")
        self.uid = claims.uid
        # Single use: a token leaked from a URL in some log cannot open a second socket.
        first_use = await self.redis.set(keys.ws_token_used(claims.jti), "1", nx=True, exat=claims.exp + 1)
        if not first_use:
            raise Refused(Close.UNAUTHENTICATED, "token already used")
        # Subscribe before the presence check: an event published after the check is not missed.
        self.room = await self.registry.join(self.room_id, self)
        participants = await self._participants()
        if self.uid not in participants:
            await asyncio.sleep(self.settings.presence_recheck_s)
            participants = await self._participants()
        if self.uid not in participants:
            if not participants:
                raise Refused(Close.ROOM_NOT_FOUND, "no such room, or it is closed")
            raise Refused(Close.FORBIDDEN, "not a participant of this room")
        await self.registry.activate(self.room, self)
        await self._send(
            messages.dumps(
                {
                    "type": "ready",
                    "roomId": self.room_id,
                    "uid": self.uid,
                    "participants": sorted(participants),
                    "at": now_ms(),
                    "limits": {
                        "motionPerS": self.settings.motion_per_s,
                        "motionMaxBytes": self.settings.motion_max_bytes,
                        "chatMaxChars": self.settings.chat_max_chars,
                        "chatPerS": self.settings.chat_per_s,
                    },
                }
            )
        )
        others = [uid for uid in sorted(participants) if uid != self.uid]
        for frame in await self.registry.cached_motion(self.room_id, others):
            await self._send(frame)

    async def _close_or_drop(self) -> None:
        """Close with `self.closing`, or drop the connection if the close frame cannot be sent within
        close_timeout. websockets' close() first waits, without a deadline, for the socket's send
        buffer to drain, which never happens for a client that stopped reading (its keepalive ping
        waits the same way); such a client would otherwise hold its connection until the next ping
        noticed the close under way, up to REALTIME_PING_INTERVAL_S later."""
        assert self.closing is not None
        try:
            await asyncio.wait_for(self.ws.close(*self.closing), self.ws.close_timeout)
        except TimeoutError:
            self.ws.transport.abort()

    async def _drop_when_stalled(self) -> None:
        """Close a socket that accepted nothing for a whole REALTIME_PING_TIMEOUT_S. A client that
        stops reading while only motion reaches it overflows nothing (motion drops its oldest frame),
        and websockets' keepalive ping waits for the full send buffer to drain like any other write,
        so it never times out: without this, such a socket would stay open, and a close queued
        behind its backlog (the room closed, the user left) would never be reached."""
        sent_when_full: int | None = None  # messages sent when the send buffer was last seen full
        while True:
            await asyncio.sleep(self.settings.ping_timeout_s)
            if not self.ws.paused:
                sent_when_full = None
            elif sent_when_full == self.messages_out:
                break  # full at two looks in a row, and nothing sent in between
            else:
                sent_when_full = self.messages_out
        if self.closing is None:
            self.closing = (Close.TOO_SLOW, "too slow: accepted nothing for the ping timeout")
        await self._close_or_drop()

    async def _participants(self) -> set[str]:
        uids = await self.redis.hkeys(keys.room_presence(self.room_id))
        return {uid if isinstance(uid, str) else uid.decode() for uid in uids}

    async def _serve(self) -> tuple[int, str]:
        tasks = (asyncio.create_task(self._write()), asyncio.create_task(self._drop_when_stalled()))
        try:
            await self._read()
        except ConnectionClosed:
            pass
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.closing is not None:
            return self.closing
        return self._peer_close()

    def _peer_close(self) -> tuple[int, str]:
        if self.closing is not None:
            return self.closing
        received, sent = self.ws.protocol.close_rcvd, self.ws.protocol.close_sent
        if received is not None and (sent is None or self.ws.protocol.close_rcvd_then_sent):
            return received.code, received.reason or "client closed"
        if sent is not None:  # the server ended it, e.g. 1011 keepalive ping timeout
            return sent.code, sent.reason
        return 1006, "connection lost"

    async def _send(self, data: str) -> None:
        await self.ws.send(data)
        self.messages_out += 1

    async def _write(self) -> None:
        outbox = self.outbox
        while True:
            self._writer_idle = True
            try:
                await outbox.wait()
            finally:
                self._writer_idle = False
            other, motion = outbox.take()
            for item in other:
                if item is None:
                    await self._close_or_drop()
                    return
                await self._send(item)
            for item in motion:
                await self._send(item)

    async def _read(self) -> None:
        assert self.room is not None
        room, uid, settings = self.room, self.uid, self.settings
        fields = messages.sender_fields(uid)
        async for raw in self.ws:
            self.messages_in += 1
            if self.closing is not None:
                continue
            if not isinstance(raw, str):
                self._reject("invalid_message", "binary frames are not accepted")
                continue
            try:
                message = messages.parse(
                    raw, motion_max_bytes=settings.motion_max_bytes, chat_max_chars=settings.chat_max_chars
                )
            except InvalidMessage as exc:
                self._reject(exc.code, exc.message)
                continue
            if message["type"] == "motion":
                if not self.motion_bucket.take():
                    self._rate_limited("motion frames are limited to motionPerS")
                    continue
                self.registry.relay_motion(room, uid, messages.relayed_text(raw, fields, now_ms()))
            else:
                if not self.chat_bucket.take():
                    self._rate_limited("chat is limited to chatPerS", always=True)
                    continue
                at = now_ms()
                self.registry.relay_chat(room, uid, messages.relayed(message, uid, at))
                if "id" in message:
                    self.deliver(messages.dumps({"type": "ack", "id": message["id"], "at": at}))

    def _reject(self, code: str, text: str) -> None:
        self.invalid += 1
        self.deliver(messages.error(code, text))

    def _rate_limited(self, text: str, *, always: bool = False) -> None:
        # A dropped motion frame is told at most once a second; a refused chat line always.
        self.rate_limited += 1
        now = time.monotonic()
        if always or now - self._rate_notice_at >= 1.0:
            self._rate_notice_at = now
            self.deliver(messages.error("rate_limited", text))
