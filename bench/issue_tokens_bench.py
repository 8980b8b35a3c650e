"""issue_tokens through the gateway next to the floor of an HTTP function here, in one interleaved run.

    .venv/bin/python bench/issue_tokens_bench.py [--rounds 7] [--clients 50] [--requests 1000]
        [--solo-requests 200] [--census 100] [--out docs/bench/tokens.md]

Starts a stack of its own with one more function behind the gateway, `bench_floor`
(bench/floor_function: the same functions-framework/gunicorn settings as issue_tokens, the same
`shared.http.Api` with the same ID token check, no store), raises the rate limits so that they do
not shape the numbers (the budget is still checked on every request), seeds rooms of two, waits
until their triggers have run (so that they do not run during the measurement), and warms
everything. Then, round after round, with 1 client and with `--clients` concurrent clients,
it runs every scenario so that background noise falls on all alike: one client's scenarios in short
blocks shuffled together (run_interleaved), the concurrent clients' one scenario after another in an
order that rotates every round:
- floor: POST /bench_floor/floor;
- hit: POST /issue_tokens/livekit-token for a (room, user) whose token is cached;
- miss: the same for pairs whose cache entry was deleted just before (room check, sign, store);
- ws: POST /issue_tokens/ws-token without a room.
Each scenario's p50 and p95 are medians over the rounds; the ratios to the floor are the medians of
each round's ratio to that round's floor. Last, a census counts the Redis and Firestore round trips
of each kind of request and profiles where its time goes (cumulative time of the calls in SPOTS),
running the same code in this process (bench/round_trips.py). The headline rows go to
docs/bench/results/issue_tokens_bench.json (bench/report.py); with --out, the measured part of the
report is rewritten and the hand-written narrative below it (NARRATIVE) kept.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import platform
import pstats
import random
import statistics
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import ClientSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import round_trips
from benchstack import MACHINE, cpu_seconds, own_stack, percentile, wait_for_triggers

from bench.report import Row, Run, write_report
from deploy.manifest import ROOT
from devstack.firestore_rest import unsigned_token
from devstack.stack import ExtraFunction, Stack

FLOOR = "bench_floor"
FLOOR_SOURCE = Path(__file__).resolve().parent / "floor_function"
SCENARIOS = ("floor", "hit", "miss", "ws")
# The goals, as multiples of the floor measured in the same run.
GOALS = {"hit": 1.5, "miss": 3.0}

Call = tuple[dict[str, str], dict[str, Any] | None]


def profile(uid: str, room_id: str, now: datetime) -> dict[str, Any]:
    """A user document as the web app and the server leave it for someone in a call: every field the
    rules let the owner write, the server's own, and no suspension (a miss decodes what it reads)."""
    return {
        "displayName": f"Bench {uid[-6:]}",
        "username": uid.replace("-", "_"),
        "gender": "female",
        "selectedVrmId": f"vrm-{uid[-6:]}",
        "preferences": {"matchingGender": "any", "notifications": True},
        "createdAt": now,
        "updatedAt": now,
        "lastActiveAt": now,
        "adultConfirmedAt": now,
        "status": "in_call",
        "currentRoomId": room_id,
    }


def seed_rooms(pairs: int) -> list[tuple[str, str]]:
    """`pairs` rooms of two, as the matching worker creates them (already active: the room trigger
    has nothing to do); returns (roomId, uid) for the first participant of each."""
    from shared.clients.firestore import get_firestore
    from shared.matching.pairing import Claim, random_room

    client = get_firestore()
    now = datetime.now(UTC)
    out = []
    batch = client.batch()
    for i in range(pairs):
        room_id = f"bench-{uuid.uuid4().hex[:16]}"
        a, b = (f"bench-u-{uuid.uuid4().hex[:12]}" for _ in range(2))
        for uid in (a, b):
            batch.set(client.collection("users").document(uid), profile(uid, room_id, now))
        batch.set(client.collection("rooms").document(room_id), random_room(Claim(room_id, a, b, 0, 0), now))
        out.append((room_id, a))
        if i % 150 == 149:
            batch.commit()
            batch = client.batch()
    batch.commit()
    return out


@dataclass
class Timing:
    latencies_ms: list[float]
    seconds: float
    errors: int
    cpu_ms: float | None = None  # CPU of the serving function's processes per request (concurrent runs)

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies_ms, 95)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds


async def timed_post(session: ClientSession, url: str, call: Call) -> tuple[float, bool]:
    """One request, read to its end: milliseconds taken, and whether it was not a 200."""
    headers, body = call
    started = time.perf_counter()
    async with session.post(url, json=body or {}, headers=headers) as response:
        await response.read()
        failed = response.status != 200
    return (time.perf_counter() - started) * 1000, failed


async def run(url: str, calls: Sequence[Call], clients: int) -> Timing:
    """Send `calls` with `clients` concurrent connections."""
    from aiohttp import ClientSession, TCPConnector

    latencies: list[float] = []
    errors = 0
    queue = list(reversed(calls))

    async def client(session: ClientSession) -> None:
        nonlocal errors
        while queue:
            took_ms, failed = await timed_post(session, url, queue.pop())
            latencies.append(took_ms)
            errors += failed

    async with ClientSession(connector=TCPConnector(limit=clients)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return Timing(latencies, time.perf_counter() - started, errors)


# One client's scenarios run in short blocks, shuffled: each block's first request follows a request
# to another scenario (maybe another process) and only warms the path, the rest run back to back.
BLOCK = 10  # counted requests per block


def solo_sent(counted: int) -> int:
    """Requests one client sends per scenario to count `counted`: whole blocks, each with its first."""
    return -(-counted // BLOCK) * (BLOCK + 1)


async def run_interleaved(
    urls: dict[str, str], calls: Mapping[str, Sequence[Call]], seed: int
) -> dict[str, Timing]:
    """One client, every scenario in blocks of BLOCK + 1 requests, the blocks of all scenarios in a
    shuffled order (`calls`: (BLOCK + 1) per block, in order). Every scenario's samples then span
    the same seconds, so a machine that is faster or slower for a second moves them all alike
    instead of whichever scenario ran then; within a block the requests run back to back, as they
    would in a run of one scenario. A block's first request is not counted. A scenario's `seconds`
    is the sum of its counted latencies (its rate is one client's, back to back)."""
    from aiohttp import ClientSession, TCPConnector

    blocks = [(scenario, index) for scenario, c in calls.items() for index in range(len(c) // (BLOCK + 1))]
    random.Random(seed).shuffle(blocks)
    latencies: dict[str, list[float]] = {scenario: [] for scenario in calls}
    errors = dict.fromkeys(calls, 0)
    async with ClientSession(connector=TCPConnector(limit=1)) as session:
        for scenario, index in blocks:
            first = index * (BLOCK + 1)
            for position, call in enumerate(calls[scenario][first : first + BLOCK + 1]):
                took_ms, failed = await timed_post(session, urls[scenario], call)
                if position:
                    latencies[scenario].append(took_ms)
                    errors[scenario] += failed
    return {s: Timing(latencies[s], sum(latencies[s]) / 1000, errors[s]) for s in calls}


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


# The stack process that serves each scenario, whose CPU a concurrent run counts.
SERVED_BY = {
    "floor": f"fn:{FLOOR}",
    "hit": "fn:issue_tokens",
    "miss": "fn:issue_tokens",
    "ws": "fn:issue_tokens",
}


def urls(gateway: str) -> dict[str, str]:
    return {
        "floor": f"{gateway}/{FLOOR}/floor",
        "hit": f"{gateway}/issue_tokens/livekit-token",
        "miss": f"{gateway}/issue_tokens/livekit-token",
        "ws": f"{gateway}/issue_tokens/ws-token",
    }


def measure(
    stack: Stack, work: Workload, rounds: int, loads: dict[int, int]
) -> dict[tuple[int, str], list[Timing]]:
    """`rounds` rounds; in each, every (clients, scenario) once. One client's scenarios run in blocks
    shuffled together (run_interleaved); concurrent clients run one scenario at a time (each function
    is its own process, so mixing them would not load them alike), the order rotating every round,
    and count the CPU the serving function's processes used."""
    targets = urls(stack.gateway_url)
    results: dict[tuple[int, str], list[Timing]] = {}
    for index in range(rounds):
        order = SCENARIOS[index % len(SCENARIOS) :] + SCENARIOS[: index % len(SCENARIOS)]
        for clients, count in loads.items():
            if clients == 1:
                sent = solo_sent(count)
                work.drop_cached(0, sent)
                calls = {scenario: work.calls(scenario, sent) for scenario in SCENARIOS}
                for scenario, measured in asyncio.run(run_interleaved(targets, calls, seed=index)).items():
                    results.setdefault((clients, scenario), []).append(measured)
                continue
            for scenario in order:
                if scenario == "miss":
                    work.drop_cached(0, count)
                cpu_before = cpu_seconds(stack, SERVED_BY[scenario])
                measured = asyncio.run(run(targets[scenario], work.calls(scenario, count), clients))
                measured.cpu_ms = (cpu_seconds(stack, SERVED_BY[scenario]) - cpu_before) / count * 1000
                results.setdefault((clients, scenario), []).append(measured)
        print(f"  round {index + 1}/{rounds} done", flush=True)
    return results


# Where a request's time goes in the function, by the cumulative time of these calls under cProfile
# (in this process, so without the gateway and gunicorn; the profiler inflates everything alike).
SPOTS = (
    ("whole request (shared.http.Api)", "shared/http.py", "__call__"),
    ("ID token check", "shared/auth.py", "verify_id_token"),
    ("budget alone (Redis script)", "shared/ratelimit.py", "check"),
    (
        "cache read, with the budget when combined (Redis script)",
        "shared/tokens/cache.py",
        "get_livekit_token",
    ),
    ("room and profile read (Firestore)", "shared/tokens/issue.py", "room_access"),
    ("LiveKit token signed (HS256)", "shared/tokens/livekit.py", "sign_livekit"),
    ("cache write (Redis script)", "shared/tokens/cache.py", "put_livekit_token"),
    ("WebSocket token signed (EdDSA)", "shared/tokens/ws.py", "sign_ws_token"),
    ("log lines", "shared/log.py", "log_event"),
)


@dataclass
class Census:
    redis: float  # round trips per request
    firestore: float
    spots_ms: dict[str, float]  # SPOTS label -> profiled milliseconds per request


def _spots(profiler: cProfile.Profile, requests: int) -> dict[str, float]:
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    out: dict[str, float] = {}
    for label, path, function in SPOTS:
        seconds = sum(
            entry[3]  # cumulative time
            for (filename, _, name), entry in stats.items()
            if name == function and filename.endswith(path)
        )
        if seconds:
            out[label] = seconds / requests * 1000
    return out


def census(work: Workload, count: int = 100) -> dict[str, Census]:
    """Round trips per request of each scenario, and a profile of where its time goes, running the
    function's code in this process (bench/round_trips.py)."""
    source = ROOT / "functions" / "issue_tokens" / "main.py"
    out = {}
    calls = work.calls("floor", count)
    floor = [("/floor", headers, body) for headers, body in calls]
    profiler = cProfile.Profile()
    redis, firestore = round_trips.census(FLOOR_SOURCE / "main.py", FLOOR, floor, profiler=profiler)
    out["floor"] = Census(redis, firestore, _spots(profiler, count))
    for scenario, path in (("hit", "/livekit-token"), ("miss", "/livekit-token"), ("ws", "/ws-token")):
        requests = [(path, headers, body) for headers, body in work.calls(scenario, count)]
        prepare = (lambda i: work.drop_cached(i, i + 1)) if scenario == "miss" else (lambda i: None)
        profiler = cProfile.Profile()
        redis, firestore = round_trips.census(source, "issue_tokens", requests, prepare, profiler)
        out[scenario] = Census(redis, firestore, _spots(profiler, count))
    return out


LABELS = {
    "floor": "floor (auth + tiny JSON)",
    "hit": "POST /livekit-token, cache hit",
    "miss": "POST /livekit-token, cache miss",
    "ws": "POST /ws-token (no room)",
}


@dataclass(frozen=True)
class Summary:
    p50: float  # ms, median over the rounds
    p95: float
    r50: float  # median over the rounds of p50 / that round's floor p50
    r95: float
    r50_range: tuple[float, float]  # the lowest and highest round's p50 / floor
    rate: float  # requests per second, median over the rounds
    errors: int  # non-200 answers, all rounds
    cpu_ms: float | None  # the serving function's CPU per request, median over the rounds

    def verdict(self, goal: float | None) -> str:
        if goal is None:
            return ""
        return f"≤ {goal}× {'met' if max(self.r50, self.r95) <= goal else 'MISSED'}"


def summarize(results: dict[tuple[int, str], list[Timing]]) -> dict[tuple[int, str], Summary]:
    out = {}
    for (clients, scenario), runs in results.items():
        floors = results[(clients, "floor")]
        out[(clients, scenario)] = Summary(
            p50=statistics.median(r.p50 for r in runs),
            p95=statistics.median(r.p95 for r in runs),
            r50=statistics.median(r.p50 / f.p50 for r, f in zip(runs, floors, strict=True)),
            r95=statistics.median(r.p95 / f.p95 for r, f in zip(runs, floors, strict=True)),
            r50_range=(
                min(r.p50 / f.p50 for r, f in zip(runs, floors, strict=True)),
                max(r.p50 / f.p50 for r, f in zip(runs, floors, strict=True)),
            ),
            rate=statistics.median(r.rate for r in runs),
            errors=sum(r.errors for r in runs),
            cpu_ms=None if runs[0].cpu_ms is None else statistics.median(r.cpu_ms or 0.0 for r in runs),
        )
    return out


def table(summaries: dict[tuple[int, str], Summary], loads: dict[int, int]) -> list[str]:
    lines = [
        "| scenario | clients | requests/round | p50 ms | p95 ms | p50 / floor | p95 / floor | goal | "
        "p50 / floor, rounds | req/s | non-200 | function CPU ms/request |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for clients, count in loads.items():
        for scenario in SCENARIOS:
            s = summaries[(clients, scenario)]
            lines.append(
                f"| {LABELS[scenario]} | {clients} | {count} | {s.p50:.2f} | {s.p95:.2f} | {s.r50:.2f}× | "
                f"{s.r95:.2f}× | {s.verdict(GOALS.get(scenario))} | {s.r50_range[0]:.2f}–{s.r50_range[1]:.2f}× | "
                f"{s.rate:.0f} | {s.errors} | {'–' if s.cpu_ms is None else f'{s.cpu_ms:.2f}'} |"
            )
    return lines


def census_table(trips: dict[str, Census]) -> list[str]:
    labels = [label for label, _, _ in SPOTS if any(label in c.spots_ms for c in trips.values())]
    lines = [
        f"| | {' | '.join(LABELS[name] for name in trips)} |",
        f"|---|{'---:|' * len(trips)}",
        f"| Redis round trips | {' | '.join(f'{c.redis:.1f}' for c in trips.values())} |",
        f"| Firestore round trips | {' | '.join(f'{c.firestore:.1f}' for c in trips.values())} |",
    ]
    for label in labels:
        cells = (f"{c.spots_ms[label]:.2f}" if label in c.spots_ms else "–" for c in trips.values())
        lines.append(f"| {label}, ms | {' | '.join(cells)} |")
    return lines


def headline(summaries: dict[tuple[int, str], Summary], trips: dict[str, Census], clients: int) -> list[Row]:
    def ms(s: Summary) -> str:
        return f"{s.p50:.1f}/{s.p95:.1f} ms"

    def vs_floor(scenario: str, n: int) -> str:
        s = summaries[(n, scenario)]
        goal = GOALS[scenario]
        return f"{ms(s)} = {s.r50:.2f}/{s.r95:.2f}× (goal ≤ {goal}×: {'met' if max(s.r50, s.r95) <= goal else 'missed'})"

    def cpu(n: int) -> str:
        if summaries[(n, "floor")].cpu_ms is None:
            return ""
        each = "/".join(f"{summaries[(n, scenario)].cpu_ms:.2f}" for scenario in ("floor", "hit", "miss"))
        return f"; function CPU per request floor/hit/miss {each} ms"

    rows = []
    for n in (1, clients):
        floor = summaries[(n, "floor")]
        ws = summaries[(n, "ws")]
        rows.append(
            Row(
                f"issue_tokens, {n} client{'s' if n > 1 else ''}, p50/p95 vs a do-nothing function behind "
                "the same gateway and auth",
                f"floor {ms(floor)}; hit {vs_floor('hit', n)}; miss {vs_floor('miss', n)}; "
                f"ws-token {ms(ws)} = {ws.r50:.2f}/{ws.r95:.2f}×{cpu(n)}",
            )
        )
    hit, miss = trips["hit"], trips["miss"]
    rows.append(
        Row(
            "issue_tokens round trips per LiveKit token request",
            f"hit {hit.redis:g} Redis + {hit.firestore:g} Firestore; miss {miss.redis:g} Redis + "
            f"{miss.firestore:g} Firestore",
        )
    )
    return rows


# The narrative below this heading in the --out file (before/after, the profiles that explain each
# change) is written by hand and kept when the benchmark rewrites the measured part above it.
NARRATIVE = "## What changed, and the profile that explains it"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000, help="per scenario and round, concurrent")
    parser.add_argument("--solo-requests", type=int, default=200, help="per scenario and round, 1 client")
    parser.add_argument("--census", type=int, default=100, help="requests of each kind counted and profiled")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    publication = Run("issue_tokens_bench")
    loads = {1: args.solo_requests, args.clients: args.requests}
    round_trips.install()
    # Rate limits raised so that they do not shape the numbers (every request still takes from its budget).
    limits = {"RATE_LIMIT_LIVEKIT_PER_MIN": "100000", "RATE_LIMIT_WS_PER_MIN": "100000"}
    floor = ExtraFunction(FLOOR_SOURCE, entry_point=FLOOR, like="issue_tokens")
    with own_stack("tokens", extra_env=limits, extra_functions={FLOOR: floor}) as stack:
        size = max(args.requests, solo_sent(args.solo_requests))
        work = Workload(stack.project, hit=seed_rooms(size), miss=seed_rooms(size))
        triggers_s = wait_for_triggers(stack)
        print(f"seeded; the seed's triggers ran for {triggers_s:.0f} s more", flush=True)
        targets = urls(stack.gateway_url)
        # Warm every gunicorn thread's clients and every caller's ID token; cache the hit pairs.
        for scenario in SCENARIOS:
            asyncio.run(run(targets[scenario], work.calls(scenario, size), args.clients))
        results = measure(stack, work, args.rounds, loads)
        trips = census(work, min(args.census, size))
    alone = signing_alone(5000)
    summaries = summarize(results)
    # Published before the report is written, so that the record's commit is not marked as changed
    # by the report itself; the report's header names the same commit.
    record = publication.publish(headline(summaries, trips, args.clients))
    started = publication.started
    report = [
        "# issue_tokens benchmark",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC on {MACHINE}, Python {platform.python_version()}, commit "
        f"{record['commit']}, 1-minute load average {publication.load_before[0]:.1f} at the start (other work "
        "shares this machine: compare the ratios, measured against a floor in the same run).",
        "",
        f"`.venv/bin/python bench/issue_tokens_bench.py --rounds {args.rounds} --clients {args.clients} "
        f"--requests {args.requests} --solo-requests {args.solo_requests} --census {args.census}"
        f"{f' --out {args.out}' if args.out else ''}`",
        "",
        f"Through the gateway, warm functions, {args.rounds} rounds; p50/p95 are medians over the rounds, "
        "ratios the median of each round's ratio to that round's floor (the lowest and highest round "
        "shown too). With 1 client the scenarios run in shuffled blocks of "
        f"{BLOCK} counted requests, each after one uncounted request that warms the path; concurrent "
        "clients run one scenario after another, the order rotating every round. The floor is "
        "`bench/floor_function`: the same gateway, gunicorn settings and `shared.http.Api` with the same "
        "ID token check, reading the same body, touching no store. Measuring starts once the triggers of "
        f"the seeded rooms and users have gone quiet ({triggers_s:.0f} s after the seed's last commit). "
        "Function CPU: user + system time of the serving function's processes per request (concurrent "
        "runs); a function is one Python process, so with many clients its CPU per request bounds its "
        "rate.",
        "",
        *table(summaries, loads),
        "",
        f"Per request, {min(args.census, size)} of each kind run in the benchmark's process "
        "(functions-framework's app without the gateway; bench/round_trips.py counts round trips, "
        "cProfile the time, which it inflates alike everywhere):",
        "",
        *census_table(trips),
        "",
        f"Signing alone, in one process: HS256 {alone['hs256']:.0f} µs, EdDSA {alone['eddsa']:.0f} µs.",
    ]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        write_report(args.out, text, NARRATIVE)


if __name__ == "__main__":
    main()
