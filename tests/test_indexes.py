"""firestore.indexes.json against what the code really asks: every query of shared.firestore_queries
runs on the emulator, and the emulator's index-usage report must list exactly the declared
composite indexes (none missing, none unused)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from typing import Any

from devstack.firestore_rest import FirestoreRest
from devstack.manifest import ROOT
from shared import firestore_queries

IndexKey = tuple[str, tuple[tuple[str, str], ...]]


def declared() -> dict[str, Any]:
    return json.loads((ROOT / "firestore.indexes.json").read_text())  # type: ignore[no-any-return]


def _key(collection: str, fields: list[dict[str, str]]) -> IndexKey:
    # `__name__` is implied by every index (the emulator lists it, the file does not).
    return collection, tuple(
        (f["fieldPath"], f.get("order") or f.get("arrayConfig", ""))
        for f in fields
        if f["fieldPath"] != "__name__"
    )


def used_indexes(fs: FirestoreRest) -> set[IndexKey]:
    url = f"{fs.emulator}:indexUsage?database=projects/{fs.project}/databases/(default)"
    with urllib.request.urlopen(url, timeout=30) as response:
        reports = json.load(response).get("reports", [])
    return {_key(r["index"]["name"].split("/")[-3], r["index"]["fields"]) for r in reports}


def run_every_query() -> None:
    from shared.clients.firestore import get_firestore

    client, now = get_firestore(), datetime.now(UTC)
    queries = [
        firestore_queries.expired_rooms(client, now),
        firestore_queries.stale_waiting_rooms(client, now),
        firestore_queries.expired_tickets(client, now),
        firestore_queries.stale_presence(client, now),
        firestore_queries.popular_public_models(client),
        firestore_queries.public_models_by_tag(client, "cute"),
        firestore_queries.call_history(client, "someone"),
    ]
    for query in queries:
        list(query.limit(1).stream())


def test_declared_composite_indexes_are_exactly_the_ones_the_queries_need(
    firestore_rest: FirestoreRest,
) -> None:
    run_every_query()
    want = {_key(i["collectionGroup"], i["fields"]) for i in declared()["indexes"]}
    used = used_indexes(firestore_rest)
    assert used - want == set(), "queries need composite indexes that firestore.indexes.json lacks"
    assert want - used == set(), "firestore.indexes.json declares indexes no query uses"


def test_the_file_is_well_formed() -> None:
    spec = declared()
    for index in spec["indexes"]:
        assert index["queryScope"] == "COLLECTION" and len(index["fields"]) >= 2, index
        for field in index["fields"]:
            assert field.get("order") in ("ASCENDING", "DESCENDING") or field.get("arrayConfig") == "CONTAINS"
    for override in spec["fieldOverrides"]:
        assert override["indexes"] == [], "overrides here only exempt large fields from indexing"
