"""The sync's content index (shared/vroid/index.py) against the real Firestore emulator, through the
function (scheduler or Pub/Sub -> sync_vrm_models -> stand-in VRoid Hub) and, where a run has to
die or overlap another one half-way, through the same steps run_sync takes, called one by one.

What the index must never do is hide a change: every test ends by checking the documents, not the
index's own account of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.stack import Stack
from shared import vocab
from shared.clients.firestore import get_firestore
from shared.vroid import index, job, sync
from shared.vroid.client import Credentials, VroidHubClient
from shared.vroid.index import Entry
from tests.vroid_helpers import VroidHub, documents, fire_sync, fresh_hub, publish_sync


@pytest.fixture
def vroid(stack: Stack) -> Iterator[VroidHub]:
    with fresh_hub(stack) as hub:
        yield hub


def header_ref() -> Any:
    return get_firestore().collection(vocab.SERVER_STATE).document(index.HEADER_ID)


def shard_ref(number: int) -> Any:
    return get_firestore().collection(vocab.SERVER_STATE).document(index.SHARD_ID.format(number))


def header() -> dict[str, Any]:
    return header_ref().get().to_dict() or {}


def index_entries() -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for number in range(header()["shards"]):
        entries.update(index.decode_shard((shard_ref(number).get().to_dict() or {})["entries"], number))
    return entries


def public_ids(docs: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(vrm_id for vrm_id, doc in docs.items() if doc["isPublic"])


def listing_now(stack: Stack, hub: VroidHub) -> sync.Listing:
    env = stack.service_env()
    credentials = Credentials(env["VROID_CLIENT_ID"], env["VROID_CLIENT_SECRET"], env["VROID_REFRESH_TOKEN"])
    client = VroidHubClient(hub.url, credentials)
    try:
        return sync.fetch_listing(client, 100)
    finally:
        client.close()


def test_a_rerun_reads_the_index_and_nothing_else_when_nothing_changed(stack: Stack, vroid: VroidHub) -> None:
    first = fire_sync(stack)
    assert (first["fullCompare"], first["fullCompareReason"], first["indexRead"]) == (True, "missing", False)
    assert first["indexShards"] == first["indexShardsWritten"] == 1
    docs = documents()
    # Every document is a listed model here, so each has its entry, made from what was written.
    assert index_entries() == {vrm_id: index.entry_of(doc) for vrm_id, doc in docs.items()}
    assert first["indexEntries"] == first["valid"] == len(docs)

    again = fire_sync(stack)
    assert again["indexRead"] and not again["fullCompare"]
    assert again["modelsRead"] == 0 and again["documentsRead"] == 1 + again["indexShards"]
    assert again["writes"] == 0 and again["indexShardsWritten"] == 0
    assert again["unchanged"] == first["valid"]


def test_changes_are_found_by_content_digest_and_public_flag(stack: Stack, vroid: VroidHub) -> None:
    fire_sync(stack)
    docs = documents()
    raw = {entry.get("id"): entry for source in vroid.catalog().values() for entry in source}
    public = public_ids(docs)
    tagged = next(vrm_id for vrm_id in public[5:] if raw[vrm_id]["tags"])
    renamed, recounted, hidden, hearted = public[:4]
    before = index_entries()
    vroid.control(
        catalog={
            "patch": {
                renamed: {"name": "Renamed"},
                recounted: {"download_count": 31337},
                hidden: {"is_other_users_available": False},  # same content, no longer public
                hearted: {"heart_count": 1, "view_count": 2},  # VRoid Hub fields no document carries
                tagged: {"tags": [*raw[tagged]["tags"], raw[tagged]["tags"][0]]},  # maps to the same tags
            }
        }
    )

    result = fire_sync(stack)
    assert result["indexRead"] and not result["fullCompare"]
    assert result["modelsRead"] == 3  # the three whose document must change, nothing else
    assert (result["updated"], result["writes"]) == (3, 3)
    after = documents()
    assert after[renamed]["name"] == "Renamed" and after[recounted]["downloadCount"] == 31337
    assert after[hidden]["isPublic"] is False
    assert after[hearted] == docs[hearted] and after[tagged] == docs[tagged]
    entries = index_entries()
    assert entries[hidden] == Entry(before[hidden].digest, False)  # the flag changed, not the digest
    assert entries[renamed] == index.entry_of(after[renamed]) != before[renamed]


def test_delisted_models_are_unpublished_through_the_index(stack: Stack, vroid: VroidHub) -> None:
    fire_sync(stack)
    docs = documents()
    gone = public_ids(docs)[:3]
    vroid.control(catalog={"remove": gone})

    result = fire_sync(stack)
    assert result["indexRead"] and (result["unpublished"], result["writes"]) == (3, 3)
    assert result["modelsRead"] == 3  # only the delisted ones: do they still exist, still public?
    after = documents()
    assert set(after) == set(docs)  # never deleted
    assert all(after[vrm_id]["isPublic"] is False for vrm_id in gone)
    assert {k: d for k, d in after.items() if k not in gone} == {
        k: d for k, d in docs.items() if k not in gone
    }
    assert not set(gone) & set(index_entries())  # neither listed nor public: nothing to vouch for

    vroid.control(catalog={"restore": gone})
    back = fire_sync(stack)
    assert back["modelsRead"] == 3 and (back["updated"], back["writes"]) == (3, 3)
    assert all(documents()[vrm_id]["isPublic"] for vrm_id in gone)

    # An outage lists nothing: nothing is unpublished, and the public models are not all read to find out.
    entries, settled = index_entries(), documents()
    vroid.control(catalog={"staff_picks": 0, "hearts": 0, "overlap": 0})
    outage = fire_sync(stack)
    assert outage["unpublishSkipped"] and outage["writes"] == 0 and outage["modelsRead"] == 0
    assert documents() == settled and index_entries() == entries


def test_a_run_dying_between_model_writes_and_index_save_is_repaired_by_the_next(
    stack: Stack, vroid: VroidHub
) -> None:
    fire_sync(stack)
    public = public_ids(documents())
    delisted, renamed = public[0], public[1]
    vroid.control(catalog={"remove": [delisted], "patch": {renamed: {"name": "Renamed"}}})

    # The steps of run_sync, up to the model commits; the run dies before sync.save_index. It began
    # an hour ago, so nothing of it can still be on its way.
    db, began = get_firestore(), datetime.now(UTC) - timedelta(hours=1)
    prepared = sync.prepare(db, listing_now(stack, vroid), began, job.index_policy())
    assert not prepared.full_compare and prepared.plan.unpublished_ids == [delisted]
    sync.mark_pending(db, prepared, began)
    sync.commit_writes(db, prepared.plan.writes)
    died = documents()
    assert died[delisted]["isPublic"] is False and died[renamed]["name"] == "Renamed"
    assert index_entries()[delisted].public  # the index still has the state before the run
    assert header()["pending"] == "\n".join(sorted([delisted, renamed]))

    # Relisted unchanged, it matches its stale entry: only the pending mark gets it read.
    vroid.control(catalog={"restore": [delisted]})
    result = fire_sync(stack)
    assert result["indexRead"] and not result["fullCompare"]
    assert result["modelsRead"] == 2  # the pending ids, nothing else
    assert (result["updated"], result["writes"]) == (1, 1)  # the renamed one is already right
    after = documents()
    assert after[delisted]["isPublic"] is True and after[renamed]["name"] == "Renamed"
    assert header()["pending"] == "" and index_entries()[renamed] == index.entry_of(after[renamed])

    settled = fire_sync(stack)
    assert settled["modelsRead"] == 0 and settled["writes"] == 0


def test_ids_of_a_run_that_may_still_be_writing_stay_pending(stack: Stack, vroid: VroidHub) -> None:
    fire_sync(stack)
    renamed = public_ids(documents())[0]
    vroid.control(catalog={"patch": {renamed: {"name": "Renamed"}}})
    db, began = get_firestore(), datetime.now(UTC)
    prepared = sync.prepare(db, listing_now(stack, vroid), began, job.index_policy())
    sync.mark_pending(db, prepared, began)
    sync.commit_writes(db, prepared.plan.writes)  # ... and nothing more from this run, yet

    # A run moments later cannot tell a dead run from a slow one: it reads the id and keeps it pending.
    result = fire_sync(stack)
    assert result["modelsRead"] == 1 and result["writes"] == 0
    assert header()["pending"] == renamed
    assert fire_sync(stack)["modelsRead"] == 1

    # Once the run would have timed out, the next run settles the id.
    header_ref().update({"pendingAt": began - index.PENDING_SETTLE})
    assert fire_sync(stack)["modelsRead"] == 1
    assert header()["pending"] == "" and fire_sync(stack)["modelsRead"] == 0
    assert documents()[renamed]["name"] == "Renamed"


def _drop_header() -> None:
    header_ref().delete()


def _drop_shard() -> None:
    shard_ref(0).delete()


def _edit_shard() -> None:
    text = (shard_ref(0).get().to_dict() or {})["entries"]
    vrm_id, _, public = text.split("\n")[0].split(" ")
    shard_ref(0).update({"entries": text.replace(text.split("\n")[0], f"{vrm_id} {'0' * 16} {public}", 1)})


def _old_format() -> None:
    header_ref().update({"format": index.FORMAT - 1})


def _other_fields() -> None:
    header_ref().update({"schema": "vroidModelId,name"})


def _invalidated() -> None:
    header_ref().update({"valid": False})


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_drop_header, "missing"),
        (_drop_shard, "corrupt"),
        (_edit_shard, "corrupt"),
        (_old_format, "format"),
        (_other_fields, "format"),
        (_invalidated, "invalid"),
    ],
)
def test_an_index_that_cannot_be_trusted_falls_back_to_the_full_compare_and_is_rebuilt(
    stack: Stack, vroid: VroidHub, damage: Callable[[], None], reason: str
) -> None:
    first = fire_sync(stack)
    changed = public_ids(documents())[0]
    vroid.control(catalog={"patch": {changed: {"download_count": 424242}}})
    damage()

    result = fire_sync(stack)
    assert (result["fullCompare"], result["fullCompareReason"], result["indexRead"]) == (True, reason, False)
    public = public_ids(documents())
    assert result["modelsRead"] == first["valid"] + len(public)  # every listed model, every public id
    assert (result["updated"], result["writes"]) == (1, 1)
    assert documents()[changed]["downloadCount"] == 424242
    assert result["indexShardsWritten"] == 1 and header()["valid"] is True
    assert index_entries() == {vrm_id: index.entry_of(doc) for vrm_id, doc in documents().items()}

    again = fire_sync(stack)
    assert again["indexRead"] and again["modelsRead"] == 0 and again["writes"] == 0


def test_a_full_compare_repairs_what_changed_behind_the_syncs_back(stack: Stack, vroid: VroidHub) -> None:
    fire_sync(stack)
    db, docs = get_firestore(), documents()
    deleted, edited = public_ids(docs)[:2]
    models = db.collection(sync.COLLECTION)
    models.document(deleted).delete()
    models.document(edited).update({"name": "Edited by hand"})
    models.document("9").set({"name": "Never listed", "isPublic": True})

    trusted = fire_sync(stack)
    assert trusted["indexRead"] and trusted["writes"] == 0  # the index cannot see any of it
    assert deleted not in documents()

    # The last full compare is older than VRM_SYNC_FULL_COMPARE_H (24 h in the local stack).
    header_ref().update({"fullComparedAt": datetime.now(UTC) - timedelta(hours=25)})
    due = fire_sync(stack)
    assert (due["fullCompare"], due["fullCompareReason"]) == (True, "due")
    assert (due["created"], due["updated"], due["unpublished"]) == (1, 1, 1)
    after = documents()
    for field in sync.CONTENT_FIELDS:
        assert after[deleted][field] == docs[deleted][field] and after[edited][field] == docs[edited][field]
    assert after[deleted]["createdAt"] > docs[deleted]["createdAt"]  # recreated as new
    assert after["9"]["isPublic"] is False
    assert datetime.now(UTC) - header()["fullComparedAt"] < timedelta(minutes=5)
    assert fire_sync(stack)["fullCompare"] is False

    # An operator can ask for one at any time (after restoring a backup, say).
    requested = publish_sync(stack, {"kind": "sync", "fullCompare": True})
    assert (requested["fullCompare"], requested["fullCompareReason"], requested["writes"]) == (
        True,
        "requested",
        0,
    )


def test_overlapping_runs_leave_the_index_invalid_rather_than_wrong(stack: Stack, vroid: VroidHub) -> None:
    fire_sync(stack)
    renamed = public_ids(documents())[0]
    vroid.control(catalog={"patch": {renamed: {"name": "Renamed"}}})
    db, now, policy = get_firestore(), datetime.now(UTC), job.index_policy()
    listing = listing_now(stack, vroid)
    one = sync.prepare(db, listing, now, policy)
    other = sync.prepare(db, listing, now, policy)  # both read the same index

    sync.mark_pending(db, one, now)
    sync.commit_writes(db, one.plan.writes)
    sync.mark_pending(db, other, now)  # the header moved since `other` read it
    sync.commit_writes(db, other.plan.writes)
    reports = sync.save_index(db, one, now), sync.save_index(db, other, now)
    assert all(report.conflict for report in reports)
    assert header()["valid"] is False

    result = fire_sync(stack)
    assert (result["fullCompare"], result["fullCompareReason"], result["writes"]) == (True, "invalid", 0)
    assert documents()[renamed]["name"] == "Renamed"
    assert fire_sync(stack)["indexRead"]


def test_an_index_that_lies_can_hide_a_change_until_a_full_compare_but_never_causes_a_wrong_write(
    stack: Stack, vroid: VroidHub
) -> None:
    fire_sync(stack)
    docs = documents()
    public = public_ids(docs)
    flagged, misdigested, omitted = public[:3]
    phantom = "123456789"  # no document has this id
    # A lying index that checks out (header digests match its shards), as a bug could write one.
    db, now = get_firestore(), datetime.now(UTC)
    loaded = index.read_header(db)
    index.read_shards(db, loaded)
    lies = dict(loaded.entries)
    lies[flagged] = Entry(lies[flagged].digest, False)  # says: not public
    lies[misdigested] = Entry("0" * 16, True)  # says: other content
    lies[phantom] = Entry("1" * 16, True)  # says: a public document exists
    del lies[omitted]  # says nothing about a public document
    index.save(db, loaded.handle, lies, full_compared_at=now, now=now, previous=None)
    vroid.control(catalog={"remove": [omitted]})

    result = fire_sync(stack)
    assert result["indexRead"] and not result["fullCompare"]
    # Every lie about a listed or an indexed id only costs a read; the documents decide the writes.
    assert result["modelsRead"] == 3 and result["writes"] == 0
    after = documents()
    assert phantom not in after  # a phantom public entry never becomes a document
    assert after == docs  # ... and nothing else was touched
    # The omitted public model is the change the lie hides: still public, though no longer listed.
    assert after[omitted]["isPublic"] is True
    entries = index_entries()
    assert phantom not in entries and omitted not in entries
    assert entries[flagged] == index.entry_of(docs[flagged]) and entries[misdigested] == index.entry_of(
        docs[misdigested]
    )

    # The next full compare (due, or asked for) finds it: the same end state as if there were no index.
    full = publish_sync(stack, {"kind": "sync", "fullCompare": True})
    assert (full["unpublished"], full["writes"]) == (1, 1)
    final = documents()
    assert final[omitted]["isPublic"] is False
    assert {k: d for k, d in final.items() if k != omitted} == {k: d for k, d in docs.items() if k != omitted}
    assert index_entries() == {
        vrm_id: index.entry_of(doc) for vrm_id, doc in final.items() if vrm_id != omitted
    }
