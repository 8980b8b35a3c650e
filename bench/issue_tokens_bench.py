"""issue_tokens through the gateway next to the floor of an HTTP function here, in one interleaved run.

    .venv/bin/python bench/issue_tokens_bench.py [--rounds 7] [--clients 50] [--requests 1000]
        [--solo-requests 200] [--out docs/bench/tokens.md]

Starts a stack of its own with one more function behind the gateway, `bench_floor`
(bench/floor_function: the same functions-framework/gunicorn settings as issue_tokens, the same
`shared.http.Api` with the same ID token check, no store), raises the rate limits so that they do
not shape the numbers (the budget is still checked on every request), seeds rooms of two, and
warms everything. Then, round after round, with 1 client and with `--clients` concurrent clients,
it runs each scenario in an order that rotates every round, so background noise falls on all alike:
- floor: POST /bench_floor/floor;
- hit: POST /issue_tokens/livekit-token for a (room, user) whose token is cached;
- miss: the same for pairs whose cache entry was deleted just before (room check, sign, store);
- ws: POST /issue_tokens/ws-token without a room.
Each scenario's p50 and p95 are medians over the rounds; the ratios to the floor are the medians of
each round's ratio to that round's floor. Last, a census counts the Redis and Firestore round trips
of one request of each kind, running the same code in this process (bench/round_trips.py).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import round_trips
from benchstack import MACHINE, own_stack, percentile

from deploy.manifest import ROOT
from devstack.firestore_rest import unsigned_token
from devstack.stack import ExtraFunction

FLOOR = "bench_floor"
FLOOR_SOURCE = Path(__file__).resolve().parent / "floor_function"
SCENARIOS = ("floor", "hit", "miss", "ws")
# The goals, as multiples of the floor measured in the same run.
GOALS = {"hit": 1.5, "miss": 3.0}

Call = tuple[dict[str, str], dict[str, Any] | None]


def seed_rooms(pairs: int) -> list[tuple[str, str]]:
    """`pairs` rooms of two; returns (roomId, uid) for the first participant of each."""
    from shared.clients.firestore import get_firestore

    client = get_firestore()
    now = datetime.now(UTC)
    out = []
    batch = client.batch()
    for i in range(pairs):
        room_id = f"bench-{uuid.uuid4().hex[:16]}"
        uids = [f"bench-u-{uuid.uuid4().hex[:12]}" for _ in range(2)]
        for uid in uids:
            batch.set(client.collection("users").document(uid), {"displayName": uid, "status": "in_call"})
        batch.set(
            client.collection("rooms").document(room_id),
            {
                "type": "random",
                "participants": uids,
                "maxParticipants": 2,
                "livekitRoomName": f"lk-{room_id}",
                "status": "active",  # already active: the room trigger has nothing to do
                "createdAt": now,
                "expiresAt": now + timedelta(hours=2),
            },
        )
        out.append((room_id, uids[0]))
        if i % 150 == 149:
            batch.commit()
            batch = client.batch()
    batch.commit()
    return out


@dataclass
class Run:
    latencies_ms: list[float]
    seconds: float
    errors: int

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies_ms, 95)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds


async def run(url: str, calls: Sequence[Call], clients: int) -> Run:
    """Send `calls` with `clients` concurrent connections."""
    from aiohttp import ClientSession, TCPConnector

    latencies: list[float] = []
    errors = 0
    queue = list(reversed(calls))

    async def client(session: ClientSession) -> None:
        nonlocal errors
        while queue:
            headers, body = queue.pop()
            started = time.perf_counter()
            async with session.post(url, json=body or {}, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    async with ClientSession(connector=TCPConnector(limit=clients)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return Run(latencies, time.perf_counter() - started, errors)


def signing_alone(iterations: int) -> dict[str, float]:
    """Microseconds per signature of the same claims, in this process."""
    from shared.tokens import livekit, ws

    credentials = livekit.LiveKitCredentials.from_settings()
    now = datetime.now(UTC)
    claims = livekit.livekit_claims(
        credentials,
        "bench-user",
        "bench-user",
        livekit.RoomGrant("lk-bench"),
        {"vrmModelId": None, "roomId": "r"},
        now,
        now + timedelta(hours=1),
    )
    started = time.perf_counter()
    for _ in range(iterations):
        livekit.sign_livekit(credentials, claims)
    hs256 = (time.perf_counter() - started) / iterations * 1e6
    ws.sign_ws_token("bench-user", now)  # parse the keys once
    started = time.perf_counter()
    for _ in range(iterations):
        ws.sign_ws_token("bench-user", now)
    eddsa = (time.perf_counter() - started) / iterations * 1e6
    return {"hs256": hs256, "eddsa": eddsa}


@dataclass
class Workload:
    """Who calls what: one (room, user) list for hits (cached once), one for misses (dropped before
    each run); the floor and ws-token are called by the hit users."""

    project: str
    hit: list[tuple[str, str]]
    miss: list[tuple[str, str]]

    def auth(self, uid: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {unsigned_token(uid, self.project)}"}

    def calls(self, scenario: str, count: int) -> list[Call]:
        pairs = self.miss[:count] if scenario == "miss" else self.hit[:count]
        if scenario in ("hit", "miss"):
            return [(self.auth(uid), {"roomId": room_id}) for room_id, uid in pairs]
        if scenario == "floor":
            # The same body size as a token request, so that the transport costs the same.
            return [(self.auth(uid), {"roomId": room_id}) for room_id, uid in pairs]
        return [(self.auth(uid), None) for _, uid in pairs]

    def drop_cached(self, start: int, stop: int) -> None:
        from shared import keys
        from shared.clients.redis import get_redis

        pairs = self.miss[start:stop]
        get_redis().delete(*(keys.livekit_token(room_id, uid) for room_id, uid in pairs))


def urls(gateway: str) -> dict[str, str]:
    return {
        "floor": f"{gateway}/{FLOOR}/floor",
        "hit": f"{gateway}/issue_tokens/livekit-token",
        "miss": f"{gateway}/issue_tokens/livekit-token",
        "ws": f"{gateway}/issue_tokens/ws-token",
    }


def measure(
    work: Workload, gateway: str, rounds: int, loads: dict[int, int]
) -> dict[tuple[int, str], list[Run]]:
    """`rounds` rounds; in each, every (clients, scenario) once, the scenario order rotating."""
    targets = urls(gateway)
    results: dict[tuple[int, str], list[Run]] = {}
    for index in range(rounds):
        order = SCENARIOS[index % len(SCENARIOS) :] + SCENARIOS[: index % len(SCENARIOS)]
        for clients, count in loads.items():
            for scenario in order:
                if scenario == "miss":
                    work.drop_cached(0, count)
                measured = asyncio.run(run(targets[scenario], work.calls(scenario, count), clients))
                results.setdefault((clients, scenario), []).append(measured)
        print(f"  round {index + 1}/{rounds} done", flush=True)
    return results


def census(work: Workload) -> dict[str, tuple[float, float]]:
    """Redis and Firestore round trips per request of each scenario (in this process)."""
    count = 20
    source = ROOT / "functions" / "issue_tokens" / "main.py"
    out = {}
    calls = work.calls("floor", count)
    floor = [("/floor", headers, body) for headers, body in calls]
    out["floor"] = round_trips.census(FLOOR_SOURCE / "main.py", FLOOR, floor)
    for scenario, path in (("hit", "/livekit-token"), ("miss", "/livekit-token"), ("ws", "/ws-token")):
        requests = [(path, headers, body) for headers, body in work.calls(scenario, count)]
        prepare = (lambda i: work.drop_cached(i, i + 1)) if scenario == "miss" else (lambda i: None)
        out[scenario] = round_trips.census(source, "issue_tokens", requests, prepare)
    return out


def git_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"


LABELS = {
    "floor": "floor (auth + tiny JSON)",
    "hit": "POST /livekit-token, cache hit",
    "miss": "POST /livekit-token, cache miss",
    "ws": "POST /ws-token (no room)",
}


def table(results: dict[tuple[int, str], list[Run]], loads: dict[int, int]) -> list[str]:
    lines = [
        "| scenario | clients | requests/round | p50 ms | p95 ms | p50 / floor | p95 / floor | goal | req/s | non-200 |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for clients, count in loads.items():
        floors = results[(clients, "floor")]
        for scenario in SCENARIOS:
            runs = results[(clients, scenario)]
            p50 = statistics.median(r.p50 for r in runs)
            p95 = statistics.median(r.p95 for r in runs)
            r50 = statistics.median(r.p50 / f.p50 for r, f in zip(runs, floors, strict=True))
            r95 = statistics.median(r.p95 / f.p95 for r, f in zip(runs, floors, strict=True))
            goal = GOALS.get(scenario)
            verdict = "" if goal is None else f"≤ {goal}× {'met' if max(r50, r95) <= goal else 'MISSED'}"
            lines.append(
                f"| {LABELS[scenario]} | {clients} | {count} | {p50:.2f} | {p95:.2f} | {r50:.2f}× | "
                f"{r95:.2f}× | {verdict} | {statistics.median(r.rate for r in runs):.0f} | "
                f"{sum(r.errors for r in runs)} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000, help="per scenario and round, concurrent")
    parser.add_argument("--solo-requests", type=int, default=200, help="per scenario and round, 1 client")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    loads = {1: args.solo_requests, args.clients: args.requests}
    round_trips.install()
    # Rate limits raised so that they do not shape the numbers (every request still takes from its budget).
    limits = {"RATE_LIMIT_LIVEKIT_PER_MIN": "100000", "RATE_LIMIT_WS_PER_MIN": "100000"}
    floor = ExtraFunction(FLOOR_SOURCE, entry_point=FLOOR, like="issue_tokens")
    with own_stack("tokens", extra_env=limits, extra_functions={FLOOR: floor}) as stack:
        size = max(loads.values())
        work = Workload(stack.project, hit=seed_rooms(size), miss=seed_rooms(size))
        targets = urls(stack.gateway_url)
        # Warm every gunicorn thread's clients and every caller's ID token; cache the hit pairs.
        for scenario in SCENARIOS:
            asyncio.run(run(targets[scenario], work.calls(scenario, size), args.clients))
        results = measure(work, stack.gateway_url, args.rounds, loads)
        trips = census(work)
    alone = signing_alone(5000)
    report = [
        f"# issue_tokens benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {MACHINE}, "
        f"Python {platform.python_version()}, commit {git_commit()})",
        "",
        f"`.venv/bin/python bench/issue_tokens_bench.py --rounds {args.rounds} --clients {args.clients} "
        f"--requests {args.requests} --solo-requests {args.solo_requests}`: through the gateway, warm",
        f"functions, {args.rounds} interleaved rounds; p50/p95 are medians over the rounds, ratios the "
        "median of each round's ratio to its floor.",
        "",
        *table(results, loads),
        "",
        "Round trips per request (census of 20 requests each, same code in the benchmark's process):",
        "",
        "| scenario | Redis | Firestore |",
        "|---|---:|---:|",
        *(
            f"| {LABELS[name]} | {redis:.1f} | {firestore:.1f} |"
            for name, (redis, firestore) in trips.items()
        ),
        "",
        f"Signing alone, in one process: HS256 {alone['hs256']:.0f} µs, EdDSA {alone['eddsa']:.0f} µs.",
    ]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
