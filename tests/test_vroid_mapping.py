"""VRoid Hub `character_model` -> `vrmModels` document: field mapping, licenses, rejection of bad data.
Pure functions: no stack needed. Entries are written out by hand from VRoid Hub's documented shape."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.vroid.client import RetryPolicy, backoff_s, retry_after_s
from shared.vroid.mapping import CONTENT_FIELDS, InvalidModel, map_model, model_id_of
from shared.vroid.sync import Listing, add_entries, plan_writes

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def entry(**overrides: Any) -> dict[str, Any]:
    model: dict[str, Any] = {
        "id": "2583417406859875501",
        "name": "Lilia (私服)",
        "description": "  よろしくね  ",
        "is_private": False,
        "is_downloadable": True,
        "is_other_users_available": True,
        "portrait_image": {
            "is_default_image": False,
            "sq150": {"url": "https://vroid-hub.pximg.net/sq150.png", "width": 150, "height": 150},
            "sq300": {"url": "https://vroid-hub.pximg.net/sq300.png", "width": 300, "height": 300},
        },
        "license": {
            "modification": "allow",
            "redistribution": "disallow",
            "credit": "unnecessary",
            "characterization_allowed_user": "everyone",
            "sexual_expression": "disallow",
            "violent_expression": "disallow",
            "corporate_commercial_use": "disallow",
            "personal_commercial_use": "nonprofit",
        },
        "heart_count": 10,
        "download_count": 1234,
        "tags": [{"name": "VRoid", "locale": None}, {"name": "女の子", "locale": "ja"}, {"name": "VRoid"}],
        "age_limit": {"is_r18": False, "is_r15": True, "is_adult": False},
        "character": {
            "id": "864745176177452480",
            "name": "Lilia",
            "user": {"id": "1", "name": "pixiv-creator"},
        },
        "latest_character_model_version": {"id": "99", "spec_version": "0.0", "vrm_meta": None},
    }
    model.update(overrides)
    return model


def test_maps_every_document_field_from_its_api_field() -> None:
    mapped = map_model(entry())
    assert mapped.vrm_id == "2583417406859875501"
    assert mapped.content == {
        "vroidModelId": "2583417406859875501",
        "name": "Lilia (私服)",
        "description": "よろしくね",
        "authorName": "pixiv-creator",
        "thumbnailUrl": "https://vroid-hub.pximg.net/sq300.png",
        "license": {
            "type": "vroid_hub",
            "allowModification": True,
            "allowRedistribution": False,
            "requireCredit": False,
        },
        "tags": ["VRoid", "女の子"],
        "ageLimit": {"isR18": False, "isR15": True},
        "isPublic": True,
        "downloadCount": 1234,
    }
    assert set(mapped.content) == set(CONTENT_FIELDS)


def test_name_falls_back_to_the_character_name_and_description_to_empty() -> None:
    mapped = map_model(entry(name=None, description=None))
    assert mapped.content["name"] == "Lilia"
    assert mapped.content["description"] == ""


def test_hearts_entries_wrapped_in_character_model_are_unwrapped() -> None:
    assert map_model({"character_model": entry()}).vrm_id == "2583417406859875501"
    assert model_id_of({"character_model": entry()}) == "2583417406859875501"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"age_limit": {"is_r18": True, "is_r15": False}}, False),  # R18: never public in the app
        ({"is_other_users_available": False}, False),  # the creator forbids use by other users
        ({"is_private": True}, False),
        ({"is_other_users_available": None}, False),
    ],
)
def test_models_the_app_must_not_offer_are_not_public(overrides: dict[str, Any], expected: bool) -> None:
    assert map_model(entry(**overrides)).content["isPublic"] is expected


def test_default_vroid_hub_conditions_are_the_restrictive_ones() -> None:
    license_ = map_model(entry(license={"modification": "default"})).content["license"]
    assert license_ == {
        "type": "vroid_hub",
        "allowModification": False,
        "allowRedistribution": False,
        "requireCredit": True,
    }


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        (
            {
                "modification": "allowModificationRedistribution",
                "allowRedistribution": True,
                "creditNotation": "unnecessary",
                "licenseUrl": "https://vrm.dev/licenses/1.0/",
            },
            {
                "type": "vrm_public_license_1_0",
                "allowModification": True,
                "allowRedistribution": True,
                "requireCredit": False,
            },
        ),
        (
            {
                "modification": "prohibited",
                "allowRedistribution": False,
                "creditNotation": "required",
                "licenseUrl": "https://vrm.dev/licenses/1.0/",
                "otherLicenseUrl": "https://example.com/terms",
            },
            {
                "type": "vrm_other",
                "allowModification": False,
                "allowRedistribution": False,
                "requireCredit": True,
            },
        ),
    ],
)
def test_vrm1_models_take_the_license_from_vrm_meta(meta: dict[str, Any], expected: dict[str, Any]) -> None:
    raw = entry(license=None, latest_character_model_version={"spec_version": "1.0", "vrm_meta": meta})
    assert map_model(raw).content["license"] == expected


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m.pop("id"), "bad_id"),
        (lambda m: m.update(id=123), "bad_id"),
        (lambda m: m.update(id="12a"), "bad_id"),
        (lambda m: (m.update(name=None), m["character"].pop("name")), "missing_name"),
        (lambda m: m.update(name=["x"]), "bad_name"),
        (lambda m: m.update(name="長" * 201), "huge_name"),
        (lambda m: m.update(description="x" * 10_001), "huge_description"),
        (lambda m: m.update(download_count="12k"), "bad_download_count"),
        (lambda m: m.update(download_count=True), "bad_download_count"),
        (lambda m: m.update(download_count=-1), "bad_download_count"),
        (lambda m: m.update(tags="VRoid,VRM"), "bad_tags"),
        (lambda m: m.update(tags=[{"name": "t" * 65}]), "bad_tags"),
        (lambda m: m.update(tags=[{"name": str(i)} for i in range(31)]), "bad_tags"),
        (lambda m: m.update(portrait_image=None), "bad_portrait_image"),
        (
            lambda m: m.update(portrait_image={"sq300": {"url": "http://insecure/x.png"}}),
            "bad_portrait_image",
        ),
        (lambda m: m.update(age_limit="R18"), "bad_age_limit"),
        (lambda m: m.update(age_limit={"is_r18": "no", "is_r15": False}), "bad_is_r18"),
        (lambda m: m.update(character=None), "bad_character"),
        (lambda m: m["character"].update(user={"name": 5}), "bad_authorName"),
        (lambda m: m.update(license={"modification": "maybe"}), "bad_license"),
        (lambda m: m.update(license=None), "bad_license"),
    ],
)
def test_bad_entries_are_rejected_with_a_reason(change: Any, reason: str) -> None:
    raw = copy.deepcopy(entry())
    change(raw)
    with pytest.raises(InvalidModel) as caught:
        map_model(raw)
    assert caught.value.reason == reason


def test_non_objects_are_rejected() -> None:
    raw: Any
    for raw in (None, "x", 3, []):
        with pytest.raises(InvalidModel):
            map_model(raw)


def test_plan_writes_only_changes_stamps_created_at_once_and_unpublishes_unlisted() -> None:
    listing = Listing()
    add_entries(listing, [entry(), entry(id="2"), entry(id="3", download_count="bad"), {"id": None}])
    assert dict(listing.invalid) == {"bad_download_count": 1, "bad_id": 1}
    assert listing.seen_ids == {"2583417406859875501", "2", "3"}

    first = plan_writes(listing, {}, [], NOW)
    assert (first.created, first.updated, first.unchanged, len(first.writes)) == (2, 0, 0, 2)
    assert all(doc["createdAt"] == NOW and doc["syncedAt"] == NOW for _, doc in first.writes)

    existing = {vrm_id: dict(doc) for vrm_id, doc in first.writes}
    existing["2"]["downloadCount"] = 1
    existing["2"]["vrmFileUrl"] = "https://cdn.example/2.vrm"  # owned by another job: not compared
    existing["old"] = {"isPublic": True}
    later = datetime(2026, 1, 3, tzinfo=UTC)
    # "3" is listed but malformed: its public document is kept, not unpublished.
    second = plan_writes(listing, existing, ["2583417406859875501", "2", "3", "old"], later)
    assert (second.created, second.updated, second.unchanged, second.unpublished) == (0, 1, 1, 1)
    assert second.writes[0][0] == "2" and "createdAt" not in second.writes[0][1]
    assert second.writes[0][1]["syncedAt"] == later
    assert second.writes[1] == ("old", {"isPublic": False, "syncedAt": later})


def test_nothing_is_unpublished_when_no_valid_model_was_listed() -> None:
    plan = plan_writes(Listing(), {}, ["a", "b"], NOW)
    assert plan.writes == [] and plan.unpublish_skipped


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_s("3") == 3.0
    assert (
        retry_after_s("Thu, 01 Jan 2026 00:00:10 GMT", now=datetime(2026, 1, 1, tzinfo=UTC).timestamp())
        == 10.0
    )
    assert (
        retry_after_s("Thu, 01 Jan 2026 00:00:10 GMT", now=datetime(2027, 1, 1, tzinfo=UTC).timestamp())
        == 0.0
    )
    assert retry_after_s("soon") is None and retry_after_s(None) is None


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0)
    rng = random.Random(1)
    for attempt in range(10):
        delays = [backoff_s(attempt, policy, rng) for _ in range(50)]
        ceiling = min(4.0, 0.5 * 2**attempt)
        assert all(0.0 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1
