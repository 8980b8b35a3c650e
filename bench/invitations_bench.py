"""Benchmark of the invitations schema and the invitations_api function, on a stack of its own.

    .venv/bin/python bench/invitations_bench.py [--out docs/bench/invitations.md]

1. starts the local stack on free ports (PostgreSQL, Redis, the functions, the gateway),
2. seeds 100,000 invitations and 1,000,000 participants (bench/invitations_seed.py),
3. times Q1-Q4 through the domain code (pool checkout + round trip + decoding included) next to
   the floor of that path (`SELECT 1` through the same pool), Q4 at the batch auto_close runs
   (AUTO_CLOSE_BATCH_SIZE) and at the former batch of 1000, and prints their EXPLAIN (ANALYZE,
   BUFFERS) plans,
4. loads the HTTP function through the gateway with 200 concurrent clients: the design's k6
   scenario (each client sends a request, then thinks 1 s) and a saturation run (no think time).
About 3 minutes on a 2-core VM. Prints markdown; --out also writes it to a file, keeping whatever
follows the HAND_WRITTEN marker in that file (the explanation of the numbers), and the headline rows
go to docs/bench/results/invitations_bench.json (bench/report.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from invitations_seed import USERS, invitation_id, seed, user_id

from bench.benchstack import MACHINE, percentile
from bench.report import Row, Run, write_report
from deploy.manifest import ROOT, load_manifest
from devstack.firestore_rest import unsigned_token
from devstack.stack import Ports, Stack
from shared.config import reset_settings, settings

TARGETS_MS = {"Q1": 5.0, "Q2": 12.5, "Q3": 10.0, "Q4": 20.0, "Q4 (batch 1000)": 20.0}
HAND_WRITTEN = "<!-- hand-written below: bench/invitations_bench.py --out keeps it -->"


def summary(samples_s: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "mean": statistics.fmean(ms),
    }


# -- SQL ------------------------------------------------------------------------------------------
def time_queries(
    engine: Any, invitations: int, iterations: int, batch_size: int
) -> tuple[dict[str, dict[str, float]], int]:
    from sqlalchemy import text

    from shared.clients.postgres import autocommit_read
    from shared.invitations import invitations as domain
    from shared.invitations import participants
    from shared.invitations.completion import Q4
    from shared.invitations.model import TAGS, Actor, utc_now

    rng = random.Random(7)
    viewer = Actor("4000000001", False, "bench")

    def q1() -> None:
        tag = rng.choice([*TAGS, None])
        page = domain.list_invitations(engine, "recruiting", tag, None, 20)
        if rng.random() < 0.3 and page.next_cursor:  # a second page, through the cursor
            from shared.invitations import cursor

            domain.list_invitations(engine, "recruiting", tag, cursor.decode("q1", page.next_cursor), 20)

    def q2() -> None:
        domain.get_invitation(engine, invitation_id(rng.randint(1, invitations)), viewer)

    def q3() -> None:
        participants.participations(engine, user_id(rng.randrange(USERS)), None, 20)

    def floor() -> None:  # what every read pays: pool checkout and a round trip
        with autocommit_read(engine) as conn:
            conn.execute(text("SELECT 1")).all()

    def q4_with(batch: int) -> Callable[[], None]:
        def q4() -> None:
            with engine.connect() as conn:  # rolled back: every iteration sees the same backlog
                conn.execute(text(Q4), {"now": utc_now(), "batch_size": batch}).all()
                conn.rollback()

        return q4

    results = {}
    runs: tuple[tuple[str, Callable[[], None]], ...] = (
        ("floor: SELECT 1", floor),
        ("Q1", q1),
        ("Q2", q2),
        ("Q3", q3),
        ("Q4 (batch 1000)", q4_with(1000)),  # first, as the former benchmark ran it
        ("Q4", q4_with(batch_size)),
    )
    for name, run in runs:
        count = iterations if not name.startswith("Q4") else max(50, iterations // 3)
        for _ in range(20):
            run()
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            run()
            samples.append(time.perf_counter() - started)
        results[name] = summary(samples)
    with engine.connect() as conn:
        backlog = conn.execute(
            text(
                "SELECT count(*) FROM invitations WHERE status IN ('recruiting', 'full') AND end_time < :now"
            ),
            {"now": utc_now()},
        ).scalar_one()
    return results, int(backlog)


def explain_plans(engine: Any, batch_size: int) -> dict[str, str]:
    from sqlalchemy import text

    from shared.invitations import invitations, participants
    from shared.invitations.completion import Q4
    from shared.invitations.model import TAGS, utc_now

    queries: dict[str, tuple[str, dict[str, Any]]] = {
        "Q1 (tag 観光, first page)": (
            invitations.q1_sql(False),
            {"status": "recruiting", "tags": ["観光"], "limit": 21},
        ),
        "Q1 (all tags, first page)": (
            invitations.q1_sql(False),
            {"status": "recruiting", "tags": list(TAGS), "limit": 21},
        ),
        "Q2": (invitations.Q2, {"id": invitation_id(4242)}),
        "Q3": (participants.q3_sql(False), {"user_id": user_id(1234), "limit": 21}),
        "Q4": (Q4, {"now": utc_now(), "batch_size": batch_size}),
        "Q4 (batch 1000)": (Q4, {"now": utc_now(), "batch_size": 1000}),
    }
    plans = {}
    for name, (sql, params) in queries.items():
        with engine.connect() as conn:
            rows = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql), params).all()
            conn.rollback()
        plans[name] = "\n".join(row[0] for row in rows)
    return plans


# -- HTTP -----------------------------------------------------------------------------------------
@dataclass
class HttpResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    errors: int = 0
    cache_hits: int = 0
    lists: int = 0
    elapsed_s: float = 0.0


async def load(
    gateway: str, invitations: int, clients: int, seconds: float, think_s: float, warmup_s: float
) -> HttpResult:
    import aiohttp

    from shared.invitations.model import TAGS

    result = HttpResult()
    rng = random.Random(11)
    project = os.environ["GOOGLE_CLOUD_PROJECT"]
    users = [user_id(i * (USERS // clients)) for i in range(clients)]
    # Members signed in through discord_auth: /me/participations needs the discord_id claim.
    tokens = [unsigned_token(uid, project, name="bench", discord_id=uid) for uid in users]
    base = f"{gateway}/invitations_api"
    started = time.perf_counter()
    record_from, stop_at = started + warmup_s, started + warmup_s + seconds

    def request() -> tuple[str, str]:
        roll = rng.random()
        if roll < 0.60:
            tag = rng.choice([*TAGS, None])
            return "GET /invitations", f"{base}/invitations" + (f"?tag={tag}" if tag else "")
        if roll < 0.85:
            return "GET /invitations/{id}", f"{base}/invitations/{invitation_id(rng.randint(1, invitations))}"
        return "GET /me/participations", f"{base}/me/participations"

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[index]}"}
        if think_s:
            await asyncio.sleep(rng.uniform(0, think_s))  # spread the clients over the think time
        while time.perf_counter() < stop_at:
            kind, url = request()
            begin = time.perf_counter()
            try:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    status, cache = response.status, response.headers.get("X-Cache")
            except (TimeoutError, aiohttp.ClientError):
                status, cache = 0, None
            end = time.perf_counter()
            if begin >= record_from and end <= stop_at:
                result.latencies[kind].append(end - begin)
                result.statuses[status] += 1
                if status == 0 or status >= 400:
                    result.errors += 1
                if kind == "GET /invitations":
                    result.lists += 1
                    result.cache_hits += cache == "HIT"
            if think_s:
                await asyncio.sleep(think_s)

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(session, i) for i in range(clients)))
    result.elapsed_s = seconds
    return result


# -- report ---------------------------------------------------------------------------------------
def markdown(
    args: argparse.Namespace,
    seed_timings: dict[str, float],
    queries: dict[str, dict[str, float]],
    q4_rows: int,
    batch_size: int,
    load: tuple[list[float], list[float]],
    plans: dict[str, str],
    runs: list[tuple[str, HttpResult]],
) -> str:
    lines = [
        "# invitations: benchmark",
        "",
        f"Machine: {MACHINE} (Python {platform.python_version()}, PostgreSQL 15, Redis 7, everything on the same"
        " 2 cores: database, Redis, gateway, function, load generator).",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `.venv/bin/python bench/invitations_bench.py"
        f"{' --out ' + str(args.out) if args.out else ''}`; 1-minute load average {load[0][0]:.1f} before,"
        f" {load[1][0]:.1f} after (other work shares the 2 cores: compare each query with the floor row).",
        "",
        f"Data: {args.invitations:,} invitations, {args.invitations * args.per_invitation:,} participants"
        f" (seeded in {seed_timings['invitations'] + seed_timings['participants']:.1f} s with generate_series,"
        f" then VACUUM ANALYZE in {seed_timings['vacuum_analyze']:.1f} s).",
        "",
        "## Queries (through shared/invitations/: pool checkout, round trip and decoding included)",
        "",
        "| query | n | p50 ms | p95 ms | p99 ms | target ms | |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, stats in queries.items():
        target = TARGETS_MS.get(name)
        verdict = "" if target is None else ("ok" if stats["p95"] <= target else "over") + " (p95)"
        lines.append(
            f"| {name} | {stats['n']} | {stats['p50']:.2f} | {stats['p95']:.2f} | {stats['p99']:.2f}"
            f" | {target or ''} | {verdict} |"
        )
    lines += [
        "",
        "Q1: recruiting list, random tag or all tags, 20 rows, 30% also fetch page 2 by cursor (timed together).",
        "Q2: one random invitation with its ~10 participants (json_agg) and joined count, both columns decrypted.",
        "Q3: a random user's participation history (about 20 rows), first page.",
        f"Q4: one auto-close UPDATE over the seeded backlog of {q4_rows} due rows at the batch auto_close runs"
        f" (AUTO_CLOSE_BATCH_SIZE = {batch_size}), rolled back each time; `Q4 (batch 1000)`: the same statement"
        " at the former batch (all the backlog at once).",
        "floor: `SELECT 1` as the reads run it (`autocommit_read`: the pool checkout, with its pre-ping when"
        " the connection was idle 0.5 s, then the statement): the part of every read that is the path.",
        "",
        "## HTTP through the gateway (200 concurrent clients)",
        "",
        "Mix: 60% `GET /invitations` (random tag or none; Redis cache-aside), 25% `GET /invitations/{id}`,"
        " 15% `GET /me/participations`. Each client has its own Firebase (emulator) token.",
        "",
        "| scenario | route | requests | p50 ms | p95 ms | p99 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    notes = []
    for scenario, result in runs:
        everything = [s for samples in result.latencies.values() for s in samples]
        for route, samples in [("all", everything), *sorted(result.latencies.items())]:
            stats = summary(samples)
            lines.append(
                f"| {scenario} | {route} | {stats['n']} | {stats['p50']:.1f} | {stats['p95']:.1f} | {stats['p99']:.1f} |"
            )
        total = sum(result.statuses.values())
        notes.append(
            f"- {scenario}: {total / result.elapsed_s:.0f} requests/s, error rate"
            f" {100 * result.errors / max(1, total):.3f}% (statuses {dict(sorted(result.statuses.items()))}),"
            f" list cache hit ratio {100 * result.cache_hits / max(1, result.lists):.1f}%"
        )
    lines += ["", *notes, "", "## Plans (EXPLAIN (ANALYZE, BUFFERS, COSTS OFF))", ""]
    for name, plan in plans.items():
        lines += [f"### {name}", "", "```", plan, "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invitations", type=int, default=100_000)
    parser.add_argument("--per-invitation", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds of the k6-style run")
    parser.add_argument("--saturation-seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731

    state_dir = ROOT / ".dev" / f"bench-invitations-{os.getpid()}"
    shutil.rmtree(state_dir, ignore_errors=True)
    stack = Stack(
        state_dir, Ports.free(load_manifest()), with_auth=False, scheduler_auto=False, echo=lambda _: None
    )
    run = Run("invitations_bench")
    echo("starting the stack ...")
    stack.start(timeout_s=180)
    try:
        os.environ.update(stack.service_env())
        reset_settings()
        from shared.clients.postgres import get_engine

        engine = get_engine()
        echo("seeding ...")
        seed_timings = seed(engine, args.invitations, args.per_invitation, echo=lambda line: echo(line))
        batch_size = settings().auto_close_batch_size
        echo("timing Q1-Q4 ...")
        queries, q4_rows = time_queries(engine, args.invitations, args.iterations, batch_size)
        plans = explain_plans(engine, batch_size)
        echo(f"HTTP: {args.clients} clients, 1 s think time, {args.seconds:.0f} s ...")
        paced = asyncio.run(load(stack.gateway_url, args.invitations, args.clients, args.seconds, 1.0, 5.0))
        echo(f"HTTP: {args.clients} clients, no think time, {args.saturation_seconds:.0f} s ...")
        saturated = asyncio.run(
            load(stack.gateway_url, args.invitations, args.clients, args.saturation_seconds, 0.0, 3.0)
        )
        report = markdown(
            args,
            seed_timings,
            queries,
            q4_rows,
            batch_size,
            (run.load_before, [round(value, 2) for value in os.getloadavg()]),
            plans,
            [("k6-style, 1 s think", paced), ("saturation, no think", saturated)],
        )
    finally:
        stack.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
    print(report)
    if args.out:
        write_report(args.out, report, HAND_WRITTEN)
    run.publish(headline(args, queries, paced))


def headline(args: argparse.Namespace, queries: dict[str, dict[str, float]], paced: HttpResult) -> list[Row]:
    p95 = {name: stats["p95"] for name, stats in queries.items()}
    met = p95["Q1"] <= TARGETS_MS["Q1"] and p95["Q4"] <= TARGETS_MS["Q4"]
    participants = args.invitations * args.per_invitation
    everything = [s for samples in paced.latencies.values() for s in samples]
    requests = sum(paced.statuses.values())
    return [
        Row(
            f"invitations, {args.invitations / 1000:g}k rows / {participants / 1e6:g}M participants",
            f"Q1 p95 {p95['Q1']:.2f} ms, Q2 {p95['Q2']:.2f}, Q3 {p95['Q3']:.2f}, Q4 {p95['Q4']:.2f} ms"
            f" (targets {TARGETS_MS['Q1']:g} / {TARGETS_MS['Q4']:g} ms: {'met' if met else 'missed'})",
        ),
        Row(
            f"invitations HTTP, {args.clients} clients with 1 s think",
            f"p95 {summary(everything)['p95']:.1f} ms, {requests / paced.elapsed_s:.0f} req/s,"
            f" {paced.errors} errors (target < 100 ms)",
        ),
    ]


if __name__ == "__main__":
    main()
