"""What one match, one leave, one close and one user going offline cost, counted.

    .venv/bin/python bench/cascade.py [--rounds 5] [--out docs/bench/cascade.md]

Runs on a stack of its own with every function process counting its Firestore reads and writes
(bench/firestore_counter, loaded through PYTHONPATH), and reads the event router's delivery log.
Each scenario starts from a settled stack and is counted until nothing more happens (no delivery
and no Firestore call for SETTLE_S): the HTTP calls that start it, every trigger and Pub/Sub
delivery it causes, and every document read and written by every function on the way.

Scenarios (each through the public routes, as clients cause them):
- match: two users POST /queue; the worker pairs them; everything the new room sets off;
- leave: one of three leaves a select room (the room goes on);
- close: one of two leaves, so the room closes (session ended, analytics row, the other released);
- offline: a user in a call writes `status: offline` (as the client SDK may), the room closes.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchstack import MACHINE, own_stack

from bench.report import Row, Run
from devstack.firestore_rest import FirestoreRest, unsigned_token

COUNTER = Path(__file__).resolve().parent / "firestore_counter"
# The same benchmark run against the code before the user's state got one owner (commit bf289a5:
# rooms activated and closed by their own trigger's next event, users released by the room trigger),
# 3 rounds, 2026-11-30. Counts, not times: they do not depend on the machine.
BEFORE = """Before one module owned the user's state (commit bf289a5, same benchmark):

| scenario | HTTP | events | reads | writes | commits | events by function |
|---|---:|---:|---:|---:|---:|---|
| match (2 users queue, worker pairs) | 2 | 8 | 17 | 11 | 4 | matching_worker 2, on_room_written 2, on_user_written 4 |
| leave (1 of 3, the room goes on) | 1 | 2 | 6 | 2 | 2 | on_room_written 1, on_user_written 1 |
| close (1 of 2 leaves) | 1 | 4 | 13 | 5 | 5 | on_room_written 2, on_user_written 2 |
| offline in a call (client writes status) | 0 | 5 | 14 | 5 | 6 | on_room_written 2, on_user_written 3 |

Since then the pairing transaction also reads the pair's two block documents: reads that safety
added, not the cascade."""
SETTLE_S = 1.5


def _http(method: str, url: str, uid: str, project: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {unsigned_token(uid, project)}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Bench:
    def __init__(self, stack: Any) -> None:
        from shared.clients.firestore import get_firestore
        from shared.clients.redis import get_redis

        self.stack = stack
        self.db = get_firestore()
        self.redis = get_redis()
        self.rest = FirestoreRest(f"127.0.0.1:{stack.port('firestore')}", stack.project)
        self.api = f"{stack.gateway_url}/matching_api"

    def deliveries(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.stack.router_url}/deliveries", timeout=10) as response:
            return list(json.load(response))

    def counters(self) -> dict[str, int]:
        keys = list(self.redis.scan_iter("bench:firestore:*"))
        values: list[Any] = self.redis.mget(keys) if keys else []
        return {
            key.removeprefix("bench:firestore:"): int(value) for key, value in zip(keys, values, strict=True)
        }

    def settle(self) -> None:
        """Until no delivery and no Firestore call happened for SETTLE_S."""
        last = (len(self.deliveries()), self.counters())
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < SETTLE_S:
            time.sleep(0.2)
            now = (len(self.deliveries()), self.counters())
            if now != last:
                last, quiet_since = now, time.monotonic()

    def user(self, gender: str) -> str:
        uid = f"cb-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        self.db.collection("users").document(uid).set(
            {
                "displayName": uid,
                "username": uid.replace("-", "_"),
                "gender": gender,
                "status": "online",
                "createdAt": now,
                "lastActiveAt": now,
                "adultConfirmedAt": now,
            }
        )
        return uid

    def current_room(self, uid: str) -> str | None:
        snapshot = self.db.collection("users").document(uid).get()
        room = (snapshot.to_dict() or {}).get("currentRoomId")
        return room if isinstance(room, str) and room else None

    def wait(self, condition: Callable[[], Any], timeout_s: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while not (value := condition()):
            if time.monotonic() > deadline:
                raise TimeoutError("the scenario did not complete")
            time.sleep(0.05)
        return value

    def measure(self, action: Callable[[], int]) -> dict[str, Any]:
        """Count what `action` (which returns how many HTTP calls it made) sets off."""
        self.settle()
        self.redis.delete(*(list(self.redis.scan_iter("bench:firestore:*")) or ["bench:none"]))
        before = len(self.deliveries())
        http_calls = action()
        self.settle()
        delivered = self.deliveries()[before:]
        counts = self.counters()
        invocations = Counter(d["function"] for d in delivered if d.get("kind") in ("firestore", "pubsub"))
        return {
            "http": http_calls,
            "events": sum(invocations.values()),
            "by_function": dict(invocations),
            "reads": sum(v for k, v in counts.items() if k.endswith(":reads")),
            "writes": sum(v for k, v in counts.items() if k.endswith(":writes")),
            "commits": sum(v for k, v in counts.items() if k.endswith(":commits")),
            "counts": counts,
        }

    # -- scenarios --------------------------------------------------------------------------------
    def match(self) -> dict[str, Any]:
        a, b = self.user("female"), self.user("male")

        def action() -> int:
            for uid in (a, b):
                assert _http("POST", f"{self.api}/queue", uid, self.stack.project, {})[0] == 202
            self.wait(lambda: self.current_room(a) and self.current_room(b))
            return 2

        return self.measure(action)

    def select_room(self, size: int, people: int) -> tuple[str, list[str]]:
        owner = self.user("female")
        status, created = _http(
            "POST", f"{self.api}/rooms", owner, self.stack.project, {"maxParticipants": size}
        )
        assert status == 201, created
        members = [owner]
        for _ in range(people - 1):
            guest = self.user("male")
            status, joined = _http(
                "POST", f"{self.api}/rooms/join", guest, self.stack.project, {"roomCode": created["roomCode"]}
            )
            assert status == 200, joined
            members.append(guest)
        return created["roomId"], members

    def leave(self, people: int) -> dict[str, Any]:
        room_id, members = self.select_room(max(people, 2), people)

        def action() -> int:
            status, _ = _http("POST", f"{self.api}/rooms/{room_id}/leave", members[-1], self.stack.project)
            assert status == 200
            return 1

        return self.measure(action)

    def offline(self) -> dict[str, Any]:
        room_id, members = self.select_room(2, 2)

        def action() -> int:
            # What the client SDK does when the app goes away: its own status to offline.
            code = self.rest.as_user(members[1]).update(
                f"users/{members[1]}", {"status": "offline"}, server_time_fields=("lastActiveAt",)
            )
            assert code == 200, code
            self.wait(
                lambda: (
                    (self.db.collection("rooms").document(room_id).get().to_dict() or {}).get("status")
                    == "closed"
                )
            )
            return 0

        return self.measure(action)


def median_row(name: str, samples: list[dict[str, Any]]) -> str:
    def med(key: str) -> float:
        return statistics.median(s[key] for s in samples)

    functions: Counter[str] = Counter()
    for sample in samples:
        functions.update(sample["by_function"])
    per_function = ", ".join(f"{f} {n / len(samples):g}" for f, n in sorted(functions.items()))
    return (
        f"| {name} | {med('http'):g} | {med('events'):g} | {med('reads'):g} | {med('writes'):g} | "
        f"{med('commits'):g} | {per_function} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    run = Run("cascade")
    with own_stack("cascade", extra_python_path=(COUNTER,)) as stack:
        bench = Bench(stack)
        scenarios: dict[str, Callable[[], dict[str, Any]]] = {
            "match (2 users queue, worker pairs)": bench.match,
            "leave (1 of 3, the room goes on)": lambda: bench.leave(3),
            "close (1 of 2 leaves)": lambda: bench.leave(2),
            "offline in a call (client writes status)": bench.offline,
        }
        results = {name: [run() for _ in range(args.rounds)] for name, run in scenarios.items()}
    lines = [
        f"# The cost of a match, a leave, a close ({datetime.now(UTC):%Y-%m-%d}, {MACHINE}, Python {platform.python_version()})",
        "",
        f"`bench/cascade.py`, median of {args.rounds} rounds each. HTTP: calls made by the client; events: trigger and",
        "Pub/Sub deliveries the scenario set off (every function invocation after the HTTP ones); reads and",
        "writes: Firestore documents read and written by all functions together (billed units); commits:",
        "transactions and batched writes.",
        "",
        "| scenario | HTTP | events | reads | writes | commits | events by function |",
        "|---|---:|---:|---:|---:|---:|---|",
        *(median_row(name, samples) for name, samples in results.items()),
        "",
        BEFORE,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    print(json.dumps({name: [s["counts"] for s in samples] for name, samples in results.items()}, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    run.publish(
        [
            Row(f"Firestore cost of one {name.split(' (')[0]}, every function counted", _cost(samples))
            for name, samples in results.items()
            if name.startswith(("match", "close"))
        ]
    )


def _cost(samples: list[dict[str, Any]]) -> str:
    def med(key: str) -> float:
        return statistics.median(s[key] for s in samples)

    return (
        f"{med('events'):g} function invocations after {med('http'):g} HTTP call(s); {med('reads'):g} reads, "
        f"{med('writes'):g} writes, {med('commits'):g} commits (median of {len(samples)})"
    )


if __name__ == "__main__":
    main()
