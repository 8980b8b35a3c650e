"""Sync VRoid Hub's staff picks and the curator's hearted models into Firestore `vrmModels/{vrmId}`.

One run:
1. list every source to the end (a failed source fails the run before anything is written, so a
   partial listing can never unpublish models);
2. map and validate each entry (bad entries are skipped and counted by reason);
3. find what changed. Usually through the content index (shared/vroid/index.py: vrm id -> digest of
   the content, public or not): read the index, then only the documents it cannot vouch for: listed
   models whose digest or public flag differs or that it lacks, indexed public models no longer
   listed, and ids a run that died was writing. A full compare instead reads every listed document
   and queries the public ids, as every run once did: when the index is missing, invalid, corrupt
   or of another format, when the last full compare is older than VRM_SYNC_FULL_COMPARE_H (or that
   is 0), or when the message asks for one. It repairs what changed behind the sync's back (a
   document deleted or edited by hand), which the index cannot see;
4. write only documents whose content changed, with merge semantics (fields the sync does not own,
   such as `vrmFileUrl` / `cloudflareR2Key`, are left alone), in batches of at most 500 writes;
   `createdAt` only when the document is new, `syncedAt` on every write;
5. mark public documents that no source lists any more `isPublic: false` (never delete);
6. save the index (header + changed shards, one batch). Before step 4 the ids about to be written
   are marked pending in the index header, so a run dying between 4 and 6 only makes the next run
   read those documents again.

Running it twice with the same listing writes nothing the second time (idempotent).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import vocab
from shared.vroid import index
from shared.vroid.client import VroidHubClient
from shared.vroid.index import UNKNOWN, Entry
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
    unpublished_ids: list[str] = field(default_factory=list)


class Phases:
    """Milliseconds per phase of a run, in the order they ran (the summary's `phasesMs`)."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._mark = time.perf_counter()

    def lap(self, name: str) -> None:
        """Ends phase `name` (the time since the previous lap)."""
        mark = time.perf_counter()
        self.ms[name] = self.ms.get(name, 0.0) + (mark - self._mark) * 1000
        self._mark = mark

    def as_dict(self) -> dict[str, float]:
        return {name: round(ms, 1) for name, ms in self.ms.items()}


@dataclass(frozen=True)
class IndexPolicy:
    """When a run compares in full instead of trusting the index."""

    full_compare_every: timedelta | None = timedelta(hours=24)  # None: every run
    full_compare_requested: bool = False

    def full_compare_reason(self, loaded: index.LoadedIndex, now: datetime) -> str | None:
        if self.full_compare_requested:
            return "requested"
        if self.full_compare_every is None:
            return "every run"
        if loaded.status != "ok":
            return loaded.status  # missing, invalid, format, corrupt
        last = loaded.full_compared_at
        if last is None or now - last >= self.full_compare_every:
            return "due"
        return None


@dataclass
class Prepared:
    """What a run decided before writing: the plan, and what it believes each document holds."""

    listing: Listing
    plan: Plan
    loaded: index.LoadedIndex
    listed: dict[str, Entry]  # the entry each listed model's document holds once the plan is written
    known: dict[str, Entry]  # the entry each document holds now, as far as the run knows
    full_compare_reason: str | None
    models_read: int
    phases: Phases = field(default_factory=lambda: Phases())

    @property
    def full_compare(self) -> bool:
        return self.full_compare_reason is not None


@dataclass
class IndexReport:
    full_compare: bool
    full_compare_reason: str | None
    read: bool  # the index was read and trusted
    documents_read: int  # index documents (header + shards)
    entries: int
    shards: int
    shards_written: int
    conflict: bool


@dataclass
class SyncReport:
    listing: Listing
    plan: Plan
    batches: int
    duration_ms: float
    client: dict[str, Any]
    models_read: int = 0
    index: IndexReport | None = None
    phases: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        report = {
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
            "phasesMs": self.phases,
            "modelsRead": self.models_read,
            "vroidHub": self.client,
        }
        if self.index is not None:
            report |= {
                "documentsRead": self.models_read + self.index.documents_read,
                "fullCompare": self.index.full_compare,
                "fullCompareReason": self.index.full_compare_reason,
                "indexRead": self.index.read,
                "indexEntries": self.index.entries,
                "indexShards": self.index.shards,
                "indexShardsWritten": self.index.shards_written,
                "indexConflict": self.index.conflict,
            }
        return report


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
    compare: Collection[str] | None = None,
) -> Plan:
    """What to write: changed listed models, and public models no source lists any more.

    `existing` holds the documents read; `compare` limits the comparison to those listed ids (the
    index vouches for the others, counted unchanged); None compares every listed model."""
    plan = Plan()
    for vrm_id, mapped in listing.models.items():
        if compare is not None and vrm_id not in compare:
            plan.unchanged += 1
            continue
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
        plan.unpublished_ids.append(vrm_id)
    return plan


def index_after(prepared: Prepared) -> dict[str, Entry]:
    """The entries once the plan is written: every listed model holds its mapped content (unchanged
    or written), unpublished ones are no longer public; documents neither listed nor public drop out,
    unless nothing valid was listed (an outage says nothing about them: keep what is known)."""
    if not prepared.listing.models:
        return {vrm_id: entry for vrm_id, entry in prepared.known.items() if index.indexable(vrm_id)}
    entries = dict(prepared.known)
    entries.update(prepared.listed)
    for vrm_id in prepared.plan.unpublished_ids:
        entries[vrm_id] = Entry(entries[vrm_id].digest if vrm_id in entries else UNKNOWN, False)
    listed = prepared.listing.models
    return {
        vrm_id: entry
        for vrm_id, entry in entries.items()
        if (entry.public or vrm_id in listed) and index.indexable(vrm_id)
    }


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


def prepare(
    db: firestore.Client, listing: Listing, now: datetime, policy: IndexPolicy, phases: Phases | None = None
) -> Prepared:
    """Read what the run must read (index and/or documents) and plan the writes; nothing is written."""
    phases = phases or Phases()
    loaded = index.read_header(db)
    reason = policy.full_compare_reason(loaded, now)
    if reason is None:
        index.read_shards(db, loaded)
        reason = policy.full_compare_reason(loaded, now)  # "corrupt" if a shard did not check out
    phases.lap("indexRead")
    listed = {vrm_id: index.entry_of(mapped.content) for vrm_id, mapped in listing.models.items()}
    phases.lap("digests")
    if reason is not None:
        existing = read_existing(db, listing.models)
        public = public_ids(db)
        phases.lap("documentsRead")
        known = {vrm_id: index.entry_of(document) for vrm_id, document in existing.items()}
        for vrm_id in public - known.keys():
            known[vrm_id] = Entry(UNKNOWN, True)  # a public document not listed validly: content unread
        plan = plan_writes(listing, existing, public, now)
        phases.lap("plan")
        # A query is billed one read per document returned, and one when it returns none.
        read = len(listing.models) + max(1, len(public))
        return Prepared(listing, plan, loaded, listed, known, reason, read, phases)
    trusted = loaded.entries
    to_read = {vrm_id for vrm_id, entry in listed.items() if trusted.get(vrm_id) != entry}
    # Ids a run marked pending and may have written without saving the index: their entries may be
    # stale in either direction (an unpublished model relisted unchanged matches its old entry).
    to_read |= loaded.pending
    if listing.models:  # with nothing valid listed nothing is unpublished, so none of them is needed
        to_read |= {
            vrm_id for vrm_id, entry in trusted.items() if entry.public and vrm_id not in listing.seen_ids
        }
    existing = read_existing(db, to_read)
    phases.lap("documentsRead")
    known = {vrm_id: entry for vrm_id, entry in trusted.items() if vrm_id not in to_read}
    known.update((vrm_id, index.entry_of(document)) for vrm_id, document in existing.items())
    public = {vrm_id for vrm_id, entry in known.items() if entry.public}
    plan = plan_writes(listing, existing, public, now, compare=to_read)
    phases.lap("plan")
    return Prepared(listing, plan, loaded, listed, known, None, len(to_read), phases)


def mark_pending(db: firestore.Client, prepared: Prepared, now: datetime) -> None:
    index.mark_pending(db, prepared.loaded.handle, [vrm_id for vrm_id, _ in prepared.plan.writes], now)


def save_index(db: firestore.Client, prepared: Prepared, now: datetime) -> IndexReport:
    loaded = prepared.loaded
    entries = index_after(prepared)
    carry = loaded.unsettled(now)
    saved = index.save(
        db,
        loaded.handle,
        entries,
        full_compared_at=now if prepared.full_compare else loaded.full_compared_at or now,
        now=now,
        previous=loaded.shard_texts if not prepared.full_compare else None,
        carry=carry,
        carry_at=loaded.pending_at,
    )
    return IndexReport(
        full_compare=prepared.full_compare,
        full_compare_reason=prepared.full_compare_reason,
        read=not prepared.full_compare,
        documents_read=loaded.documents_read,
        entries=len(entries),
        shards=saved.shards,
        shards_written=saved.shards_written,
        conflict=loaded.handle.conflict,
    )


def run_sync(
    db: firestore.Client,
    client: VroidHubClient,
    now: datetime,
    *,
    page_size: int = 100,
    batch_size: int = MAX_BATCH_WRITES,
    policy: IndexPolicy | None = None,
) -> SyncReport:
    started = time.perf_counter()
    phases = Phases()
    listing = fetch_listing(client, page_size)
    phases.lap("listing")
    prepared = prepare(db, listing, now, policy or IndexPolicy(), phases)
    mark_pending(db, prepared, now)
    phases.lap("markPending")
    batches = commit_writes(db, prepared.plan.writes, batch_size)
    phases.lap("commit")
    index_report = save_index(db, prepared, now)
    phases.lap("indexSave")
    return SyncReport(
        listing,
        prepared.plan,
        batches,
        (time.perf_counter() - started) * 1000,
        client.stats.as_dict(),
        models_read=prepared.models_read,
        index=index_report,
        phases=phases.as_dict(),
    )
