"""Property-style test: several concurrent workers with injected failures against the real Redis and
Firestore emulator never put a user in two rooms and never lose a user.

Each run draws a population with random genders and preferences, enqueues it concurrently, lets four
worker threads pair it while a fifth takes random users out of the queue, and injects failures at
random: an exception right after a pair left the queue, an exception after the room transaction
committed (its answer "lost"), and a worker that dies without cleaning up (its claim is left for the
sweep). Then the sweep and a last clean round settle everything, and the invariants are checked.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from devstack.stack import Stack
from shared import keys
from shared.clients.firestore import get_firestore
from shared.clients.redis import get_redis
from shared.config import settings
from shared.matching import model, pairing, queue
from shared.matching.model import Preferences
from tests.matching_helpers import clear_matching_redis, mirror, new_user, user
from tests.matching_helpers import waiting as queued

WORKERS = 4


class WorkerDied(BaseException):
    """Not an Exception: the worker's own error handling does not run, as when an instance is killed."""


@pytest.fixture(autouse=True)
def clean_queue(stack: Stack) -> Iterator[None]:
    clear_matching_redis()
    yield


def rooms_of(uids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    rooms = get_firestore().collection("rooms")
    for start in range(0, len(uids), 30):
        chunk = uids[start : start + 30]
        query = rooms.where(filter=FieldFilter("participants", "array_contains_any", chunk))
        found.update({snap.id: snap.to_dict() or {} for snap in query.stream()})
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_concurrent_workers_with_failures_never_double_match_or_lose_a_user(seed: int) -> None:
    rng = random.Random(seed)
    rng_lock = threading.Lock()
    population: dict[str, tuple[str, str]] = {}  # uid -> (own gender, wanted)
    for _ in range(36):
        gender = rng.choice(["male", "female", "male", "female", "other"])
        want = rng.choice(["any", "any", "any", "male", "female"])
        population[new_user(gender)] = (gender, want)
    uids = list(population)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda uid: queue.enqueue(
                    uid,
                    Preferences(None if population[uid][1] == "any" else population[uid][1]),
                    datetime.now(UTC),
                ),
                uids,
            )
        )

    injected = {"claimed": 0, "committed": 0, "died": 0}

    def fault(stage: str, claim: pairing.Claim) -> None:
        with rng_lock:
            roll = rng.random()
        if stage == "claimed" and roll < 0.15:
            injected["claimed"] += 1
            raise ConnectionError("injected after the pair left the queue")
        if stage == "claimed" and roll < 0.22:
            injected["died"] += 1
            raise WorkerDied()
        if stage == "committed" and roll < 0.15:
            injected["committed"] += 1
            raise TimeoutError("injected: commit answer lost")

    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                report = pairing.match_waiting(batch=rng.randint(1, 4), threads=2, fault=fault)
            except pairing.PairingFailed:
                continue
            if not report.created and not report.requeued:
                time.sleep(0.05)

    leavers: set[str] = set()

    def leaver() -> None:
        for uid in rng.sample(uids, 6):
            time.sleep(rng.random() * 0.3)
            queue.remove_from_queue(uid, reason="property-test")
            leavers.add(uid)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)] + [threading.Thread(target=leaver)]
    for thread in threads:
        thread.start()
    threads[-1].join()
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join()

    # The sweep settles what dead workers left; then clean rounds until nothing changes.
    later = datetime.now(UTC) + timedelta(seconds=settings().matching_claim_timeout_s + 1)
    pairing.reclaim_stale_claims(later, limit=1000)
    while pairing.match_waiting().created:
        pass
    assert get_redis().zcard(keys.MATCHING_CLAIMS) == 0
    assert sum(injected.values()) > 0

    # -- invariants ------------------------------------------------------------------------------
    rooms = rooms_of(uids)
    seen: dict[str, str] = {}
    for room_id, room in rooms.items():
        a, b = room["participants"]
        assert a != b
        assert model.compatible(*population[a], *population[b]), (room_id, population[a], population[b])
        for uid in (a, b):
            assert uid not in seen, f"{uid} is in two rooms: {seen[uid]} and {room_id}"
            seen[uid] = room_id
    in_queue = set(queued())
    waiting: list[str] = []
    for uid in uids:
        state = user(uid)
        if uid in seen:
            assert state["currentRoomId"] == seen[uid] and state["status"] == "in_call"
            assert mirror(uid) is None and uid not in in_queue
        elif uid in leavers:
            assert state["status"] == "online" and mirror(uid) is None and uid not in in_queue
            assert not state.get("currentRoomId")
        else:  # not seated and did not leave: must still be waiting, in Firestore and in Redis
            assert state["status"] == "matching" and mirror(uid) is not None, uid
            assert uid in in_queue, f"{uid} was lost from the queue"
            waiting.append(uid)
    # ... and the clean rounds left no compatible pair waiting
    for i, a in enumerate(waiting):
        for b in waiting[i + 1 :]:
            assert not model.compatible(*population[a], *population[b]), (a, b)
