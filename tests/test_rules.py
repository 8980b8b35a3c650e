"""firestore.rules against the real Firestore emulator, case by case.

Every request goes over REST with an unsigned per-user ID token (the emulator enforces the rules for
those; the owner token used to seed bypasses them). Each case names who asks, what, and whether the
rules must allow it: allowed means HTTP 200, denied means 403 (never a 404 or 400 hiding a bug).
At the end, the emulator's rule coverage report is saved to build/reports/ and every expression of
the rules file must have been evaluated by some case.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack.firestore_rest import FirestoreRest
from devstack.manifest import ROOT

RUN = uuid.uuid4().hex[:8]
ALICE, BOB, CAROL = f"alice-{RUN}", f"bob-{RUN}", f"carol-{RUN}"
NOW = datetime.now(UTC)
LATER = NOW + timedelta(days=1)

Op = Callable[[FirestoreRest], int]


@dataclass(frozen=True)
class Case:
    name: str
    actor: str | None  # uid, or None for an unauthenticated caller
    op: Op
    allowed: bool


def get(path: str) -> Op:
    return lambda fs: fs.get(path)[0]


def query(collection: str, *filters: tuple[str, str, Any], parent: str = "") -> Op:
    """A list query with `where` filters (field, op, value), as the SDKs send it."""
    from devstack.firestore_rest import to_value

    def run(fs: FirestoreRest) -> int:
        structured: dict[str, Any] = {}
        clauses = [
            {"fieldFilter": {"field": {"fieldPath": f}, "op": o, "value": to_value(v)}} for f, o, v in filters
        ]
        if len(clauses) == 1:
            structured["where"] = clauses[0]
        elif clauses:
            structured["where"] = {"compositeFilter": {"op": "AND", "filters": clauses}}
        url = f"{fs.base}/{parent}:runQuery" if parent else f"{fs.base}:runQuery"
        status, _ = fs.request(
            "POST", url, {"structuredQuery": {"from": [{"collectionId": collection}], **structured}}
        )
        return status

    return run


def create(path: str, data: dict[str, Any], now_fields: tuple[str, ...] = ()) -> Op:
    return lambda fs: fs.create(path, data, server_time_fields=now_fields)


def update(path: str, data: dict[str, Any], now_fields: tuple[str, ...] = ()) -> Op:
    return lambda fs: fs.update(path, data, server_time_fields=now_fields)


def delete(path: str) -> Op:
    return lambda fs: fs.delete(path)


def user_doc(uid: str) -> dict[str, Any]:
    return {
        "displayName": uid,
        "username": "user_" + uid[-8:],
        "gender": "female",
        "selectedVrmId": "vrm-public",
        "status": "online",
        "currentRoomId": None,
        "createdAt": NOW,
        "lastActiveAt": NOW,
        "preferences": {"matchingGender": "any", "notifications": True},
    }


def seed(owner: FirestoreRest) -> None:
    for uid in (ALICE, BOB, CAROL):
        assert owner.set(f"users/{uid}", user_doc(uid)) == 200
        assert owner.set(f"users/{uid}/private/profile", {"email": f"{uid}@example.com"}) == 200
    setting = {
        "vrmModelId": "vrm-public",
        "isPrimary": True,
        "customSettings": {"position": [0, 1, 0], "scale": 1.0},
        "createdAt": NOW,
    }
    owner.set(f"users/{ALICE}/vrmSettings/main", setting)
    owner.set(f"users/{ALICE}/vrmSettings/spare", setting)
    owner.set(
        f"users/{ALICE}/sessions/laptop", {"deviceInfo": "laptop", "createdAt": NOW, "expiresAt": LATER}
    )
    owner.set(f"users/{ALICE}/sessions/phone", {"deviceInfo": "phone", "createdAt": NOW, "expiresAt": LATER})
    room = {"type": "random", "participants": [ALICE, CAROL], "status": "active", "maxParticipants": 2}
    owner.set(f"rooms/room-{RUN}", room)
    owner.set(
        f"callSessions/call-{RUN}",
        {"roomId": f"room-{RUN}", "participants": [ALICE, CAROL], "startedAt": NOW},
    )
    owner.set(TICKET, {"userId": CAROL, "preferences": {}, "priority": 0, "expiresAt": LATER})
    owner.set(
        f"vrmModels/pub-{RUN}", {"name": "public", "isPublic": True, "tags": ["cute"], "downloadCount": 5}
    )
    owner.set(
        f"vrmModels/hidden-{RUN}", {"name": "hidden", "isPublic": False, "tags": ["cute"], "downloadCount": 9}
    )
    owner.set(f"roomCodes/C{RUN[:5].upper()}", {"roomId": f"room-{RUN}"})
    owner.set(f"serverState/{RUN}", {"lastRun": NOW})


U, P = f"users/{ALICE}", f"users/{ALICE}/private/profile"
VS, SS = f"users/{ALICE}/vrmSettings", f"users/{ALICE}/sessions"
# Carol's ticket: Alice goes offline in a case below, and on_user_written then (rightly) drops hers.
ROOM, CALL, TICKET = f"rooms/room-{RUN}", f"callSessions/call-{RUN}", f"matchingQueue/{CAROL}"
GOOD_SETTING = {
    "vrmModelId": "vrm-2",
    "isPrimary": False,
    "customSettings": {"position": [1.5, 0, -2], "scale": 2},
}

CASES: list[Case] = [
    # ---- users/{uid}: public profile -----------------------------------------------------------
    Case("user get: owner", ALICE, get(U), True),
    Case("user get: another signed-in user", BOB, get(U), True),
    Case("user get: unauthenticated", None, get(U), False),
    Case("user list: signed in", BOB, query("users", ("status", "EQUAL", "online")), True),
    Case("user list: unauthenticated", None, query("users"), False),
    Case("user update: owner display name", ALICE, update(U, {"displayName": "Alice A."}), True),
    Case(
        "user update: owner status offline + lastActiveAt now",
        ALICE,
        update(U, {"status": "offline", "lastActiveAt": None}, ("lastActiveAt",)),
        True,
    ),
    Case("user update: owner back online", ALICE, update(U, {"status": "online"}), True),
    Case(
        "user update: owner preferences",
        ALICE,
        update(U, {"preferences": {"matchingGender": "male", "notifications": False}}),
        True,
    ),
    Case(
        "user update: owner selects a model",
        ALICE,
        update(U, {"selectedVrmId": "vrm-99", "updatedAt": None}, ("updatedAt",)),
        True,
    ),
    Case("user update: owner clears the model", ALICE, update(U, {"selectedVrmId": None}), True),
    Case("user update: another user", BOB, update(U, {"displayName": "hacked"}), False),
    Case("user update: unauthenticated", None, update(U, {"displayName": "hacked"}), False),
    Case("user tamper: status in_call", ALICE, update(U, {"status": "in_call"}), False),
    Case("user tamper: status matching", ALICE, update(U, {"status": "matching"}), False),
    Case("user tamper: currentRoomId", ALICE, update(U, {"currentRoomId": "room-x"}), False),
    Case("user tamper: createdAt", ALICE, update(U, {"createdAt": LATER}), False),
    Case("user tamper: unknown field", ALICE, update(U, {"isAdmin": True}), False),
    Case("user tamper: lastActiveAt not now", ALICE, update(U, {"lastActiveAt": LATER}), False),
    Case("user tamper: updatedAt not now", ALICE, update(U, {"updatedAt": LATER}), False),
    Case("user invalid: empty display name", ALICE, update(U, {"displayName": ""}), False),
    Case("user invalid: display name too long", ALICE, update(U, {"displayName": "x" * 51}), False),
    Case("user invalid: display name not a string", ALICE, update(U, {"displayName": 42}), False),
    Case("user invalid: username pattern", ALICE, update(U, {"username": "Bad Name!"}), False),
    Case("user invalid: gender", ALICE, update(U, {"gender": "robot"}), False),
    Case("user invalid: selectedVrmId path", ALICE, update(U, {"selectedVrmId": "../x"}), False),
    Case("user invalid: preferences unknown key", ALICE, update(U, {"preferences": {"age": 20}}), False),
    Case(
        "user invalid: preferences gender",
        ALICE,
        update(U, {"preferences": {"matchingGender": "robot"}}),
        False,
    ),
    Case(
        "user invalid: preferences notifications type",
        ALICE,
        update(U, {"preferences": {"notifications": "yes"}}),
        False,
    ),
    Case("user invalid: preferences not a map", ALICE, update(U, {"preferences": "any"}), False),
    Case("user delete: owner", ALICE, delete(U), False),
    Case("user delete: another user", BOB, delete(U), False),
    Case(
        "user create: own",
        f"new-{RUN}",
        create(
            f"users/new-{RUN}",
            {"displayName": "New", "status": "online", "createdAt": None, "lastActiveAt": None},
            ("createdAt", "lastActiveAt"),
        ),
        True,
    ),
    Case(
        "user create: for someone else",
        BOB,
        create(
            f"users/other-{RUN}", {"displayName": "X", "status": "online", "createdAt": None}, ("createdAt",)
        ),
        False,
    ),
    Case(
        "user create: unauthenticated",
        None,
        create(
            f"users/anon-{RUN}", {"displayName": "X", "status": "online", "createdAt": None}, ("createdAt",)
        ),
        False,
    ),
    Case(
        "user create: server-owned currentRoomId",
        f"new2-{RUN}",
        create(
            f"users/new2-{RUN}",
            {"displayName": "N", "status": "online", "currentRoomId": "r", "createdAt": None},
            ("createdAt",),
        ),
        False,
    ),
    Case(
        "user create: status in_call",
        f"new3-{RUN}",
        create(
            f"users/new3-{RUN}", {"displayName": "N", "status": "in_call", "createdAt": None}, ("createdAt",)
        ),
        False,
    ),
    Case(
        "user create: createdAt not now",
        f"new4-{RUN}",
        create(f"users/new4-{RUN}", {"displayName": "N", "status": "online", "createdAt": LATER}),
        False,
    ),
    Case(
        "user create: no display name",
        f"new5-{RUN}",
        create(f"users/new5-{RUN}", {"status": "online", "createdAt": None}, ("createdAt",)),
        False,
    ),
    # ---- users/{uid}/private: email and settings -------------------------------------------------
    Case("private get: owner", ALICE, get(P), True),
    Case("private get: another user", BOB, get(P), False),
    Case("private get: unauthenticated", None, get(P), False),
    Case("private list: owner", ALICE, query("private", parent=U), True),
    Case("private list: another user", BOB, query("private", parent=U), False),
    Case(
        "private create: owner settings",
        ALICE,
        create(
            f"{U}/private/settings",
            {"language": "ja", "notifications": True, "updatedAt": None},
            ("updatedAt",),
        ),
        True,
    ),
    Case("private update: owner settings", ALICE, update(f"{U}/private/settings", {"language": "en"}), True),
    Case(
        "private update: another user's settings",
        BOB,
        update(f"{U}/private/settings", {"language": "ja"}),
        False,
    ),
    Case("private invalid: language", ALICE, update(f"{U}/private/settings", {"language": "xx"}), False),
    Case(
        "private invalid: notifications type",
        ALICE,
        update(f"{U}/private/settings", {"notifications": 1}),
        False,
    ),
    Case("private invalid: unknown key", ALICE, update(f"{U}/private/settings", {"theme": "dark"}), False),
    Case(
        "private invalid: updatedAt not now",
        ALICE,
        update(f"{U}/private/settings", {"updatedAt": LATER}),
        False,
    ),
    Case("private tamper: owner rewrites email", ALICE, update(P, {"email": "x@evil.example"}), False),
    Case("private delete: owner", ALICE, delete(P), False),
    # ---- users/{uid}/vrmSettings ----------------------------------------------------------------
    Case("vrmSettings get: owner", ALICE, get(f"{VS}/main"), True),
    Case("vrmSettings get: another user", BOB, get(f"{VS}/main"), False),
    Case("vrmSettings list: owner", ALICE, query("vrmSettings", parent=U), True),
    Case("vrmSettings list: another user", BOB, query("vrmSettings", parent=U), False),
    Case("vrmSettings list: unauthenticated", None, query("vrmSettings", parent=U), False),
    Case(
        "vrmSettings create: owner",
        ALICE,
        create(f"{VS}/new", {**GOOD_SETTING, "createdAt": None}, ("createdAt",)),
        True,
    ),
    Case(
        "vrmSettings create: another user",
        BOB,
        create(f"{VS}/bobs", {**GOOD_SETTING, "createdAt": None}, ("createdAt",)),
        False,
    ),
    Case(
        "vrmSettings create: createdAt not now",
        ALICE,
        create(f"{VS}/old", {**GOOD_SETTING, "createdAt": LATER}),
        False,
    ),
    Case(
        "vrmSettings create: position of 2 numbers",
        ALICE,
        create(
            f"{VS}/p2",
            {**GOOD_SETTING, "customSettings": {"position": [1, 2]}, "createdAt": None},
            ("createdAt",),
        ),
        False,
    ),
    Case(
        "vrmSettings create: position with a string",
        ALICE,
        create(
            f"{VS}/ps",
            {**GOOD_SETTING, "customSettings": {"position": [1, "2", 3]}, "createdAt": None},
            ("createdAt",),
        ),
        False,
    ),
    Case(
        "vrmSettings create: scale too large",
        ALICE,
        create(
            f"{VS}/big", {**GOOD_SETTING, "customSettings": {"scale": 11}, "createdAt": None}, ("createdAt",)
        ),
        False,
    ),
    Case(
        "vrmSettings create: scale too small",
        ALICE,
        create(
            f"{VS}/small",
            {**GOOD_SETTING, "customSettings": {"scale": 0.01}, "createdAt": None},
            ("createdAt",),
        ),
        False,
    ),
    Case(
        "vrmSettings create: animations not a map",
        ALICE,
        create(
            f"{VS}/anim",
            {**GOOD_SETTING, "customSettings": {"animations": ["wave"]}, "createdAt": None},
            ("createdAt",),
        ),
        False,
    ),
    Case(
        "vrmSettings create: unknown custom key",
        ALICE,
        create(
            f"{VS}/ck",
            {**GOOD_SETTING, "customSettings": {"color": "red"}, "createdAt": None},
            ("createdAt",),
        ),
        False,
    ),
    Case(
        "vrmSettings create: unknown field",
        ALICE,
        create(f"{VS}/uk", {**GOOD_SETTING, "owner": BOB, "createdAt": None}, ("createdAt",)),
        False,
    ),
    Case(
        "vrmSettings create: bad model id",
        ALICE,
        create(f"{VS}/bad", {**GOOD_SETTING, "vrmModelId": "a/b", "createdAt": None}, ("createdAt",)),
        False,
    ),
    Case(
        "vrmSettings create: isPrimary not bool",
        ALICE,
        create(f"{VS}/bp", {**GOOD_SETTING, "isPrimary": "yes", "createdAt": None}, ("createdAt",)),
        False,
    ),
    Case(
        "vrmSettings update: owner scale and animations",
        ALICE,
        update(
            f"{VS}/main",
            {"customSettings": {"position": [0, 0, 0], "scale": 0.5, "animations": {"idle": "breathe"}}},
        ),
        True,
    ),
    Case(
        "vrmSettings update: owner changes createdAt",
        ALICE,
        update(f"{VS}/main", {"createdAt": LATER}),
        False,
    ),
    Case("vrmSettings update: another user", BOB, update(f"{VS}/main", {"isPrimary": False}), False),
    Case("vrmSettings delete: another user", BOB, delete(f"{VS}/spare"), False),
    Case("vrmSettings delete: owner", ALICE, delete(f"{VS}/spare"), True),
    # ---- users/{uid}/sessions -------------------------------------------------------------------
    Case("sessions get: owner", ALICE, get(f"{SS}/laptop"), True),
    Case("sessions get: another user", BOB, get(f"{SS}/laptop"), False),
    Case("sessions get: unauthenticated", None, get(f"{SS}/laptop"), False),
    Case("sessions list: owner", ALICE, query("sessions", parent=U), True),
    Case("sessions list: another user", BOB, query("sessions", parent=U), False),
    Case(
        "sessions create: owner",
        ALICE,
        create(
            f"{SS}/tablet",
            {
                "deviceInfo": "tablet",
                "userAgent": "UA",
                "expiresAt": LATER,
                "createdAt": None,
                "lastActivityAt": None,
            },
            ("createdAt", "lastActivityAt"),
        ),
        True,
    ),
    Case(
        "sessions create: a raw Firebase token",
        ALICE,
        create(
            f"{SS}/t1", {"firebaseToken": "eyJ...", "expiresAt": LATER, "createdAt": None}, ("createdAt",)
        ),
        False,
    ),
    Case(
        "sessions create: a LiveKit token",
        ALICE,
        create(f"{SS}/t2", {"livekitToken": "eyJ...", "expiresAt": LATER, "createdAt": None}, ("createdAt",)),
        False,
    ),
    Case(
        "sessions create: an IP address",
        ALICE,
        create(
            f"{SS}/t3", {"ipAddress": "203.0.113.9", "expiresAt": LATER, "createdAt": None}, ("createdAt",)
        ),
        False,
    ),
    Case(
        "sessions create: expiry beyond 30 days",
        ALICE,
        create(f"{SS}/t4", {"expiresAt": NOW + timedelta(days=60), "createdAt": None}, ("createdAt",)),
        False,
    ),
    Case(
        "sessions create: already expired",
        ALICE,
        create(f"{SS}/t5", {"expiresAt": NOW - timedelta(days=1), "createdAt": None}, ("createdAt",)),
        False,
    ),
    Case(
        "sessions create: another user",
        BOB,
        create(f"{SS}/t6", {"expiresAt": LATER, "createdAt": None}, ("createdAt",)),
        False,
    ),
    Case(
        "sessions update: owner activity now",
        ALICE,
        update(f"{SS}/laptop", {"lastActivityAt": None}, ("lastActivityAt",)),
        True,
    ),
    Case(
        "sessions update: owner adds a token",
        ALICE,
        update(f"{SS}/laptop", {"firebaseToken": "eyJ..."}),
        False,
    ),
    Case(
        "sessions update: owner extends expiry",
        ALICE,
        update(f"{SS}/laptop", {"expiresAt": NOW + timedelta(days=29)}),
        False,
    ),
    Case("sessions delete: another user", BOB, delete(f"{SS}/phone"), False),
    Case("sessions delete: owner signs a device out", ALICE, delete(f"{SS}/phone"), True),
    # ---- rooms ----------------------------------------------------------------------------------
    Case("room get: participant", ALICE, get(ROOM), True),
    Case("room get: another signed-in user", BOB, get(ROOM), False),
    Case("room get: unauthenticated", None, get(ROOM), False),
    Case(
        "room list: own rooms (array-contains self)",
        ALICE,
        query("rooms", ("participants", "ARRAY_CONTAINS", ALICE)),
        True,
    ),
    Case(
        "room list: someone else's rooms",
        BOB,
        query("rooms", ("participants", "ARRAY_CONTAINS", ALICE)),
        False,
    ),
    Case("room list: everything", ALICE, query("rooms"), False),
    Case(
        "room update: participant adds someone",
        ALICE,
        update(ROOM, {"participants": [ALICE, CAROL, BOB]}),
        False,
    ),
    Case("room update: participant closes it", ALICE, update(ROOM, {"status": "closed"}), False),
    Case(
        "room create: any user",
        BOB,
        create(f"rooms/mine-{RUN}", {"participants": [BOB], "status": "waiting"}),
        False,
    ),
    Case("room delete: participant", ALICE, delete(ROOM), False),
    # ---- callSessions ---------------------------------------------------------------------------
    Case("callSession get: participant", CAROL, get(CALL), True),
    Case("callSession get: another user", BOB, get(CALL), False),
    Case(
        "callSession list: own history",
        ALICE,
        query("callSessions", ("participants", "ARRAY_CONTAINS", ALICE)),
        True,
    ),
    Case("callSession list: everything", BOB, query("callSessions"), False),
    Case("callSession update: participant", ALICE, update(CALL, {"endReason": "normal"}), False),
    Case(
        "callSession create: any user",
        ALICE,
        create(f"callSessions/fake-{RUN}", {"participants": [ALICE]}),
        False,
    ),
    # ---- matchingQueue --------------------------------------------------------------------------
    Case("ticket get: owner", CAROL, get(TICKET), True),
    Case("ticket get: another user", ALICE, get(TICKET), False),
    Case("ticket get: unauthenticated", None, get(TICKET), False),
    Case(
        "ticket list: own (userId == self)", CAROL, query("matchingQueue", ("userId", "EQUAL", CAROL)), True
    ),
    Case("ticket list: everyone's", BOB, query("matchingQueue"), False),
    Case("ticket create: own", BOB, create(f"matchingQueue/{BOB}", {"userId": BOB, "priority": 100}), False),
    Case("ticket update: owner raises priority", CAROL, update(TICKET, {"priority": 100}), False),
    Case("ticket delete: owner", CAROL, delete(TICKET), False),
    # ---- vrmModels ------------------------------------------------------------------------------
    Case("model get: public", BOB, get(f"vrmModels/pub-{RUN}"), True),
    Case("model get: not public", BOB, get(f"vrmModels/hidden-{RUN}"), False),
    Case("model get: unauthenticated", None, get(f"vrmModels/pub-{RUN}"), False),
    Case("model list: filtered isPublic == true", BOB, query("vrmModels", ("isPublic", "EQUAL", True)), True),
    Case("model list: unfiltered", BOB, query("vrmModels"), False),
    Case("model update: any user", ALICE, update(f"vrmModels/pub-{RUN}", {"downloadCount": 10**6}), False),
    Case("model create: any user", ALICE, create(f"vrmModels/mine-{RUN}", {"isPublic": True}), False),
    # ---- not named: denied ----------------------------------------------------------------------
    Case("roomCodes get: signed in", ALICE, get(f"roomCodes/C{RUN[:5].upper()}"), False),
    Case("roomCodes list: signed in", ALICE, query("roomCodes"), False),
    Case(
        "roomCodes create: signed in", ALICE, create(f"roomCodes/Z{RUN[:5].upper()}", {"roomId": "x"}), False
    ),
    Case("serverState get: signed in", ALICE, get(f"serverState/{RUN}"), False),
    Case("serverState update: signed in", ALICE, update(f"serverState/{RUN}", {"lastRun": LATER}), False),
    Case("unknown collection create", ALICE, create(f"admin/{RUN}", {"x": 1}), False),
]


@pytest.fixture(scope="module")
def owner(firestore_rest: FirestoreRest) -> Iterator[FirestoreRest]:
    seed(firestore_rest)
    yield firestore_rest
    _save_coverage(firestore_rest)


def test_there_are_well_over_sixty_distinct_cases() -> None:
    assert len(CASES) > 100 and len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_rule(owner: FirestoreRest, case: Case) -> None:
    status = case.op(owner.as_user(case.actor))
    expected = 200 if case.allowed else 403
    assert status == expected, f"{case.name}: {status}"


def test_an_allowed_presence_write_really_lands(owner: FirestoreRest) -> None:
    """The allow cases above are real writes: the document shows the change afterwards."""
    uid = f"landed-{RUN}"
    owner.set(f"users/{uid}", user_doc(uid))
    assert (
        owner.as_user(uid).update(
            f"users/{uid}", {"status": "offline", "lastActiveAt": None}, ("lastActiveAt",)
        )
        == 200
    )
    _, stored = owner.get(f"users/{uid}")
    assert stored is not None and stored["status"] == "offline" and stored["lastActiveAt"] > NOW


# -- coverage -------------------------------------------------------------------------------------
RULES = ROOT / "firestore.rules"
REPORTS = ROOT / "build" / "reports"
# Lines with nothing to evaluate: structure, comments, list-literal continuations, and `if false`
# (a constant: the emulator reports no evaluation for it, the deny cases above exercise it).
NOT_EXPRESSIONS = re.compile(
    r"^\s*(//|rules_version|service |match |function |\}|'|$)|: if false;"
)  # search()


def _coverage_url(fs: FirestoreRest, suffix: str) -> str:
    if suffix.endswith(".html"):  # the HTML page takes no database parameter (it 404s with one)
        return f"{fs.emulator}:{suffix}"
    return f"{fs.emulator}:{suffix}?database=projects/{fs.project}/databases/(default)"


def _save_coverage(fs: FirestoreRest) -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    for suffix, name in (
        ("ruleCoverage.html", "firestore-rules-coverage.html"),
        ("ruleCoverage", "firestore-rules-coverage.json"),
    ):
        with urllib.request.urlopen(_coverage_url(fs, suffix), timeout=30) as response:
            (REPORTS / name).write_bytes(response.read())


def _evaluated_lines(nodes: list[dict[str, Any]]) -> set[int]:
    lines: set[int] = set()
    for node in nodes:
        if any(int(value.get("count", 0)) > 0 for value in node.get("values", [])):
            lines.add(int(node["sourcePosition"]["line"]))
        lines |= _evaluated_lines(node.get("children", []))
    return lines


def test_every_rule_expression_was_evaluated(owner: FirestoreRest) -> None:
    """Runs after the cases (file order): each line of the rules holding an expression was evaluated."""
    with urllib.request.urlopen(_coverage_url(owner, "ruleCoverage"), timeout=30) as response:
        report = json.load(response)
    evaluated = _evaluated_lines(report.get("report", []))
    source = RULES.read_text().splitlines()
    expression_lines = {n for n, line in enumerate(source, 1) if not NOT_EXPRESSIONS.search(line)}
    missing = {n: source[n - 1].strip() for n in sorted(expression_lines - evaluated)}
    assert not missing, f"rule lines no case evaluated: {missing}"
    _save_coverage(owner)
    assert Path(REPORTS / "firestore-rules-coverage.html").stat().st_size > 0
