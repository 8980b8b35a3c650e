"""Benchmark: syncing 10,000 VRoid Hub models into Firestore, batched changed-only sync vs. a naive one.

Starts its own stack (devstack.stack.Stack on free ports: Firestore emulator, stand-in VRoid Hub, the
functions), serves a clean 10,000-model catalog (6,000 staff picks + 5,000 hearts, 1,000 in both),
and compares two ways of writing the same listing:

- naive:      one `set()` per model, no reads, every run (the design note's `setDoc(...)` per model);
- batched:    shared/vroid/sync.py: read existing documents, write only changed ones, merge, <= 500 per
              commit (what the function does);
- bulkwriter: the same changed-only plan written with Firestore's BulkWriter instead of batches.

Scenarios: the first import into an empty collection, and a steady-state re-run where 1% of the models
changed upstream. Firestore writes are counted by the code and cross-checked against the emulator
(documents whose update_time moved during the run). Finally the batched first import runs once more
end to end (scheduler -> Pub/Sub -> function), as production would run it.

Each measurement is repeated (REPEATS) and the fastest kept: the VM's two cores are shared, and the
slower runs measure the neighbours, not the code.

Run: .venv/bin/python bench/vrm_sync.py   (about 3 minutes on a 2-core VM)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.manifest import load_manifest  # noqa: E402
from devstack.stack import Ports, Stack  # noqa: E402
from shared.config import reset_settings  # noqa: E402
from shared.vroid.client import Credentials, VroidHubClient  # noqa: E402
from shared.vroid.sync import (  # noqa: E402
    COLLECTION,
    Listing,
    commit_writes,
    fetch_listing,
    plan_writes,
    public_ids,
    read_existing,
)

STAFF_PICKS, HEARTS, OVERLAP = 6_000, 5_000, 1_000
MODELS = STAFF_PICKS + HEARTS - OVERLAP
CHANGED_SHARE = 0.01
REPEATS = 2
STRATEGIES = ("naive", "batched", "bulkwriter")


@dataclass
class Result:
    scenario: str
    strategy: str
    seconds: float
    writes: int
    commits: int
    verified_writes: int


def post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def clear(db: Any) -> None:
    refs = [snapshot.reference for snapshot in db.collection(COLLECTION).select([]).stream()]
    for start in range(0, len(refs), 500):
        batch = db.batch()
        for ref in refs[start : start + 500]:
            batch.delete(ref)
        batch.commit()


def updated_since(db: Any, since: datetime) -> int:
    return sum(1 for s in db.collection(COLLECTION).stream() if s.update_time and s.update_time >= since)


def naive(db: Any, listing: Listing, now: datetime) -> tuple[int, int]:
    collection = db.collection(COLLECTION)
    for vrm_id, mapped in listing.models.items():
        collection.document(vrm_id).set({**mapped.content, "createdAt": now, "syncedAt": now})
    return len(listing.models), len(listing.models)


def batched(db: Any, listing: Listing, now: datetime) -> tuple[int, int]:
    existing = read_existing(db, listing.models)
    plan = plan_writes(listing, existing, public_ids(db), now)
    return len(plan.writes), commit_writes(db, plan.writes)


def bulkwriter(db: Any, listing: Listing, now: datetime) -> tuple[int, int]:
    existing = read_existing(db, listing.models)
    plan = plan_writes(listing, existing, public_ids(db), now)
    writer = db.bulk_writer()
    collection = db.collection(COLLECTION)
    for vrm_id, document in plan.writes:
        writer.set(collection.document(vrm_id), document, merge=True)
    writer.close()
    return len(plan.writes), -1  # BulkWriter sends its own batches of up to 20 writes


def measure(db: Any, scenario: str, strategy: str, listing: Listing, fn: Any) -> Result:
    since = datetime.now(UTC)
    time.sleep(0.01)  # update_time has microsecond resolution; keep runs apart
    started = time.perf_counter()
    writes, commits = fn(db, listing, datetime.now(UTC))
    seconds = time.perf_counter() - started
    return Result(scenario, strategy, seconds, writes, commits, updated_since(db, since))


def main() -> None:
    state_dir = ROOT / ".dev" / f"bench-vrm-{os.getpid()}"
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    stack = Stack(
        state_dir, Ports.free(load_manifest()), with_auth=False, scheduler_auto=False, echo=lambda _: None
    )
    print(f"starting a stack in {state_dir} ...", flush=True)
    stack.start(timeout_s=180)
    try:
        os.environ.update(stack.service_env())
        reset_settings()
        from shared.clients.firestore import get_firestore

        db = get_firestore()
        hub = f"http://127.0.0.1:{stack.port('vroid')}"
        post(f"{hub}/_control", {"reset": True})
        catalog = {"staff_picks": STAFF_PICKS, "hearts": HEARTS, "overlap": OVERLAP, "defect_every": 0}
        post(f"{hub}/_control", {"catalog": catalog})
        env = stack.service_env()
        credentials = Credentials(
            env["VROID_CLIENT_ID"], env["VROID_CLIENT_SECRET"], env["VROID_REFRESH_TOKEN"]
        )

        started = time.perf_counter()
        client = VroidHubClient(hub, credentials)
        listing = fetch_listing(client, 100)
        fetch_s = time.perf_counter() - started
        assert len(listing.models) == MODELS, len(listing.models)
        print(f"fetched {listing.entries} entries / {listing.pages} pages in {fetch_s:.1f}s", flush=True)

        results: list[Result] = []
        changed = sorted(listing.models)[:: int(1 / CHANGED_SHARE)]
        post(f"{hub}/_control", {"catalog": {"patch": {i: {"download_count": 7} for i in changed}}})
        relisted = fetch_listing(VroidHubClient(hub, credentials), 100)
        assert sum(m.content["downloadCount"] == 7 for m in relisted.models.values()) >= len(changed)
        rerun = f"re-run, {len(changed)} models changed"
        for _ in range(REPEATS):
            for strategy in STRATEGIES:
                fn = {"naive": naive, "batched": batched, "bulkwriter": bulkwriter}[strategy]
                clear(db)
                results.append(measure(db, "first import (empty collection)", strategy, listing, fn))
                print(f"  {results[-1]}", flush=True)
                results.append(measure(db, rerun, strategy, relisted, fn))
                print(f"  {results[-1]}", flush=True)
        post(f"{hub}/_control", {"reset": True})
        post(f"{hub}/_control", {"catalog": catalog})

        # End to end, as production runs it: scheduler -> Pub/Sub -> function -> stand-in -> Firestore.
        clear(db)
        e2e_started = time.perf_counter()
        fired = post(f"{stack.router_url}/scheduler/jobs/vrm-sync:run", {})
        summary = wait_for_summary(stack, fired["messageId"])
        e2e_s = time.perf_counter() - e2e_started
        print_table(results, fetch_s, summary, e2e_s)
    finally:
        stack.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def wait_for_summary(stack: Stack, event_id: str, timeout_s: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    log = stack.logs_dir / "fn-sync_vrm_models.log"
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and event_id in line:
                entry = json.loads(line)
                if entry.get("message") == "vrm sync finished":
                    return dict(entry)
        time.sleep(0.5)
    raise TimeoutError("the function did not finish the sync")


def best(results: list[Result], scenario: str, strategy: str) -> Result:
    runs = [r for r in results if r.scenario == scenario and r.strategy == strategy]
    return min(runs, key=lambda r: r.seconds)


def print_table(results: list[Result], fetch_s: float, summary: dict[str, Any], e2e_s: float) -> None:
    scenarios = list(dict.fromkeys(r.scenario for r in results))
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"models: {MODELS:,} (fetching the listing from the stand-in: {fetch_s:.1f}s, same for all)")
    print(f"times: Firestore phase only, fastest of {REPEATS} runs (all runs in parentheses)")
    print()
    print("| scenario | strategy | Firestore phase (s) | writes | commits | writes seen by emulator |")
    print("|---|---|---:|---:|---:|---:|")
    for scenario in scenarios:
        for strategy in STRATEGIES:
            r = best(results, scenario, strategy)
            every = ", ".join(
                f"{x.seconds:.1f}" for x in results if x.scenario == scenario and x.strategy == strategy
            )
            commits = f"{r.commits:,}" if r.commits >= 0 else "(BulkWriter)"
            cells = [
                scenario,
                strategy,
                f"{r.seconds:.2f} ({every})",
                f"{r.writes:,}",
                commits,
                f"{r.verified_writes:,}",
            ]
            print("| " + " | ".join(cells) + " |")
    print()
    print("| scenario | time naive / batched | writes naive / batched | time bulkwriter / batched |")
    print("|---|---:|---:|---:|")
    for scenario in scenarios:
        n, b, w = (best(results, scenario, s) for s in STRATEGIES)
        writes = f"{n.writes / b.writes:.0f}x" if b.writes else f"{n.writes:,} vs 0"
        print(f"| {scenario} | {n.seconds / b.seconds:.1f}x | {writes} | {w.seconds / b.seconds:.1f}x |")
    print()
    print(
        f"end to end (scheduler -> Pub/Sub -> function), first import: {e2e_s:.1f}s wall, "
        f"function durationMs={summary['durationMs']:.0f} (listing included), writes={summary['writes']:,}, "
        f"batches={summary['batches']}, pages={summary['pages']}"
    )


if __name__ == "__main__":
    main()
