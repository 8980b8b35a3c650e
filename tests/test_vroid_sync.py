"""`sync_vrm_models` through the real path: scheduler job `vrm-sync` -> Pub/Sub -> function ->
stand-in VRoid Hub -> Firestore emulator. Faults are scripted on the stand-in (`POST /_control`),
which every test resets when it ends; `vrmModels`, the stored refresh token and the content index
are cleared before. The content index itself: tests/test_vroid_sync_index.py."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from devstack.stack import Stack
from shared.clients.firestore import get_firestore
from shared.vroid.job import STATE_DOCUMENT
from shared.vroid.sync import COLLECTION
from tests.conftest import http
from tests.vroid_helpers import (
    VroidHub,
    documents,
    fire_sync,
    fresh_hub,
    publish_sync,
    state_document,
    wait_for_result,
)

DEFECT_REASONS = {
    "missing_name": "missing_name",
    "download_count_not_int": "bad_download_count",
    "huge_name": "huge_name",
    "huge_description": "huge_description",
    "missing_id": "bad_id",
    "tags_not_list": "bad_tags",
    "no_portrait_image": "bad_portrait_image",
    "age_limit_not_object": "bad_age_limit",
}


@pytest.fixture
def vroid(stack: Stack) -> Iterator[VroidHub]:
    with fresh_hub(stack) as hub:
        yield hub


def test_first_sync_writes_every_valid_model_and_skips_bad_entries(stack: Stack, vroid: VroidHub) -> None:
    vroid.control(catalog={"max_count": 25})  # several pages per source
    entries = vroid.unique_entries()
    result = fire_sync(stack)

    good = {raw["id"]: raw for raw in entries.values() if "_defect" not in raw}
    bad = [raw for raw in entries.values() if "_defect" in raw]
    assert {raw["_defect"] for raw in bad} == set(DEFECT_REASONS)  # every kind of bad data is served
    docs = documents()
    assert set(docs) == set(good)  # nothing broken was written
    assert result["valid"] == len(good) and result["created"] == len(good) and result["writes"] == len(good)
    assert result["entries"] == sum(result["perSource"].values()) == 200  # 120 staff picks + 80 hearts
    assert result["pages"] == 5 + 4  # 25 per page, followed through _links.next
    # Overlapping entries are listed twice, so each bad entry is counted once per listing.
    catalog = vroid.catalog()
    listed_bad = Counter(
        DEFECT_REASONS[raw["_defect"]] for src in catalog.values() for raw in src if "_defect" in raw
    )
    assert result["skippedByReason"] == dict(sorted(listed_bad.items()))

    for vrm_id, raw in good.items():
        doc = docs[vrm_id]
        assert doc["vroidModelId"] == vrm_id
        assert doc["name"] == (raw["name"] or raw["character"]["name"])
        assert doc["authorName"] == raw["character"]["user"]["name"]
        assert doc["thumbnailUrl"] == raw["portrait_image"]["sq300"]["url"]
        assert doc["downloadCount"] == raw["download_count"]
        assert doc["tags"] == [tag["name"] for tag in raw["tags"]]
        assert doc["ageLimit"] == {"isR18": raw["age_limit"]["is_r18"], "isR15": raw["age_limit"]["is_r15"]}
        assert doc["isPublic"] is (not raw["age_limit"]["is_r18"] and raw["is_other_users_available"])
        assert doc["createdAt"] == doc["syncedAt"]
        assert set(doc["license"]) == {"type", "allowModification", "allowRedistribution", "requireCredit"}
    r18 = [vrm_id for vrm_id, raw in good.items() if raw["age_limit"]["is_r18"]]
    assert r18 and all(docs[vrm_id]["isPublic"] is False for vrm_id in r18)
    types = Counter(doc["license"]["type"] for doc in docs.values())
    assert set(types) == {"vroid_hub", "vrm_public_license_1_0", "vrm_other"}


def test_second_run_writes_nothing_and_a_changed_model_is_merged(stack: Stack, vroid: VroidHub) -> None:
    first = fire_sync(stack)
    db = get_firestore()
    before = {s.id: s for s in db.collection(COLLECTION).stream()}

    again = fire_sync(stack)
    assert again["writes"] == 0 and again["batches"] == 0 and again["unchanged"] == first["valid"]
    after = {s.id: s for s in db.collection(COLLECTION).stream()}
    assert {k: s.update_time for k, s in after.items()} == {k: s.update_time for k, s in before.items()}

    changed_id = sorted(before)[3]
    ref = db.collection(COLLECTION).document(changed_id)
    ref.update({"vrmFileUrl": "https://cdn.example/m.vrm", "cloudflareR2Key": "vrm/m.vrm"})  # another job's
    vroid.control(catalog={"patch": {changed_id: {"download_count": 424242, "name": "Renamed"}}})
    third = fire_sync(stack)
    assert (third["writes"], third["updated"], third["created"]) == (1, 1, 0)
    doc = ref.get().to_dict() or {}
    assert doc["downloadCount"] == 424242 and doc["name"] == "Renamed"
    assert doc["vrmFileUrl"] == "https://cdn.example/m.vrm" and doc["cloudflareR2Key"] == "vrm/m.vrm"
    original = before[changed_id].to_dict() or {}
    assert doc["createdAt"] == original["createdAt"] and doc["syncedAt"] > original["syncedAt"]


def test_models_no_longer_listed_are_unpublished_not_deleted(stack: Stack, vroid: VroidHub) -> None:
    fire_sync(stack)
    docs = documents()
    public = sorted(vrm_id for vrm_id, doc in docs.items() if doc["isPublic"])
    gone = public[:3]
    vroid.control(catalog={"remove": gone})

    result = fire_sync(stack)
    assert (result["unpublished"], result["writes"]) == (3, 3)
    after = documents()
    assert set(after) == set(docs)  # never deleted
    assert all(after[vrm_id]["isPublic"] is False for vrm_id in gone)
    assert all(after[vrm_id]["isPublic"] for vrm_id in public[3:])
    assert after[gone[0]]["name"] == docs[gone[0]]["name"]

    vroid.control(catalog={"restore": gone})
    back = fire_sync(stack)
    assert (back["updated"], back["writes"]) == (3, 3)
    assert all(documents()[vrm_id]["isPublic"] for vrm_id in gone)


def test_a_shrunken_catalog_unpublishes_the_rest(stack: Stack, vroid: VroidHub) -> None:
    fire_sync(stack)
    before = documents()
    vroid.control(catalog={"staff_picks": 30, "hearts": 0, "overlap": 0})
    result = fire_sync(stack)
    listed = {raw.get("id") for raw in vroid.catalog()["staff_picks"]}
    expected = {vrm_id for vrm_id, doc in before.items() if doc["isPublic"] and vrm_id not in listed}
    assert result["unpublished"] == len(expected) > 100
    after = documents()
    assert set(after) == set(before)
    assert all(not doc["isPublic"] for vrm_id, doc in after.items() if vrm_id not in listed)
    assert [k for k in listed if k in after and after[k]["isPublic"]]


def test_429_with_retry_after_is_waited_out(stack: Stack, vroid: VroidHub) -> None:
    vroid.control(faults=[{"path": "/api/staff_picks", "status": 429, "retry_after": "1", "times": 1}])
    result = fire_sync(stack)
    assert result["vroidHub"]["retries"] == 1 and result["vroidHub"]["statuses"]["429"] == 1
    assert result["vroidHub"]["waitedS"] >= 1.0
    calls = [r for r in vroid.state()["requests"] if r["path"] == "/api/staff_picks"]
    limited = next(i for i, r in enumerate(calls) if r["status"] == 429)
    assert calls[limited + 1]["at"] - calls[limited]["at"] >= 1.0  # Retry-After honoured
    assert result["valid"] == len(documents())


def test_5xx_is_retried_with_backoff(stack: Stack, vroid: VroidHub) -> None:
    vroid.control(
        faults=[
            {"path": "/api/hearts", "status": 500, "times": 2},
            {"path": "/api/staff_picks", "status": 503, "times": 1},
        ]
    )
    result = fire_sync(stack)
    assert result["vroidHub"]["retries"] == 3
    assert result["vroidHub"]["statuses"]["500"] == 2 and result["vroidHub"]["statuses"]["503"] == 1
    assert result["valid"] == len(documents()) > 0


def test_expired_access_token_is_refreshed_once(stack: Stack, vroid: VroidHub) -> None:
    vroid.control(faults=[{"path": "/api/hearts", "status": 401, "times": 1}])
    result = fire_sync(stack)
    assert result["vroidHub"]["tokenRefreshes"] == 2
    assert result["vroidHub"]["statuses"]["401"] == 1
    assert result["valid"] == len(documents()) > 0
    requests = vroid.state()["requests"]
    assert all(r["apiVersion"] == "11" for r in requests if r["path"].startswith("/api/"))


def test_persistent_401_fails_clearly_and_writes_nothing(stack: Stack, vroid: VroidHub) -> None:
    vroid.control(faults=[{"path": "/api/staff_picks", "status": 401, "times": 2}])
    result = fire_sync(stack)
    assert result == {"failed": "vroid_auth"}
    assert documents() == {}
    lines = (stack.logs_dir / "fn-sync_vrm_models.log").read_text().splitlines()
    refused = [json.loads(line) for line in lines if "authorization refused" in line]
    assert "re-authorize" in refused[-1]["error"] and "401" in refused[-1]["error"]


def test_persistent_5xx_fails_the_run_and_pubsub_redelivers(stack: Stack, vroid: VroidHub) -> None:
    # 5 attempts per request: the first delivery fails, the redelivery finds VRoid Hub healthy again.
    vroid.control(faults=[{"path": "/api/staff_picks", "status": 502, "times": 5}])
    status, fired, _ = http("POST", f"{stack.router_url}/scheduler/jobs/vrm-sync:run")
    assert status == 200
    result = wait_for_result(stack, fired["messageId"])
    assert result["valid"] == len(documents()) > 0
    _, deliveries, _ = http("GET", f"{stack.router_url}/deliveries")
    attempts = [d["status"] for d in deliveries if d.get("eventId") == fired["messageId"]]
    assert attempts[0] != 200 and attempts[-1] == 200


def test_rotated_refresh_token_is_kept_for_the_next_run(stack: Stack, vroid: VroidHub) -> None:
    vroid.control(tokens={"rotate_refresh_tokens": True, "revoke_rotated": True})
    fire_sync(stack)
    state = state_document()
    assert state["refreshToken"] != "local-refresh-token"  # the rotated one (the secret is now revoked)

    second = fire_sync(stack)
    assert "failed" not in second and second["writes"] == 0
    grants = [r for r in vroid.state()["requests"] if r["path"] == "/oauth/token" and r["status"] == 200]
    assert grants[0]["refreshToken"] != grants[1]["refreshToken"]

    # Without the stored token the revoked secret is refused: the store is what kept the job working.
    get_firestore().collection(STATE_DOCUMENT[0]).document(STATE_DOCUMENT[1]).delete()
    assert fire_sync(stack) == {"failed": "vroid_auth"}


def test_unknown_message_kinds_are_logged_and_acknowledged(stack: Stack, vroid: VroidHub) -> None:
    result = publish_sync(stack, {"kind": "resync-everything"})
    assert result == {"ignored": True, "kind": "resync-everything"}
    assert documents() == {}
    assert vroid.state()["counters"]["api_calls"] == 0
