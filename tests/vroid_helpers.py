"""What the VRoid Hub sync tests share: the stand-in VRoid Hub seen from a test, firing the job
through scheduler -> Pub/Sub -> function, and reading what the sync left in Firestore."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devstack.stack import Stack
from shared import vocab
from shared.clients.firestore import get_firestore
from shared.vroid import index
from shared.vroid.job import STATE_DOCUMENT
from shared.vroid.sync import COLLECTION
from tests.conftest import http, wait_for


class VroidHub:
    """The stand-in VRoid Hub of the stack, seen from a test."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.url = f"http://127.0.0.1:{stack.port('vroid')}"

    def control(self, **body: Any) -> dict[str, Any]:
        status, state, _ = http("POST", f"{self.url}/_control", body)
        assert status == 200, state
        return dict(state)

    def state(self) -> dict[str, Any]:
        return dict(http("GET", f"{self.url}/_control")[1])

    def catalog(self) -> dict[str, list[dict[str, Any]]]:
        return dict(http("GET", f"{self.url}/_control/catalog")[1])

    def unique_entries(self) -> dict[int, dict[str, Any]]:
        """Listed entries by catalog position (ids may be missing in malformed ones)."""
        catalog = self.catalog()
        state = self.state()["catalog"]
        start = state["staff_picks"] - state["overlap"]
        by_position: dict[int, dict[str, Any]] = {}
        for i, raw in enumerate(catalog["staff_picks"]):
            by_position[i] = raw
        for i, raw in enumerate(catalog["hearts"]):
            by_position[start + i] = raw
        return by_position


def clear_sync_state() -> None:
    """Every model document, the stored refresh token and the content index: a sync starts from nothing."""
    db = get_firestore()
    for snapshot in db.collection(COLLECTION).stream():
        snapshot.reference.delete()
    db.collection(STATE_DOCUMENT[0]).document(STATE_DOCUMENT[1]).delete()
    for snapshot in db.collection(vocab.SERVER_STATE).stream():
        if snapshot.id.startswith(index.HEADER_ID):
            snapshot.reference.delete()


@contextmanager
def fresh_hub(stack: Stack) -> Iterator[VroidHub]:
    """The stand-in reset and the sync's state cleared; the stand-in reset again afterwards (tests share it)."""
    hub = VroidHub(stack)
    hub.control(reset=True)
    clear_sync_state()
    try:
        yield hub
    finally:
        hub.control(reset=True)


def fire_sync(stack: Stack) -> dict[str, Any]:
    """Run the `vrm-sync` job now and return the function's result (its summary)."""
    status, fired, _ = http("POST", f"{stack.router_url}/scheduler/jobs/vrm-sync:run")
    assert status == 200, fired
    return wait_for_result(stack, fired["messageId"])


def publish_sync(stack: Stack, message: dict[str, Any]) -> dict[str, Any]:
    """Publish `message` to the `vrm-sync` topic (as an operator would) and return the function's result."""
    data = base64.b64encode(json.dumps(message).encode()).decode()
    url = f"http://127.0.0.1:{stack.port('pubsub')}/v1/projects/{stack.project}/topics/vrm-sync:publish"
    status, body, _ = http("POST", url, {"messages": [{"data": data}]})
    assert status == 200, body
    return wait_for_result(stack, body["messageIds"][0])


def wait_for_result(stack: Stack, event_id: str) -> dict[str, Any]:
    def handled() -> dict[str, Any]:
        path = stack.logs_dir / "fn-sync_vrm_models.log"
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("message") == "pubsub event handled" and entry.get("eventId") == event_id:
                    return dict(entry["result"])
        return {}

    return wait_for(handled, timeout_s=120)


def state_document() -> dict[str, Any]:
    snapshot = get_firestore().collection(STATE_DOCUMENT[0]).document(STATE_DOCUMENT[1]).get()
    return snapshot.to_dict() or {}


def documents() -> dict[str, dict[str, Any]]:
    return {s.id: s.to_dict() or {} for s in get_firestore().collection(COLLECTION).stream()}
