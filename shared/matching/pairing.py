"""The matching worker's core: claim pairs in Redis, create their rooms in Firestore, settle.

1. `claim_pairs` (pair.lua) takes compatible pairs off the queue, oldest first, in one atomic step and
   records each as a claim with a deadline. No two workers can take the same user.
2. `create_random_rooms` creates the rooms of a few pairs in one Firestore transaction: per pair the
   room, born active with its call session (id = pair id, so a retry finds its own earlier commit),
   both users seated, both requests deleted. It pairs a user only while their `matchingQueue`
   request exists and they are in no room, so even a stale or duplicated claim can never put anyone
   in two rooms.
3. `settle` (settle.lua) ends the claim: spent tickets deleted, a partner who is still waiting put back
   at their original place, a user whose request vanished dropped.
If a worker fails between 1 and 3 it requeues both users itself; if it dies, the sweep settles claims
past their deadline (`reclaim_stale_claims`), asking Firestore whether the room was created.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import documents, keys, log, redis_scripts, safety, vocab
from shared.config import settings
from shared.rooms import lifecycle
from shared.rooms.membership import activation
from shared.transactions import read, run
from shared.users.state import UserChanges, current_room

if TYPE_CHECKING:
    import redis as redis_lib
    from google.cloud.firestore import DocumentReference, DocumentSnapshot, Transaction

logger = log.get_logger("shared.matching.pairing")

# Fault injection points for tests of the failure paths: called with (stage, claim).
Fault = Callable[[str, "Claim"], None]


@dataclass(frozen=True)
class Claim:
    pair_id: str
    a: str  # the older of the two
    b: str
    place_a: float  # enqueue time (ms): where each goes back to if the room is not created
    place_b: float


@dataclass
class Report:
    created: list[str] = field(default_factory=list)  # room ids
    requeued: int = 0
    dropped: int = 0
    failed: int = 0
    limited: bool = False  # stopped at max_pairs with pairs possibly still waiting
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, room: str | None = None, requeued: int = 0, dropped: int = 0, failed: int = 0) -> None:
        with self._lock:  # pairs are settled on several threads
            if room:
                self.created.append(room)
            self.requeued += requeued
            self.dropped += dropped
            self.failed += failed

    def to_json(self) -> dict[str, Any]:
        return {
            "rooms": len(self.created),
            "requeued": self.requeued,
            "dropped": self.dropped,
            "failed": self.failed,
        }


class PairingFailed(RuntimeError):
    """Some pairs could not be settled now; they were put back (the message is retried)."""


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def _pair_ids(count: int) -> list[str]:
    """Fresh random pair ids (32 hex digits, as a uuid4's hex): one read of the OS's random source
    for the whole call, not one per pair."""
    pool = os.urandom(16 * count).hex()
    return [pool[i : i + 32] for i in range(0, 32 * count, 32)]


def claim_pairs(
    max_pairs: int, *, now_ms: int | None = None, client: redis_lib.Redis | None = None
) -> list[Claim]:
    now_ms = _now_ms() if now_ms is None else now_ms
    deadline = now_ms + settings().matching_claim_timeout_s * 1000
    flat = redis_scripts.run(
        "matching/pair",
        [keys.MATCHING_CLAIMS, keys.MATCHING_CLAIMED],
        [
            keys.MATCHING_TICKET_PREFIX,
            keys.MATCHING_CLASS_PREFIX,
            keys.MATCHING_CLAIM_PREFIX,
            now_ms,
            deadline,
            keys.BLOCKS_PREFIX,
            *_pair_ids(max_pairs),
        ],
        client,
    )
    return [
        Claim(flat[i], flat[i + 1], flat[i + 2], float(flat[i + 3]), float(flat[i + 4]))
        for i in range(0, len(flat), 5)
    ]


def settle(pair_id: str, action_a: str, action_b: str) -> tuple[int, int]:
    """Actions: 'keep' (room created), 'requeue', 'drop'. Returns (requeued, removed)."""
    requeued, removed = redis_scripts.run(
        "matching/settle",
        [keys.MATCHING_CLAIMS, keys.MATCHING_EXPIRY, keys.MATCHING_CLAIMED],
        [
            keys.MATCHING_TICKET_PREFIX,
            keys.MATCHING_CLASS_PREFIX,
            keys.MATCHING_CLAIM_PREFIX,
            pair_id,
            action_a,
            action_b,
        ],
    )
    return int(requeued), int(removed)


def random_room(claim: Claim, now: datetime) -> dict[str, Any]:
    """A random room is born active: both people are there the moment it exists."""
    return {
        "type": vocab.RANDOM,
        "createdBy": vocab.SYSTEM_CREATOR,
        "participants": [claim.a, claim.b],
        "maxParticipants": 2,
        "livekitRoomName": f"vchat-{claim.pair_id}",
        "createdAt": now,
        "expiresAt": now + timedelta(seconds=settings().matching_room_ttl_s),
        **activation(claim.pair_id, now),
    }


Outcome = tuple[str, list[str]]  # ('created' | 'exists' | 'rejected', uids not eligible any more)


def create_random_room(claim: Claim, now: datetime) -> Outcome:
    """One pair's room in one transaction (see `create_random_rooms`)."""
    return create_random_rooms([claim], now)[0]


def create_random_rooms(claims: list[Claim], now: datetime) -> list[Outcome]:
    """The rooms of several pairs in one transaction: one read of every document involved and one
    commit, instead of a round trip of each per pair (claims never share a user, so the pairs cannot
    conflict with each other). Each pair is decided on its own; one outcome per claim, in order."""

    def body(transaction: Transaction) -> tuple[list[Outcome], UserChanges]:
        refs: list[DocumentReference] = []
        spans: list[tuple[int, int]] = []
        for claim in claims:
            start = len(refs)
            refs += [documents.room(claim.pair_id)]
            for uid in (claim.a, claim.b):
                refs += [documents.user(uid), documents.suspension_marker(uid), documents.queue_entry(uid)]
            # The pair's block documents in the same read: pair.lua skips the blocks Redis knows;
            # this catches one committed while the pair was in flight or one the mirror lost.
            refs += safety.block_refs(claim.a, [claim.b])
            spans.append((start, len(refs)))
        snapshots = read(transaction, *refs)
        changes = UserChanges(transaction)
        outcomes = [
            _decide(transaction, changes, claim, snapshots[start:end], now)
            for claim, (start, end) in zip(claims, spans, strict=True)
        ]
        return outcomes, changes

    outcomes, changes = run(body)
    changes.committed()
    results: list[Outcome] = []
    for claim, (outcome, ineligible) in zip(claims, outcomes, strict=True):
        if outcome == "blocked":
            from shared.account.blocks import mirror_add

            mirror_add(claim.a, claim.b)  # pair.lua missed it: the Redis mirror lags behind Firestore
            outcome = "rejected"
        results.append((outcome, ineligible))
    return results


def _decide(
    transaction: Transaction,
    changes: UserChanges,
    claim: Claim,
    snapshots: list[DocumentSnapshot],
    now: datetime,
) -> Outcome:
    """One pair inside the group transaction: create its room and seat both, or say why not."""
    room, user_a, marker_a, entry_a, user_b, marker_b, entry_b, *blocks = snapshots
    if room.exists:
        return "exists", []
    ineligible = [
        uid
        for uid, user, marker, entry in (
            (claim.a, user_a, marker_a, entry_a),
            (claim.b, user_b, marker_b, entry_b),
        )
        if not _waiting(user, marker, entry, now)
    ]
    if ineligible:
        return "rejected", ineligible
    if any(block.exists for block in blocks):
        return "blocked", []
    doc = random_room(claim, now)
    transaction.create(documents.room(claim.pair_id), doc)
    transaction.create(
        documents.call_session(claim.pair_id), lifecycle.session_start(claim.pair_id, doc, now)
    )
    for uid in (claim.a, claim.b):
        changes.seat(uid, claim.pair_id, now)
        transaction.delete(documents.queue_entry(uid))
    return "created", []


def _rooms_exist(room_ids: list[str]) -> set[str]:
    """Which of the pairs' rooms were committed; none when that cannot be known (then requeue: a
    room transaction drops users who turn out to be seated already)."""
    from shared.clients.firestore import get_firestore

    try:
        snapshots = get_firestore().get_all([documents.room(room_id) for room_id in room_ids], timeout=5)
        return {snap.id for snap in snapshots if snap.exists}
    except Exception:
        return set()


def _waiting(
    user: DocumentSnapshot, marker: DocumentSnapshot, entry: DocumentSnapshot, now: datetime
) -> bool:
    """Still queued and asking to be paired, in no room, and not suspended since they queued."""
    if not (entry.exists and user.exists):
        return False
    profile = user.to_dict() or {}
    return (
        profile.get("status") == vocab.MATCHING
        and current_room(profile) is None
        and not safety.is_suspended(profile, safety.marker_of(marker), now)
    )


def process_claim(claim: Claim, report: Report, fault: Fault | None = None) -> None:
    process_claims([claim], report, fault)


def process_claims(claims: list[Claim], report: Report, fault: Fault | None = None) -> None:
    """Create the pairs' rooms (one transaction) and settle each claim; on any failure put back
    every pair whose room was not committed and re-raise."""
    try:
        if fault:
            for claim in claims:
                fault("claimed", claim)
        outcomes = create_random_rooms(claims, datetime.now(UTC))
        if fault:
            for claim in claims:
                fault("committed", claim)
    except Exception as exc:
        committed = _rooms_exist([claim.pair_id for claim in claims])
        for claim in claims:
            if claim.pair_id in committed:
                # The commit went through and only its answer (or what followed) failed.
                log.log_event(
                    logger,
                    "room committed despite an error",
                    logging.WARNING,
                    roomId=claim.pair_id,
                    error=repr(exc),
                )
                _settle_outcome(claim, ("exists", []), report)
            else:
                requeued, _ = settle(claim.pair_id, "requeue", "requeue")
                report.add(failed=1, requeued=requeued)
        if len(committed) < len(claims):
            raise
        return
    for claim, outcome in zip(claims, outcomes, strict=True):
        _settle_outcome(claim, outcome, report)


def _settle_outcome(claim: Claim, outcome: Outcome, report: Report) -> None:
    result, ineligible = outcome
    if result in ("created", "exists"):
        settle(claim.pair_id, "keep", "keep")
        report.add(room=claim.pair_id)
        log.log_event(
            logger, "random room created", roomId=claim.pair_id, users=[claim.a, claim.b], outcome=result
        )
        return
    actions = ["drop" if uid in ineligible else "requeue" for uid in (claim.a, claim.b)]
    requeued, removed = settle(claim.pair_id, actions[0], actions[1])
    report.add(requeued=requeued, dropped=removed)
    log.log_event(logger, "pair rejected", pairId=claim.pair_id, ineligible=ineligible)


def match_waiting(
    *,
    max_pairs: int | None = None,
    batch: int | None = None,
    per_transaction: int | None = None,
    threads: int = 8,
    fault: Fault | None = None,
) -> Report:
    """Pair and seat waiting users until the queue has no compatible pair (or `max_pairs` is reached).
    Each script run claims up to `batch` pairs, and no more than the free threads take at once; their
    rooms are created `per_transaction` pairs to a transaction, on `threads` threads. Raises
    PairingFailed after the run if any pair failed (those users are back in the queue)."""
    max_pairs = settings().matching_max_pairs_per_run if max_pairs is None else max_pairs
    batch = settings().matching_batch_pairs if batch is None else batch
    per_transaction = (
        settings().matching_pairs_per_transaction if per_transaction is None else per_transaction
    )
    report = Report()
    errors: list[BaseException] = []
    in_flight: set[Future[None]] = set()  # transactions running or about to

    def collect(done: set[Future[None]]) -> None:
        errors.extend(error for future in done if (error := future.exception()) is not None)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        seen = 0
        while True:
            # Claim as soon as a thread is free, and only what the free threads start on at once: a
            # batch that waited for its slowest transaction left the other threads idle, and a claim
            # queued behind busy threads would spend its deadline waiting.
            done, in_flight = wait(
                in_flight, timeout=None if len(in_flight) >= threads else 0, return_when=FIRST_COMPLETED
            )
            collect(done)
            if errors:
                break  # put-back users would be claimed again at once: let the retry come later
            if seen >= max_pairs:
                report.limited = True
                break
            free = (threads - len(in_flight)) * per_transaction
            claims = claim_pairs(min(batch, free, max_pairs - seen))
            if not claims:
                break
            seen += len(claims)
            for i in range(0, len(claims), per_transaction):
                in_flight.add(pool.submit(process_claims, claims[i : i + per_transaction], report, fault))
        collect(wait(in_flight).done)
    if errors:
        log.log_event(logger, "pairing failed", logging.ERROR, error=repr(errors[0]), **report.to_json())
        raise PairingFailed(f"{len(errors)} pair(s) failed: {errors[0]!r}") from errors[0]
    return report


def reclaim_stale_claims(now: datetime, limit: int = 100) -> Report:
    """Settle claims whose worker missed the deadline (crashed, timed out): room there -> spent,
    otherwise both back to their places. A late commit by the slow worker is still safe: the next
    room transaction sees those users in a room and drops their requeued tickets."""
    report = Report()
    now_ms = int(now.timestamp() * 1000)
    for pair_id in redis_scripts.due(keys.MATCHING_CLAIMS, now_ms, limit):
        snap = documents.room(pair_id).get()
        if snap.exists:
            settle(pair_id, "keep", "keep")
            report.add(room=pair_id)
        else:
            requeued, _ = settle(pair_id, "requeue", "requeue")
            report.add(requeued=requeued)
    if report.created or report.requeued:
        log.log_event(logger, "stale claims settled", **report.to_json())
    return report
