"""The server: `GET /rooms/{roomId}?access_token=` upgrades to a WebSocket, `GET /healthz` answers JSON.

Cloud Run sends SIGTERM before it stops an instance: the server stops accepting and closes every
socket with 1001 (going away), and clients reconnect, to another instance.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import re
import signal
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from realtime import STARTED_AT
from realtime.config import Settings
from realtime.connection import Connection
from realtime.rooms import Registry
from realtime.tokens import JwksCache, TokenVerifier
from shared.log import get_logger, log_event

if TYPE_CHECKING:
    from redis.asyncio import Redis

ROOM_PATH = re.compile(r"/rooms/([A-Za-z0-9_-]{1,128})")  # the room ids issue_tokens accepts
log = logging.getLogger("realtime.app")


class Service:
    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.settings = settings
        self.redis = redis
        self.registry = Registry(
            redis,
            settings.instance_id,
            motion_ttl_s=settings.motion_ttl_s,
            motion_flush_s=settings.motion_flush_s,
        )
        self.verifier = TokenVerifier(
            JwksCache(settings.jwks_url, min_refresh_s=settings.jwks_min_refresh_s),
            issuer=settings.issuer,
            audience=settings.audience,
        )
        self.started = time.monotonic()

    async def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path == "/healthz":
            return await self._health(connection)
        if ROOM_PATH.fullmatch(path):
            return None  # go on with the WebSocket handshake
        return connection.respond(http.HTTPStatus.NOT_FOUND, "not found\n")

    async def handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        match = ROOM_PATH.fullmatch(urlsplit(connection.request.path).path)
        assert match is not None
        await Connection(
            connection,
            match.group(1),
            settings=self.settings,
            registry=self.registry,
            verifier=self.verifier,
            redis=self.redis,
        ).run()

    async def _health(self, connection: ServerConnection) -> Response:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self.redis.ping(), timeout=2.0)
            redis = {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}
        except Exception as exc:
            redis = {"status": "error", "error": type(exc).__name__}
        ok = redis["status"] == "ok"
        body = {
            "status": "ok" if ok else "degraded",
            "instance": self.settings.instance_id,
            "connections": self.registry.connections,
            "rooms": len(self.registry.rooms),
            "uptimeS": round(time.monotonic() - self.started, 1),
            "stores": {"redis": redis},
        }
        response = connection.respond(
            http.HTTPStatus.OK if ok else http.HTTPStatus.SERVICE_UNAVAILABLE, json.dumps(body) + "\n"
        )
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        response.headers["Cache-Control"] = "no-store"
        return response


async def run(settings: Settings, stop: asyncio.Event | None = None, loop_name: str = "asyncio") -> None:
    from redis.asyncio import BlockingConnectionPool, Redis

    get_logger("realtime")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # A blocking pool: a reconnect storm (every socket of a redeployed instance coming back at once)
    # waits for a free Redis connection instead of failing with "Too many connections".
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_connect_timeout=3.0,
        socket_keepalive=True,
        retry_on_timeout=True,
        max_connections=32,
        timeout=10,
    )
    redis = Redis(connection_pool=pool)
    service = Service(settings, redis)
    await service.registry.start()
    server = await serve(
        service.handle,
        settings.host,
        settings.port,
        process_request=service.process_request,
        compression="deflate" if settings.compression else None,
        max_size=settings.max_frame_bytes,
        ping_interval=settings.ping_interval_s,
        ping_timeout=settings.ping_timeout_s,
        close_timeout=5,
        server_header=None,
    )
    log_event(
        log,
        "realtime listening",
        port=settings.port,
        instance=settings.instance_id,
        loop=loop_name,
        startS=round(time.monotonic() - STARTED_AT, 3),
    )
    try:
        await stop.wait()
    finally:
        log_event(log, "realtime stopping", connections=service.registry.connections)
        server.close()  # closes every socket with 1001 going away
        await server.wait_closed()
        await service.registry.stop()
        await redis.aclose()
