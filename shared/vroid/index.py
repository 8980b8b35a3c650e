"""The sync's content index: for each `vrmModels` document the sync vouches for, a 64-bit digest of
its content and whether it is public, kept in a few server-only documents. A run compares the
listing against the index and reads only the documents the index cannot vouch for, instead of
reading every listed model to find the few that changed.

Layout, in `serverState` (firestore.rules deny every client there):
- `serverState/vrmIndex`, the header: `format`, `schema` (the hashed field names), `valid`,
  `shards`, `shardDigests` (one per shard, checked on read), `entries` (count), `pending` (ids a run
  is about to write), `fullComparedAt`, `updatedAt`;
- `serverState/vrmIndex-0000` ...: the shards, one string field `entries` of sorted lines
  `<vrmId> <digest or -> <1 public | 0>`; an id lives in shard `crc32(id) % shards`.

What an entry holds: the digest covers CONTENT_FIELDS except `isPublic` (kept as its own flag, so
unpublishing a model needs no read of its content); `-` means "public, content never seen" (a
public document found by the full path's query, e.g. one whose listing entry is malformed).

Only listed models and public documents are kept: a document neither listed nor public needs no
entry, since whatever is listed without an entry is read. So the index grows with the listing, not
with the collection's history. Ids that are not VRoid Hub ids (digits, at most MAX_ID_CHARS) are
never indexed; only a full compare sees such documents (and unpublishes them, as nothing lists them).

Size bound: a line is at most 32 + 1 + 16 + 1 + 1 + 1 = 52 bytes. The shard count is the smallest
power of two giving at most TARGET_ENTRIES_PER_SHARD entries per shard on average, doubled until
every shard encodes to at most MAX_SHARD_BYTES (256 KiB, a quarter of Firestore's 1 MiB document
limit). 10,000 models: 4 shards of ~100 KB; 100,000 (10x): 32 shards of ~120 KB. MAX_SHARDS (256)
bounds the header and keeps one save within a 500-write batch; past that (over a million models)
the index is not kept and every run takes the full path. The header's `pending` holds at most
MAX_PENDING ids (~100 KB); a run writing more invalidates the index instead.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from shared import vocab
from shared.vroid.mapping import CONTENT_FIELDS, MAX_ID_CHARS

if TYPE_CHECKING:
    from google.cloud import firestore

FORMAT = 1
HASHED_FIELDS = tuple(name for name in CONTENT_FIELDS if name != "isPublic")
# Stored in the header: digests made over other fields (a field added to the mapping) mean nothing.
SCHEMA = ",".join(HASHED_FIELDS)
HEADER_ID = "vrmIndex"
SHARD_ID = "vrmIndex-{:04d}"
DIGEST_BYTES = 8  # a collision hides one change until the next full compare: 2**-64 per change
UNKNOWN = "-"
TARGET_ENTRIES_PER_SHARD = 4096
MAX_SHARD_BYTES = 256 * 1024
MAX_SHARDS = 256
MAX_PENDING = 5000
MAX_LINE_BYTES = MAX_ID_CHARS + 1 + 2 * DIGEST_BYTES + 1 + 1 + 1
# Longer than the function's timeout (540 s, functions/manifest.yaml): ids a run marked pending this
# recently may still be on their way to Firestore.
PENDING_SETTLE = timedelta(minutes=15)


class Entry(NamedTuple):
    digest: str  # content digest, or UNKNOWN
    public: bool


class CorruptIndex(ValueError):
    """A shard or the header does not decode, or does not match what the header says."""


class IndexTooLarge(ValueError):
    """More entries than MAX_SHARDS shards of MAX_SHARD_BYTES can hold."""


# -- pure: digests and encoding ---------------------------------------------------------------------


# One encoder for every digest: json.dumps with options builds a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=repr)


def content_digest(content: Mapping[str, Any]) -> str:
    """Digest of the hashed fields present: mapped content has them all, so a stored document that
    lacks one never matches (it is read, compared, rewritten)."""
    present = {name: content[name] for name in HASHED_FIELDS if name in content}
    return hashlib.blake2b(_CANONICAL.encode(present).encode(), digest_size=DIGEST_BYTES).hexdigest()


def entry_of(content: Mapping[str, Any]) -> Entry:
    """The entry of mapped content or of a stored document (same fields)."""
    return Entry(content_digest(content), content.get("isPublic") is True)


def indexable(vrm_id: str) -> bool:
    return 0 < len(vrm_id) <= MAX_ID_CHARS and vrm_id.isascii() and vrm_id.isdigit()


def shard_of(vrm_id: str, shards: int) -> int:
    return zlib.crc32(vrm_id.encode()) % shards


def _encode(entries: Mapping[str, Entry], shards: int) -> list[str]:
    lines: list[list[str]] = [[] for _ in range(shards)]
    for vrm_id in sorted(entries):
        digest, public = entries[vrm_id]
        lines[shard_of(vrm_id, shards)].append(f"{vrm_id} {digest} {1 if public else 0}")
    return ["\n".join(shard) for shard in lines]


def encode_shards(entries: Mapping[str, Entry]) -> list[str]:
    """The shard texts (ASCII: length is size in bytes), deterministic for the same entries."""
    shards = 1
    while shards * TARGET_ENTRIES_PER_SHARD < len(entries):
        shards *= 2
    while shards <= MAX_SHARDS:
        texts = _encode(entries, shards)
        if max(len(text) for text in texts) <= MAX_SHARD_BYTES:
            return texts
        shards *= 2
    raise IndexTooLarge(f"{len(entries)} entries do not fit {MAX_SHARDS} shards")


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=DIGEST_BYTES).hexdigest()


def decode_shard(text: str, number: int) -> dict[str, Entry]:
    """The shard's entries. Only the shape is checked line by line: the shard's digest in the header
    already vouches that the text is the one a run wrote."""
    entries: dict[str, Entry] = {}
    if not text:
        return entries
    try:
        for line in text.split("\n"):
            vrm_id, digest, public = line.split(" ")
            if public not in ("0", "1") or len(digest) not in (1, 2 * DIGEST_BYTES):
                raise ValueError(line)
            entries[vrm_id] = Entry(digest, public == "1")
    except ValueError:
        raise CorruptIndex(f"shard {number}: malformed line") from None
    return entries


def split_ids(text: str) -> set[str]:
    return {vrm_id for vrm_id in text.split("\n") if vrm_id}


# -- Firestore --------------------------------------------------------------------------------------


@dataclass
class Handle:
    """The header as this run last read or wrote it: its update time is the precondition of the
    run's next header write, so of two overlapping runs at most one leaves a trusted index."""

    exists: bool = False
    update_time: Any = None
    header: dict[str, Any] = field(default_factory=dict)
    conflict: bool = False  # another run wrote the header meanwhile: this run leaves it invalid


@dataclass
class LoadedIndex:
    """What the run read: `status` is "ok" or why the index cannot be used."""

    status: str
    handle: Handle
    entries: dict[str, Entry] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    pending_at: datetime | None = None
    shard_texts: list[str] | None = None
    full_compared_at: datetime | None = None
    documents_read: int = 0

    def unsettled(self, now: datetime) -> set[str]:
        """Pending ids of a run that may still be writing them (it started less than PENDING_SETTLE
        ago): reading them now may miss its last commit, so they stay pending after this run."""
        if self.pending_at is None or now - self.pending_at >= PENDING_SETTLE:
            return set()
        return set(self.pending)


def _header_ref(db: firestore.Client) -> firestore.DocumentReference:
    return db.collection(vocab.SERVER_STATE).document(HEADER_ID)


def _shard_ref(db: firestore.Client, number: int) -> firestore.DocumentReference:
    return db.collection(vocab.SERVER_STATE).document(SHARD_ID.format(number))


def read_header(db: firestore.Client) -> LoadedIndex:
    """The header alone (one read), checked; `read_shards` reads the shards if the run uses them."""
    snapshot = _header_ref(db).get()
    if not snapshot.exists:
        return LoadedIndex("missing", Handle(), documents_read=1)
    header = snapshot.to_dict() or {}
    loaded = LoadedIndex("ok", Handle(True, snapshot.update_time, header), documents_read=1)
    # Pending ids count whatever state the rest is in: they are documents a run was writing.
    pending, pending_at = header.get("pending"), header.get("pendingAt")
    if isinstance(pending, str):
        loaded.pending = split_ids(pending)
        loaded.pending_at = pending_at if isinstance(pending_at, datetime) else None
    shards, digests, compared = header.get("shards"), header.get("shardDigests"), header.get("fullComparedAt")
    if header.get("format") != FORMAT or header.get("schema") != SCHEMA:
        loaded.status = "format"
    elif header.get("valid") is not True:
        loaded.status = "invalid"
    elif (
        not isinstance(shards, int)
        or not 1 <= shards <= MAX_SHARDS
        or not isinstance(digests, list)
        or len(digests) != shards
        or not isinstance(pending, str)
        or not isinstance(compared, datetime)
        or not isinstance(header.get("entries"), int)
    ):
        loaded.status = "corrupt"
    else:
        loaded.full_compared_at = compared
    return loaded


def read_shards(db: firestore.Client, loaded: LoadedIndex) -> None:
    """Every shard in one get_all, checked against the header's digests; a mismatch, a missing shard
    or a bad line sets status "corrupt" (the run falls back to the full path and rebuilds)."""
    header = loaded.handle.header
    shards: int = header["shards"]
    loaded.documents_read += shards
    texts: dict[str, str] = {}
    for snapshot in db.get_all([_shard_ref(db, number) for number in range(shards)]):
        value = (snapshot.to_dict() or {}).get("entries") if snapshot.exists else None
        if isinstance(value, str):
            texts[snapshot.id] = value
    ordered: list[str] = []
    entries: dict[str, Entry] = {}
    try:
        for number in range(shards):
            text = texts.get(SHARD_ID.format(number))
            if text is None or text_digest(text) != header["shardDigests"][number]:
                raise CorruptIndex(f"shard {number} missing or not the one the header names")
            entries.update(decode_shard(text, number))
            ordered.append(text)
        if len(entries) != header["entries"]:
            raise CorruptIndex("entry count differs from the header's")
    except CorruptIndex:
        loaded.status = "corrupt"
        return
    loaded.entries = entries
    loaded.shard_texts = ordered


_CONFLICTS: tuple[type[Exception], ...] | None = None


def _conflicts() -> tuple[type[Exception], ...]:
    """What a failed precondition raises (imported on first use, like the client itself)."""
    global _CONFLICTS
    if _CONFLICTS is None:
        from google.api_core import exceptions

        _CONFLICTS = (exceptions.FailedPrecondition, exceptions.AlreadyExists, exceptions.NotFound)
    return _CONFLICTS


def _invalidate(db: firestore.Client, handle: Handle, *, conflict: bool) -> None:
    """Unconditionally: the index may not vouch for what another run, or this one, wrote."""
    result = _header_ref(db).set({"valid": False}, merge=True)
    handle.exists, handle.update_time = True, result.update_time
    handle.conflict = handle.conflict or conflict
    handle.header = {**handle.header, "valid": False}


def mark_pending(db: firestore.Client, handle: Handle, ids: Collection[str], now: datetime) -> None:
    """Before a run's model writes: add the ids about to change to the header's `pending`, so a run
    that dies before `save` leaves the next run reading those documents instead of trusting their old
    entries (an unpublished model relisted unchanged would otherwise stay unpublished). More than
    MAX_PENDING ids invalidate the index instead. No header yet: an invalid placeholder is created,
    so that a concurrent run's `save` fails its precondition rather than trust its own view."""
    if not ids:
        return
    if not handle.exists:
        data: dict[str, Any] = {"format": FORMAT, "schema": SCHEMA, "valid": False}
    else:
        pending = split_ids(str(handle.header.get("pending") or "")) | set(ids)
        if len(pending) <= MAX_PENDING:
            data = {"pending": "\n".join(sorted(pending)), "pendingAt": now}
        else:
            data = {"valid": False}
    ref = _header_ref(db)
    try:
        if handle.exists:
            result = ref.update(data, option=db.write_option(last_update_time=handle.update_time))
        else:
            result = ref.create(data)
    except _conflicts():
        _invalidate(db, handle, conflict=True)
        return
    handle.exists, handle.update_time = True, result.update_time
    handle.header = {**handle.header, **data}


@dataclass(frozen=True)
class Saved:
    shards: int = 0
    shards_written: int = 0
    written: bool = False


def save(
    db: firestore.Client,
    handle: Handle,
    entries: Mapping[str, Entry],
    *,
    full_compared_at: datetime,
    now: datetime,
    previous: list[str] | None,
    carry: Collection[str] = (),
    carry_at: datetime | None = None,
) -> Saved:
    """After the model writes: the header and the shards that changed, in one batch, on the
    precondition that the header is as this run left it. `carry`: pending ids of a run that may still
    be writing (LoadedIndex.unsettled), kept pending. Nothing is written when the index is already
    exactly this; after a conflict, or when the entries do not fit, the index is left invalid."""
    if handle.conflict:
        return Saved()
    try:
        texts = encode_shards(entries)
    except IndexTooLarge:
        _invalidate(db, handle, conflict=False)
        return Saved()
    header = {
        "format": FORMAT,
        "schema": SCHEMA,
        "valid": True,
        "shards": len(texts),
        "shardDigests": [text_digest(text) for text in texts],
        "entries": len(entries),
        "pending": "\n".join(sorted(carry)),
        "pendingAt": carry_at if carry else None,
        "fullComparedAt": full_compared_at,
    }
    same_layout = previous is not None and len(previous) == len(texts)
    changed = [n for n, text in enumerate(texts) if not (same_layout and previous and previous[n] == text)]
    if handle.exists and not changed and all(handle.header.get(k) == v for k, v in header.items()):
        return Saved(len(texts))
    old_shards = handle.header.get("shards")
    surplus = range(len(texts), old_shards) if isinstance(old_shards, int) else range(0)
    batch = db.batch()
    header_ref = _header_ref(db)
    if handle.exists:
        option = db.write_option(last_update_time=handle.update_time)
        batch.update(header_ref, {**header, "updatedAt": now}, option=option)
    else:
        batch.create(header_ref, {**header, "updatedAt": now})
    for number in changed:
        batch.set(_shard_ref(db, number), {"entries": texts[number]})
    for number in surplus:
        batch.delete(_shard_ref(db, number))
    try:
        results = batch.commit()
    except _conflicts():
        _invalidate(db, handle, conflict=True)
        return Saved(len(texts))
    handle.exists, handle.update_time = True, results[0].update_time
    handle.header = {**header, "updatedAt": now}
    return Saved(len(texts), len(changed), True)
