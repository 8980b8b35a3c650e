"""The content index's pure parts (no stack): digests, shard encoding and its size bound, when a
run compares in full, what the index holds after a run. Its Firestore side is tested against the
emulator in tests/test_vroid_sync_index.py."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta

import pytest

from deploy.manifest import load_manifest
from shared.vroid import index
from shared.vroid.index import UNKNOWN, CorruptIndex, Entry, Handle, LoadedIndex
from shared.vroid.mapping import MAX_ID_CHARS, map_model
from shared.vroid.sync import IndexPolicy, Listing, Prepared, add_entries, index_after, plan_writes
from standins.vroid_hub import Catalog, build_model

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def contents(n: int) -> list[dict]:
    catalog = Catalog(staff_picks=n, hearts=0, overlap=0, defect_every=0)
    return [map_model(build_model(catalog, i)).content for i in range(n)]


def test_a_stored_document_has_the_digest_of_the_content_it_was_written_from() -> None:
    for content in contents(40):
        stored = {
            **{key: content[key] for key in reversed(list(content))},  # Firestore's order is its own
            "license": dict(reversed(list(content["license"].items()))),
            "createdAt": NOW,
            "syncedAt": NOW,
            "vrmFileUrl": "https://cdn.example/m.vrm",  # another job's field: not hashed
        }
        assert index.entry_of(stored) == index.entry_of(content)


def test_the_digest_covers_every_content_field_but_public_which_is_its_own_flag() -> None:
    content = contents(1)[0]
    base = index.entry_of(content)
    for name in index.HASHED_FIELDS:
        changed = copy.deepcopy(content)
        changed[name] = {"tags": ["x"], "license": {"type": "other"}}.get(name, 7)
        assert index.entry_of(changed).digest != base.digest, name
        missing = {k: v for k, v in content.items() if k != name}
        assert index.entry_of(missing).digest != base.digest, name  # a stored document lacking it
    hidden = {**content, "isPublic": not content["isPublic"]}
    assert index.entry_of(hidden) == Entry(base.digest, not base.public)


def test_shards_round_trip_and_encode_the_same_entries_the_same_way() -> None:
    rng = random.Random(3)
    entries = {
        str(rng.randrange(10**18, 10**19)): Entry(
            rng.choice([UNKNOWN, f"{rng.getrandbits(64):016x}"]), rng.random() < 0.8
        )
        for _ in range(10_000)
    }
    texts = index.encode_shards(entries)
    assert len(texts) == 4  # 10,000 entries, at most 4,096 per shard on average
    decoded: dict[str, Entry] = {}
    for number, text in enumerate(texts):
        shard = index.decode_shard(text, number)
        assert all(index.shard_of(vrm_id, len(texts)) == number for vrm_id in shard)
        decoded.update(shard)
    assert decoded == entries
    assert index.encode_shards(dict(reversed(list(entries.items())))) == texts


def test_ten_times_todays_catalog_with_the_longest_ids_stays_far_below_a_document() -> None:
    rng = random.Random(5)
    entries = {
        str(rng.randrange(10 ** (MAX_ID_CHARS - 1), 10**MAX_ID_CHARS)): Entry(
            f"{rng.getrandbits(64):016x}", True
        )
        for _ in range(100_000)
    }
    texts = index.encode_shards(entries)
    assert len(texts) == 32 and len(texts) <= index.MAX_SHARDS
    assert max(len(text.encode()) for text in texts) <= index.MAX_SHARD_BYTES <= 1024 * 1024 // 4
    assert all(len(line) + 1 <= index.MAX_LINE_BYTES for text in texts for line in text.split("\n"))
    # The header's largest part: one digest per shard, and MAX_PENDING ids.
    assert index.MAX_SHARDS * 16 + index.MAX_PENDING * (MAX_ID_CHARS + 1) < 200 * 1024


@pytest.mark.parametrize("line", ["1 abc", "1 0123456789abcdef 2", "1 0123456789abcdef 1 x", "1  1"])
def test_a_malformed_shard_line_is_corrupt(line: str) -> None:
    with pytest.raises(CorruptIndex):
        index.decode_shard(f"2 - 1\n{line}", 0)


def test_only_vroid_hub_ids_are_indexed() -> None:
    assert index.indexable("9100000000000000000") and index.indexable("9" * MAX_ID_CHARS)
    for vrm_id in ("", "m-1", "9" * (MAX_ID_CHARS + 1), "١٢", "1 2", "1\n2"):
        assert not index.indexable(vrm_id)


def loaded(status: str = "ok", compared: datetime | None = NOW, **fields: object) -> LoadedIndex:
    return LoadedIndex(status, Handle(), full_compared_at=compared, **fields)  # type: ignore[arg-type]


def test_when_a_run_compares_in_full() -> None:
    daily = IndexPolicy(timedelta(hours=24))
    assert daily.full_compare_reason(loaded(), NOW + timedelta(hours=23, minutes=59)) is None
    assert daily.full_compare_reason(loaded(), NOW + timedelta(hours=24)) == "due"
    for status in ("missing", "invalid", "format", "corrupt"):
        assert daily.full_compare_reason(loaded(status, None), NOW) == status
    assert IndexPolicy(None).full_compare_reason(loaded(), NOW) == "every run"
    assert IndexPolicy(timedelta(hours=24), True).full_compare_reason(loaded(), NOW) == "requested"


def test_pending_ids_settle_once_their_run_would_have_timed_out() -> None:
    pending = loaded(pending={"1", "2"}, pending_at=NOW)
    assert pending.unsettled(NOW + index.PENDING_SETTLE - timedelta(seconds=1)) == {"1", "2"}
    assert pending.unsettled(NOW + index.PENDING_SETTLE) == set()
    assert loaded(pending={"1"}, pending_at=None).unsettled(NOW) == set()
    timeout_s = load_manifest()["sync_vrm_models"].timeout_s
    assert timedelta(seconds=timeout_s) < index.PENDING_SETTLE


def test_the_index_after_a_run_holds_listed_models_and_public_documents_only() -> None:
    raws = [build_model(Catalog(defect_every=0), i) for i in range(4)]
    listing = Listing()
    add_entries(listing, [*raws, {"id": "77", "name": None}])  # "77" is listed but malformed
    listed = {vrm_id: index.entry_of(m.content) for vrm_id, m in listing.models.items()}
    known = {
        **listed,
        "77": Entry(UNKNOWN, True),  # public, listed malformed: kept as it is
        "88": Entry("0" * 16, True),  # public, gone: unpublished, then no longer indexed
        "99": Entry("1" * 16, False),  # neither listed nor public: dropped
        "m-1": Entry(UNKNOWN, True),  # not a VRoid Hub id: never indexed
    }
    existing = {vrm_id: dict(m.content) for vrm_id, m in listing.models.items()}
    plan = plan_writes(listing, existing, ["77", "88", "m-1"], NOW)
    assert plan.unpublished_ids == ["88", "m-1"]
    prepared = Prepared(listing, plan, loaded(), listed, known, None, 0)
    assert index_after(prepared) == {**listed, "77": Entry(UNKNOWN, True)}

    # Nothing valid listed (an outage): nothing is unpublished and the index keeps what it knew.
    empty = Listing()
    outage = plan_writes(empty, {}, ["77", "88"], NOW)
    assert outage.unpublish_skipped
    kept = index_after(Prepared(empty, outage, loaded(), {}, known, None, 0))
    assert kept == {k: e for k, e in known.items() if k != "m-1"}
