"""Pairing throughput of the Redis step alone (pair.lua) with 10,000 queued users, next to
redis-benchmark's EVALSHA rate of a trivial script on the same server (the ceiling of any script).

Starts a private redis-server on a free port. Per round: 10,000 users with a realistic mix of genders
and preferences are queued with the real enqueue script; then
- redis-benchmark drives `EVALSHA pair.lua` (50 connections, like the ceiling run) taking 1, 4 or 16
  pairs per call until 4,000 pairs are claimed (checked afterwards: every call found its pairs);
- one Python client (the worker's way) claims 16 pairs per call until the queue has no pair left.

    .venv/bin/python bench/matching_redis.py [--rounds 3] [--users 10000]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from devstack.stack import free_port  # noqa: E402
from shared import keys, redis_scripts  # noqa: E402
from shared.matching import pairing  # noqa: E402

GENDERS = ["male"] * 45 + ["female"] * 45 + ["other"] * 7 + ["none"] * 3
PAIRS_PER_BENCH = 4000  # < 5,000: every call finds its pairs in 10,000 users
PAIRS_PER_CALL = (1, 4, 16)
CLIENTS = 50


def fill(client: redis.Redis, users: int, rng: random.Random) -> None:
    client.flushdb()
    text, sha = redis_scripts.source("matching/enqueue")
    client.script_load(text)
    base = int(time.time() * 1000) - users
    pipe = client.pipeline(transaction=False)
    for i in range(users):
        gender = rng.choice(GENDERS)
        opposite = {"male": "female", "female": "male"}.get(gender, "any")
        want = rng.choices(["any", opposite, gender if gender != "none" else "any"], [60, 35, 5])[0]
        pipe.evalsha(
            sha, 2, keys.MATCHING_QUEUE, keys.MATCHING_EXPIRY,
            keys.MATCHING_TICKET_PREFIX, keys.MATCHING_CLASS_PREFIX, f"user-{i}", "fresh", uuid.uuid4().hex,
            base + i, base + 3_600_000, gender, want, 0, 3_600_000,
        )  # fmt: skip
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


def redis_benchmark(port: int, n: int, *command: str) -> float:
    """requests per second reported by redis-benchmark for `command`."""
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-n", str(n), "-c", str(CLIENTS), "-r", "100000000000", "--csv",
         *command],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = list(csv.reader(io.StringIO(out)))
    return float(rows[1][1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    if not shutil.which("redis-benchmark"):
        sys.exit("redis-benchmark is not installed (it comes with redis-server)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(port=port, decode_responses=True)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        rng = random.Random(7)
        trivial_sha = client.script_load("return 1")
        pair_text, pair_sha = redis_scripts.source("matching/pair")
        ceiling: list[float] = []
        per_call: dict[int, list[float]] = {size: [] for size in PAIRS_PER_CALL}  # pairs/s
        python_rates: list[float] = []
        leftovers: list[int] = []
        for _ in range(args.rounds):
            ceiling.append(redis_benchmark(port, 200_000, "evalsha", trivial_sha, "0"))
            for size in PAIRS_PER_CALL:
                fill(client, args.users, rng)
                client.script_load(pair_text)
                now = int(time.time() * 1000)
                calls = PAIRS_PER_BENCH // size
                rate = redis_benchmark(
                    port, calls, "evalsha", pair_sha, "2", keys.MATCHING_QUEUE, keys.MATCHING_CLAIMS,
                    keys.MATCHING_TICKET_PREFIX, keys.MATCHING_CLASS_PREFIX, keys.MATCHING_CLAIM_PREFIX,
                    str(now), str(now + 60_000), *(f"p{n}:__rand_int__" for n in range(size)),
                )  # fmt: skip
                claims = client.zcard(keys.MATCHING_CLAIMS)
                assert claims == calls * size, f"expected {calls * size} claims, got {claims}"
                per_call[size].append(rate * size)
            fill(client, args.users, rng)
            started, pairs = time.perf_counter(), 0
            while batch := pairing.claim_pairs(16, client=client):
                pairs += len(batch)
            python_rates.append(pairs / (time.perf_counter() - started))
            leftovers.append(client.zcard(keys.MATCHING_QUEUE))
        c = statistics.median(ceiling)
        version = client.info("server")["redis_version"]
        print(
            f"redis-server {version}, {args.users} queued users, {CLIENTS} connections, median of {args.rounds}"
        )
        print(f"{'measurement':<62} {'rate/s':>10} {'x ceiling':>10}")
        print(f"{'redis-benchmark EVALSHA `return 1` (ceiling, calls/s)':<62} {c:>10.0f} {1.0:>10.2f}")
        for size, rates in per_call.items():
            rate = statistics.median(rates)
            label = f"redis-benchmark EVALSHA pair.lua, {size} pair(s)/call (pairs/s)"
            print(f"{label:<62} {rate:>10.0f} {rate / c:>10.2f}")
        rate = statistics.median(python_rates)
        label = "one Python worker, 16 pairs/call, 1 connection (pairs/s)"
        print(f"{label:<62} {rate:>10.0f} {rate / c:>10.2f}")
        print(
            f"users left unpaired (no compatible partner) after the Python run: {statistics.median(leftovers):.0f}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
