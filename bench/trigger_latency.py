"""Firestore trigger latency through the local stack: write -> the trigger's effect is visible.

    .venv/bin/python bench/trigger_latency.py [--writes 200] [--out docs/bench/triggers.md]

Starts a stack of its own on free ports, then, one write at a time (latency, not throughput):
1. on_user_written: a user's `status` flips online <-> offline; the effect is Redis
   `presence:user:{uid}` holding the new status;
2. on_room_written: a room with two participants is created `waiting`; the effect is the room
   `active` with its `callSessions/{roomId}` document.
Each path is the emulator's CloudEvent -> the event router -> the function's HTTP server -> the
handler -> Redis/Firestore, as in production minus the network. Also reports the handlers' own
duration (the `durationMs` of their log lines) to separate delivery from work.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchstack import MACHINE, own_stack, percentile

from bench.report import Row, Run
from devstack.stack import Stack
from shared import keys

POLL_S = 0.005


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> float:
    """Seconds until `condition()` holds (polled every POLL_S)."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError("the trigger's effect did not appear")
        time.sleep(POLL_S)
    return time.perf_counter() - started


def _presence_is(redis: Any, uid: str, status: str) -> bool:
    return bool(redis.get(keys.presence(uid)) == status)


def _exists(ref: Any) -> bool:
    return bool(ref.get().exists)


def user_status_flips(writes: int) -> list[float]:
    from shared.clients.firestore import get_firestore
    from shared.clients.redis import get_redis

    users = get_firestore().collection("users")
    redis = get_redis()
    uids = [f"bench-u-{uuid.uuid4().hex[:10]}" for _ in range(20)]
    for uid in uids:
        users.document(uid).set({"displayName": uid, "status": "offline", "lastActiveAt": datetime.now(UTC)})
        wait_until(functools.partial(_presence_is, redis, uid, "offline"))
    latencies = []
    for i in range(writes):
        uid = uids[i % len(uids)]
        status = "online" if (i // len(uids)) % 2 == 0 else "offline"
        started = time.perf_counter()
        users.document(uid).update({"status": status})
        wait_until(functools.partial(_presence_is, redis, uid, status))
        latencies.append(time.perf_counter() - started)
    return latencies


def room_activations(writes: int) -> list[float]:
    from shared.clients.firestore import get_firestore

    client = get_firestore()
    latencies = []
    for _ in range(writes):
        room_id = f"bench-r-{uuid.uuid4().hex[:12]}"
        uids = [f"bench-u-{uuid.uuid4().hex[:10]}" for _ in range(2)]
        batch = client.batch()
        for uid in uids:
            batch.set(
                client.collection("users").document(uid), {"status": "in_call", "currentRoomId": room_id}
            )
        batch.commit()
        now = datetime.now(UTC)
        room = {
            "type": "random",
            "createdBy": "system",
            "participants": uids,
            "maxParticipants": 2,
            "livekitRoomName": f"lk-{room_id}",
            "status": "waiting",
            "createdAt": now,
            "expiresAt": now + timedelta(minutes=30),
        }
        session = client.collection("callSessions").document(room_id)
        started = time.perf_counter()
        client.collection("rooms").document(room_id).set(room)
        wait_until(functools.partial(_exists, session))
        latencies.append(time.perf_counter() - started)
    return latencies


def handler_durations(stack: Stack, function: str) -> list[float]:
    """durationMs of every handled event in the function's log, in seconds."""
    durations = []
    for line in (stack.logs_dir / f"fn-{function}.log").read_text().splitlines():
        try:
            entry: dict[str, Any] = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "firestore event handled" and "durationMs" in entry:
            durations.append(entry["durationMs"] / 1000)
    return durations


def row(name: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"| {name} | {len(ms)} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} | "
        f"{percentile(ms, 99):.0f} | {max(ms):.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200, help="writes per trigger (default 200)")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    args = parser.parse_args()
    run = Run("trigger_latency")
    with own_stack("triggers") as stack:
        users = user_status_flips(args.writes)
        rooms = room_activations(args.writes)
        report = [
            f"# Firestore trigger latency ({datetime.now(UTC):%Y-%m-%d}, {MACHINE}, "
            f"Python {platform.python_version()})",
            "",
            "Write committed -> effect visible, one write at a time, through the Firestore emulator,",
            "the event router and each function's own process (`bench/trigger_latency.py`).",
            "",
            "| path | n | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|",
            row("users/{uid}.status -> Redis presence (on_user_written)", users),
            row("rooms/{id} created with 2 -> active + callSessions (on_room_written)", rooms),
            row(
                "on_user_written handler alone (log durationMs)", handler_durations(stack, "on_user_written")
            ),
            row(
                "on_room_written handler alone (log durationMs)", handler_durations(stack, "on_room_written")
            ),
            "",
            "Target: p95 < 1000 ms (the design's real-time notification bound).",
        ]
        text = "\n".join(report) + "\n"
        print(text)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)
        run.publish(
            [
                Row(
                    f"Firestore triggers, {args.writes} writes each: write committed → effect visible",
                    f"status → Redis presence p50/p95 {percentile([u * 1000 for u in users], 50):.0f}/"
                    f"{percentile([u * 1000 for u in users], 95):.0f} ms; room created → active + call session "
                    f"{percentile([r * 1000 for r in rooms], 50):.0f}/{percentile([r * 1000 for r in rooms], 95):.0f} ms "
                    f"(target p95 < 1 s: {'met' if max(percentile(users, 95), percentile(rooms, 95)) < 1 else 'missed'})",
                )
            ]
        )


if __name__ == "__main__":
    main()
