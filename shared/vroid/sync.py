"""Sync VRoid Hub's staff picks and the curator's hearted models into Firestore `vrmModels/{vrmId}`.

One run:
1. list every source to the end (a failed source fails the run before anything is written, so a
   partial listing can never unpublish models);
2. map and validate each entry (bad entries are skipped and counted by reason);
3. read the existing documents of the listed ids, and the ids of public documents;
4. write only documents whose content changed, with merge semantics (fields the sync does not own,
   such as `vrmFileUrl` / `cloudflareR2Key`, are left alone), in batches of at most 500 writes;
   `createdAt` only when the document is new, `syncedAt` on every write;
5. mark public documents that no source lists any more `isPublic: false` (never delete).

Running it twice with the same listing writes nothing the second time (idempotent).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import vocab
from shared.vroid.client import VroidHubClient
from shared.vroid.mapping import CONTENT_FIELDS, InvalidModel, MappedModel, map_model, model_id_of

if TYPE_CHECKING:
    from google.cloud import firestore

COLLECTION = vocab.VRM_MODELS
SOURCES = (("staff_picks", "/api/staff_picks"), ("hearts", "/api/hearts"))
MAX_BATCH_WRITES = 500  # Firestore's limit per commit
READ_CHUNK = 500


@dataclass
class Listing:
    models: dict[str, MappedModel] = field(default_factory=dict)  # valid entries, first source wins
    seen_ids: set[str] = field(default_factory=set)  # every well-formed id listed, valid or not
    invalid: Counter[str] = field(default_factory=Counter)
    entries: int = 0
    pages: int = 0
    per_source: dict[str, int] = field(default_factory=dict)


@dataclass
class Plan:
    writes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unpublished: int = 0
    unpublish_skipped: bool = False


@dataclass
class SyncReport:
    listing: Listing
    plan: Plan
    batches: int
    duration_ms: float
    client: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "entries": self.listing.entries,
            "pages": self.listing.pages,
            "perSource": self.listing.per_source,
            "valid": len(self.listing.models),
            "skipped": sum(self.listing.invalid.values()),
            "skippedByReason": dict(sorted(self.listing.invalid.items())),
            "created": self.plan.created,
            "updated": self.plan.updated,
            "unchanged": self.plan.unchanged,
            "unpublished": self.plan.unpublished,
            "unpublishSkipped": self.plan.unpublish_skipped,
            "writes": len(self.plan.writes),
            "batches": self.batches,
            "durationMs": round(self.duration_ms, 1),
            "vroidHub": self.client,
        }


# -- 1 + 2: list and map ----------------------------------------------------------------------------


def fetch_listing(client: VroidHubClient, page_size: int) -> Listing:
    listing = Listing()
    for source, path in SOURCES:
        count = 0
        for page in client.pages(path, {"count": page_size}):
            listing.pages += 1
            count += len(page)
            add_entries(listing, page)
        listing.per_source[source] = count
    return listing


def add_entries(listing: Listing, entries: Iterable[Any]) -> None:
    for raw in entries:
        listing.entries += 1
        known_id = model_id_of(raw)
        if known_id is not None:
            listing.seen_ids.add(known_id)
        try:
            mapped = map_model(raw)
        except InvalidModel as exc:
            listing.invalid[exc.reason] += 1
            continue
        listing.models.setdefault(mapped.vrm_id, mapped)


# -- 3 + 4 + 5: plan --------------------------------------------------------------------------------


def content_changed(existing: dict[str, Any] | None, content: dict[str, Any]) -> bool:
    if existing is None:
        return True
    return any(field not in existing or existing[field] != content[field] for field in CONTENT_FIELDS)


def plan_writes(
    listing: Listing,
    existing: dict[str, dict[str, Any]],
    public_ids: Iterable[str],
    now: datetime,
) -> Plan:
    """What to write: changed listed models, and public models no source lists any more."""
    plan = Plan()
    for vrm_id, mapped in listing.models.items():
        current = existing.get(vrm_id)
        if not content_changed(current, mapped.content):
            plan.unchanged += 1
            continue
        document = {**mapped.content, "syncedAt": now}
        if current is None or "createdAt" not in current:
            document["createdAt"] = now
            plan.created += 1
        else:
            plan.updated += 1
        plan.writes.append((vrm_id, document))
    gone = sorted(set(public_ids) - listing.seen_ids)
    if gone and not listing.models:
        # Nothing valid was listed at all: more likely an upstream outage than a delisting of everything.
        plan.unpublish_skipped = True
        return plan
    for vrm_id in gone:
        plan.writes.append((vrm_id, {"isPublic": False, "syncedAt": now}))
        plan.unpublished += 1
    return plan


# -- Firestore --------------------------------------------------------------------------------------


def read_existing(db: firestore.Client, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    collection = db.collection(COLLECTION)
    ordered = sorted(ids)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ordered), READ_CHUNK):
        refs = [collection.document(vrm_id) for vrm_id in ordered[start : start + READ_CHUNK]]
        for snapshot in db.get_all(refs):
            if snapshot.exists:
                found[snapshot.id] = snapshot.to_dict() or {}
    return found


def public_ids(db: firestore.Client) -> set[str]:
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = db.collection(COLLECTION).where(filter=FieldFilter("isPublic", "==", True)).select([])
    return {snapshot.id for snapshot in query.stream()}


def commit_writes(
    db: firestore.Client, writes: list[tuple[str, dict[str, Any]]], batch_size: int = MAX_BATCH_WRITES
) -> int:
    """Merge-set each document, `batch_size` (<= 500) per commit; returns the number of commits."""
    size = max(1, min(batch_size, MAX_BATCH_WRITES))
    collection = db.collection(COLLECTION)
    batches = 0
    for start in range(0, len(writes), size):
        batch = db.batch()
        for vrm_id, document in writes[start : start + size]:
            batch.set(collection.document(vrm_id), document, merge=True)
        batch.commit()
        batches += 1
    return batches


def run_sync(
    db: firestore.Client,
    client: VroidHubClient,
    now: datetime,
    *,
    page_size: int = 100,
    batch_size: int = MAX_BATCH_WRITES,
) -> SyncReport:
    started = time.perf_counter()
    listing = fetch_listing(client, page_size)
    existing = read_existing(db, listing.models)
    plan = plan_writes(listing, existing, public_ids(db), now)
    batches = commit_writes(db, plan.writes, batch_size)
    return SyncReport(listing, plan, batches, (time.perf_counter() - started) * 1000, client.stats.as_dict())
