"""Matching through a whole local stack on free ports (emulators, Redis, every function):

1. end to end: 1,000 users enqueue through the gateway within a few seconds; the real worker,
   woken by Pub/Sub, seats them. Reports time from each user's POST /queue to their room's createdAt.
2. double matches under 4 concurrent workers: the naive sketch of the design note (ZADD, ZRANGE the
   head, create the room, ZREM) against ours (pair.lua + room transaction), same population.

    .venv/bin/python bench/matching_stack.py [--users 1000] [--naive-users 200]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchstack import percentile, wait_for_triggers  # noqa: E402
from bench.report import Row, Run  # noqa: E402
from deploy.manifest import load_manifest  # noqa: E402
from devstack.firestore_rest import unsigned_token  # noqa: E402
from devstack.stack import Ports, Stack  # noqa: E402
from shared.config import reset_settings  # noqa: E402

WORKERS = 4
NAIVE_QUEUE = "bench:naive:queue"  # the sketch's one sorted set of everyone waiting


def make_users(stack: Stack, prefix: str, count: int) -> list[str]:
    """`count` users who may queue, once the triggers of their creation have run (in production a
    user signs up long before they queue; these events must not compete with the measured ones)."""
    from shared.clients.firestore import get_firestore

    db = get_firestore()
    uids = [f"{prefix}-{i:05d}" for i in range(count)]
    for start in range(0, count, 400):
        batch = db.batch()
        for i, uid in enumerate(uids[start : start + 400], start):
            batch.set(
                db.collection("users").document(uid),
                {
                    "displayName": uid,
                    "gender": "male" if i % 2 else "female",
                    "status": "online",
                    "adultConfirmedAt": datetime.now(UTC),  # the queue requires it
                },
            )
        batch.commit()
    wait_for_triggers(stack)
    return uids


def end_to_end(stack: Stack, users: int, prefix: str = "e2e") -> dict[str, Any]:
    from shared.clients.firestore import get_firestore

    uids = make_users(stack, prefix, users)
    sent: dict[str, float] = {}
    statuses: Counter[int] = Counter()

    def enqueue(uid: str) -> None:
        request = urllib.request.Request(
            f"{stack.gateway_url}/matching_api/queue",
            data=b"{}",
            method="POST",
            headers={
                "Authorization": f"Bearer {unsigned_token(uid, stack.project)}",
                "Content-Type": "application/json",
            },
        )
        sent[uid] = time.time()
        with urllib.request.urlopen(request, timeout=60) as response:
            statuses[response.status] += 1

    started = time.time()
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(enqueue, uids))
    enqueue_s = time.time() - started
    db = get_firestore()
    refs = [db.collection("users").document(uid) for uid in uids]
    deadline = time.time() + 180
    seated: dict[str, str] = {}
    while time.time() < deadline:
        for snap in db.get_all([r for r in refs if r.id not in seated]):
            room_id = (snap.to_dict() or {}).get("currentRoomId")
            if room_id:
                seated[snap.id] = room_id
        if len(seated) == len(uids):
            break
        time.sleep(0.5)
    room_ids = sorted(set(seated.values()))
    created = {
        snap.id: (snap.to_dict() or {})["createdAt"].timestamp()
        for snap in db.get_all([db.collection("rooms").document(r) for r in room_ids])
    }
    latency = [created[seated[uid]] - sent[uid] for uid in seated]
    members: dict[str, list[str]] = {}
    for uid, room_id in seated.items():
        members.setdefault(room_id, []).append(uid)
    # from the moment the pair existed (the later of the two requests) to the room
    pair_latency = [created[r] - max(sent[u] for u in us) for r, us in members.items()]
    return {
        "users": users,
        "enqueue_s": enqueue_s,
        "http_202": statuses[202],
        "seated": len(seated),
        "p50_ms": statistics.median(latency) * 1000,
        "p95_ms": percentile(latency, 95) * 1000,
        "pair_p50_ms": statistics.median(pair_latency) * 1000,
        "pair_p95_ms": percentile(pair_latency, 95) * 1000,
    }


def naive_run(users: list[str]) -> Counter[str]:
    """The design note's sketch: ZADD, ZRANGE the head, create the room, ZREM (no atomic step)."""
    from shared.clients.firestore import get_firestore
    from shared.clients.redis import get_redis

    r, db = get_redis(), get_firestore()
    r.delete(NAIVE_QUEUE)
    r.zadd(NAIVE_QUEUE, {uid: i for i, uid in enumerate(users)})
    seats: Counter[str] = Counter()
    lock = threading.Lock()

    def worker() -> None:
        while True:
            candidates = [str(uid) for uid in r.zrange(NAIVE_QUEUE, 0, 10)]
            if len(candidates) < 2:
                return
            a, b = candidates[0], candidates[1]
            db.collection("rooms").add(
                {
                    "type": "random",
                    "participants": [a, b],
                    "status": "waiting",
                    "createdAt": datetime.now(UTC),
                }
            )
            r.zrem(NAIVE_QUEUE, a, b)
            with lock:
                seats[a] += 1
                seats[b] += 1

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seats


def ours_run(users: list[str]) -> Counter[str]:
    from shared.clients.firestore import get_firestore
    from shared.matching import pairing, queue
    from shared.matching.model import Preferences

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda uid: queue.enqueue(uid, Preferences(), datetime.now(UTC)), users))

    def worker() -> None:
        while pairing.match_waiting(batch=2, threads=2).created:
            pass

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db = get_firestore()
    # count every room any of them is in, not only the one currentRoomId points at
    from google.cloud.firestore_v1.base_query import FieldFilter

    seats: Counter[str] = Counter()
    for start in range(0, len(users), 30):
        query = db.collection("rooms").where(
            filter=FieldFilter("participants", "array_contains_any", users[start : start + 30])
        )
        for snap in query.stream():
            for uid in (snap.to_dict() or {}).get("participants", []):
                if uid in users[start : start + 30]:
                    seats[uid] += 1
    return seats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--naive-users", type=int, default=200)
    parser.add_argument("--warmup-users", type=int, default=64)
    args = parser.parse_args()
    run = Run("matching_stack")
    state_dir = ROOT / ".dev" / f"bench-matching-{os.getpid()}"
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    stack = Stack(state_dir, Ports.free(load_manifest()), scheduler_auto=False, echo=lambda line: None)
    print("starting the local stack ...", flush=True)
    stack.start(timeout_s=240)
    try:
        os.environ.update(stack.service_env())
        reset_settings()
        # A first burst on the cold stack warms what a running system has warm (every gateway and
        # matching_api thread's first request, the worker's first delivery and clients, the Lua
        # scripts); its latency is reported on its own, the measured burst comes after it.
        cold = end_to_end(stack, args.warmup_users, prefix="warm")
        e2e = end_to_end(stack, args.users)
        naive = naive_run(make_users(stack, "naive", args.naive_users))
        ours = ours_run(make_users(stack, "ours", args.naive_users))
        print(json.dumps({"e2e": e2e}, indent=2))
        print()
        print(f"{'end to end (gateway -> Pub/Sub -> worker -> Firestore)':<58} {'value':>12}")
        print(f"{'users enqueued / answered 202':<58} {e2e['users']:>6} / {e2e['http_202']:<5}")
        print(f"{'time to send all POST /queue (s)':<58} {e2e['enqueue_s']:>12.2f}")
        print(f"{'users seated':<58} {e2e['seated']:>12}")
        label = f"first burst on a cold stack ({cold['users']} users), p50 / p95 (ms)"
        print(f"{label:<58} {cold['p50_ms']:>5.0f} / {cold['p95_ms']:<5.0f}")
        print(
            f"{'enqueue -> room created, p50 / p95 (ms)':<58} {e2e['p50_ms']:>5.0f} / {e2e['p95_ms']:<5.0f}"
        )
        print(
            f"{'later of the pair enqueued -> room, p50 / p95 (ms)':<58} {e2e['pair_p50_ms']:>5.0f} / {e2e['pair_p95_ms']:<5.0f}"
        )
        print()
        print(
            f"{WORKERS} concurrent workers, {args.naive_users} users    {'rooms':>8} {'users in >1 room':>18} {'unseated':>9}"
        )
        for name, seats in (("naive ZRANGE + create room", naive), ("ours (pair.lua + transaction)", ours)):
            doubles = sum(1 for n in seats.values() if n > 1)
            print(
                f"{name:<40} {sum(seats.values()) // 2:>8} {doubles:>18} {args.naive_users - len(seats):>9}"
            )
        run.publish(
            [
                Row(
                    f"matching end to end, {e2e['users']:,} users at once, triggers running: POST /queue → room",
                    f"p50 {e2e['p50_ms']:.0f} ms, p95 {e2e['p95_ms']:.0f} ms (goal p95 < 1 s: "
                    f"{'met' if e2e['p95_ms'] < 1000 else 'missed'}); {e2e['seated']} of {e2e['users']} seated; "
                    f"the later of a pair → its room p95 {e2e['pair_p95_ms']:.0f} ms; measured after a first "
                    f"burst of {cold['users']} users on the cold stack (its p95 {cold['p95_ms']:.0f} ms)",
                ),
                Row(
                    f"matching: {WORKERS} concurrent workers, {args.naive_users} users",
                    f"users in more than one room: naive ZRANGE pairing "
                    f"{sum(1 for n in naive.values() if n > 1)}, ours {sum(1 for n in ours.values() if n > 1)}",
                ),
            ]
        )
    finally:
        stack.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
