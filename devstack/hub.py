"""The local stand-ins for Google's front doors, in one aiohttp process:

- gateway (GATEWAY port): `/<function>/<path>` proxied to that function's own process, the URL
  layout of https://REGION-PROJECT.cloudfunctions.net/<function>/<path>.
- event router (ROUTER port): receives the Firestore emulator's 2nd-gen trigger calls and Pub/Sub
  push deliveries and hands each function a CloudEvent in production's shape. Firestore events are
  acknowledged at once and delivered with retries and exponential backoff, as Eventarc does; a
  Pub/Sub delivery answers the emulator with the function's status, so Pub/Sub itself redelivers.
- scheduler: fires the manifest's cron schedules by publishing to their topics (Cloud Scheduler
  has no emulator); `POST /scheduler/jobs/<name>:run` fires one now, like `gcloud scheduler jobs run`.

Run: python -m devstack.hub CONFIG.json
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientError, ClientSession, ClientTimeout, ServerDisconnectedError, TCPConnector, web
from croniter import croniter
from yarl import URL

log = logging.getLogger("devstack.hub")

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


@dataclass
class Delivery:
    """One Firestore event on its way to a function, with its attempt count."""

    function: str
    headers: dict[str, str]
    body: bytes
    event_id: str
    attempts: int = 0


class Hub:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.project = config["project"]
        self.functions: dict[str, dict[str, Any]] = config["functions"]
        retry = config.get("retry", {})
        self.retry_initial_s = float(retry.get("initial_s", 1.0))
        self.retry_max_s = float(retry.get("max_s", 30.0))
        self.retry_attempts = int(retry.get("max_attempts", 10))
        self.session: ClientSession | None = None
        self.deliveries: list[dict[str, Any]] = []  # recent delivery log, for tests and debugging
        self.jobs = {
            schedule["name"]: {**schedule, "topic": spec["topic"], "function": name}
            for name, spec in self.functions.items()
            for schedule in spec.get("schedules", [])
        }
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- plumbing -------------------------------------------------------------------------------
    async def start(self, app: web.Application) -> None:
        self.session = ClientSession(
            # gunicorn drops idle keep-alive connections after 2 s; let ours go first so that a request is
            # never written to a connection the function is closing.
            connector=TCPConnector(limit=0, limit_per_host=256, keepalive_timeout=1.0),
            timeout=ClientTimeout(total=None, sock_connect=5),
            auto_decompress=False,
        )
        if self.config.get("scheduler", {}).get("auto", True):
            self._spawn(self._scheduler_loop())

    async def stop(self, app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.session is not None:
            await self.session.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _function_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.functions[name]['port']}"

    def _record(self, **entry: Any) -> None:
        self.deliveries.append({"at": time.time(), **entry})
        del self.deliveries[:-1000]

    # -- gateway --------------------------------------------------------------------------------
    async def gateway(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["function"]
        spec = self.functions.get(name)
        if spec is None or spec["trigger_type"] != "http":
            return web.json_response(
                {"error": {"code": "not_found", "message": f"no HTTP function named {name!r}"}}, status=404
            )
        # Forward the path as it came, still percent-encoded: decoding it here would put raw line
        # breaks and the like into the upstream URL, which production's front end never does.
        raw_path = request.rel_url.raw_path[len(name) + 1 :] or "/"
        query = request.rel_url.raw_query_string
        url = self._function_url(name) + raw_path + (f"?{query}" if query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        headers["X-Forwarded-Proto"] = "http"
        body = await request.read()
        timeout = ClientTimeout(total=spec.get("timeout_s", 60) + 5)
        forward = URL(url, encoded=True)
        try:
            try:
                return await self._forward(request.method, forward, headers, body, timeout)
            except ServerDisconnectedError:
                # Closed before any answer: almost always a pooled connection the function had just
                # closed (gunicorn closes one whose request body it refused unread), which the
                # request never reached; so once more on a new connection, as Google's front end
                # retries. (A worker that died mid-request would see the request twice; this is
                # the local stand-in.) A second disconnect is the answer.
                return await self._forward(request.method, forward, headers, body, timeout)
        except (OSError, TimeoutError, ClientError) as exc:
            return web.json_response(
                {
                    "error": {
                        "code": "unavailable",
                        "message": f"function {name} is not reachable: {type(exc).__name__} {exc}",
                    }
                },
                status=503,
            )

    async def _forward(
        self, method: str, url: URL, headers: dict[str, str], body: bytes, timeout: ClientTimeout
    ) -> web.Response:
        assert self.session is not None
        async with self.session.request(
            method, url, headers=headers, data=body, allow_redirects=False, timeout=timeout
        ) as upstream:
            payload = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=upstream.status, headers=out, body=payload)

    async def index(self, request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        return web.json_response(
            {
                name: f"{base}/{name}"
                for name, spec in self.functions.items()
                if spec["trigger_type"] == "http"
            }
        )

    # -- Firestore events (Eventarc stand-in) ---------------------------------------------------
    async def firestore_event(self, request: web.Request) -> web.Response:
        trigger_id = request.match_info["trigger"]
        if trigger_id not in self.functions:
            return web.json_response({"error": f"unknown trigger {trigger_id}"}, status=404)
        body = await request.read()
        # Lower-case names: HTTP clients differ in case ("Ce-Id"), the lookups below must not.
        headers = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("ce-")}
        headers["Content-Type"] = request.headers.get("Content-Type", "application/protobuf")
        # The emulator base64-encodes the protobuf; Eventarc sends raw bytes. Hand functions the
        # production shape.
        if (
            headers["Content-Type"].startswith("application/protobuf")
            and body
            and body[:1] not in (b"\n", b"\x12")
        ):
            with contextlib.suppress(ValueError):
                body = base64.b64decode(body, validate=True)
        delivery = Delivery(trigger_id, headers, body, headers.get("ce-id", ""))
        self._spawn(self._deliver(delivery))
        return web.Response(status=204)

    async def _deliver(self, delivery: Delivery) -> None:
        assert self.session is not None
        backoff = self.retry_initial_s
        timeout = ClientTimeout(total=self.functions[delivery.function].get("timeout_s", 60) + 5)
        while True:
            delivery.attempts += 1
            started = time.perf_counter()
            try:
                async with self.session.post(
                    self._function_url(delivery.function) + "/",
                    headers=delivery.headers,
                    data=delivery.body,
                    timeout=timeout,
                ) as response:
                    status = response.status
                    await response.read()
            except (OSError, TimeoutError) as exc:
                status = 0
                log.warning("delivery to %s failed: %s", delivery.function, exc)
            self._record(
                kind="firestore",
                function=delivery.function,
                eventId=delivery.event_id,
                subject=delivery.headers.get("ce-subject") or delivery.headers.get("ce-document"),
                attempt=delivery.attempts,
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
            if 200 <= status < 300:
                return
            if delivery.attempts >= self.retry_attempts:
                log.error("giving up on event %s for %s", delivery.event_id, delivery.function)
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.retry_max_s)

    # -- Pub/Sub push -> CloudEvent -------------------------------------------------------------
    async def pubsub_push(self, request: web.Request) -> web.Response:
        name = request.match_info["function"]
        spec = self.functions.get(name)
        if spec is None or spec["trigger_type"] != "pubsub":
            return web.json_response({"error": f"no Pub/Sub function {name}"}, status=404)
        push = await request.json()
        message = push.get("message", {})
        message_id = message.get("messageId") or message.get("message_id") or uuid.uuid4().hex
        publish_time = message.get("publishTime") or datetime.now(UTC).isoformat()
        message.setdefault("messageId", message_id)
        message.setdefault("publishTime", publish_time)
        headers = {
            "ce-specversion": "1.0",
            "ce-id": message_id,
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
            "ce-source": f"//pubsub.googleapis.com/projects/{self.project}/topics/{spec['topic']}",
            "ce-time": publish_time,
            "Content-Type": "application/json",
        }
        body = json.dumps({"message": message, "subscription": push.get("subscription")}).encode()
        assert self.session is not None
        started = time.perf_counter()
        try:
            async with self.session.post(
                self._function_url(name) + "/",
                headers=headers,
                data=body,
                timeout=ClientTimeout(total=spec.get("timeout_s", 60) + 5),
            ) as response:
                status = response.status
                await response.read()
        except (OSError, TimeoutError):
            status = 503
        self._record(
            kind="pubsub",
            function=name,
            eventId=message_id,
            attempt=int(push.get("deliveryAttempt") or 0) or None,
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        # Any non-2xx makes the emulator redeliver the message later.
        return web.Response(status=204 if 200 <= status < 300 else 503)

    # -- scheduler ------------------------------------------------------------------------------
    async def _publish(self, topic: str, data: dict[str, Any], attributes: dict[str, str]) -> str:
        assert self.session is not None
        url = f"http://{self.config['pubsub_host']}/v1/projects/{self.project}/topics/{topic}:publish"
        message = {"data": base64.b64encode(json.dumps(data).encode()).decode(), "attributes": attributes}
        async with self.session.post(url, json={"messages": [message]}) as response:
            response.raise_for_status()
            return str((await response.json())["messageIds"][0])

    async def fire(self, job_name: str, scheduled_for: datetime) -> str:
        job = self.jobs[job_name]
        attributes = {"scheduler_job": job_name, "scheduled_time": scheduled_for.isoformat()}
        message_id = await self._publish(job["topic"], job.get("data", {}), attributes)
        self._record(kind="schedule", job=job_name, topic=job["topic"], messageId=message_id)
        return message_id

    def next_fire_times(self, now: datetime) -> dict[str, datetime]:
        return {
            name: croniter(job["cron"], now.astimezone(ZoneInfo(job.get("time_zone", "Etc/UTC")))).get_next(
                datetime
            )
            for name, job in self.jobs.items()
        }

    async def _scheduler_loop(self) -> None:
        upcoming = self.next_fire_times(datetime.now(UTC))
        while True:
            name, when = min(upcoming.items(), key=lambda item: item[1]) if upcoming else (None, None)
            if name is None or when is None:
                return
            await asyncio.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()))
            try:
                await self.fire(name, when)
            except Exception as exc:  # a scheduler keeps going, as Cloud Scheduler does
                log.warning("scheduled job %s failed to publish: %s", name, exc)
            job = self.jobs[name]
            upcoming[name] = croniter(job["cron"], when).get_next(datetime)

    async def list_jobs(self, request: web.Request) -> web.Response:
        upcoming = self.next_fire_times(datetime.now(UTC))
        return web.json_response(
            {name: {**job, "nextRun": upcoming[name].isoformat()} for name, job in self.jobs.items()}
        )

    async def run_job(self, request: web.Request) -> web.Response:
        name = request.match_info["job"]
        if name not in self.jobs:
            return web.json_response({"error": f"unknown job {name}"}, status=404)
        message_id = await self.fire(name, datetime.now(UTC))
        return web.json_response({"job": name, "messageId": message_id})

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def deliveries_log(self, request: web.Request) -> web.Response:
        return web.json_response(self.deliveries)


def build_apps(hub: Hub) -> tuple[web.Application, web.Application]:
    gateway = web.Application(client_max_size=16 * 1024 * 1024)
    gateway.router.add_get("/", hub.index)
    gateway.router.add_route("*", "/{function}", hub.gateway)
    # `[\s\S]*`, not `.*`: a path with an encoded line break must reach the function, as it does
    # behind Google's front end, rather than stop at the gateway.
    gateway.router.add_route("*", "/{function}/{path:[\\s\\S]*}", hub.gateway)

    router = web.Application(client_max_size=16 * 1024 * 1024)
    router.router.add_post("/functions/projects/{project}/triggers/{trigger}", hub.firestore_event)
    router.router.add_post("/pubsub/{function}", hub.pubsub_push)
    router.router.add_get("/scheduler/jobs", hub.list_jobs)
    router.router.add_post("/scheduler/jobs/{job}:run", hub.run_job)
    router.router.add_get("/deliveries", hub.deliveries_log)
    router.router.add_get("/healthz", hub.healthz)
    router.on_startup.append(hub.start)
    router.on_cleanup.append(hub.stop)
    return gateway, router


async def serve(config: dict[str, Any]) -> None:
    hub = Hub(config)
    gateway, router = build_apps(hub)
    runners = []
    for app, port in ((router, config["router_port"]), (gateway, config["gateway_port"])):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
        runners.append(runner)
    try:
        await asyncio.Event().wait()
    finally:
        for runner in runners:
            await runner.cleanup()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s hub %(levelname)s %(message)s")
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config))


if __name__ == "__main__":
    main()
