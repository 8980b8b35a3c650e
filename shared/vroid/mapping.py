"""VRoid Hub `character_model` -> `vrmModels/{vrmId}` document content, with validation.

Pure functions, no I/O. An entry that does not fit (missing field, wrong type, string over its limit)
is rejected with a reason instead of being written half-right; the sync counts reasons. Limits keep a
document far below Firestore's 1 MiB and the app's lists readable.

Where each field comes from is tabled in docs/vroid.md. Two license vocabularies exist:
- VRM 0.x models carry VRoid Hub's own conditions in `license` (`default|disallow|allow`,
  credit `default|necessary|unnecessary`); "default" is VRoid Hub's default condition, which
  disallows modification and redistribution and requires credit.
- VRM 1.0 models carry the VRM meta in `latest_character_model_version.vrm_meta`
  (`modification`, `allowRedistribution`, `creditNotation`, `licenseUrl`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_ID_CHARS = 32
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000
MAX_URL_CHARS = 2_048
MAX_TAGS = 30
MAX_TAG_CHARS = 64
MAX_DOWNLOAD_COUNT = 10**12

VRM1_PUBLIC_LICENSE_URLS = ("https://vrm.dev/licenses/1.0", "https://vrm.dev/licenses/1.0/")
THUMBNAIL_SIZES = ("sq300", "sq600", "w300", "original")

# Fields the sync owns; `createdAt` and `syncedAt` are stamped by the sync, not compared.
CONTENT_FIELDS = (
    "vroidModelId",
    "name",
    "description",
    "authorName",
    "thumbnailUrl",
    "license",
    "tags",
    "ageLimit",
    "isPublic",
    "downloadCount",
)


class InvalidModel(ValueError):
    """The entry cannot become a document; `reason` is a short stable key for counting."""

    def __init__(self, reason: str, model_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.model_id = model_id


@dataclass(frozen=True)
class MappedModel:
    vrm_id: str
    content: dict[str, Any]  # CONTENT_FIELDS only


def model_id_of(raw: Any) -> str | None:
    """The entry's id if it is a well-formed VRoid Hub id (decimal string), else None."""
    if isinstance(raw, dict) and isinstance(raw.get("character_model"), dict):
        raw = raw["character_model"]  # hearts may wrap the model
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS and value.isascii() and value.isdigit():
        return value
    return None


def map_model(raw: Any) -> MappedModel:
    """Map one list entry; raises InvalidModel. `isPublic` here says "may be shown" for a listed model."""
    if isinstance(raw, dict) and isinstance(raw.get("character_model"), dict):
        raw = raw["character_model"]
    if not isinstance(raw, dict):
        raise InvalidModel("not_an_object")
    vrm_id = model_id_of(raw)
    if vrm_id is None:
        raise InvalidModel("bad_id")
    try:
        character = _object(raw, "character")
        name = _text(raw.get("name"), "name", MAX_NAME_CHARS, optional=True) or _text(
            character.get("name"), "name", MAX_NAME_CHARS
        )
        user = _object(character, "user")
        age_limit = _object(raw, "age_limit")
        is_r18 = _bool(age_limit, "is_r18")
        content = {
            "vroidModelId": vrm_id,
            "name": name,
            "description": _text(raw.get("description"), "description", MAX_DESCRIPTION_CHARS, optional=True)
            or "",
            "authorName": _text(user.get("name"), "authorName", MAX_NAME_CHARS),
            "thumbnailUrl": _thumbnail(raw),
            "license": _license(raw),
            "tags": _tags(raw.get("tags")),
            "ageLimit": {"isR18": is_r18, "isR15": _bool(age_limit, "is_r15")},
            "isPublic": (
                not is_r18
                and raw.get("is_private") is not True
                and raw.get("is_other_users_available") is True
            ),
            "downloadCount": _count(raw.get("download_count")),
        }
    except InvalidModel as exc:
        raise InvalidModel(exc.reason, vrm_id) from None
    return MappedModel(vrm_id, content)


# -- field helpers ----------------------------------------------------------------------------------


def _object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise InvalidModel(f"bad_{key}")
    return value


def _text(value: Any, field: str, limit: int, *, optional: bool = False) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return ""
        raise InvalidModel(f"missing_{field}")
    if not isinstance(value, str):
        raise InvalidModel(f"bad_{field}")
    if len(value) > limit:
        raise InvalidModel(f"huge_{field}")
    return value.strip()


def _bool(parent: dict[str, Any], key: str) -> bool:
    value = parent.get(key)
    if not isinstance(value, bool):
        raise InvalidModel(f"bad_{key}")
    return value


def _count(value: Any) -> int:
    # bool is an int subclass; a count of True is a type error, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DOWNLOAD_COUNT:
        raise InvalidModel("bad_download_count")
    return value


def _thumbnail(raw: dict[str, Any]) -> str:
    images = raw.get("portrait_image")
    if not isinstance(images, dict):
        raise InvalidModel("bad_portrait_image")
    for size in THUMBNAIL_SIZES:
        image = images.get(size)
        url = image.get("url") if isinstance(image, dict) else None
        if isinstance(url, str) and url.startswith("https://"):
            if len(url) > MAX_URL_CHARS:
                raise InvalidModel("huge_thumbnail_url")
            return url
    raise InvalidModel("bad_portrait_image")


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise InvalidModel("bad_tags")
    names: list[str] = []
    for tag in value:
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_TAG_CHARS:
            raise InvalidModel("bad_tags")
        if name.strip() not in names:
            names.append(name.strip())
    return names


def _license(raw: dict[str, Any]) -> dict[str, Any]:
    version = raw.get("latest_character_model_version")
    meta = version.get("vrm_meta") if isinstance(version, dict) else None
    spec = str(version.get("spec_version") or "") if isinstance(version, dict) else ""
    if isinstance(meta, dict) and (spec.startswith("1") or "modification" in meta):
        return _vrm1_license(meta)
    conditions = raw.get("license")
    if not isinstance(conditions, dict):
        raise InvalidModel("bad_license")
    return _vroid_hub_license(conditions)


def _vroid_hub_license(conditions: dict[str, Any]) -> dict[str, Any]:
    def condition(key: str, allowed: tuple[str, ...]) -> str:
        value = conditions.get(key, "default")
        if value not in allowed:
            raise InvalidModel("bad_license")
        return str(value)

    return {
        "type": "vroid_hub",
        "allowModification": condition("modification", ("default", "disallow", "allow")) == "allow",
        "allowRedistribution": condition("redistribution", ("default", "disallow", "allow")) == "allow",
        "requireCredit": condition("credit", ("default", "necessary", "unnecessary")) != "unnecessary",
    }


def _vrm1_license(meta: dict[str, Any]) -> dict[str, Any]:
    modification = meta.get("modification", "prohibited")
    if modification not in ("prohibited", "allowModification", "allowModificationRedistribution"):
        raise InvalidModel("bad_license")
    redistribution = meta.get("allowRedistribution", False)
    credit = meta.get("creditNotation", "required")
    if not isinstance(redistribution, bool) or credit not in ("required", "unnecessary"):
        raise InvalidModel("bad_license")
    standard = meta.get("licenseUrl") in VRM1_PUBLIC_LICENSE_URLS and not meta.get("otherLicenseUrl")
    return {
        "type": "vrm_public_license_1_0" if standard else "vrm_other",
        "allowModification": modification != "prohibited",
        "allowRedistribution": redistribution,
        "requireCredit": credit != "unnecessary",
    }
