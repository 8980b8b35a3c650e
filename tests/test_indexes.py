"""`firestore.indexes.json` matches the queries in `shared/firestore_queries.py` and the web client's
(`tests/client_queries.py`), by the emulator's word.

Each query runs on the stack's Firestore emulator (seeded with one document it must find and one it
must not); the emulator's index-usage report (`GET /emulator/v1/projects/{p}:indexUsage`), read
before and after each query, says which composite indexes that query needed. The declared
composite indexes must be exactly the union of those: none missing (production would reject the
query with FAILED_PRECONDITION), none unused (every index costs a write per document change).
The emulator never resets the usage counters and the emulator is shared, so only the increase over
each query counts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deploy.manifest import ROOT
from devstack.firestore_rest import FirestoreRest
from devstack.stack import Stack
from shared import firestore_queries as queries
from tests import client_queries

pytestmark = pytest.mark.stack

INDEX_FILE = ROOT / "firestore.indexes.json"
NOW = datetime.now(UTC)
HOUR = timedelta(hours=1)

# (collectionGroup, ((fieldPath, ASCENDING | DESCENDING | CONTAINS), ...)): the trailing `__name__`
# the emulator reports is implicit in firestore.indexes.json.
Index = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class QueryCase:
    name: str
    build: Callable[[Any, str], Any]  # (client, case id) -> Query
    hit: tuple[str, dict[str, Any]]  # a document the query must return ({x}: case id)
    miss: tuple[str, dict[str, Any]]  # a near miss it must not return


QUERY_CASES = [
    QueryCase(
        "expired_rooms",
        lambda c, x: queries.expired_rooms(c, NOW),
        # two participants: an active room with fewer is closed by the room trigger at once
        (
            "rooms/r-{x}",
            {
                "status": "active",
                "participants": ["a-{x}", "b-{x}"],
                "expiresAt": NOW - HOUR,
                "createdAt": NOW - 2 * HOUR,
            },
        ),
        ("rooms/closed-{x}", {"status": "closed", "expiresAt": NOW - HOUR, "createdAt": NOW - 2 * HOUR}),
    ),
    QueryCase(
        "stale_waiting_rooms",
        lambda c, x: queries.stale_waiting_rooms(c, NOW - HOUR),
        # one participant: an empty waiting room is closed by the room trigger at once
        (
            "rooms/w-{x}",
            {
                "status": "waiting",
                "participants": ["a-{x}"],
                "expiresAt": NOW + HOUR,
                "createdAt": NOW - 2 * HOUR,
            },
        ),
        ("rooms/fresh-{x}", {"status": "waiting", "expiresAt": NOW + HOUR, "createdAt": NOW}),
    ),
    QueryCase(
        "expired_queue_entries",
        lambda c, x: queries.expired_queue_entries(NOW, c),
        ("matchingQueue/t-{x}", {"userId": "t-{x}", "expiresAt": NOW - HOUR}),
        ("matchingQueue/live-{x}", {"userId": "live-{x}", "expiresAt": NOW + HOUR}),
    ),
    QueryCase(
        "stale_presence",
        lambda c, x: queries.stale_presence(c, NOW - HOUR),
        ("users/u-{x}", {"status": "in_call", "lastActiveAt": NOW - 2 * HOUR}),
        ("users/off-{x}", {"status": "offline", "lastActiveAt": NOW - 2 * HOUR}),
    ),
    QueryCase(
        "popular_public_models",
        lambda c, x: client_queries.popular_public_models(c),
        ("vrmModels/m-{x}", {"isPublic": True, "tags": ["t{x}"], "downloadCount": 10**9}),
        ("vrmModels/hidden-{x}", {"isPublic": False, "tags": ["t{x}"], "downloadCount": 10**9 + 1}),
    ),
    QueryCase(
        "public_models_by_tag",
        lambda c, x: client_queries.public_models_by_tag(c, f"t{x}"),
        ("vrmModels/tagged-{x}", {"isPublic": True, "tags": ["t{x}", "cute"], "downloadCount": 3}),
        ("vrmModels/untagged-{x}", {"isPublic": True, "tags": ["cute"], "downloadCount": 4}),
    ),
    QueryCase(
        "blocks_naming",
        lambda c, x: queries.blocks_naming(f"v-{x}", c),
        ("users/a-{x}/blocks/v-{x}", {"userId": "v-{x}", "createdAt": NOW}),
        ("users/v-{x}/blocks/a-{x}", {"userId": "a-{x}", "createdAt": NOW}),
    ),
    QueryCase(
        "open_reports_about_since",
        lambda c, x: queries.open_reports_about(f"u-{x}", NOW - HOUR, c),
        ("reports/r-{x}", {"reportedUserId": "u-{x}", "status": "open", "createdAt": NOW}),
        ("reports/old-{x}", {"reportedUserId": "u-{x}", "status": "open", "createdAt": NOW - 2 * HOUR}),
    ),
    QueryCase(
        "open_reports_about",
        lambda c, x: queries.open_reports_about(f"u-{x}", client=c).limit(1),
        ("reports/r-{x}", {"reportedUserId": "u-{x}", "status": "open", "createdAt": NOW}),
        ("reports/done-{x}", {"reportedUserId": "u-{x}", "status": "resolved", "createdAt": NOW}),
    ),
    QueryCase(
        "reports_for_staff",
        lambda c, x: _newest_first(queries.reports_by_status(f"s{x}", c)),
        ("reports/r-{x}", {"status": "s{x}", "createdAt": NOW}),
        ("reports/other-{x}", {"status": "resolved", "createdAt": NOW}),
    ),
    QueryCase(
        "reports_naming",
        lambda c, x: queries.reports_naming(f"u-{x}", "reporterId", c),
        ("reports/r-{x}", {"reporterId": "u-{x}", "status": "open", "createdAt": NOW}),
        ("reports/other-{x}", {"reporterId": "w-{x}", "status": "open", "createdAt": NOW}),
    ),
    QueryCase(
        "rooms_naming_participant",
        lambda c, x: queries.rooms_naming(f"u-{x}", c)[0],
        ("rooms/p-{x}", {"status": "closed", "participants": ["u-{x}"], "createdBy": "system"}),
        ("rooms/q-{x}", {"status": "closed", "participants": ["w-{x}"], "createdBy": "system"}),
    ),
    QueryCase(
        "rooms_naming_creator",
        lambda c, x: queries.rooms_naming(f"u-{x}", c)[1],
        ("rooms/c-{x}", {"status": "closed", "participants": [], "createdBy": "u-{x}"}),
        ("rooms/d-{x}", {"status": "closed", "participants": [], "createdBy": "w-{x}"}),
    ),
    QueryCase(
        "sessions_of",
        lambda c, x: queries.sessions_of(f"u-{x}", c),
        ("callSessions/s-{x}", {"participants": ["u-{x}", "w-{x}"], "startedAt": NOW}),
        ("callSessions/t-{x}", {"participants": ["w-{x}"], "startedAt": NOW}),
    ),
    QueryCase(
        "own_blocks_newest_first",
        lambda c, x: _newest_first(c.collection(f"users/o-{x}/blocks")),
        ("users/o-{x}/blocks/b-{x}", {"userId": "b-{x}", "createdAt": NOW}),
        ("users/p-{x}/blocks/c-{x}", {"userId": "b-{x}", "createdAt": NOW}),
    ),
    QueryCase(
        "stale_deletions",
        lambda c, x: queries.stale_deletions(NOW - HOUR, c),
        ("accountDeletions/d-{x}", {"status": "pending", "requestedAt": NOW - 2 * HOUR}),
        ("accountDeletions/e-{x}", {"status": "pending", "requestedAt": NOW}),
    ),
    QueryCase(
        "public_suspension_markers",
        lambda c, x: queries.public_suspension_markers(c),
        ("users/held-{x}", {"displayName": "held", "suspension": {"until": None}}),
        ("users/free-{x}", {"displayName": "free"}),
    ),
    QueryCase(
        "open_rooms_of",
        lambda c, x: client_queries.open_rooms_of(c, f"u-{x}"),
        # far from expiry, so no sweep closes them; a waiting room of one stays as it is
        ("rooms/open-{x}", {"participants": ["u-{x}"], "status": "waiting", "expiresAt": NOW + HOUR}),
        ("rooms/closed-{x}", {"participants": ["u-{x}"], "status": "closed", "expiresAt": NOW + HOUR}),
    ),
    QueryCase(
        "call_history",
        lambda c, x: client_queries.call_history(c, f"u-{x}"),
        ("callSessions/c-{x}", {"participants": ["u-{x}", "v-{x}"], "startedAt": NOW}),
        ("callSessions/others-{x}", {"participants": ["v-{x}", "w-{x}"], "startedAt": NOW}),
    ),
]


def _newest_first(query: Any) -> Any:
    """The order shared/account/pages.py gives its listings."""
    from google.cloud.firestore import Query
    from google.cloud.firestore_v1.field_path import FieldPath

    return query.order_by("createdAt", direction=Query.DESCENDING).order_by(
        FieldPath.document_id(), direction=Query.DESCENDING
    )


def _fill(value: Any, x: str) -> Any:
    if isinstance(value, str):
        return value.format(x=x)
    if isinstance(value, list):
        return [_fill(v, x) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, x) for k, v in value.items()}
    return value


def _key(collection_group: str, fields: list[dict[str, Any]]) -> Index:
    parts = [(f["fieldPath"], f.get("order") or f["arrayConfig"]) for f in fields]
    if parts and parts[-1][0] == "__name__":
        parts.pop()
    return collection_group, tuple(parts)


def declared() -> dict[Index, dict[str, Any]]:
    spec = json.loads(INDEX_FILE.read_text())
    return {_key(i["collectionGroup"], i["fields"]): i for i in spec["indexes"]}


def declared_group_fields() -> set[Index]:
    """Single-field indexes of collection-group scope (`fieldOverrides` with indexes): automatic
    indexes are per collection only, so a collection-group query on one field needs one of these
    (the emulator reports it like a composite index)."""
    spec = json.loads(INDEX_FILE.read_text())
    return {
        (o["collectionGroup"], ((o["fieldPath"], i.get("order") or i["arrayConfig"]),))
        for o in spec["fieldOverrides"]
        for i in o["indexes"]
        if i.get("queryScope") == "COLLECTION_GROUP"
    }


def index_usage(rest: FirestoreRest) -> dict[Index, int]:
    database = f"projects/{rest.project}/databases/(default)"
    status, body = rest.request("GET", f"{rest.emulator}:indexUsage?database={database}")
    assert status == 200, body
    usage: dict[Index, int] = {}
    for report in body.get("reports", []):
        index = report["index"]
        group = index["name"].split("/collectionGroups/")[1].split("/")[0]
        usage[_key(group, index["fields"])] = int(report.get("numQueries", 0))
    return usage


@dataclass(frozen=True)
class Ran:
    x: str  # the case id the seeded documents carry
    needed: frozenset[Index]  # composite indexes whose usage grew while the query ran
    ids: frozenset[str]  # ids the query returned
    fields: frozenset[tuple[str, str]]  # (collection, fieldPath) the query filters or orders on


def _query_fields(query: Any) -> frozenset[tuple[str, str]]:
    proto = query._to_protobuf()  # the StructuredQuery the client sends
    collection = proto.from_[0].collection_id
    paths = {order.field.field_path for order in proto.order_by}
    pending = [proto.where] if proto.where else []
    while pending:
        where = pending.pop()
        if where.composite_filter.filters:
            pending.extend(where.composite_filter.filters)
        elif where.field_filter.field.field_path:
            paths.add(where.field_filter.field.field_path)
    return frozenset((collection, path) for path in paths)


@pytest.fixture(scope="module")
def ran(stack: Stack, firestore_rest: FirestoreRest) -> dict[str, Ran]:
    from shared.clients.firestore import get_firestore

    client = get_firestore()
    results: dict[str, Ran] = {}
    for case in QUERY_CASES:
        x = uuid.uuid4().hex[:10]
        seeded = [client.document(_fill(path, x)) for path, _ in (case.hit, case.miss)]
        for ref, (_, doc) in zip(seeded, (case.hit, case.miss), strict=True):
            ref.set(_fill(doc, x))
        query = case.build(client, x)
        before = index_usage(firestore_rest)
        ids = frozenset(snap.id for snap in query.stream())
        after = index_usage(firestore_rest)
        for ref in seeded:  # expired rooms and stale users must not linger for other tests' sweeps
            ref.delete()
        needed = frozenset(k for k, n in after.items() if n > before.get(k, 0))
        results[case.name] = Ran(x, needed, ids, _query_fields(query))
    return results


@pytest.mark.parametrize("case", QUERY_CASES, ids=[c.name for c in QUERY_CASES])
def test_query_finds_its_documents_with_a_declared_index(case: QueryCase, ran: dict[str, Ran]) -> None:
    result = ran[case.name]
    hit_id, miss_id = (_fill(path, result.x).rsplit("/", 1)[1] for path in (case.hit[0], case.miss[0]))
    assert hit_id in result.ids
    assert miss_id not in result.ids
    missing = result.needed - set(declared()) - declared_group_fields()
    assert not missing, f"{case.name} needs composite indexes not in firestore.indexes.json: {missing}"


def test_every_declared_index_is_used_by_some_query(ran: dict[str, Ran]) -> None:
    used = set().union(*(r.needed for r in ran.values()))
    assert used, "the emulator reported no index usage at all"
    unused = (set(declared()) | declared_group_fields()) - used
    assert not unused, f"declared but no query uses them: {unused}"


def test_single_field_queries_need_no_composite_index(ran: dict[str, Ran]) -> None:
    # expired_queue_entries filters one field only: Firestore's automatic single-field index serves it.
    assert ran["expired_queue_entries"].needed == frozenset()


def test_index_file_is_well_formed() -> None:
    spec = json.loads(INDEX_FILE.read_text())
    assert set(spec) == {"indexes", "fieldOverrides"}
    assert len(declared()) == len(spec["indexes"]), "duplicate composite index"
    for index in spec["indexes"]:
        assert index["queryScope"] == "COLLECTION"
        assert len(index["fields"]) >= 2, "a one-field index is automatic: declare none"
        for f in index["fields"]:
            assert f.keys() in ({"fieldPath", "order"}, {"fieldPath", "arrayConfig"}), f
            assert f.get("order", "ASCENDING") in ("ASCENDING", "DESCENDING")
            assert f.get("arrayConfig", "CONTAINS") == "CONTAINS"
    overrides = {(o["collectionGroup"], o["fieldPath"]) for o in spec["fieldOverrides"]}
    assert len(overrides) == len(spec["fieldOverrides"]), "duplicate field override"


def test_field_overrides_never_exempt_a_queried_field(ran: dict[str, Ran]) -> None:
    """An exempted field cannot be filtered or ordered on: no query may use one."""
    spec = json.loads(INDEX_FILE.read_text())
    exempt = {(o["collectionGroup"], o["fieldPath"]) for o in spec["fieldOverrides"] if not o["indexes"]}
    assert ("vrmModels", "description") in exempt  # large text: indexing it costs, nobody queries it
    queried = set().union(*(r.fields for r in ran.values()))
    queried |= {(group, path) for group, fields in declared() for path, _ in fields}
    clash = {
        (group, path)
        for group, path in queried
        for g, exempted in exempt
        if g == group and (path == exempted or path.startswith(exempted + "."))
    }
    assert not clash, f"exempted from indexing but queried: {clash}"
    assert ("vrmModels", "isPublic") in queried and ("matchingQueue", "expiresAt") in queried
