"""CloudEvent decoding with real protobufs, and through functions-framework itself."""

from __future__ import annotations

import base64
import datetime as dt
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent
from functions_framework import create_app
from google.events.cloud.firestore_v1.types import DocumentEventData
from google.protobuf import timestamp_pb2

from shared.events import EventDecodeError, decode_pubsub_event
from shared.firestore_events import decode_firestore_event

DOC = "projects/demo-vchat/databases/(default)/documents/rooms/room-1"


def document(fields: dict[str, Any], name: str = DOC) -> Any:
    pb = DocumentEventData.pb()
    doc = pb().value.__class__(name=name)
    for key, value in fields.items():
        _set(doc.fields[key], value)
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt.datetime(2026, 11, 23, 1, 2, 3))
    doc.update_time.CopyFrom(ts)
    return doc


def _set(target: Any, value: Any) -> None:
    if value is None:
        target.null_value = 0
    elif isinstance(value, bool):
        target.boolean_value = value
    elif isinstance(value, int):
        target.integer_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, dt.datetime):
        target.timestamp_value.FromDatetime(value)
    elif isinstance(value, list):
        target.array_value.SetInParent()
        for item in value:
            _set(target.array_value.values.add(), item)
    elif isinstance(value, dict):
        target.map_value.SetInParent()
        for key, item in value.items():
            _set(target.map_value.fields[key], item)


def event_bytes(before: dict[str, Any] | None, after: dict[str, Any] | None, mask: list[str] = ()) -> bytes:  # type: ignore[assignment]
    message = DocumentEventData.pb()()
    if before is not None:
        message.old_value.CopyFrom(document(before))
    if after is not None:
        message.value.CopyFrom(document(after))
    message.update_mask.field_paths.extend(mask)
    return bytes(message.SerializeToString())


def firestore_event(data: bytes, event_id: str = "evt-1") -> CloudEvent:
    return CloudEvent(
        {
            "id": event_id,
            "type": "google.cloud.firestore.document.v1.written",
            "source": "//firestore.googleapis.com/projects/demo-vchat/databases/(default)",
            "subject": "documents/rooms/room-1",
            "datacontenttype": "application/protobuf",
            "document": "rooms/room-1",
            "time": dt.datetime.now(dt.UTC).isoformat(),
        },
        data,
    )


ROOM = {
    "status": "active",
    "participants": ["a", "b"],
    "maxParticipants": 2,
    "score": 1.5,
    "open": True,
    "expiresAt": dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC),
    "meta": {"nested": {"deep": [1, "x", None]}},
    "nothing": None,
}


@pytest.mark.parametrize("encoding", ["raw", "base64"])
def test_firestore_event_decodes_to_python_types(encoding: str) -> None:
    data = event_bytes({"status": "waiting"}, ROOM, ["status"])
    if encoding == "base64":  # what the emulator sends
        data = base64.b64encode(data)
    change = decode_firestore_event(firestore_event(data))
    assert change.event_id == "evt-1"
    assert change.document == "rooms/room-1" and change.doc_id == "room-1"
    assert change.before == {"status": "waiting"}
    assert change.after == ROOM
    assert change.update_mask == ("status",)
    assert change.field_changed("status") and not change.field_changed("absent")
    assert change.after_update_time == dt.datetime(2026, 11, 23, 1, 2, 3, tzinfo=dt.UTC)


def test_create_and_delete_events() -> None:
    created = decode_firestore_event(firestore_event(event_bytes(None, {"a": 1})))
    assert created.created and not created.deleted and created.before is None
    deleted = decode_firestore_event(firestore_event(event_bytes({"a": 1}, None)))
    assert deleted.deleted and deleted.after is None and deleted.doc_id == "room-1"


def test_garbage_is_a_decode_error_not_a_crash() -> None:
    with pytest.raises(EventDecodeError):
        decode_firestore_event(firestore_event(b"%%% not protobuf, not base64 %%%"))
    wrong_type = firestore_event(b"")
    wrong_type["type"] = "google.cloud.pubsub.topic.v1.messagePublished"
    with pytest.raises(EventDecodeError):
        decode_firestore_event(wrong_type)


def pubsub_event(payload: bytes, message_id: str = "m-1", **attributes: str) -> CloudEvent:
    return CloudEvent(
        {
            "id": message_id,
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/demo-vchat/topics/auto-close",
            "time": dt.datetime.now(dt.UTC).isoformat(),
        },
        {
            "message": {
                "data": base64.b64encode(payload).decode(),
                "attributes": attributes,
                "messageId": message_id,
            },
            "subscription": "projects/demo-vchat/subscriptions/auto_close-push",
        },
    )


def test_pubsub_event_decodes_topic_data_and_attributes() -> None:
    message = decode_pubsub_event(pubsub_event(b'{"kind": "sweep"}', job="x"))
    assert message.topic == "auto-close"
    assert message.json() == {"kind": "sweep"}
    assert message.attributes == {"job": "x"}
    assert message.event_id == message.message_id == "m-1"
    with pytest.raises(EventDecodeError):
        decode_pubsub_event(pubsub_event(b"not json")).json()


HANDLER = textwrap.dedent(
    """
    import functions_framework
    from shared.events import pubsub_trigger
    from shared.firestore_events import firestore_trigger

    SEEN = []

    @functions_framework.cloud_event
    @firestore_trigger
    def on_doc(change):
        SEEN.append((change.event_id, change.after))
        if (change.after or {}).get("fail"):
            raise RuntimeError("injected failure")

    @functions_framework.cloud_event
    @pubsub_trigger
    def on_message(message):
        SEEN.append((message.event_id, message.json()))
    """
)


def test_through_functions_framework_binary_mode(tmp_path: Path) -> None:
    source = tmp_path / "main.py"
    source.write_text(HANDLER)
    app = create_app("on_doc", str(source), "cloudevent")
    client = app.test_client()
    module = __import__("sys").modules["main"]
    headers, body = to_binary(firestore_event(base64.b64encode(event_bytes(None, {"x": 1})), "evt-ok"))
    assert client.post("/", headers=headers, data=body).status_code == 200
    headers, body = to_binary(firestore_event(event_bytes(None, {"fail": True}), "evt-fail"))
    assert client.post("/", headers=headers, data=body).status_code == 500  # => the platform retries
    assert [seen[0] for seen in module.SEEN] == ["evt-ok", "evt-fail"]
    headers, body = to_binary(firestore_event(b"garbage!", "evt-garbage"))
    assert client.post("/", headers=headers, data=body).status_code == 200  # dropped, not retried forever

    pubsub = create_app("on_message", str(source), "cloudevent").test_client()
    event = pubsub_event(json.dumps({"kind": "sync"}).encode(), "m-42")
    headers, body = to_binary(event)
    assert pubsub.post("/", headers=headers, data=body).status_code == 200
    assert __import__("sys").modules["main"].SEEN == [("m-42", {"kind": "sync"})]  # create_app reloaded main


def test_events_older_than_the_maximum_age_are_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "main.py"
    source.write_text(HANDLER)
    client = create_app("on_doc", str(source), "cloudevent").test_client()
    module = __import__("sys").modules["main"]
    monkeypatch.setenv("MAX_EVENT_AGE_S", "60")
    old = firestore_event(event_bytes(None, {"fail": True}), "evt-old")
    old["time"] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    headers, body = to_binary(old)
    assert client.post("/", headers=headers, data=body).status_code == 200
    assert "evt-old" not in [seen[0] for seen in module.SEEN]
