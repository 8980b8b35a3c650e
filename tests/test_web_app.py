"""The reference web app (examples/web) in headless Chromium against the test stack.

Two browser contexts are two people: both sign up (Auth emulator), save a profile with the adult
confirmation (Firestore, under the rules), queue; the matching worker pairs them; both see the same
room go active, get their LiveKit and WebSocket tokens, connect the realtime socket, chat; one lists
the invitations (reading X-Cache cross-origin); one leaves and the other sees the room close.
examples/web/e2e/match.mjs drives the pages with playwright-core and Debian's Chromium; on failure a
screenshot and the console of each page are kept in build/reports/web-app/.

What it needs is installed through the project's own scripts (devstack/installs.py): chromium with
apt when missing, the app's and the runner's npm packages from their lock files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deploy.manifest import ROOT
from devstack import installs, webapp
from devstack.firestore_rest import unsigned_token
from devstack.stack import Stack
from tests.conftest import http
from tests.matching_helpers import clear_matching_redis

pytestmark = pytest.mark.stack

E2E = webapp.WEB_APP_DIR / "e2e"
REPORTS = ROOT / "build" / "reports" / "web-app"


def seed_invitation(stack: Stack) -> str:
    """A recruiting invitation the list in the app must show, hosted by a Discord member. The list is
    ordered by start time and the app shows its first page: started a month ago (and not over), it
    comes before whatever other tests created."""
    host = str(uuid.uuid4().int)[:18]
    name = f"Web app meetup {uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC) - timedelta(days=30)
    body = {
        "id": str(uuid.uuid4().int)[:18],
        "threadId": str(uuid.uuid4().int)[:18],
        "eventName": name,
        "startTime": start.isoformat(),
        "endTime": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        "worldName": "The Great Pug",
        "tag": "まったり",
        "description": "",
        "instanceType": "friend",
        "maxParticipants": 6,
    }
    token = unsigned_token(host, stack.project, discord_id=host, name="Host")
    status, created, _ = http(
        "POST", f"{stack.gateway_url}/invitations_api/invitations", body, {"Authorization": f"Bearer {token}"}
    )
    assert status == 201, created
    return name


def test_two_people_match_in_the_browser_and_one_leaves(stack: Stack) -> None:
    chromium = installs.ensure_chromium(echo=lambda line: None)
    installs.ensure_npm_package(E2E, echo=lambda line: None)
    clear_matching_redis()  # nobody left waiting by other tests can take one of the two's place
    invitation = seed_invitation(stack)
    shutil.rmtree(REPORTS, ignore_errors=True)
    started = time.perf_counter()
    url = webapp.start(stack)
    try:
        result = subprocess.run(
            [
                "node",
                str(E2E / "match.mjs"),
                "--app",
                url,
                "--chromium",
                str(chromium),
                "--out",
                str(REPORTS),
                "--invitation",
                invitation,
                # Each wait ends as soon as the page shows its state. The bound outlasts the SDK's
                # longest reconnect backoff (60 s), should the emulator break a listen stream.
                "--timeout-ms",
                "90000",
            ],
            cwd=webapp.WEB_APP_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        stack.stop_process(webapp.PROCESS)
    steps = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, (
        f"the browser test failed (screenshots and console logs in {REPORTS}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}\n--- web app log ---\n{stack.tail(webapp.PROCESS, 40)}"
    )
    assert steps and steps[-1].get("ok"), steps
    print(f"web app test: {time.perf_counter() - started:.1f}s with the dev server's start; steps: {steps}")


# -- what a client's listeners see (docs/frontend.md, "Listener semantics") -------------------------
Event = dict[str, Any]


def _of(events: list[Event], listener: str) -> list[Event]:
    return [event for event in events if event["listener"] == listener]


def _changes(events: list[Event], listener: str) -> list[tuple[str, str]]:
    return [(event["change"], event["status"]) for event in _of(events, listener)]


def test_listener_semantics_as_docs_frontend_md_describes_them(stack: Stack, tmp_path: Path) -> None:
    """The Firebase JS SDK's listeners (examples/web/e2e/listeners.mjs) through a random room that one
    person leaves and a select room whose creator goes offline: each fact the document states."""
    installs.ensure_npm_package(webapp.WEB_APP_DIR, echo=lambda line: None)
    clear_matching_redis()
    config = tmp_path / "webapp.json"
    config.write_text(json.dumps(webapp.public_config(stack.info())))
    result = subprocess.run(
        # Each wait ends as soon as its fact holds. The long bound outlasts the SDK's longest
        # reconnect backoff (60 s) after a listen stream the emulator broke (docs/frontend.md).
        ["node", str(E2E / "listeners.mjs"), "--config", str(config), "--timeout-ms", "150000"],
        cwd=webapp.WEB_APP_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-20000:]}"
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    random_room = seen["random_leave"]
    leaver, partner = random_room["ann"], random_room["ben"]
    for person in (leaver, partner):
        users = _of(person, "user")
        # queued -> matching; seated -> in_call with currentRoomId, in one write
        assert [u["status"] for u in users[:3]] == ["online", "matching", "in_call"], users
        assert users[2]["currentRoomId"] == random_room["roomId"]
        # a random room is never seen waiting: it is created active
        assert _of(person, "roomDoc")[0]["status"] == "active"
        assert _changes(person, "openRoomsQuery")[0] == ("added", "active")
        # released by the leave, in the same transaction: no room, online
        assert users[-1] == {**users[-1], "status": "online", "currentRoomId": None}
    # the leaver is out of participants: the room doc listener fails, the queries drop the room
    assert _of(leaver, "roomDoc")[-1].get("error") == "permission-denied"
    assert _changes(leaver, "roomsQuery")[-1][0] == "removed"
    assert _changes(leaver, "openRoomsQuery")[-1][0] == "removed"
    # the partner stays in the closed room's participants: the doc and the plain query show it closed
    # (the plain query keeps it), the status-filtered query drops it
    last_doc = _of(partner, "roomDoc")[-1]
    assert (last_doc["status"], last_doc["participants"], last_doc["inParticipants"]) == ("closed", 1, True)
    assert _changes(partner, "roomsQuery")[-1] == ("modified", "closed")
    assert _changes(partner, "openRoomsQuery")[-1][0] == "removed"

    select_room = seen["select_offline"]
    creator, joiner = select_room["cat"], select_room["dan"]
    # a select room waits for its second person, then turns active (the same document, modified)
    assert [event.get("status") for event in _of(creator, "roomDoc")][:2] == ["waiting", "active"]
    assert _changes(creator, "openRoomsQuery")[:2] == [("added", "waiting"), ("modified", "active")]
    assert _of(joiner, "roomDoc")[0]["status"] == "active"
    # the creator goes offline: the user trigger takes them out of participants, which closes the
    # room of two and releases the joiner
    assert _of(creator, "user")[-1] == {
        **_of(creator, "user")[-1],
        "status": "offline",
        "currentRoomId": None,
    }
    assert _of(creator, "roomDoc")[-1].get("error") == "permission-denied"
    assert _changes(creator, "openRoomsQuery")[-1][0] == "removed"
    last_doc = _of(joiner, "roomDoc")[-1]
    assert (last_doc["status"], last_doc["participants"]) == ("closed", 1)
    assert _changes(joiner, "roomsQuery")[-1] == ("modified", "closed")
    assert _of(joiner, "user")[-1] == {**_of(joiner, "user")[-1], "status": "online", "currentRoomId": None}
