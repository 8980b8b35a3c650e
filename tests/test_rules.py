"""`firestore.rules`, proven case by case against the real Firestore emulator.

A table of principal x document x operation (get, list, create, update, delete) plus tampering
cases. Each case gets fresh uids and its own seeded documents (written as `owner`, which bypasses
the rules), so cases never see each other's writes and the shared emulator is never cleared.
Principals: `owner` (the uid in the path, or a participant of a room / call), `other` (another
signed-in user), `anon` (no token). The whole table runs once per module (fast, batched); each case
is then reported as its own test. The last tests write the emulator's rule coverage report to
`build/reports/` and assert every rule expression was evaluated.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deploy.manifest import ROOT
from devstack.firestore_rest import FirestoreRest, to_value

RULES_FILE = ROOT / "firestore.rules"
REPORTS = ROOT / "build" / "reports"
PAST = datetime(2020, 1, 1, tzinfo=UTC)
RECENT = datetime.now(UTC)  # seeded users look active: the stale-presence sweep leaves them alone
SOON = datetime.now(UTC) + timedelta(days=1)

pytestmark = pytest.mark.stack

Query = tuple[tuple[str, str, Any], ...]


@dataclass(frozen=True)
class Case:
    name: str
    who: str  # owner | other | anon
    op: str  # get | list | create | update | delete
    path: str  # a document (a collection for list); {o} owner uid, {t} other uid, {x} case id
    allowed: bool
    data: dict[str, Any] = field(default_factory=dict)
    now: tuple[str, ...] = ()  # fields the write sets to request.time (serverTimestamp())
    remove: tuple[str, ...] = ()  # fields the update deletes
    where: Query = ()  # list: (field, op, value) filters
    order: tuple[str, str] | None = None  # list: (field, ASCENDING | DESCENDING)
    seed: tuple[tuple[str, dict[str, Any]], ...] = ()

    @property
    def collection(self) -> str:
        segments = self.path.split("/")
        return segments[-1] if self.op == "list" else segments[-2]


# ---- seed documents ------------------------------------------------------------------------------
def profile(**changes: Any) -> dict[str, Any]:
    doc = {
        "displayName": "Alice",
        "username": "alice_{x}",
        "gender": "female",
        "status": "offline",
        "createdAt": PAST,
        "lastActiveAt": RECENT,
        "preferences": {"matchingGender": "any", "notifications": True},
    }
    return {**doc, **changes}


def vrm_setting(**changes: Any) -> dict[str, Any]:
    doc = {
        "vrmModelId": "pub-{x}",
        "isPrimary": False,
        "customSettings": {"position": [0.0, 1.5, -2.0], "scale": 1.0, "animations": {"idle": "wave"}},
        "createdAt": PAST,
    }
    return {**doc, **changes}


def session(**changes: Any) -> dict[str, Any]:
    doc = {
        "deviceInfo": {"platform": "web"},
        "userAgent": "Mozilla/5.0",
        "createdAt": PAST,
        "expiresAt": SOON,
        "lastActivityAt": PAST,
    }
    return {**doc, **changes}


USER = (("users/{o}", profile()),)
ADULT = (("users/{o}", profile(adultConfirmedAt=PAST)),)
SUSPENDED = (("users/{o}", profile(adultConfirmedAt=PAST, suspension={"until": SOON})),)
BLOCK = (("users/{o}/blocks/{t}", {"userId": "{t}", "createdAt": PAST}),)
IN_CALL = (("users/{o}", profile(status="in_call", currentRoomId="room-{x}")),)
PRIVATE = (("users/{o}/private/profile", {"email": "{o}@example.com"}),)
MARKER = (("users/{o}/private/suspension", {"until": SOON}),)
MODELS = (
    ("vrmModels/pub-{x}", {"name": "Public", "isPublic": True, "tags": ["cute"], "downloadCount": 5}),
    ("vrmModels/priv-{x}", {"name": "Hidden", "isPublic": False, "tags": ["cute"], "downloadCount": 9}),
)
SETTING = (*MODELS, ("users/{o}/vrmSettings/s-{x}", vrm_setting()))
SESSION = (("users/{o}/sessions/d-{x}", session()),)
ROOM = (
    (
        "rooms/room-{x}",
        {"type": "random", "createdBy": "system", "participants": ["{o}", "z-{x}"], "status": "active"},
    ),
)
TICKET = (("matchingQueue/{o}", {"userId": "{o}", "preferences": {"gender": "female"}, "expiresAt": SOON}),)
CALL = (
    ("callSessions/call-{x}", {"roomId": "room-{x}", "participants": ["{o}", "z-{x}"], "startedAt": PAST}),
)
SERVER_ONLY = (
    ("roomCodes/C{x}", {"roomId": "room-{x}", "expiresAt": SOON}),
    ("serverState/vroid-{x}", {"refreshToken": "secret"}),
    ("admin/a-{x}", {"anything": True}),
)
NEW_PROFILE = {"displayName": "Bob", "username": "bob_{x}", "status": "online"}
PROFILE_TIMES = ("createdAt", "lastActiveAt")
NEW_SESSION = {"deviceInfo": {"platform": "ios"}, "userAgent": "VChat/1.0", "expiresAt": SOON}
SESSION_TIMES = ("createdAt", "lastActivityAt")
PARTICIPANT: Query = (("participants", "ARRAY_CONTAINS", "{o}"),)
PUBLIC: Query = (("isPublic", "EQUAL", True),)


def crud(path: str, seed: tuple[tuple[str, dict[str, Any]], ...], allowed: dict[str, set[str]]) -> list[Case]:
    """get/create/update/delete for every principal; `allowed` maps op -> principals allowed."""
    data = {"tampered": "{x}"}
    return [
        Case(
            f"{path}:{op}:{who}",
            who,
            op,
            path,
            who in allowed.get(op, set()),
            data,
            seed=() if op == "create" else seed,
        )
        for op in ("get", "create", "update", "delete")
        for who in ("owner", "other", "anon")
    ]


EVERYONE = {"owner", "other"}
NOBODY: dict[str, set[str]] = {}


def cases() -> list[Case]:
    table: list[Case] = []
    add = table.append

    # ---- users/{uid}: public profile -------------------------------------------------------------
    for who, ok in (("owner", True), ("other", True), ("anon", False)):
        add(Case(f"users:get:{who}", who, "get", "users/{o}", ok, seed=USER))
        add(Case(f"users:list:{who}", who, "list", "users", False, seed=USER))
        add(Case(f"users:delete:{who}", who, "delete", "users/{o}", False, seed=USER))
    add(
        Case(
            "users:list:owner-filtered",
            "owner",
            "list",
            "users",
            False,
            where=(("username", "EQUAL", "alice_{x}"),),
            seed=USER,
        )
    )
    add(Case("users:create:owner", "owner", "create", "users/{o}", True, NEW_PROFILE, PROFILE_TIMES))
    add(Case("users:create:other", "other", "create", "users/{o}", False, NEW_PROFILE, PROFILE_TIMES))
    add(Case("users:create:anon", "anon", "create", "users/{o}", False, NEW_PROFILE, PROFILE_TIMES))
    add(
        Case(
            "users:create:full-profile",
            "owner",
            "create",
            "users/{o}",
            True,
            {
                **NEW_PROFILE,
                "gender": "other",
                "selectedVrmId": "m1",
                "preferences": {"notifications": False},
            },
            (*PROFILE_TIMES, "updatedAt"),
        )
    )
    bad_new_profiles: tuple[tuple[str, dict[str, Any], tuple[str, ...]], ...] = (
        ("status-in_call", {**NEW_PROFILE, "status": "in_call"}, PROFILE_TIMES),
        ("status-matching", {**NEW_PROFILE, "status": "matching"}, PROFILE_TIMES),
        ("currentRoomId", {**NEW_PROFILE, "currentRoomId": "r1"}, PROFILE_TIMES),
        ("email-in-public-doc", {**NEW_PROFILE, "email": "{o}@example.com"}, PROFILE_TIMES),
        ("createdAt-in-past", {**NEW_PROFILE, "createdAt": PAST}, ("lastActiveAt",)),
        ("lastActiveAt-in-past", {**NEW_PROFILE, "lastActiveAt": PAST}, ("createdAt",)),
        ("missing-username", {"displayName": "Bob", "status": "online"}, PROFILE_TIMES),
        ("empty-displayName", {**NEW_PROFILE, "displayName": ""}, PROFILE_TIMES),
        ("bad-username", {**NEW_PROFILE, "username": "Bob Smith!"}, PROFILE_TIMES),
    )
    for name, data, now in bad_new_profiles:
        add(Case(f"users:create:tamper-{name}", "owner", "create", "users/{o}", False, data, now))
    add(
        Case("users:update:owner", "owner", "update", "users/{o}", True, {"displayName": "Alicia"}, seed=USER)
    )
    add(
        Case(
            "users:update:other", "other", "update", "users/{o}", False, {"displayName": "Alicia"}, seed=USER
        )
    )
    add(Case("users:update:anon", "anon", "update", "users/{o}", False, {"displayName": "Alicia"}, seed=USER))
    profile_edits: tuple[tuple[str, dict[str, Any], tuple[str, ...], bool], ...] = (
        ("go-online", {"status": "online"}, ("lastActiveAt",), True),
        ("heartbeat", {}, ("lastActiveAt", "updatedAt"), True),
        ("displayName-50", {"displayName": "a" * 50}, (), True),
        ("username", {"username": "alice_new"}, (), True),
        ("gender", {"gender": "other"}, (), True),
        ("selectedVrmId", {"selectedVrmId": "model-42"}, (), True),
        ("preferences", {"preferences": {"matchingGender": "male", "notifications": False}}, (), True),
        ("displayName-51", {"displayName": "a" * 51}, (), False),
        ("displayName-empty", {"displayName": ""}, (), False),
        ("displayName-not-string", {"displayName": 42}, (), False),
        ("username-uppercase", {"username": "ALICE"}, (), False),
        ("gender-unknown", {"gender": "robot"}, (), False),
        ("selectedVrmId-path", {"selectedVrmId": "../vrmModels/x"}, (), False),
        ("status-in_call", {"status": "in_call"}, (), False),
        ("status-matching", {"status": "matching"}, (), False),
        ("status-unknown", {"status": "away"}, (), False),
        ("currentRoomId", {"currentRoomId": "room-{x}"}, (), False),
        ("createdAt", {"createdAt": datetime(2021, 1, 1, tzinfo=UTC)}, (), False),
        ("lastActiveAt-past", {"lastActiveAt": datetime(2021, 1, 1, tzinfo=UTC)}, (), False),
        ("lastActiveAt-future", {"lastActiveAt": SOON}, (), False),
        ("updatedAt-past", {"updatedAt": PAST}, (), False),
        ("unknown-field", {"isAdmin": True}, (), False),
        (
            "preferences-unknown-key",
            {"preferences": {"matchingGender": "male", "ageRange": [18, 30]}},
            (),
            False,
        ),
        ("preferences-gender", {"preferences": {"matchingGender": "robots"}}, (), False),
        ("preferences-notifications", {"preferences": {"notifications": "yes"}}, (), False),
        ("preferences-not-map", {"preferences": "all"}, (), False),
    )
    for name, data, now, ok in profile_edits:
        add(
            Case(
                f"users:update:{'' if ok else 'tamper-'}{name}",
                "owner",
                "update",
                "users/{o}",
                ok,
                data,
                now,
                seed=USER,
            )
        )
    # "I am an adult": once, as the request's time, never changed or removed afterwards.
    adult_cases: tuple[tuple[str, dict[str, Any], tuple[str, ...], tuple[str, ...], Any, bool], ...] = (
        ("confirm-adult", {}, ("adultConfirmedAt",), (), USER, True),
        ("adult-edits-name", {"displayName": "Grown"}, (), (), ADULT, True),
        ("tamper-adultConfirmedAt-past", {"adultConfirmedAt": PAST}, (), (), USER, False),
        ("tamper-adultConfirmedAt-again", {}, ("adultConfirmedAt",), (), ADULT, False),
        ("tamper-adultConfirmedAt-remove", {}, (), ("adultConfirmedAt",), ADULT, False),
        ("tamper-lift-own-suspension", {}, (), ("suspension",), SUSPENDED, False),
        ("tamper-suspension-until-past", {"suspension": {"until": PAST}}, (), (), SUSPENDED, False),
        ("tamper-set-suspension", {"suspension": {"until": None}}, (), (), USER, False),
    )
    for name, data, now, remove, seed, ok in adult_cases:
        add(Case(f"users:update:{name}", "owner", "update", "users/{o}", ok, data, now, remove, seed=seed))
    add(
        Case(
            "users:create:adult-confirmed",
            "owner",
            "create",
            "users/{o}",
            True,
            NEW_PROFILE,
            (*PROFILE_TIMES, "adultConfirmedAt"),
        )
    )
    add(
        Case(
            "users:create:tamper-adultConfirmedAt-past",
            "owner",
            "create",
            "users/{o}",
            False,
            {**NEW_PROFILE, "adultConfirmedAt": PAST},
            PROFILE_TIMES,
        )
    )

    # The server holds the user in a call: only 'offline' (leave everything) is the client's to say.
    add(
        Case(
            "users:update:in-call-go-offline",
            "owner",
            "update",
            "users/{o}",
            True,
            {"status": "offline"},
            seed=IN_CALL,
        )
    )
    add(
        Case(
            "users:update:in-call-edit-name",
            "owner",
            "update",
            "users/{o}",
            True,
            {"displayName": "Al"},
            seed=IN_CALL,
        )
    )
    add(
        Case(
            "users:update:tamper-in-call-claim-online",
            "owner",
            "update",
            "users/{o}",
            False,
            {"status": "online"},
            seed=IN_CALL,
        )
    )
    add(
        Case(
            "users:update:tamper-drop-currentRoomId",
            "owner",
            "update",
            "users/{o}",
            False,
            remove=("currentRoomId",),
            seed=IN_CALL,
        )
    )
    add(
        Case(
            "users:update:tamper-move-currentRoomId",
            "owner",
            "update",
            "users/{o}",
            False,
            {"currentRoomId": "other-{x}"},
            seed=IN_CALL,
        )
    )

    # ---- users/{uid}/private/{docId}: owner only ---------------------------------------------------
    for who in ("owner", "other", "anon"):
        add(Case(f"private:get:{who}", who, "get", "users/{o}/private/profile", who == "owner", seed=PRIVATE))
        add(Case(f"private:list:{who}", who, "list", "users/{o}/private", who == "owner", seed=PRIVATE))
        add(
            Case(
                f"private:create:{who}",
                who,
                "create",
                "users/{o}/private/profile",
                who == "owner",
                {"email": "{o}@example.com"},
            )
        )
        add(
            Case(
                f"private:update:{who}",
                who,
                "update",
                "users/{o}/private/profile",
                who == "owner",
                {"settings": {"locale": "ja"}},
                seed=PRIVATE,
            )
        )
        add(Case(f"private:delete:{who}", who, "delete", "users/{o}/private/profile", False, seed=PRIVATE))
        # The server's suspension marker: its owner may see it, nobody else may, nobody may change it.
        marker = "users/{o}/private/suspension"
        add(Case(f"private:get-suspension:{who}", who, "get", marker, who == "owner", seed=MARKER))
        add(Case(f"private:create-suspension:{who}", who, "create", marker, False, {"until": None}))
        add(
            Case(
                f"private:update-suspension:{who}", who, "update", marker, False, {"until": PAST}, seed=MARKER
            )
        )
        add(Case(f"private:delete-suspension:{who}", who, "delete", marker, False, seed=MARKER))
    add(
        Case(
            "private:create:tamper-foreign-email",
            "owner",
            "create",
            "users/{o}/private/profile",
            False,
            {"email": "ceo@example.com"},
        )
    )
    add(
        Case(
            "private:create:tamper-other-doc",
            "owner",
            "create",
            "users/{o}/private/flags",
            False,
            {"settings": {}},
        )
    )
    add(
        Case(
            "private:create:tamper-unknown-key",
            "owner",
            "create",
            "users/{o}/private/profile",
            False,
            {"role": "admin"},
        )
    )
    add(
        Case(
            "private:update:tamper-email",
            "owner",
            "update",
            "users/{o}/private/profile",
            False,
            {"email": "ceo@example.com"},
            seed=PRIVATE,
        )
    )
    add(
        Case(
            "private:update:tamper-settings-not-map",
            "owner",
            "update",
            "users/{o}/private/profile",
            False,
            {"settings": "x"},
            seed=PRIVATE,
        )
    )

    full_settings = {
        "locale": "ja-JP",
        "theme": "dark",
        "micDeviceId": "mic-1",
        "cameraDeviceId": "cam-1",
        "speakerDeviceId": "spk-1",
        "volume": 0.8,
        "mirrorVideo": True,
        "noiseSuppression": False,
        "showCaptions": True,
    }
    private_settings: tuple[tuple[str, Any, bool], ...] = (
        ("every-known-setting", full_settings, True),
        # What a map of free-form values allowed: twenty values of 49 KB each.
        ("tamper-twenty-big-values", {f"k{i}": "x" * 49_000 for i in range(20)}, False),
        ("tamper-unknown-setting", {"locale": "ja", "payload": "x"}, False),
        ("tamper-locale-long", {"locale": "x" * 36}, False),
        ("tamper-device-id-long", {"micDeviceId": "m" * 257}, False),
        ("tamper-volume-above-1", {"volume": 1.5}, False),
        ("tamper-volume-text", {"volume": "loud"}, False),
        ("tamper-theme-unknown", {"theme": "neon"}, False),
        ("tamper-mirror-not-bool", {"mirrorVideo": "yes"}, False),
        ("tamper-noise-not-bool", {"noiseSuppression": 1}, False),
        ("tamper-captions-not-bool", {"showCaptions": "on"}, False),
        ("tamper-camera-id-not-text", {"cameraDeviceId": 7}, False),
        ("tamper-speaker-id-long", {"speakerDeviceId": "s" * 257}, False),
    )
    for name, settings_value, ok in private_settings:
        add(
            Case(
                f"private:update:settings-{name}",
                "owner",
                "update",
                "users/{o}/private/profile",
                ok,
                {"settings": settings_value},
                seed=PRIVATE,
            )
        )

    # ---- users/{uid}/vrmSettings/{id}: owner only, validated ----------------------------------------
    setting_path = "users/{o}/vrmSettings/s-{x}"
    new_setting = {k: v for k, v in vrm_setting().items() if k != "createdAt"}
    for who in ("owner", "other", "anon"):
        ok = who == "owner"
        add(Case(f"vrmSettings:get:{who}", who, "get", setting_path, ok, seed=SETTING))
        add(Case(f"vrmSettings:list:{who}", who, "list", "users/{o}/vrmSettings", ok, seed=SETTING))
        add(
            Case(
                f"vrmSettings:create:{who}",
                who,
                "create",
                setting_path,
                ok,
                new_setting,
                ("createdAt",),
                seed=MODELS,
            )
        )
        add(
            Case(
                f"vrmSettings:update:{who}",
                who,
                "update",
                setting_path,
                ok,
                {"isPrimary": True},
                seed=SETTING,
            )
        )
        add(Case(f"vrmSettings:delete:{who}", who, "delete", setting_path, ok, seed=SETTING))
    add(
        Case(
            "vrmSettings:create:minimal",
            "owner",
            "create",
            setting_path,
            True,
            {"vrmModelId": "pub-{x}", "isPrimary": True},
            ("createdAt",),
            seed=MODELS,
        )
    )
    add(
        Case(
            "vrmSettings:create:scale-10",
            "owner",
            "create",
            setting_path,
            True,
            {**new_setting, "customSettings": {"scale": 10}},
            ("createdAt",),
            seed=MODELS,
        )
    )

    def custom(**changes: Any) -> dict[str, Any]:
        return {**new_setting, "customSettings": {**new_setting["customSettings"], **changes}}

    bad_new_settings: tuple[tuple[str, dict[str, Any]], ...] = (
        ("position-2", custom(position=[0.0, 1.0])),
        ("position-4", custom(position=[0.0, 1.0, 2.0, 3.0])),
        ("position-strings", custom(position=["0", "1", "2"])),
        ("position-not-list", custom(position={"x": 1})),
        ("scale-0", custom(scale=0)),
        ("scale-11", custom(scale=11)),
        ("scale-string", custom(scale="big")),
        ("animations-not-map", custom(animations="dance")),
        # What a map of free-form values allowed: 32 animations of 30 KB each.
        ("animations-thirty-two-big", custom(animations={f"a{i}": "x" * 30_000 for i in range(32)})),
        ("animations-unknown-slot", custom(animations={"moonwalk": "anim-1"})),
        ("animations-id-too-long", custom(animations={"idle": "x" * 129})),
        ("animations-id-not-text", custom(animations={"wave": 3})),
        ("customSettings-unknown-key", custom(shader="glow")),
        ("customSettings-not-map", {**new_setting, "customSettings": [1, 2]}),
        ("private-model", {**new_setting, "vrmModelId": "priv-{x}"}),
        ("missing-model", {**new_setting, "vrmModelId": "nope-{x}"}),
        ("isPrimary-not-bool", {**new_setting, "isPrimary": "yes"}),
        ("unknown-field", {**new_setting, "ownerUid": "{t}"}),
        ("missing-isPrimary", {"vrmModelId": "pub-{x}"}),
    )
    for name, data in bad_new_settings:
        add(
            Case(
                f"vrmSettings:create:tamper-{name}",
                "owner",
                "create",
                setting_path,
                False,
                data,
                ("createdAt",),
                seed=MODELS,
            )
        )
    add(
        Case(
            "vrmSettings:create:tamper-createdAt-past",
            "owner",
            "create",
            setting_path,
            False,
            {**new_setting, "createdAt": PAST},
            seed=MODELS,
        )
    )
    every_slot = {
        slot: f"anim-{slot}"
        for slot in (
            "idle",
            "walk",
            "run",
            "jump",
            "sit",
            "wave",
            "clap",
            "dance",
            "nod",
            "bow",
            "laugh",
            "think",
        )
    }
    setting_edits: tuple[tuple[str, dict[str, Any], bool], ...] = (
        ("move-and-scale", {"customSettings": {"position": [1, 2, 3], "scale": 2.5}}, True),
        ("every-animation-slot", {"customSettings": {"animations": every_slot}}, True),
        ("switch-model", {"vrmModelId": "pub-{x}", "isPrimary": True}, True),
        ("tamper-scale-50", {"customSettings": {"scale": 50}}, False),
        ("tamper-private-model", {"vrmModelId": "priv-{x}"}, False),
        ("tamper-createdAt", {"createdAt": datetime(2021, 1, 1, tzinfo=UTC)}, False),
        ("tamper-unknown-field", {"ownerUid": "{t}"}, False),
    )
    for name, data, ok in setting_edits:
        add(Case(f"vrmSettings:update:{name}", "owner", "update", setting_path, ok, data, seed=SETTING))

    # ---- users/{uid}/sessions/{id}: owner only, never a raw token -----------------------------------
    session_path = "users/{o}/sessions/d-{x}"
    for who in ("owner", "other", "anon"):
        ok = who == "owner"
        add(Case(f"sessions:get:{who}", who, "get", session_path, ok, seed=SESSION))
        add(Case(f"sessions:list:{who}", who, "list", "users/{o}/sessions", ok, seed=SESSION))
        add(Case(f"sessions:create:{who}", who, "create", session_path, ok, NEW_SESSION, SESSION_TIMES))
        add(
            Case(
                f"sessions:update:{who}",
                who,
                "update",
                session_path,
                ok,
                {},
                ("lastActivityAt",),
                seed=SESSION,
            )
        )
        add(Case(f"sessions:delete:{who}", who, "delete", session_path, ok, seed=SESSION))
    full_device = {
        "platform": "web",
        "os": "macOS",
        "osVersion": "15.1",
        "browser": "Chrome",
        "browserVersion": "131",
        "model": "MacBookPro18,3",
        "appVersion": "1.4.0",
    }
    add(
        Case(
            "sessions:create:every-device-field",
            "owner",
            "create",
            session_path,
            True,
            {**NEW_SESSION, "deviceInfo": full_device},
            SESSION_TIMES,
        )
    )
    bad_new_sessions: tuple[tuple[str, dict[str, Any]], ...] = (
        ("firebaseToken", {**NEW_SESSION, "firebaseToken": "eyJhbGciOi.x.y"}),
        ("livekitToken", {**NEW_SESSION, "livekitToken": "eyJhbGciOi.x.y"}),
        ("ipAddress", {**NEW_SESSION, "ipAddress": "203.0.113.7"}),
        ("currentRoomId", {**NEW_SESSION, "currentRoomId": "room-{x}"}),
        ("expires-in-60-days", {**NEW_SESSION, "expiresAt": datetime.now(UTC) + timedelta(days=60)}),
        ("already-expired", {**NEW_SESSION, "expiresAt": PAST}),
        ("expiresAt-not-timestamp", {**NEW_SESSION, "expiresAt": "tomorrow"}),
        ("userAgent-huge", {**NEW_SESSION, "userAgent": "x" * 600}),
        ("deviceInfo-not-map", {**NEW_SESSION, "deviceInfo": "iPhone"}),
        # What a map of free-form values allowed: ten values of 90 KB each.
        ("deviceInfo-ten-big", {**NEW_SESSION, "deviceInfo": {f"k{i}": "x" * 90_000 for i in range(10)}}),
        ("deviceInfo-unknown-key", {**NEW_SESSION, "deviceInfo": {"fingerprint": "abc"}}),
        ("deviceInfo-platform-long", {**NEW_SESSION, "deviceInfo": {"platform": "p" * 65}}),
        ("deviceInfo-model-not-text", {**NEW_SESSION, "deviceInfo": {"model": 15}}),
    )
    for name, data in bad_new_sessions:
        add(
            Case(
                f"sessions:create:tamper-{name}", "owner", "create", session_path, False, data, SESSION_TIMES
            )
        )
    add(
        Case(
            "sessions:create:tamper-createdAt-past",
            "owner",
            "create",
            session_path,
            False,
            {**NEW_SESSION, "createdAt": PAST},
            ("lastActivityAt",),
        )
    )
    bad_session_edits: tuple[tuple[str, dict[str, Any], tuple[str, ...]], ...] = (
        ("firebaseToken", {"firebaseToken": "eyJhbGciOi.x.y"}, ("lastActivityAt",)),
        ("ipAddress", {"ipAddress": "203.0.113.7"}, ()),
        ("extend-expiry", {"expiresAt": datetime.now(UTC) + timedelta(days=7)}, ()),
        ("lastActivityAt-past", {"lastActivityAt": datetime(2021, 1, 1, tzinfo=UTC)}, ()),
    )
    for name, data, now in bad_session_edits:
        add(
            Case(
                f"sessions:update:tamper-{name}",
                "owner",
                "update",
                session_path,
                False,
                data,
                now,
                seed=SESSION,
            )
        )

    # ---- users/{uid}/blocks/{otherUid}: the owner reads whom they blocked; account_api writes ------
    block_path = "users/{o}/blocks/{t}"
    table.extend(crud(block_path, BLOCK, {"get": {"owner"}}))
    for who in ("owner", "other", "anon"):
        add(Case(f"blocks:list:{who}", who, "list", "users/{o}/blocks", who == "owner", seed=BLOCK))
    add(
        Case(
            "blocks:create:tamper-unblockable",
            "owner",
            "create",
            "users/{o}/blocks/z-{x}",
            False,
            {"userId": "z-{x}"},
            ("createdAt",),
        )
    )

    # ---- rooms: participants read, nobody writes ----------------------------------------------------
    room_path = "rooms/room-{x}"
    table.extend(crud(room_path, ROOM, {"get": {"owner"}}))
    add(Case("rooms:list:owner-own-rooms", "owner", "list", "rooms", True, where=PARTICIPANT, seed=ROOM))
    add(Case("rooms:list:owner-unfiltered", "owner", "list", "rooms", False, seed=ROOM))
    add(Case("rooms:list:other-spying", "other", "list", "rooms", False, where=PARTICIPANT, seed=ROOM))
    add(Case("rooms:list:anon", "anon", "list", "rooms", False, where=PARTICIPANT, seed=ROOM))
    add(
        Case(
            "rooms:update:tamper-add-participant",
            "owner",
            "update",
            room_path,
            False,
            {"participants": ["{o}", "z-{x}", "{t}"]},
            seed=ROOM,
        )
    )
    add(
        Case(
            "rooms:update:tamper-close", "owner", "update", room_path, False, {"status": "closed"}, seed=ROOM
        )
    )
    add(
        Case(
            "rooms:create:tamper-own-room",
            "owner",
            "create",
            "rooms/mine-{x}",
            False,
            {"participants": ["{o}"], "status": "waiting"},
        )
    )

    # ---- matchingQueue: one's own ticket, read only -------------------------------------------------
    table.extend(crud("matchingQueue/{o}", TICKET, {"get": {"owner"}}))
    add(
        Case(
            "matchingQueue:list:owner-filtered",
            "owner",
            "list",
            "matchingQueue",
            False,
            where=(("userId", "EQUAL", "{o}"),),
            seed=TICKET,
        )
    )
    add(Case("matchingQueue:list:other", "other", "list", "matchingQueue", False, seed=TICKET))
    add(Case("matchingQueue:list:anon", "anon", "list", "matchingQueue", False, seed=TICKET))
    add(
        Case(
            "matchingQueue:update:tamper-jump-queue",
            "owner",
            "update",
            "matchingQueue/{o}",
            False,
            {"priority": 100},
            seed=TICKET,
        )
    )

    # ---- callSessions: participants read their history ----------------------------------------------
    call_path = "callSessions/call-{x}"
    table.extend(crud(call_path, CALL, {"get": {"owner"}}))
    add(
        Case(
            "callSessions:list:owner-history",
            "owner",
            "list",
            "callSessions",
            True,
            where=PARTICIPANT,
            order=("startedAt", "DESCENDING"),
            seed=CALL,
        )
    )
    add(Case("callSessions:list:owner-unfiltered", "owner", "list", "callSessions", False, seed=CALL))
    add(
        Case(
            "callSessions:list:other-spying",
            "other",
            "list",
            "callSessions",
            False,
            where=PARTICIPANT,
            seed=CALL,
        )
    )
    add(Case("callSessions:list:anon", "anon", "list", "callSessions", False, where=PARTICIPANT, seed=CALL))
    add(
        Case(
            "callSessions:update:tamper-end-call",
            "owner",
            "update",
            call_path,
            False,
            {"endedAt": PAST, "endReason": "normal"},
            seed=CALL,
        )
    )

    # ---- vrmModels: public catalogue, read only ----------------------------------------------------
    # There is no owner of a model: "owner" and "other" are both just signed-in users here.
    table.extend(crud("vrmModels/pub-{x}", MODELS, {"get": EVERYONE}))
    add(Case("vrmModels:get:private-model", "owner", "get", "vrmModels/priv-{x}", False, seed=MODELS))
    add(
        Case(
            "vrmModels:list:public-gallery",
            "owner",
            "list",
            "vrmModels",
            True,
            where=PUBLIC,
            order=("downloadCount", "DESCENDING"),
            seed=MODELS,
        )
    )
    add(
        Case(
            "vrmModels:list:public-by-tag",
            "other",
            "list",
            "vrmModels",
            True,
            where=(*PUBLIC, ("tags", "ARRAY_CONTAINS", "cute")),
            order=("downloadCount", "DESCENDING"),
            seed=MODELS,
        )
    )
    add(Case("vrmModels:list:unfiltered", "owner", "list", "vrmModels", False, seed=MODELS))
    add(
        Case(
            "vrmModels:list:private-ones",
            "owner",
            "list",
            "vrmModels",
            False,
            where=(("isPublic", "EQUAL", False),),
            seed=MODELS,
        )
    )
    add(Case("vrmModels:list:anon", "anon", "list", "vrmModels", False, where=PUBLIC, seed=MODELS))
    add(
        Case(
            "vrmModels:update:tamper-downloadCount",
            "owner",
            "update",
            "vrmModels/pub-{x}",
            False,
            {"downloadCount": 10**6},
            seed=MODELS,
        )
    )
    add(
        Case(
            "vrmModels:update:tamper-publish-private",
            "owner",
            "update",
            "vrmModels/priv-{x}",
            False,
            {"isPublic": True},
            seed=MODELS,
        )
    )

    # ---- server-only and unnamed collections: nothing, for anyone -----------------------------------
    for path in ("roomCodes/C{x}", "serverState/vroid-{x}", "admin/a-{x}"):
        table.extend(crud(path, SERVER_ONLY, NOBODY))
        collection = path.split("/")[0]
        for who in ("owner", "other", "anon"):
            add(Case(f"{collection}:list:{who}", who, "list", collection, False, seed=SERVER_ONLY))
    return table


CASES = cases()


# ---- running a case -----------------------------------------------------------------------------
def fill(value: Any, ctx: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ctx)
    if isinstance(value, dict):
        return {fill(k, ctx): fill(v, ctx) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [fill(v, ctx) for v in value]
    return value


def commit(client: FirestoreRest, path: str, case: Case, data: dict[str, Any]) -> int:
    """One write as the SDKs send it: fields, server-time transforms, a precondition."""
    name = f"projects/{client.project}/databases/(default)/documents/{path}"
    write: dict[str, Any] = {
        "update": {"name": name, "fields": {k: to_value(v) for k, v in data.items()}},
        "currentDocument": {"exists": case.op == "update"},
    }
    if case.op == "update":  # update(): only the named fields change; a removed field is masked, not sent
        write["updateMask"] = {"fieldPaths": [*data, *case.remove]}
    if case.now:
        write["updateTransforms"] = [{"fieldPath": f, "setToServerValue": "REQUEST_TIME"} for f in case.now]
    status, _ = client.request("POST", f"{client.base}:commit", {"writes": [write]})
    return status


def structured_query(case: Case, ctx: dict[str, str]) -> dict[str, Any]:
    filters = [
        {"fieldFilter": {"field": {"fieldPath": f}, "op": op, "value": to_value(fill(v, ctx))}}
        for f, op, v in case.where
    ]
    query: dict[str, Any] = {}
    if len(filters) == 1:
        query["where"] = filters[0]
    elif filters:
        query["where"] = {"compositeFilter": {"op": "AND", "filters": filters}}
    if case.order:
        query["orderBy"] = [{"field": {"fieldPath": case.order[0]}, "direction": case.order[1]}]
    return query


def run_case(owner: FirestoreRest, case: Case) -> tuple[int, int]:
    """Seed the case's documents as owner, run its operation; (HTTP status, documents returned)."""
    suffix = uuid.uuid4().hex[:10]
    ctx = {"o": f"own-{suffix}", "t": f"oth-{suffix}", "x": suffix}
    for path, doc in case.seed:
        assert owner.set(fill(path, ctx), fill(doc, ctx)) == 200
    uid = {"owner": ctx["o"], "other": ctx["t"], "anon": None}[case.who]
    client = owner.as_user(uid, email=f"{uid}@example.com") if uid else owner.as_user(None)
    path = fill(case.path, ctx)
    if case.op == "get":
        return client.get(path)[0], 0
    if case.op == "list":
        parent, _, collection = path.rpartition("/")
        status, docs = client.query(collection, structured_query(case, ctx), parent)
        return status, len(docs)
    if case.op == "delete":
        return client.delete(path), 0
    return commit(client, path, case, fill(case.data, ctx)), 0


@pytest.fixture(scope="module")
def outcomes(firestore_rest: FirestoreRest) -> dict[str, tuple[int, int]]:
    # Reload the rules from the file (the emulator accepts a new ruleset at runtime): this proves
    # the file as it is now and resets the coverage counters, so the report is this table's alone.
    status, body = firestore_rest.request(
        "PUT",
        f"{firestore_rest.emulator}:securityRules",
        {"rules": {"files": [{"content": RULES_FILE.read_text()}]}},
    )
    assert status == 200, body
    return {case.name: run_case(firestore_rest, case) for case in CASES}


def test_the_docs_give_the_tables_size() -> None:
    quoted = {
        "README.md": re.findall(r"\((\d+)\s+emulator cases", (ROOT / "README.md").read_text()),
        "docs/security-rules.md": re.findall(
            r"table of (\d+) cases", (ROOT / "docs" / "security-rules.md").read_text()
        ),
    }
    assert quoted["README.md"] and quoted["docs/security-rules.md"]
    assert quoted == {name: [str(len(CASES))] * len(found) for name, found in quoted.items()}


def test_case_names_are_unique_and_the_table_is_large() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) > 150
    # every collection x operation x principal is in the table
    combos: dict[str, set[tuple[str, str]]] = {}
    for case in CASES:
        combos.setdefault(case.collection, set()).add((case.op, case.who))
    every = {
        (op, who)
        for op in ("get", "list", "create", "update", "delete")
        for who in ("owner", "other", "anon")
    }
    assert set(combos) == {"users", "private", "vrmSettings", "sessions", "blocks", "rooms", "matchingQueue",
                           "callSessions", "vrmModels", "roomCodes", "serverState", "admin"}  # fmt: skip
    for collection, seen in combos.items():
        assert every <= seen, (collection, every - seen)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_rule(case: Case, outcomes: dict[str, tuple[int, int]]) -> None:
    status, returned = outcomes[case.name]
    if case.allowed:
        assert status == 200, f"{case.name}: expected allowed, got HTTP {status}"
        if case.op == "list":
            assert returned >= 1, "an allowed listing returns the seeded document"
    else:
        assert status == 403, f"{case.name}: expected PERMISSION_DENIED, got HTTP {status}"


# ---- coverage ------------------------------------------------------------------------------------
def _nodes(report: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in report:
        yield node
        yield from _nodes(node.get("children", []))


def test_every_rule_expression_was_evaluated(
    firestore_rest: FirestoreRest, outcomes: dict[str, tuple[int, int]]
) -> None:
    status, coverage = firestore_rest.request("GET", f"{firestore_rest.emulator}:ruleCoverage")
    assert status == 200, coverage
    # The HTML page is served only to requests without credentials.
    with urllib.request.urlopen(f"{firestore_rest.emulator}:ruleCoverage.html", timeout=30) as response:
        html = response.read()
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "firestore-rules-coverage.json").write_text(json.dumps(coverage, indent=1))
    (REPORTS / "firestore-rules-coverage.html").write_bytes(html)

    source = coverage["rules"]["files"][0]["content"]
    assert source == RULES_FILE.read_text(), "the emulator evaluated a different ruleset"
    nodes = list(_nodes(coverage["report"]))
    missed = [n["sourcePosition"] for n in nodes if not n.get("values")]
    described = [
        f"line {p['line']}: {source[p['currentOffset'] : p['endOffset']].splitlines()[0]}" for p in missed
    ]
    assert not missed, f"{len(missed)} of {len(nodes)} rule expressions never evaluated:\n" + "\n".join(
        described
    )
    (REPORTS / "firestore-rules-coverage.txt").write_text(
        f"{len(nodes)} rule expressions, all evaluated by {len(CASES)} cases\n"
    )


# ---- the documented table ------------------------------------------------------------------------
DOC = ROOT / "README.md"  # the table frontend developers read


def documented_table() -> dict[tuple[str, str, str], str]:
    """(collection, role, operation) -> the cell of the README's Firestore access table."""
    ops = ("get", "list", "create", "update", "delete")
    table = {}
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 7 or not cells[0].startswith("`"):
            continue
        path = cells[0].split("`")[1].split("/")
        collection = path[-2]
        for op, cell in zip(ops, cells[2:], strict=True):
            table[(collection, cells[1], op)] = cell
    return table


def test_documented_table_matches_the_cases() -> None:
    table = documented_table()
    assert len(table) == 12 * 3 * 5
    for (collection, who, op), cell in table.items():
        cases = [c for c in CASES if (c.collection, c.who, c.op) == (collection, who, op)]
        assert cases, (collection, who, op)
        if cell.startswith("denied"):
            assert not any(c.allowed for c in cases), (collection, who, op, cell)
        else:
            assert cell.startswith("allowed"), cell
            assert any(c.allowed for c in cases), (collection, who, op, cell)
