"""issue_tokens through the gateway with a warm function, 50 concurrent clients, next to signing alone.

    .venv/bin/python bench/issue_tokens_bench.py [--clients 50] [--requests 2000] [--out docs/bench/tokens.md]

Starts a stack of its own (rate limits raised so that they do not shape the numbers), seeds rooms
with two participants each, warms the function, then runs three scenarios of `--requests` requests:
- POST /livekit-token, cache miss: every request is a (room, user) pair's first (Firestore read,
  sign, Redis SET);
- POST /livekit-token, cache hit: the same pairs again (Redis only);
- POST /ws-token (no room): an EdDSA signature.
"Signing alone" signs the same claims in a loop in this process: the function's overhead over the
cryptography is the ratio of the two.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchstack import MACHINE, own_stack, percentile

from devstack.firestore_rest import unsigned_token


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


async def run(
    url: str, calls: Sequence[tuple[dict[str, str], dict[str, Any] | None]], clients: int
) -> tuple[list[float], float, int]:
    """Send `calls` with `clients` concurrent connections; returns (latencies s, seconds, non-200s)."""
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
            latencies.append(time.perf_counter() - started)

    async with ClientSession(connector=TCPConnector(limit=clients)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return latencies, time.perf_counter() - started, errors


def signing_alone(iterations: int) -> dict[str, float]:
    """Seconds per signature of the same claims, in this process."""
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
    hs256 = (time.perf_counter() - started) / iterations
    ws.sign_ws_token("bench-user", now)  # parse the keys once
    started = time.perf_counter()
    for _ in range(iterations):
        ws.sign_ws_token("bench-user", now)
    eddsa = (time.perf_counter() - started) / iterations
    return {"hs256": hs256, "eddsa": eddsa}


def row(name: str, latencies: list[float], seconds: float, errors: int, signing_s: float) -> str:
    ms = [s * 1000 for s in latencies]
    p50 = percentile(ms, 50)
    return (
        f"| {name} | {len(ms)} | {p50:.1f} | {percentile(ms, 95):.1f} | {percentile(ms, 99):.1f} | "
        f"{len(ms) / seconds:.0f} | {errors} | {signing_s * 1e6:.0f} µs | {p50 / (signing_s * 1000):.0f}× |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    # Rate limits raised so that they do not shape the numbers.
    limits = {"RATE_LIMIT_LIVEKIT_PER_MIN": "100000", "RATE_LIMIT_WS_PER_MIN": "100000"}
    with own_stack("tokens", extra_env=limits) as stack:
        pairs = seed_rooms(args.requests)
        auth = {uid: {"Authorization": f"Bearer {unsigned_token(uid, stack.project)}"} for _, uid in pairs}
        base = f"{stack.gateway_url}/issue_tokens"
        livekit_calls = [(auth[uid], {"roomId": room_id}) for room_id, uid in pairs]
        ws_calls = [(auth[uid], None) for _, uid in pairs]
        # Warm up every gunicorn thread's clients on rooms that the measured runs do not use.
        warm = seed_rooms(200)
        warm_auth = {
            uid: {"Authorization": f"Bearer {unsigned_token(uid, stack.project)}"} for _, uid in warm
        }
        asyncio.run(
            run(f"{base}/livekit-token", [(warm_auth[u], {"roomId": r}) for r, u in warm], args.clients)
        )
        asyncio.run(run(f"{base}/ws-token", [(warm_auth[u], None) for _, u in warm], args.clients))

        miss = asyncio.run(run(f"{base}/livekit-token", livekit_calls, args.clients))
        hit = asyncio.run(run(f"{base}/livekit-token", livekit_calls, args.clients))
        wst = asyncio.run(run(f"{base}/ws-token", ws_calls, args.clients))
        # One client at a time: the service time of a request, without queueing behind the others.
        solo = seed_rooms(200)
        solo_auth = {
            uid: {"Authorization": f"Bearer {unsigned_token(uid, stack.project)}"} for _, uid in solo
        }
        solo_calls = [(solo_auth[uid], {"roomId": room_id}) for room_id, uid in solo]
        miss_1 = asyncio.run(run(f"{base}/livekit-token", solo_calls, 1))
        hit_1 = asyncio.run(run(f"{base}/livekit-token", solo_calls, 1))
        ws_1 = asyncio.run(run(f"{base}/ws-token", [(h, None) for h, _ in solo_calls], 1))
        alone = signing_alone(5000)
        report = [
            f"# issue_tokens benchmark ({datetime.now(UTC):%Y-%m-%d}, {MACHINE}, Python {platform.python_version()})",
            "",
            f"{args.clients} concurrent clients (then 1) through the gateway, warm function (gunicorn threads from the",
            'manifest), `bench/issue_tokens_bench.py`. "signing alone" is the same claims signed in a loop in',
            "one process; the last column is p50 over it: what the function adds (HTTP, auth, Redis, Firestore).",
            "",
            "| scenario | requests | p50 ms | p95 ms | p99 ms | req/s | non-200 | signing alone | p50 / signing |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            row("POST /livekit-token, cache miss", *miss, alone["hs256"]),
            row("POST /livekit-token, cache hit", *hit, alone["hs256"]),
            row("POST /ws-token (EdDSA)", *wst, alone["eddsa"]),
            row("1 client: /livekit-token, cache miss", *miss_1, alone["hs256"]),
            row("1 client: /livekit-token, cache hit", *hit_1, alone["hs256"]),
            row("1 client: /ws-token", *ws_1, alone["eddsa"]),
            "",
            "Target: p95 < 20 ms for a cache hit on this machine.",
        ]
        text = "\n".join(report) + "\n"
        print(text)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)


if __name__ == "__main__":
    main()
