"""One user flooding an HTTP function at full speed, beside normal users of the same route.

    .venv/bin/python bench/abuse.py [--seconds 15] [--users 40] [--out docs/bench/abuse.md]

For each HTTP function, on its own stack with production settings (budgets as deployed), in one run:
1. baseline: `--users` normal users call the route at a polite pace (within their budgets) for
   `--seconds`; their latencies give p50 / p95;
2. flood: the same, while one more user calls the same route as fast as it answers, from another
   process over several connections.
The ratio flood p95 / baseline p95 is what one abuser costs everybody else (goal: at most 1.5x);
the flooder's answers show where the route stopped it (429 budget, 429 one-at-a-time). With --out
the report is rewritten, and what follows HAND_WRITTEN in it (the explanation of the numbers) kept.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchstack import MACHINE, own_stack, percentile

from bench.report import Row, Run, write_report
from devstack.firestore_rest import unsigned_token

FLOOD_CONNECTIONS = 8
HAND_WRITTEN = "<!-- hand-written below: bench/abuse.py --out keeps it -->"


@dataclass(frozen=True)
class Scenario:
    function: str
    method: str
    path: str
    body: dict[str, Any] | None
    period_s: float  # how often one normal user calls: within the route's budget

    def url(self, gateway: str, room_id: str | None = None) -> str:
        return f"{gateway}/{self.function}{self.path}"


def scenarios(rooms: dict[str, str]) -> list[Scenario]:
    return [
        # 30 a minute: every 2.5 s is well within it.
        Scenario("issue_tokens", "POST", "/livekit-token", None, 2.5),
        # 12 a minute: a beat every 6 s, a little faster than the app's 20 s.
        Scenario("matching_api", "POST", "/presence", {"status": "online"}, 6.0),
        # 300 reads a minute.
        Scenario("invitations_api", "GET", "/invitations?tag=%E8%A6%B3%E5%85%89", None, 1.0),
    ]


def seed(users: int) -> dict[str, str]:
    """Users in rooms of two (issue_tokens needs a room each); returns uid -> room id."""
    from shared.clients.firestore import get_firestore

    client = get_firestore()
    now = datetime.now(UTC)
    batch = client.batch()
    members: dict[str, str] = {}
    for i in range(0, users + 2, 2):
        room_id = f"abuse-{uuid.uuid4().hex[:16]}"
        uids = [f"{100000000 + i + j}{uuid.uuid4().int % 10**8:08d}" for j in range(2)]
        for uid in uids:
            batch.set(client.collection("users").document(uid), {"displayName": uid, "status": "in_call"})
            members[uid] = room_id
        batch.set(
            client.collection("rooms").document(room_id),
            {
                "type": "random",
                "participants": uids,
                "maxParticipants": 2,
                "livekitRoomName": f"lk-{room_id}",
                "status": "active",
                "sessionId": room_id,
                "createdAt": now,
                "expiresAt": now + timedelta(hours=2),
            },
        )
    batch.commit()
    return members


def body_for(scenario: Scenario, room_id: str) -> dict[str, Any] | None:
    return {"roomId": room_id} if scenario.function == "issue_tokens" else scenario.body


async def normal_users(
    gateway: str, project: str, scenario: Scenario, members: dict[str, str], seconds: float
) -> tuple[list[float], Counter[int]]:
    from aiohttp import ClientSession, TCPConnector

    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds

    async def user(session: ClientSession, uid: str, room_id: str) -> None:
        headers = {"Authorization": f"Bearer {unsigned_token(uid, project)}"}
        await asyncio.sleep(random.uniform(0, scenario.period_s))  # spread the users out
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.request(
                scenario.method, scenario.url(gateway), json=body_for(scenario, room_id), headers=headers
            ) as response:
                await response.read()
                statuses[response.status] += 1
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(max(0.0, scenario.period_s - (time.perf_counter() - started)))

    async with ClientSession(connector=TCPConnector(limit=0)) as session:
        await asyncio.gather(*(user(session, uid, room) for uid, room in members.items()))
    return latencies, statuses


def flooder(
    gateway: str, project: str, scenario: Scenario, uid: str, room_id: str, seconds: float, out: Any
) -> None:
    """Another process: one user, FLOOD_CONNECTIONS connections, no pause."""

    async def flood() -> Counter[int]:
        from aiohttp import ClientSession, TCPConnector

        statuses: Counter[int] = Counter()
        deadline = time.monotonic() + seconds
        headers = {"Authorization": f"Bearer {unsigned_token(uid, project)}"}

        async def connection(session: ClientSession) -> None:
            while time.monotonic() < deadline:
                async with session.request(
                    scenario.method, scenario.url(gateway), json=body_for(scenario, room_id), headers=headers
                ) as response:
                    await response.read()
                    statuses[response.status] += 1

        async with ClientSession(connector=TCPConnector(limit=FLOOD_CONNECTIONS)) as session:
            await asyncio.gather(*(connection(session) for _ in range(FLOOD_CONNECTIONS)))
        return statuses

    out.put(dict(asyncio.run(flood())))


def measure(
    gateway: str, project: str, scenario: Scenario, members: dict[str, str], flood_uid: str, seconds: float
) -> dict[str, Any]:
    base, base_statuses = asyncio.run(normal_users(gateway, project, scenario, members, seconds))
    queue: Any = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(
        target=flooder,
        args=(gateway, project, scenario, flood_uid, members.get(flood_uid, ""), seconds + 1, queue),
    )
    process.start()
    time.sleep(0.5)  # the flood is running before the measurement starts
    flooded, flooded_statuses = asyncio.run(normal_users(gateway, project, scenario, members, seconds))
    flood_statuses = queue.get(timeout=seconds + 30)
    process.join(timeout=30)
    ms = lambda xs: [x * 1000 for x in xs]  # noqa: E731
    return {
        "base_p50": percentile(ms(base), 50),
        "base_p95": percentile(ms(base), 95),
        "flood_p50": percentile(ms(flooded), 50),
        "flood_p95": percentile(ms(flooded), 95),
        "samples": (len(base), len(flooded)),
        "normal_statuses": dict(base_statuses + flooded_statuses),
        "flood_statuses": flood_statuses,
        "flood_rate": sum(flood_statuses.values()) / (seconds + 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    run = Run("abuse")
    with own_stack("abuse") as stack:
        members = seed(args.users + 1)
        flood_uid = next(iter(members))
        normal = {uid: room for uid, room in list(members.items())[1 : args.users + 1]}
        results: list[tuple[Scenario, dict[str, Any]]] = []
        for scenario in scenarios(members):
            # Warm every thread of the function and the stores' connections first.
            asyncio.run(normal_users(stack.gateway_url, stack.project, scenario, normal, 3.0))
            result = measure(stack.gateway_url, stack.project, scenario, normal, flood_uid, args.seconds)
            results.append((scenario, result))
            print(scenario.function, result, flush=True)
    lines = [
        f"# One user flooding each HTTP function ({datetime.now(UTC):%Y-%m-%d}, {MACHINE}, Python {platform.python_version()})",
        "",
        f"`bench/abuse.py`: {args.users} normal users at a polite pace, {args.seconds:.0f} s without and {args.seconds:.0f} s with one",
        f"user flooding the same route over {FLOOD_CONNECTIONS} connections from another process; production budgets.",
        "Load generator, gateway, functions and stores share the machine's 2 cores.",
        "",
        "| function, route | normal p50 / p95 ms | with flood p50 / p95 ms | p95 ratio | flooder req/s | flooder answers | normal answers |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for scenario, r in results:
        ratio = r["flood_p95"] / r["base_p95"]
        lines.append(
            f"| {scenario.function} {scenario.method} {scenario.path.split('?')[0]} | {r['base_p50']:.1f} / {r['base_p95']:.1f} | "
            f"{r['flood_p50']:.1f} / {r['flood_p95']:.1f} | {ratio:.2f}x | {r['flood_rate']:.0f} | "
            f"{', '.join(f'{k}: {v}' for k, v in sorted(r['flood_statuses'].items()))} | "
            f"{', '.join(f'{k}: {v}' for k, v in sorted(r['normal_statuses'].items()))} |"
        )
    lines += ["", "Goal: p95 ratio at most 1.5x."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_report(args.out, text, HAND_WRITTEN)
    worst = max(results, key=lambda item: item[1]["flood_p95"] / item[1]["base_p95"])
    ratio = worst[1]["flood_p95"] / worst[1]["base_p95"]
    errors = sum(
        n for _, r in results for code, n in r["normal_statuses"].items() if str(code).startswith("5")
    )
    run.publish(
        [
            Row(
                f"one user flooding each HTTP function while {args.users} others use it politely",
                f"worst p95 with the flood {ratio:.2f}× without ({worst[0].function}; goal ≤ 1.5×: "
                f"{'met' if ratio <= 1.5 else 'missed'}); 5xx to the polite users: {errors}",
            )
        ]
    )


if __name__ == "__main__":
    main()
