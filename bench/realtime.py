"""Realtime service: how many sockets one instance holds at 20 motion frames/s each, against a bare
echo server of the same library on the same machine in the same run (the floor).

    .venv/bin/python bench/realtime.py                  # writes docs/bench/realtime.md
    .venv/bin/python bench/realtime.py --steps 100,200 --duration 3 --out -

Rooms of two; every user sends a ~1 KB motion frame 20 times a second carrying its send time. The
relay delivers it to the other participant (latency = peer receive - send); the echo server sends it
back to the sender (latency = the same two network legs and one server hop). Connections grow step
by step until p95 passes the limit (50 ms). Reported per server: the last step under the limit
(connections, frames/s relayed) and every step's p50/p95/p99 and the server process's CPU.

What runs: its own redis-server on a free port, a JWKS served by this process, the realtime service
(`python -m realtime`, as deployed) and the echo server each in their own process, and the load in
`--workers` processes (asyncio, websockets client). Tokens are signed with a key this benchmark
publishes, and `room:presence:*` is written as the room trigger would: the service's own path is
measured, not issue_tokens or Firestore.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchstack import MACHINE, percentile  # noqa: E402
from bench.report import Row, Run, machine  # noqa: E402
from devstack.ports import free_port  # noqa: E402

FPS = 20.0
DEFAULT_STEPS = "100,200,300,400,500,600,700,800,1000,1200,1400"


def _frame_template() -> tuple[str, str]:
    """A realistic frame: position, rotation, a few expressions, 20 bones (~1 KB), split around `t`
    so the generator only formats two numbers per frame."""
    bones = {
        name: [0.0123, -0.4567, 0.0891, 0.8765]
        for name in [
            "hips", "spine", "chest", "upperChest", "neck", "head", "leftShoulder", "leftUpperArm",
            "leftLowerArm", "leftHand", "rightShoulder", "rightUpperArm", "rightLowerArm", "rightHand",
            "leftUpperLeg", "leftLowerLeg", "leftFoot", "rightUpperLeg", "rightLowerLeg", "rightFoot",
        ]
    }  # fmt: skip
    frame = {
        "type": "motion",
        "seq": 0,
        "t": 0.0,
        "position": [0.12, 0.0, -1.5],
        "rotation": [0.0, 0.7071, 0.0, 0.7071],
        "expression": {"happy": 0.4, "blink": 0.0, "aa": 0.2, "lookUp": 0.1},
        "bones": bones,
    }
    text = json.dumps(frame, separators=(",", ":"))
    head, tail = text.split('"seq":0,"t":0.0')
    return head, tail


FRAME_HEAD, FRAME_TAIL = _frame_template()


def motion_frame(seq: int, sent: float) -> str:
    return f'{FRAME_HEAD}"seq":{seq},"t":{sent!r}{FRAME_TAIL}'


# -- load generator (worker processes) ------------------------------------------------------------
@dataclass
class Stats:
    latencies: list[float]
    sent: int = 0
    received: int = 0
    late_ticks: int = 0
    errors: int = 0
    closed: int = 0


class RawClient(asyncio.Protocol):
    """A minimal WebSocket client for load: frames built as bytes with a zero masking key (legal,
    though a browser would pick a random one) and server frames parsed by hand, so the generator
    spends little CPU per frame and the servers, not the client library, are what is measured."""

    def __init__(self, worker: Worker, request: bytes, wait_ready: bool) -> None:
        self.worker = worker
        self.request = request
        self.buffer = bytearray()
        self.open = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.wait_ready = wait_ready
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport subclass
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker.stats.closed += 1
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before ready"))

    def send_text(self, payload: bytes) -> None:
        assert self.transport is not None
        n = len(payload)
        header = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
        self.transport.write(header + b"\0\0\0\0" + payload)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(ConnectionError(bytes(buffer[:80]).decode(errors="replace")))
                return
            del buffer[: end + 4]
            self.open = True
            if not self.wait_ready:
                self.ready.set_result(None)
        while len(buffer) >= 2:
            size, start = buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + size:
                return
            opcode = buffer[0] & 0x0F
            payload = bytes(buffer[start : start + size])
            del buffer[: start + size]
            if opcode == 1:
                self.on_text(payload, now)
            elif opcode == 9:  # ping: pong with the same data
                assert self.transport is not None
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload)

    def on_text(self, payload: bytes, now: float) -> None:
        if not self.ready.done():
            self.ready.set_result(None)  # `ready` (relay) or the first echo
            return
        stats = self.worker.stats
        if not self.worker.recording:
            return
        start = payload.find(b'"t":')
        if start < 0:
            return
        end = payload.find(b",", start)
        stats.latencies.append(now - float(payload[start + 4 : end]))
        stats.received += 1


class Worker:
    """Connections of one load process. One ticker sends every connection's frame once per period,
    the connections spread over SLOTS sub-ticks (one timer per sub-tick, not one per connection)."""

    SLOTS = 10

    def __init__(self, url: str, echo: bool) -> None:
        host, port = url.removeprefix("ws://").split(":")
        self.host, self.port = host, int(port)
        self.echo = echo
        self.stats = Stats([])
        self.recording = False
        self.slots: list[list[RawClient]] = [[] for _ in range(self.SLOTS)]
        self.tasks: list[asyncio.Task[None]] = []
        self.count = 0

    async def add(self, room: str, token: str) -> None:
        path = "/echo" if self.echo else f"/rooms/{room}?access_token={token}"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(
            lambda: RawClient(self, request, wait_ready=not self.echo), self.host, self.port
        )
        if self.echo:
            await asyncio.wait_for(client.ready, 30)
            client.ready = loop.create_future()
            client.send_text(b'{"type":"hello"}')  # the echo's reply marks it ready
        await asyncio.wait_for(client.ready, 30)
        self.slots[self.count % self.SLOTS].append(client)
        self.count += 1

    def start(self) -> None:
        self.tasks.append(asyncio.create_task(self._tick()))

    async def _tick(self) -> None:
        sub = 1.0 / FPS / self.SLOTS
        next_at = time.monotonic()
        seq, slot = 0, 0
        while True:
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -sub and self.recording:  # the generator itself is behind
                self.stats.late_ticks += 1
            if slot == 0:
                seq += 1
            for client in self.slots[slot]:
                if client.transport is None or client.transport.is_closing():
                    continue
                client.send_text(motion_frame(seq, time.monotonic()).encode())
                if self.recording:
                    self.stats.sent += 1
            slot = (slot + 1) % self.SLOTS
            next_at = max(next_at + sub, time.monotonic() - sub)


def worker_main(pipe: Pipe, url: str, echo: bool, loop: str) -> None:
    from realtime.__main__ import event_loop_runner

    event_loop_runner(loop)[1](_worker_loop(pipe, url, echo))


async def _worker_loop(pipe: Pipe, url: str, echo: bool) -> None:
    worker = Worker(url, echo)
    worker.start()
    loop = asyncio.get_running_loop()
    while True:
        command, args = await loop.run_in_executor(None, pipe.recv)
        if command == "add":
            for start in range(0, len(args), 50):  # connect in small batches
                await asyncio.gather(*(worker.add(room, token) for room, token in args[start : start + 50]))
            pipe.send("ok")
        elif command == "measure":
            warmup, duration = args
            await asyncio.sleep(warmup)
            worker.stats = Stats([])
            worker.recording = True
            await asyncio.sleep(duration)
            worker.recording = False
            stats = worker.stats
            pipe.send(
                {
                    "latencies": stats.latencies,
                    "sent": stats.sent,
                    "received": stats.received,
                    "late_ticks": stats.late_ticks,
                    "closed": stats.closed,
                }
            )
        elif command == "stop":
            for task in worker.tasks:
                task.cancel()
            pipe.send("ok")
            return


# -- servers --------------------------------------------------------------------------------------
def echo_server_main(port: int, loop: str) -> None:
    """The floor: the same library and settings, no parsing, no Redis."""

    async def serve_echo() -> None:
        from websockets.asyncio.server import serve

        async def echo(ws: Any) -> None:
            async for message in ws:
                await ws.send(message)

        async with serve(echo, "127.0.0.1", port, compression=None, max_size=8192 * 2):
            await asyncio.Future()

    from realtime.__main__ import event_loop_runner

    event_loop_runner(loop)[1](serve_echo())


class JwksServer:
    def __init__(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        import base64

        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        body = json.dumps(
            {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "bench", "alg": "EdDSA"}]}
        )

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=300")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/jwks.json"

    def token(self, uid: str, room: str) -> str:
        import jwt

        now = int(time.time())
        claims = {
            "iss": "vchat-issue-tokens",
            "aud": "vchat-ws",
            "sub": uid,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + 300,
            "room": room,
        }
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": "bench"})

    def close(self) -> None:
        self.server.shutdown()


def wait_port(port: int, timeout_s: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def wait_ready(port: int, mode: str, timeout_s: float = 30.0) -> None:
    """The relay is ready when /healthz answers 200 (Redis connected, subscribed); the echo when it listens."""
    if mode != "relay":
        wait_port(port, timeout_s)
        return
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"the relay on {port} did not become ready")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- one server's run ----------------------------------------------------------------------------
def measure_step(
    pipes: list[Pipe],
    workers: list[Any],
    server: subprocess.Popen[bytes],
    args: argparse.Namespace,
    connected: int,
) -> dict[str, Any]:
    """Warm up, then measure every worker for `duration`: latencies, frame rates, CPU of each side."""
    cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
    load_before = sum(cpu_seconds(w.pid) for w in workers if w.pid)
    for pipe_end in pipes:
        pipe_end.send(("measure", (args.warmup, args.duration)))
    results = [pipe_end.recv() for pipe_end in pipes]
    elapsed = time.monotonic() - wall_before
    latencies = [x for r in results for x in r["latencies"]]
    return {
        "connections": connected,
        "offered_fps": sum(r["sent"] for r in results) / args.duration,
        "frames_per_s": sum(r["received"] for r in results) / args.duration,
        "p50_ms": percentile(latencies, 50) * 1000 if latencies else float("nan"),
        "p95_ms": percentile(latencies, 95) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 99) * 1000 if latencies else float("nan"),
        "late_ticks": sum(r["late_ticks"] for r in results),
        "closed": sum(r["closed"] for r in results),
        # CPU-seconds per second over warm-up + measurement (both sides run the same load throughout).
        "server_cpu": (cpu_seconds(server.pid) - cpu_before) / elapsed,
        "generator_cpu": (sum(cpu_seconds(w.pid) for w in workers if w.pid) - load_before) / elapsed,
        "loadavg": os.getloadavg()[0],
    }


def run_server(
    mode: str, steps: list[int], args: argparse.Namespace, redis_url: str, jwks: JwksServer
) -> list[dict[str, Any]]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": redis_url,
        "WS_JWKS_URL": jwks.url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "REALTIME_LOOP": args.loop,
    }
    if mode == "relay":
        # BENCH_PROFILE=file profiles the service (cProfile) for a look at where its time goes.
        profile = (
            ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if os.environ.get("BENCH_PROFILE") else []
        )
        argv = [sys.executable, *profile, "-m", "realtime"]
    else:
        argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--echo-server",
            str(port),
            "--loop",
            args.loop,
        ]
    log = open(Path(args.logdir) / f"{mode}.log", "w")  # noqa: SIM115
    spawned = time.monotonic()
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    wait_ready(port, mode)
    ready_s = time.monotonic() - spawned
    ctx = mp.get_context("spawn")
    pipes, workers = [], []
    for _ in range(args.workers):
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=worker_main, args=(child, f"ws://127.0.0.1:{port}", mode == "echo", args.loop)
        )
        process.start()
        pipes.append(parent)
        workers.append(process)
    rows: list[dict[str, Any]] = []
    connected = 0
    try:
        for target in steps:
            rooms = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range((target - connected) // 2)]
            if mode == "relay":
                import redis

                client = redis.Redis.from_url(redis_url)
                pipe = client.pipeline(transaction=False)
                for room in rooms:
                    pipe.hset(f"room:presence:{room}", mapping={f"{room}-a": "{}", f"{room}-b": "{}"})
                pipe.execute()
                client.close()
            batches: list[list[tuple[str, str]]] = [[] for _ in pipes]
            for index, room in enumerate(rooms):  # both users of a room in one worker
                batches[index % len(pipes)] += [
                    (room, jwks.token(f"{room}-a", room)),
                    (room, jwks.token(f"{room}-b", room)),
                ]
            for pipe_end, batch in zip(pipes, batches, strict=True):
                pipe_end.send(("add", batch))
            for pipe_end in pipes:
                pipe_end.recv()
            connected += 2 * len(rooms)
            row = measure_step(pipes, workers, server, args, connected)
            tries = 1
            while (not row["p95_ms"] <= args.p95_limit_ms) and tries <= args.retries and not row["closed"]:
                # A shared machine: a step over the limit is measured again before it counts.
                again = measure_step(pipes, workers, server, args, connected)
                tries += 1
                if again["p95_ms"] < row["p95_ms"]:
                    row = again
            row["tries"] = tries
            row["ready_s"] = ready_s
            rows.append(row)
            print(
                f"{mode:5} {connected:5} conns  {row['frames_per_s']:8.0f} frames/s  "
                f"p50 {row['p50_ms']:6.1f}  p95 {row['p95_ms']:6.1f}  p99 {row['p99_ms']:6.1f} ms  "
                f"cpu {row['server_cpu']:4.2f}  generator cpu {row['generator_cpu']:4.2f}  load {row['loadavg']:.1f}  "
                f"late ticks {row['late_ticks']}  closed {row['closed']}  tries {tries}",
                flush=True,
            )
            if not row["p95_ms"] <= args.p95_limit_ms or row["closed"]:
                break
    finally:
        for pipe_end in pipes:
            try:
                pipe_end.send(("stop", None))
                pipe_end.recv()
            except (OSError, EOFError):
                pass
        for process in workers:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    return rows


def knee(rows: list[dict[str, Any]], limit_ms: float) -> dict[str, Any] | None:
    good = [r for r in rows if r["p95_ms"] <= limit_ms and not r["closed"]]
    return good[-1] if good else None


def at_connections(rows: list[dict[str, Any]], connections: int) -> dict[str, Any] | None:
    return next((r for r in rows if r["connections"] == connections), None)


def per_cpu(row: dict[str, Any]) -> float:
    """Frames delivered per server CPU-second: the server's own cost, whatever else runs on the box."""
    return float(row["frames_per_s"] / row["server_cpu"]) if row["server_cpu"] > 0 else float("nan")


def report(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    import websockets

    limit = args.p95_limit_ms
    cpu = machine()["cpu"]
    loads = [r["loadavg"] for rows in results.values() for r in rows]
    lines = [
        f"# Realtime service benchmark ({datetime.now(UTC).date()}, {MACHINE}, Python {platform.python_version()})",
        "",
        f"`bench/realtime.py`: rooms of two, every user sends a ~1 KB motion frame {FPS:.0f}×/s; connections grow",
        f"until p95 latency passes {limit:.0f} ms (a step over it is measured {args.retries} more time(s) before it",
        "counts). Server: one process (= one Cloud Run instance) of `python -m realtime` as deployed, or a bare",
        f"websockets echo server (the floor: receive, send back); websockets {websockets.__version__}, event loop",
        f"{args.loop}, no compression. Load: {args.workers} processes of a minimal raw-socket client on the same",
        f"{os.cpu_count()} cores ({cpu}); 1-minute load average during the run {min(loads, default=0):.1f}–{max(loads, default=0):.1f}",
        f"(other work shares the machine). Warm-up {args.warmup:.0f} s, then {args.duration:.0f} s measured per step.",
        "",
        "| server | connections at p95 ≤ limit | frames/s there | p95 ms there | p95 ms at 500 connections | frames per server CPU-second |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode in ("echo", "relay"):
        rows = results.get(mode, [])
        best = knee(rows, limit)
        at500 = at_connections(rows, 500)
        capacity = statistics.median([per_cpu(r) for r in rows]) if rows else float("nan")
        lines.append(
            f"| {mode} | {best['connections'] if best else '-'} | {best['frames_per_s'] if best else 0:.0f} | "
            f"{best['p95_ms'] if best else float('nan'):.1f} | {at500['p95_ms'] if at500 else float('nan'):.1f} | "
            f"{capacity:.0f} |"
        )
    echo, relay = knee(results.get("echo", []), limit), knee(results.get("relay", []), limit)
    if echo and relay:
        ratio = relay["frames_per_s"] / echo["frames_per_s"]
        lines += ["", f"Relay / echo frame rate at the p95 limit: **{ratio:.2f}** (goal ≥ 0.5)."]
    if results.get("echo") and results.get("relay"):
        cpu_ratio = statistics.median([per_cpu(r) for r in results["relay"]]) / statistics.median(
            [per_cpu(r) for r in results["echo"]]
        )
        lines.append(
            f"Relay / echo frames per server CPU-second (median over steps): **{cpu_ratio:.2f}**: the frame rate "
            "each would sustain on a CPU of its own."
        )
    if results.get("relay"):
        lines.append(
            f"Relay process start to `/healthz` 200 (imports, Redis, subscribed): {results['relay'][0]['ready_s']:.2f} s."
        )
    relay500 = at_connections(results.get("relay", []), 500)
    if relay500:
        verdict = "met" if relay500["p95_ms"] < limit else "not met"
        lines.append(
            f"Relay p95 at 500 connections: **{relay500['p95_ms']:.1f} ms** (goal < {limit:.0f} ms: {verdict})."
        )
    lines += [
        "",
        "Every step (frames/s = frames delivered to clients per second; CPU = CPU-seconds per second of the",
        "server process and of the load processes; late ticks = sends the generator could not make on time):",
        "",
        "| server | connections | offered frames/s | frames/s | p50 ms | p95 ms | p99 ms | server CPU | frames/CPU-s | generator CPU | load avg | late ticks | closed | tries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in ("echo", "relay"):
        for r in results.get(mode, []):
            lines.append(
                f"| {mode} | {r['connections']} | {r['offered_fps']:.0f} | {r['frames_per_s']:.0f} | {r['p50_ms']:.1f} | "
                f"{r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['server_cpu']:.2f} | {per_cpu(r):.0f} | "
                f"{r['generator_cpu']:.2f} | {r['loadavg']:.1f} | {r['late_ticks']} | {r['closed']} | {r['tries']} |"
            )
    lines += [
        "",
        "How to read it. Both servers share the 2 cores with the load generator and, on this VM, with whatever",
        "else runs (the load average column): past ~0.5 CPU a server is starved by the scheduler rather than",
        "saturated, and its p95 climbs in steps of the scheduler's time slice. The knee is therefore a property",
        "of the machine at that moment; compare servers within one run, and use *frames per server CPU-second*",
        "(each server's own cost, ~steady across steps) to size an instance: at 20 frames/s per socket, one",
        "vCPU holds about (frames per CPU-second / 20) sockets at full load. The relay's extra cost over the",
        "echo is parsing and validating every frame (orjson + checks of ~100 numbers) and writing it to another",
        "socket than the one it came from; Redis costs nothing per frame while a room's participants share an",
        "instance (motion is published only when another instance listens).",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", default=DEFAULT_STEPS, help="connection counts, ascending")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--p95-limit-ms", type=float, default=50.0)
    parser.add_argument(
        "--retries", type=int, default=1, help="re-measure a step over the limit (shared machine)"
    )
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "realtime.md"), help="'-' prints only")
    parser.add_argument("--servers", default="echo,relay", help="which servers to measure")
    parser.add_argument("--loop", default="uvloop", choices=("uvloop", "asyncio"), help="event loop of all")
    parser.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server:
        echo_server_main(args.echo_server, args.loop)
        return 0
    steps = sorted({int(s) // 2 * 2 for s in args.steps.split(",")})
    run = Run("realtime")
    workdir = Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    args.logdir = str(workdir)
    redis_port = free_port()
    redis_server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        cwd=workdir,
    )
    jwks = JwksServer()
    try:
        wait_port(redis_port)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        results = {mode: run_server(mode, steps, args, redis_url, jwks) for mode in args.servers.split(",")}
    finally:
        jwks.close()
        redis_server.terminate()
        redis_server.wait(timeout=10)
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"server logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    text = report(results, args)
    print(text)
    if args.out != "-":
        Path(args.out).write_text(text)
        print(f"written to {args.out}")
    run.publish(headline(results, args.p95_limit_ms))
    return 0


def headline(results: dict[str, list[dict[str, Any]]], limit: float) -> list[Row]:
    echo, relay = results.get("echo", []), results.get("relay", [])
    if not (echo and relay):
        return []
    relay_cpu = statistics.median([per_cpu(r) for r in relay])
    ratio = relay_cpu / statistics.median([per_cpu(r) for r in echo])
    knee_relay, knee_echo, at500 = knee(relay, limit), knee(echo, limit), at_connections(relay, 500)
    p95_at_500 = f"{at500['p95_ms']:.0f} ms" if at500 else "not reached"
    rate_ratio = knee_relay["frames_per_s"] / knee_echo["frames_per_s"] if knee_relay and knee_echo else 0.0
    return [
        Row(
            f"realtime service, rooms of two at {FPS:.0f} motion frames/s per user: relay / bare websockets "
            "echo server in the same run",
            f"frame rate at p95 ≤ {limit:.0f} ms {rate_ratio:.2f}× (goal ≥ 0.5: "
            f"{'met' if rate_ratio >= 0.5 else 'missed'}); frames per server CPU-second {relay_cpu:,.0f} = "
            f"{ratio:.2f}× the echo's",
        ),
        Row(
            f"realtime service: most sockets with p95 ≤ {limit:.0f} ms on this machine",
            f"relay {knee_relay['connections'] if knee_relay else 0}, echo {knee_echo['connections'] if knee_echo else 0}; "
            f"relay p95 at 500 sockets {p95_at_500} (goal < {limit:.0f} ms); "
            f"process start to /healthz {relay[0]['ready_s']:.2f} s",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
